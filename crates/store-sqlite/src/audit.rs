//! The audit log (migration 0013): records with consecutive `seq`s, the Merkle hashes a sealer
//! stored for them, and signed checkpoints.
//!
//! Seqs come from the one-row `audit_counter`, like event ids: a transaction that appends `n`
//! records adds `n` to it and numbers its records from the old value. SQLite's single writer
//! (every writing transaction starts with `BEGIN IMMEDIATE`) makes the seqs consecutive and
//! increasing in commit order. A record is stored as its exact leaf text; the other columns are
//! copies for filtering listings and are never read back.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use steward_domain::{
    seq_ranges, AccountId, AuditCheckpoint, AuditRecord, AuditRetention, StoredAuditRecord,
    Timestamp,
};
use steward_store::columns::{corrupt, decode_json};
use steward_store::{AuditHash, AuditQuery, Entity, StoreError};

use crate::error::database_error;
use crate::notifications::ensure_no_nul;
use crate::SqliteStore as Store;

/// Rows per multi-row INSERT: 8 bound values each stays far below SQLite's variable limit.
const INSERT_CHUNK_ROWS: usize = 500;

/// An audit record's columns, ready to bind.
struct AuditColumns {
    ts: i64,
    actor: Option<String>,
    owner: Option<String>,
    twin: Option<String>,
    operation: String,
    outcome: String,
    text: String,
}

impl AuditColumns {
    fn of(record: &AuditRecord) -> Result<Self, StoreError> {
        let text = record.leaf_text();
        // JSON escapes control characters, so only the filter copies can hold a NUL; refused
        // alike on every backend.
        ensure_no_nul(
            "audit record",
            [
                record.operation.as_str(),
                record.outcome.as_str(),
                text.as_str(),
            ],
        )?;
        Ok(Self {
            ts: record.ts.as_millis(),
            actor: record.actor_account.map(|account| account.to_string()),
            owner: record.owner.map(|account| account.to_string()),
            twin: record.twin.map(|twin| twin.to_string()),
            operation: record.operation.clone(),
            outcome: record.outcome.clone(),
            text,
        })
    }
}

/// A log position or size as the INTEGER columns hold it; past `i64::MAX` cannot be stored.
fn stored_size(what: &str, size: u64) -> Result<i64, StoreError> {
    i64::try_from(size)
        .map_err(|_| StoreError::Backend(format!("audit {what} {size} is out of range")))
}

/// A stored INTEGER that must not be negative.
fn read_size(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(what, value))
}

/// Appends `records` to the audit log inside the caller's write transaction, numbering them
/// from the counter; returns the first record's seq, or `None` (and runs no statement) when
/// there are no records.
pub(crate) async fn append_audit(
    connection: &mut SqliteConnection,
    records: &[AuditRecord],
) -> Result<Option<u64>, StoreError> {
    if records.is_empty() {
        return Ok(None);
    }
    let columns = records
        .iter()
        .map(AuditColumns::of)
        .collect::<Result<Vec<AuditColumns>, StoreError>>()?;
    let count = i64::try_from(records.len())
        .map_err(|_| StoreError::Backend("too many audit records in one transaction".to_owned()))?;
    let next: i64 = sqlx::query_scalar(
        "UPDATE audit_counter SET next_seq = next_seq + ? WHERE only_row = 1 RETURNING next_seq",
    )
    .bind(count)
    .fetch_one(&mut *connection)
    .await
    .map_err(database_error)?;
    let first = next - count;
    let mut rows = (first..).zip(columns).peekable();
    while rows.peek().is_some() {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_records \
             (seq, ts, actor_account_id, owner_account_id, twin_id, operation, outcome, text) ",
        );
        // The columns move into the statement: no copy of the record texts.
        insert.push_values(
            rows.by_ref().take(INSERT_CHUNK_ROWS),
            |mut row, (seq, record)| {
                row.push_bind(seq)
                    .push_bind(record.ts)
                    .push_bind(record.actor)
                    .push_bind(record.owner)
                    .push_bind(record.twin)
                    .push_bind(record.operation)
                    .push_bind(record.outcome)
                    .push_bind(record.text);
            },
        );
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
    }
    read_size("audit seq", first).map(Some)
}

