//! Entry history: one row per recorded value change, with an expiry time for pruning.

use std::collections::BTreeMap;

use sqlx::SqliteConnection;
use steward_domain::{
    AccountId, HistoryRecord, HistoryWrite, Timestamp, TwinId, MAX_HISTORY_RECORDS,
};
use steward_store::{HistoryQuery, StoreError};

use crate::error::{corrupt, database_error};
use crate::rows::encode_json;
use crate::SqliteStore;

/// Applies the history side of a ledger write inside its transaction: purges, retention
/// changes, appends, then trimming of the appended entries. `seq` is the new ledger version.
pub(crate) async fn apply_history(
    connection: &mut SqliteConnection,
    twin: TwinId,
    account: AccountId,
    seq: i64,
    history: &HistoryWrite,
) -> Result<(), StoreError> {
    let (twin, account) = (twin.to_string(), account.to_string());
    for entry in &history.purge {
        sqlx::query("DELETE FROM entry_history WHERE twin_id = ? AND account_id = ? AND entry = ?")
            .bind(&twin)
            .bind(&account)
            .bind(entry)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
    }
    for (entry, retention) in &history.retention_changes {
        let records: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT seq, ts FROM entry_history WHERE twin_id = ? AND account_id = ? AND entry = ?",
        )
        .bind(&twin)
        .bind(&account)
        .bind(entry)
        .fetch_all(&mut *connection)
        .await
        .map_err(database_error)?;
        for (record_seq, ts) in records {
            let expires = retention
                .expiry(Timestamp::from_millis(ts))
                .map(|at| at.as_millis());
            sqlx::query(
                "UPDATE entry_history SET expires_ts = ? \
                 WHERE twin_id = ? AND account_id = ? AND entry = ? AND seq = ?",
            )
            .bind(expires)
            .bind(&twin)
            .bind(&account)
            .bind(entry)
            .bind(record_seq)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
        }
    }
    for append in &history.appends {
        sqlx::query(
            "INSERT INTO entry_history (twin_id, account_id, entry, seq, ts, value, expires_ts) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&twin)
        .bind(&account)
        .bind(&append.entry)
        .bind(seq)
        .bind(append.record.ts.as_millis())
        .bind(encode_json(&append.record.value)?)
        .bind(append.expires_ts.map(|at| at.as_millis()))
        .execute(&mut *connection)
        .await
        .map_err(database_error)?;
        sqlx::query(
            "DELETE FROM entry_history WHERE twin_id = ?1 AND account_id = ?2 AND entry = ?3 \
             AND seq NOT IN (SELECT seq FROM entry_history \
                 WHERE twin_id = ?1 AND account_id = ?2 AND entry = ?3 \
                 ORDER BY ts DESC, seq DESC LIMIT ?4)",
        )
        .bind(&twin)
        .bind(&account)
        .bind(&append.entry)
        .bind(MAX_HISTORY_RECORDS as i64)
        .execute(&mut *connection)
        .await
        .map_err(database_error)?;
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn get_history_rows(
        &self,
        twin: TwinId,
        account: AccountId,
        query: &HistoryQuery,
    ) -> Result<BTreeMap<String, Vec<HistoryRecord>>, StoreError> {
        let mut history: BTreeMap<String, Vec<HistoryRecord>> = BTreeMap::new();
        if query.entries.is_empty() || query.limit == 0 {
            return Ok(history);
        }
        // One statement for all entries: a window numbers each entry's records newest first.
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT entry, ts, value FROM ( \
                 SELECT entry, ts, seq, value, ROW_NUMBER() OVER ( \
                     PARTITION BY entry ORDER BY ts DESC, seq DESC) AS position \
                 FROM entry_history \
                 WHERE twin_id = ? AND account_id = ? \
                   AND entry IN (SELECT value FROM json_each(?)) \
                   AND (expires_ts IS NULL OR expires_ts > ?) \
                   AND ts >= ? AND ts <= ?) \
             WHERE position <= ? ORDER BY entry, ts DESC, seq DESC",
        )
        .bind(twin.to_string())
        .bind(account.to_string())
        .bind(encode_json(&query.entries)?)
        .bind(query.now.as_millis())
        .bind(query.ge.map_or(i64::MIN, |ge| ge.as_millis()))
        .bind(query.le.map_or(i64::MAX, |le| le.as_millis()))
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        for (entry, ts, value) in rows {
            let value =
                serde_json::from_str(&value).map_err(|_| corrupt("history value", &value))?;
            history.entry(entry).or_default().push(HistoryRecord {
                ts: Timestamp::from_millis(ts),
                value,
            });
        }
        Ok(history)
    }

    pub(crate) async fn prune_history_rows(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .write_statement(
                sqlx::query(
                    "DELETE FROM entry_history WHERE rowid IN ( \
                         SELECT rowid FROM entry_history \
                         WHERE expires_ts IS NOT NULL AND expires_ts <= ? LIMIT ?)",
                )
                .bind(now.as_millis())
                .bind(i64::from(limit)),
                database_error,
            )
            .await?;
        Ok(deleted.rows_affected())
    }
}
