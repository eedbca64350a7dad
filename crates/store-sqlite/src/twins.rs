//! Twins: creation, reading by anyone, owner-only description changes and termination, and the
//! owner's listing.

use serde_json::{Map, Value};
use steward_domain::{AccountId, Timestamp, Twin, TwinId, TwinStatus};
use steward_store::{Entity, PageRequest, StoreError, TerminationOutcome};

use crate::access::ensure_created_in;
use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::{encode_json, TwinRow};
use crate::SqliteStore;

const TWIN_COLUMNS: &str = "id, owner, creator, status, description, terminated_by, \
                            terminated_ts, created_ts, updated_ts";

impl SqliteStore {
    pub(crate) async fn insert_twin(
        &self,
        account: AccountId,
        twin: &Twin,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, twin.owner, Entity::Twin)?;
        ensure_created_in(account, twin.creator, Entity::Twin)?;
        let description = twin.description.as_ref().map(encode_json).transpose()?;
        let insert = sqlx::query(
            "INSERT INTO twins (id, owner, creator, status, description, terminated_by, \
             terminated_ts, created_ts, updated_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(twin.id.to_string())
        .bind(twin.owner.to_string())
        .bind(twin.creator.to_string())
        .bind(twin.status.as_str())
        .bind(description)
        .bind(
            twin.termination
                .map(|termination| termination.issuer.to_string()),
        )
        .bind(
            twin.termination
                .map(|termination| termination.terminated_ts.as_millis()),
        )
        .bind(twin.created_ts.as_millis())
        .bind(twin.updated_ts.as_millis());
        self.write_statement(
            insert,
            foreign_key_means_missing(Entity::Account, Entity::Twin),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn get_twin_row(&self, twin: TwinId) -> Result<Twin, StoreError> {
        let row: Option<TwinRow> =
            sqlx::query_as(&format!("SELECT {TWIN_COLUMNS} FROM twins WHERE id = ?"))
                .bind(twin.to_string())
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
        let row: Option<TwinRow> = self
            .write_returning(
                sqlx::query_as(&format!(
                    "UPDATE twins SET description = ?, updated_ts = ? WHERE id = ? AND owner = ? \
             RETURNING {TWIN_COLUMNS}"
                ))
                .bind(description)
                .bind(now.as_millis())
                .bind(twin.to_string())
                .bind(account.to_string()),
            )
            .await?;
        // Another account's twin is reported like a missing one: changes are the owner's alone.
        row.ok_or(StoreError::NotFound(Entity::Twin))?.try_into()
    }

    pub(crate) async fn terminate_twin_row(
        &self,
        account: AccountId,
        twin: TwinId,
        now: Timestamp,
    ) -> Result<TerminationOutcome, StoreError> {
        // BEGIN IMMEDIATE serialises terminators: only the first finds the twin alive, and the
        // re-read below sees the state the conditional update saw.
        let mut tx = self.begin_write().await?;
        let terminated: Option<TwinRow> = sqlx::query_as(&format!(
            "UPDATE twins SET status = 'terminated', terminated_by = ?1, terminated_ts = ?2, \
             updated_ts = ?2 WHERE id = ?3 AND owner = ?1 AND status = 'alive' \
             RETURNING {TWIN_COLUMNS}"
        ))
        .bind(account.to_string())
        .bind(now.as_millis())
        .bind(twin.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        if let Some(row) = terminated {
            let twin = Twin::try_from(row)?;
            tx.commit().await?;
            return Ok(TerminationOutcome::Terminated(twin));
        }
        let existing: Option<TwinRow> = sqlx::query_as(&format!(
            "SELECT {TWIN_COLUMNS} FROM twins WHERE id = ? AND owner = ?"
        ))
        .bind(twin.to_string())
        .bind(account.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        // Nothing was written; dropping `tx` rolls back the empty transaction.
        let existing = Twin::try_from(existing.ok_or(StoreError::NotFound(Entity::Twin))?)?;
        match existing.status {
            TwinStatus::Terminated => Ok(TerminationOutcome::AlreadyTerminated(existing)),
            // Under the write lock an owned alive twin would have been updated above.
            TwinStatus::Alive => Err(StoreError::Backend(
                "alive twin was not terminated by the conditional update".to_owned(),
            )),
        }
    }

    pub(crate) async fn list_owned_twin_rows(
        &self,
        account: AccountId,
        page: PageRequest<TwinId>,
    ) -> Result<Vec<Twin>, StoreError> {
        // Two statements rather than `(? IS NULL OR id > ?)`: each one is a plain range scan of
        // twins_by_owner, so a late page does not walk the owner's earlier twins.
        let after_condition = if page.after.is_some() {
            "AND id > ?"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {TWIN_COLUMNS} FROM twins WHERE owner = ? {after_condition} \
             ORDER BY id LIMIT ?"
        );
        let mut query = sqlx::query_as(&sql).bind(account.to_string());
        if let Some(after) = page.after {
            query = query.bind(after.to_string());
        }
        let rows: Vec<TwinRow> = query
            .bind(i64::from(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        rows.into_iter().map(Twin::try_from).collect()
    }
}
