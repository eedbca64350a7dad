//! Identities: aliases of twins, indexed by identity string for resolution.

use sqlx::error::ErrorKind;
use sqlx::{Postgres, QueryBuilder};
use steward_domain::{AccountId, Identity, Timestamp, TwinId};
use steward_store::{Entity, IdentityScope, StoreError};
use uuid::Uuid;

use crate::error::{database_error, map_violation};
use crate::PostgresStore;

const IDENTITY_COLUMNS: &str =
    "twin_id, account_id, identity, validity_ts, visibility, created_ts, updated_ts";

/// An identity row as PostgreSQL returns it.
#[derive(Debug, sqlx::FromRow)]
struct IdentityRow {
    twin_id: Uuid,
    account_id: Uuid,
    identity: String,
    validity_ts: Option<i64>,
    visibility: Option<String>,
    created_ts: i64,
    updated_ts: i64,
}

impl From<IdentityRow> for Identity {
    fn from(row: IdentityRow) -> Self {
        Identity {
            twin: TwinId::from_uuid(row.twin_id),
            account: AccountId::from_uuid(row.account_id),
            identity: row.identity,
            validity_ts: row.validity_ts.map(Timestamp::from_millis),
            visibility: row.visibility,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        }
    }
}

/// Storing an identity under another account or twin than the call names is a caller bug;
/// refusing it keeps one account from writing another's identities.
fn ensure_identity_of(
    account: AccountId,
    twin: TwinId,
    identity: &Identity,
) -> Result<(), StoreError> {
    if identity.account == account && identity.twin == twin {
        return Ok(());
    }
    Err(StoreError::Backend(
        "identity to store belongs to another account or twin".to_owned(),
    ))
}

impl PostgresStore {
    pub(crate) async fn insert_identity_rows(
        &self,
        account: AccountId,
        twin: TwinId,
        identities: &[Identity],
    ) -> Result<Vec<bool>, StoreError> {
        for identity in identities {
            ensure_identity_of(account, twin, identity)?;
        }
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        // Twins are never deleted, so a twin seen here stays for the inserts.
        let twin_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM twins WHERE id = $1)")
                .bind(twin.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(database_error)?;
        if !twin_exists {
            return Err(StoreError::NotFound(Entity::Twin));
        }
        let mut stored = Vec::with_capacity(identities.len());
        for identity in identities {
            // DO NOTHING keeps the stored identity; rows_affected tells the caller which ones
            // were new (a duplicate inside one request is also kept as its first occurrence).
            let inserted = sqlx::query(
                "INSERT INTO identities \
                 (twin_id, account_id, identity, validity_ts, visibility, created_ts, updated_ts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (twin_id, account_id, identity) DO NOTHING",
            )
            .bind(twin.as_uuid())
            .bind(account.as_uuid())
            .bind(&identity.identity)
            .bind(identity.validity_ts.as_ref().map(Timestamp::as_millis))
            .bind(identity.visibility.as_deref())
            .bind(identity.created_ts.as_millis())
            .bind(identity.updated_ts.as_millis())
            .execute(&mut *tx)
            .await
            .map_err(|error| {
                // The twin exists (checked above), so a missing reference is the account.
                map_violation(error, |kind| {
                    (kind == ErrorKind::ForeignKeyViolation)
                        .then_some(StoreError::NotFound(Entity::Account))
                })
            })?;
            stored.push(inserted.rows_affected() == 1);
        }
        tx.commit().await.map_err(database_error)?;
        Ok(stored)
    }

    pub(crate) async fn get_identity_row(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        let row: Option<IdentityRow> = sqlx::query_as(&format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities \
             WHERE twin_id = $1 AND account_id = $2 AND identity = $3"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .bind(identity)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(Identity::from)
            .ok_or(StoreError::NotFound(Entity::Identity))
    }

    pub(crate) async fn list_twin_identity_rows(
        &self,
        twin: TwinId,
        scope: Option<&IdentityScope>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE twin_id = "
        ));
        query.push_bind(twin.as_uuid());
        push_scope(&mut query, scope);
        query.push(" ORDER BY account_id, identity LIMIT ");
        query.push_bind(i64::from(limit));
        let rows: Vec<IdentityRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(rows.into_iter().map(Identity::from).collect())
    }

    pub(crate) async fn update_identity_row(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> Result<(), StoreError> {
        // Matched by (twin, account, identity string): naming another account's identity
        // updates nothing and reports it missing. One statement, so one implicit transaction;
        // created_ts is never rewritten.
        let updated = sqlx::query(
            "UPDATE identities SET validity_ts = $1, visibility = $2, updated_ts = $3 \
             WHERE twin_id = $4 AND account_id = $5 AND identity = $6",
        )
        .bind(identity.validity_ts.as_ref().map(Timestamp::as_millis))
        .bind(identity.visibility.as_deref())
        .bind(identity.updated_ts.as_millis())
        .bind(identity.twin.as_uuid())
        .bind(account.as_uuid())
        .bind(&identity.identity)
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Identity));
        }
        Ok(())
    }

    pub(crate) async fn delete_identity_row(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        let row: Option<IdentityRow> = sqlx::query_as(&format!(
            "DELETE FROM identities WHERE twin_id = $1 AND account_id = $2 AND identity = $3 \
             RETURNING {IDENTITY_COLUMNS}"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .bind(identity)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(Identity::from)
            .ok_or(StoreError::NotFound(Entity::Identity))
    }

    pub(crate) async fn find_identity_rows(
        &self,
        identity: &str,
        accounts: Option<&[AccountId]>,
        scope: Option<&IdentityScope>,
        after: Option<(AccountId, TwinId)>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        if accounts.is_some_and(<[AccountId]>::is_empty) || limit == 0 {
            return Ok(Vec::new());
        }
        // Built per shape rather than with `$n IS NULL OR …`: a generic plan could not tell the
        // shapes apart and would search the index by the identity prefix alone even for a few
        // accounts.
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE identity = "
        ));
        query.push_bind(identity);
        if let Some(accounts) = accounts {
            let accounts: Vec<Uuid> = accounts.iter().map(AccountId::as_uuid).collect();
            query.push(" AND account_id = ANY(");
            query.push_bind(accounts);
            query.push(")");
        }
        push_scope(&mut query, scope);
        if let Some((account, twin)) = after {
            query.push(" AND (account_id, twin_id) > (");
            query.push_bind(account.as_uuid());
            query.push(", ");
            query.push_bind(twin.as_uuid());
            query.push(")");
        }
        query.push(" ORDER BY account_id, twin_id LIMIT ");
        query.push_bind(i64::from(limit));
        let rows: Vec<IdentityRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(rows.into_iter().map(Identity::from).collect())
    }
}

/// Adds the condition of an [`IdentityScope`]: the caller's own rows, and (with `foreign`)
/// other accounts' rows with a visibility rule that have not expired.
fn push_scope(query: &mut QueryBuilder<'_, Postgres>, scope: Option<&IdentityScope>) {
    let Some(scope) = scope else {
        return;
    };
    query.push(" AND (account_id = ");
    query.push_bind(scope.caller.as_uuid());
    if scope.foreign {
        query.push(" OR (visibility IS NOT NULL AND (validity_ts IS NULL OR validity_ts > ");
        query.push_bind(scope.now.as_millis());
        query.push("))");
    }
    query.push(")");
}
