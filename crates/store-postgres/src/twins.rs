//! Twins: creation, reading by anyone, owner-only description changes and termination, and the
//! owner's listing.

use serde_json::{Map, Value};
use steward_domain::{AccountId, Timestamp, Twin, TwinId, TwinStatus};
use steward_store::{ChangeSignal, Entity, PageRequest, StoreError, TerminationOutcome};

use crate::access::ensure_created_in;
use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::{encode_json, TwinRow};
use crate::signals::send_signal;
use crate::PostgresStore;

const TWIN_COLUMNS: &str = "id, owner, creator, status, description, terminated_by, \
                            terminated_ts, created_ts, updated_ts";

impl PostgresStore {
    pub(crate) async fn insert_twin(
        &self,
        account: AccountId,
        twin: &Twin,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, twin.owner, Entity::Twin)?;
        ensure_created_in(account, twin.creator, Entity::Twin)?;
        // Bound as text into a TEXT column: the description reads back byte for byte.
        let description = twin.description.as_ref().map(encode_json).transpose()?;
        sqlx::query(
            "INSERT INTO twins (id, owner, creator, status, description, terminated_by, \
             terminated_ts, created_ts, updated_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(twin.id.as_uuid())
        .bind(twin.owner.as_uuid())
        .bind(twin.creator.as_uuid())
        .bind(twin.status.as_str())
        .bind(description)
        .bind(
            twin.termination
                .map(|termination| termination.issuer.as_uuid()),
        )
        .bind(
            twin.termination
                .map(|termination| termination.terminated_ts.as_millis()),
        )
        .bind(twin.created_ts.as_millis())
        .bind(twin.updated_ts.as_millis())
        .execute(&self.pool)
        .await
        .map_err(foreign_key_means_missing(Entity::Account, Entity::Twin))?;
        Ok(())
    }

    pub(crate) async fn get_twin_row(&self, twin: TwinId) -> Result<Twin, StoreError> {
        let row: Option<TwinRow> =
            sqlx::query_as(&format!("SELECT {TWIN_COLUMNS} FROM twins WHERE id = $1"))
                .bind(twin.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Twin))?.try_into()
    }

    pub(crate) async fn update_twin_description_row(
        &self,
        account: AccountId,
        twin: TwinId,
        description: Option<&Map<String, Value>>,
        now: Timestamp,
    ) -> Result<Twin, StoreError> {
        // `None` binds SQL NULL (no description), `Some({})` binds the text `{}`.
        let description = description.map(encode_json).transpose()?;
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let row: Option<TwinRow> = sqlx::query_as(&format!(
            "UPDATE twins SET description = $1, updated_ts = $2 WHERE id = $3 AND owner = $4 \
             RETURNING {TWIN_COLUMNS}"
        ))
        .bind(description)
        .bind(now.as_millis())
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        // Another account's twin is reported like a missing one: changes are the owner's alone.
        let updated = Twin::try_from(row.ok_or(StoreError::NotFound(Entity::Twin))?)?;
        send_signal(&mut tx, ChangeSignal::Twin(twin)).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(updated)
    }

    pub(crate) async fn terminate_twin_row(
        &self,
        account: AccountId,
        twin: TwinId,
        now: Timestamp,
    ) -> Result<TerminationOutcome, StoreError> {
        // The conditional UPDATE is the whole decision. A concurrent terminator blocks on the
        // row lock and, once the first commits, re-checks `status = 'alive'` against the new
        // row version and updates nothing, so exactly one call terminates the twin.
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let terminated: Option<TwinRow> = sqlx::query_as(&format!(
            "UPDATE twins SET status = 'terminated', terminated_by = $1, terminated_ts = $2, \
             updated_ts = $2 WHERE id = $3 AND owner = $1 AND status = 'alive' \
             RETURNING {TWIN_COLUMNS}"
        ))
        .bind(account.as_uuid())
        .bind(now.as_millis())
        .bind(twin.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        if let Some(row) = terminated {
            let terminated = Twin::try_from(row)?;
            send_signal(&mut tx, ChangeSignal::Twin(twin)).await?;
            tx.commit().await.map_err(database_error)?;
            return Ok(TerminationOutcome::Terminated(terminated));
        }
        drop(tx);
        // Nothing changed: say why. Termination is final, so a twin the UPDATE saw terminated is
        // still terminated now.
        let existing: Option<TwinRow> = sqlx::query_as(&format!(
            "SELECT {TWIN_COLUMNS} FROM twins WHERE id = $1 AND owner = $2"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        let existing = Twin::try_from(existing.ok_or(StoreError::NotFound(Entity::Twin))?)?;
        match existing.status {
            TwinStatus::Terminated => Ok(TerminationOutcome::AlreadyTerminated(existing)),
            // Only a twin created after the UPDATE ran can be alive here; it was missing when
            // termination was decided.
            TwinStatus::Alive => Err(StoreError::NotFound(Entity::Twin)),
        }
    }

    pub(crate) async fn list_owned_twin_rows(
        &self,
        account: AccountId,
        page: PageRequest<TwinId>,
    ) -> Result<Vec<Twin>, StoreError> {
        // Two statements rather than `($2 IS NULL OR id > $2)`: each is a plain range scan of
        // twins_by_owner even under a generic plan, so a late page does not walk the owner's
        // earlier twins.
        let after_condition = if page.after.is_some() {
            "AND id > $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {TWIN_COLUMNS} FROM twins WHERE owner = $1 {after_condition} \
             ORDER BY id LIMIT $2"
        );
        let mut query = sqlx::query_as(&sql)
            .bind(account.as_uuid())
            .bind(i64::from(page.limit));
        if let Some(after) = page.after {
            query = query.bind(after.as_uuid());
        }
        let rows: Vec<TwinRow> = query.fetch_all(&self.pool).await.map_err(database_error)?;
        rows.into_iter().map(Twin::try_from).collect()
    }
}