/// Adds `query`'s optional filters (each ANDed) to a branch of the listing.
fn push_filters(builder: &mut QueryBuilder<'_, Sqlite>, query: &AuditQuery, before: Option<i64>) {
    if let Some(twin) = query.twin {
        builder.push(" AND twin_id = ").push_bind(twin.to_string());
    }
    if let Some(actor) = query.actor {
        builder
            .push(" AND actor_account_id = ")
            .push_bind(actor.to_string());
    }
    if let Some(operation) = &query.operation {
        builder
            .push(" AND operation = ")
            .push_bind(operation.clone());
    }
    if let Some(outcome) = &query.outcome {
        builder.push(" AND outcome = ").push_bind(outcome.clone());
    }
    if let Some(ge) = query.ge {
        builder.push(" AND ts >= ").push_bind(ge.as_millis());
    }
    if let Some(le) = query.le {
        builder.push(" AND ts <= ").push_bind(le.as_millis());
    }
    if let Some(before) = before {
        builder.push(" AND seq < ").push_bind(before);
    }
}

/// A checkpoint row as SQLite returns it.
#[derive(Debug, sqlx::FromRow)]
struct CheckpointRow {
    size: i64,
    ts: i64,
    note: String,
}

impl TryFrom<CheckpointRow> for AuditCheckpoint {
    type Error = StoreError;

    fn try_from(row: CheckpointRow) -> Result<Self, StoreError> {
        Ok(AuditCheckpoint {
            size: read_size("audit checkpoint size", row.size)?,
            ts: Timestamp::from_millis(row.ts),
            note: row.note,
        })
    }
}

impl Store {
    pub(crate) async fn append_audit_rows(
        &self,
        records: &[AuditRecord],
    ) -> Result<u64, StoreError> {
        if records.is_empty() {
            return self.audit_row_count().await;
        }
        let mut transaction = self.begin_write().await?;
        let first = append_audit(&mut transaction, records).await?;
        transaction.commit().await?;
        first.ok_or_else(|| StoreError::Backend("audit records were not appended".to_owned()))
    }

