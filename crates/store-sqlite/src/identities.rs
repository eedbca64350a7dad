//! Identities: aliases of twins, indexed by identity string for resolution.

use sqlx::error::ErrorKind;
use sqlx::{QueryBuilder, Sqlite};
use steward_domain::{AccountId, Identity, Timestamp, TwinId};
use steward_store::{Entity, IdentityScope, StoreError};

use crate::error::{corrupt, database_error, map_violation};
use crate::SqliteStore;

const IDENTITY_COLUMNS: &str =
    "twin_id, account_id, identity, validity_ts, visibility, created_ts, updated_ts";

/// An identity row as SQLite returns it.
#[derive(Debug, sqlx::FromRow)]
struct IdentityRow {
    twin_id: String,
    account_id: String,
    identity: String,
    validity_ts: Option<i64>,
    visibility: Option<String>,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StoreError;

    fn try_from(row: IdentityRow) -> Result<Self, StoreError> {
        Ok(Identity {
            twin: row
                .twin_id
                .parse()
                .map_err(|_| corrupt("identity twin", &row.twin_id))?,
            account: row
                .account_id
                .parse()
                .map_err(|_| corrupt("identity account", &row.account_id))?,
            identity: row.identity,
            validity_ts: row.validity_ts.map(Timestamp::from_millis),
            visibility: row.visibility,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
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

impl SqliteStore {
    pub(crate) async fn insert_identity_rows(
        &self,
        account: AccountId,
        twin: TwinId,
        identities: &[Identity],
    ) -> Result<Vec<bool>, StoreError> {
        for identity in identities {
            ensure_identity_of(account, twin, identity)?;
        }
        let mut tx = self.begin_write().await?;
        // Twins are never deleted, so a twin seen under the write lock stays for the inserts.
        let twin_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM twins WHERE id = ?)")
                .bind(twin.to_string())
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
                 VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (twin_id, account_id, identity) DO NOTHING",
            )
            .bind(twin.to_string())
            .bind(account.to_string())
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
        tx.commit().await?;
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
             WHERE twin_id = ? AND account_id = ? AND identity = ?"
        ))
        .bind(twin.to_string())
        .bind(account.to_string())
        .bind(identity)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Identity))?
            .try_into()
    }

    pub(crate) async fn list_twin_identity_rows(
        &self,
        twin: TwinId,
        scope: Option<&IdentityScope>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE twin_id = "
        ));
        query.push_bind(twin.to_string());
        push_scope(&mut query, scope);
        query.push(" ORDER BY account_id, identity LIMIT ");
        query.push_bind(i64::from(limit));
        let rows: Vec<IdentityRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        rows.into_iter().map(Identity::try_from).collect()
    }

    pub(crate) async fn update_identity_row(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> Result<(), StoreError> {
        // Matched by (twin, account, identity string): naming another account's identity
        // updates nothing and reports it missing. One statement, so one implicit transaction;
        // created_ts is never rewritten.
        let updated = self
            .write_statement(
                sqlx::query(
                    "UPDATE identities SET validity_ts = ?, visibility = ?, updated_ts = ? \
                     WHERE twin_id = ? AND account_id = ? AND identity = ?",
                )
                .bind(identity.validity_ts.as_ref().map(Timestamp::as_millis))
                .bind(identity.visibility.as_deref())
                .bind(identity.updated_ts.as_millis())
                .bind(identity.twin.to_string())
                .bind(account.to_string())
                .bind(&identity.identity),
                database_error,
            )
            .await?;
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
        let row: Option<IdentityRow> = self
            .write_returning(
                sqlx::query_as(&format!(
                    "DELETE FROM identities WHERE twin_id = ? AND account_id = ? AND identity = ? \
                     RETURNING {IDENTITY_COLUMNS}"
                ))
                .bind(twin.to_string())
                .bind(account.to_string())
                .bind(identity),
            )
            .await?;
        row.ok_or(StoreError::NotFound(Entity::Identity))?
            .try_into()
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
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities INDEXED BY identities_by_identity \
             WHERE identity = "
        ));
        query.push_bind(identity);
        if let Some(accounts) = accounts {
            query.push(" AND account_id IN (");
            let mut separated = query.separated(", ");
            for account in accounts {
                separated.push_bind(account.to_string());
            }
            query.push(")");
        }
        push_scope(&mut query, scope);
        if let Some((account, twin)) = after {
            query.push(" AND (account_id, twin_id) > (");
            query.push_bind(account.to_string());
            query.push(", ");
            query.push_bind(twin.to_string());
            query.push(")");
        }
        query.push(" ORDER BY account_id, twin_id LIMIT ");
        query.push_bind(i64::from(limit));
        let rows: Vec<IdentityRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        rows.into_iter().map(Identity::try_from).collect()
    }
}

/// Adds the condition of an [`IdentityScope`]: the caller's own rows, and (with `foreign`)
/// other accounts' rows with a visibility rule that have not expired.
fn push_scope(query: &mut QueryBuilder<'_, Sqlite>, scope: Option<&IdentityScope>) {
    let Some(scope) = scope else {
        return;
    };
    query.push(" AND (account_id = ");
    query.push_bind(scope.caller.to_string());
    if scope.foreign {
        query.push(" OR (visibility IS NOT NULL AND (validity_ts IS NULL OR validity_ts > ");
        query.push_bind(scope.now.as_millis());
        query.push("))");
    }
    query.push(")");
}