    pub(crate) async fn list_audit_rows(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<(u64, AuditRecord)>, StoreError> {
        let stored_never_holds_nul = [query.operation.as_deref(), query.outcome.as_deref()]
            .into_iter()
            .flatten()
            .any(|text| text.contains('\0'));
        if query.limit == 0 || query.before == Some(0) || stored_never_holds_nul {
            return Ok(Vec::new());
        }
        // Every stored seq is below i64::MAX, so a larger cursor restricts nothing.
        let before = query.before.and_then(|before| i64::try_from(before).ok());
        let viewer = query.viewer.to_string();
        let limit = i64::from(query.limit);
        // Visible rows are those the viewer owns plus those it acted on (and does not own, so
        // none comes twice): one branch per index, each read newest first and cut at the
        // limit, merged; the same shape as on PostgreSQL.
        let mut builder = QueryBuilder::<Sqlite>::new(
            "SELECT seq, text FROM ( \
                 SELECT * FROM (SELECT seq, text FROM audit_records WHERE owner_account_id = ",
        );
        builder.push_bind(viewer.clone());
        push_filters(&mut builder, query, before);
        builder.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
        builder.push(
            ") UNION ALL \
             SELECT * FROM (SELECT seq, text FROM audit_records WHERE actor_account_id = ",
        );
        builder.push_bind(viewer.clone());
        builder
            .push(" AND owner_account_id IS NOT ")
            .push_bind(viewer);
        push_filters(&mut builder, query, before);
        builder.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
        builder.push(")) ORDER BY seq DESC LIMIT ");
        builder.push_bind(limit);
        let rows: Vec<(i64, String)> = builder
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        rows.into_iter()
            .map(|(seq, text)| {
                Ok((
                    read_size("audit seq", seq)?,
                    decode_json(&text, "audit record")?,
                ))
            })
            .collect()
    }

    pub(crate) async fn read_audit_rows(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredAuditRecord>, StoreError> {
        // No stored seq is past i64::MAX.
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, text FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?",
        )
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter()
            .map(|(seq, text)| {
                Ok(StoredAuditRecord {
                    seq: read_size("audit seq", seq)?,
                    text,
                })
            })
            .collect()
    }

    pub(crate) async fn audit_row_count(&self) -> Result<u64, StoreError> {
        let next: i64 = sqlx::query_scalar("SELECT next_seq FROM audit_counter")
            .fetch_one(&self.pool)
            .await
            .map_err(database_error)?;
        read_size("audit counter", next)
    }

    pub(crate) async fn audit_tree_row_size(&self) -> Result<u64, StoreError> {
        let size: i64 = sqlx::query_scalar("SELECT size FROM audit_tree")
            .fetch_one(&self.pool)
            .await
            .map_err(database_error)?;
        read_size("audit tree size", size)
    }

    pub(crate) async fn read_audit_hash_rows(
        &self,
        indexes: &[u64],
    ) -> Result<Vec<AuditHash>, StoreError> {
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        // An index past i64::MAX is never stored: it is missing.
        let wanted = indexes
            .iter()
            .map(|&index| i64::try_from(index).map_err(|_| StoreError::NotFound(Entity::Setting)))
            .collect::<Result<Vec<i64>, StoreError>>()?;
        // The indexes go in as one JSON array: no limit on how many, one statement.
        let list = serde_json::to_string(&wanted)
            .map_err(|error| StoreError::Backend(format!("cannot encode indexes: {error}")))?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, hash FROM audit_hashes WHERE idx IN (SELECT value FROM json_each(?))",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        let stored: HashMap<i64, Vec<u8>> = rows.into_iter().collect();
        wanted
            .iter()
            .map(|index| {
                let hash = stored
                    .get(index)
                    .ok_or(StoreError::NotFound(Entity::Setting))?;
                AuditHash::try_from(hash.as_slice())
                    .map_err(|_| corrupt("audit hash", format!("{} bytes", hash.len())))
            })
            .collect()
    }

    pub(crate) async fn seal_audit_rows(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: &[(u64, AuditHash)],
        checkpoint: &AuditCheckpoint,
    ) -> Result<bool, StoreError> {
        if checkpoint.size != to_size {
            return Err(StoreError::Backend(format!(
                "audit checkpoint of size {} cannot seal size {to_size}",
                checkpoint.size
            )));
        }
        if to_size <= from_size {
            return Err(StoreError::Backend(format!(
                "an audit seal must grow the log, not go from {from_size} to {to_size}"
            )));
        }
        ensure_no_nul("audit checkpoint", [checkpoint.note.as_str()])?;
        let from = stored_size("size", from_size)?;
        let to = stored_size("size", to_size)?;
        let hashes = hashes
            .iter()
            .map(|(index, hash)| Ok((stored_size("hash index", *index)?, hash)))
            .collect::<Result<Vec<(i64, &AuditHash)>, StoreError>>()?;
        // The write lock (BEGIN IMMEDIATE) makes the compare and the set one step.
        let mut transaction = self.begin_write().await?;
        let moved = sqlx::query("UPDATE audit_tree SET size = ? WHERE size = ?")
            .bind(to)
            .bind(from)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        if moved.rows_affected() == 0 {
            // Dropping the transaction stores nothing.
            return Ok(false);
        }
        let appended: i64 = sqlx::query_scalar("SELECT next_seq FROM audit_counter")
            .fetch_one(&mut *transaction)
            .await
            .map_err(database_error)?;
        if to > appended {
            return Err(StoreError::Backend(format!(
                "cannot seal {to_size} audit records: only {appended} were appended"
            )));
        }
        for chunk in hashes.chunks(INSERT_CHUNK_ROWS) {
            // An index stored already is a unique violation: the seal fails and rolls back.
            let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO audit_hashes (idx, hash) ");
            insert.push_values(chunk, |mut row, (index, hash)| {
                row.push_bind(*index).push_bind(hash.to_vec());
            });
            insert
                .build()
                .execute(&mut *transaction)
                .await
                .map_err(database_error)?;
        }
        sqlx::query("INSERT INTO audit_checkpoints (size, ts, note) VALUES (?, ?, ?)")
            .bind(to)
            .bind(checkpoint.ts.as_millis())
            .bind(&checkpoint.note)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        transaction.commit().await?;
        Ok(true)
    }

    pub(crate) async fn latest_audit_checkpoint_row(
        &self,
    ) -> Result<Option<AuditCheckpoint>, StoreError> {
        let row: Option<CheckpointRow> = sqlx::query_as(
            "SELECT size, ts, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(AuditCheckpoint::try_from).transpose()
    }

    pub(crate) async fn list_audit_checkpoint_rows(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditCheckpoint>, StoreError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let rows: Vec<CheckpointRow> = sqlx::query_as(
            "SELECT size, ts, note FROM audit_checkpoints WHERE size > ? ORDER BY size LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(AuditCheckpoint::try_from).collect()
    }

    pub(crate) async fn set_audit_retention_row(
        &self,
        account: AccountId,
        days: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        match days {
            Some(days) => sqlx::query(
                "INSERT INTO audit_retention (account_id, days) VALUES (?, ?) \
                 ON CONFLICT (account_id) DO UPDATE SET days = excluded.days",
            )
            .bind(account.to_string())
            .bind(i64::from(days)),
            None => sqlx::query("DELETE FROM audit_retention WHERE account_id = ?")
                .bind(account.to_string()),
        }
        .execute(&mut *transaction)
        .await
        .map_err(database_error)?;
        transaction.commit().await
    }

    pub(crate) async fn get_audit_retention_row(
        &self,
        account: AccountId,
    ) -> Result<Option<u32>, StoreError> {
        let days: Option<i64> =
            sqlx::query_scalar("SELECT days FROM audit_retention WHERE account_id = ?")
                .bind(account.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(database_error)?;
        days.map(|days| u32::try_from(days).map_err(|_| corrupt("audit retention", days)))
            .transpose()
    }

    pub(crate) async fn prune_audit_rows(
        &self,
        retention: &AuditRetention,
        mut record: AuditRecord,
    ) -> Result<u64, StoreError> {
        if retention.limit == 0 {
            return Ok(0);
        }
        let mut transaction = self.begin_write().await?;
        // A record expires for one party when that party's retention (its own, else the
        // default) is finite and has passed; it goes when it expired for both.
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT r.seq FROM audit_records r \
             LEFT JOIN audit_retention o ON o.account_id = r.owner_account_id \
             LEFT JOIN audit_retention a ON a.account_id = r.actor_account_id \
             WHERE r.seq < (SELECT size FROM audit_tree) \
               AND COALESCE(o.days, ?1) > 0 AND r.ts < ?2 - COALESCE(o.days, ?1) * 86400000 \
               AND COALESCE(a.days, ?1) > 0 AND r.ts < ?2 - COALESCE(a.days, ?1) * 86400000 \
             ORDER BY r.seq LIMIT ?3",
        )
        .bind(i64::from(retention.default_days))
        .bind(retention.now.as_millis())
        .bind(i64::from(retention.limit))
        .fetch_all(&mut *transaction)
        .await
        .map_err(database_error)?;
        if seqs.is_empty() {
            return Ok(0);
        }
        let list = serde_json::to_string(&seqs)
            .map_err(|error| StoreError::Backend(format!("cannot encode seqs: {error}")))?;
        sqlx::query("DELETE FROM audit_records WHERE seq IN (SELECT value FROM json_each(?))")
            .bind(list)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        let deleted = seqs
            .iter()
            .map(|&seq| read_size("audit seq", seq))
            .collect::<Result<Vec<u64>, StoreError>>()?;
        record.pruned = Some(seq_ranges(&deleted));
        append_audit(&mut transaction, std::slice::from_ref(&record)).await?;
        transaction.commit().await?;
        Ok(deleted.len() as u64)
    }
}
