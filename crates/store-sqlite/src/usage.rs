//! Usage counters and the account log (migration 0014).
//!
//! Counters are added with additive upserts, so increments of several nodes (or several
//! flushes of one) add up. Log `seq`s come from `account_log_counters`, updated in the
//! appending transaction; SQLite's single writer (`BEGIN IMMEDIATE`) orders the commits, so
//! an account's `seq`s increase in commit order.

use std::collections::BTreeMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use steward_domain::{AccountId, AccountLogMessage, Timestamp, UsageIncrement};
use steward_store::columns::corrupt;
use steward_store::{Entity, StoreError, UsageReport};
use uuid::Uuid;

use crate::error::{database_error, map_violation};
use crate::notifications::ensure_no_nul;
use crate::SqliteStore;

/// Rows per multi-row INSERT: 5 bound values each stays far below SQLite's variable limit.
const INSERT_CHUNK_ROWS: usize = 500;

/// A counter's key as stored: (account, user, bucket, counter).
type CounterKey = (String, String, String, String);

/// Sums increments of the same counter, in key order.
fn aggregate(increments: &[UsageIncrement]) -> Result<Vec<(CounterKey, i64)>, StoreError> {
    let mut sums: BTreeMap<CounterKey, u64> = BTreeMap::new();
    for increment in increments {
        ensure_no_nul("usage key", [increment.bucket.as_str(), &increment.counter])?;
        let key = (
            increment.account.to_string(),
            increment.user.to_string(),
            increment.bucket.clone(),
            increment.counter.clone(),
        );
        let sum = sums.entry(key).or_default();
        *sum = sum.saturating_add(increment.value);
    }
    Ok(sums
        .into_iter()
        .map(|(key, value)| (key, i64::try_from(value).unwrap_or(i64::MAX)))
        .collect())
}

fn stored_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Appends messages to the log of `account` inside the caller's write transaction; returns the
/// `seq` of the last. A missing account is `NotFound(Account)`.
pub(crate) async fn append_log(
    connection: &mut SqliteConnection,
    account: AccountId,
    messages: &[(Timestamp, String)],
) -> Result<u64, StoreError> {
    if messages.is_empty() {
        return Ok(0);
    }
    ensure_no_nul(
        "log message",
        messages.iter().map(|(_, text)| text.as_str()),
    )?;
    let count = i64::try_from(messages.len())
        .map_err(|_| StoreError::Backend("too many log messages at once".to_owned()))?;
    let last_seq: i64 = sqlx::query_scalar(
        "INSERT INTO account_log_counters (account_id, last_seq) VALUES (?1, ?2) \
         ON CONFLICT (account_id) DO UPDATE SET last_seq = last_seq + ?2 \
         RETURNING last_seq",
    )
    .bind(account.to_string())
    .bind(count)
    .fetch_one(&mut *connection)
    .await
    .map_err(|error| {
        map_violation(error, |kind| {
            (kind == sqlx::error::ErrorKind::ForeignKeyViolation)
                .then_some(StoreError::NotFound(Entity::Account))
        })
    })?;
    let numbered: Vec<(i64, &(Timestamp, String))> =
        (last_seq - count + 1..).zip(messages.iter()).collect();
    for chunk in numbered.chunks(INSERT_CHUNK_ROWS) {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO account_log (account_id, seq, ts, message) ");
        insert.push_values(chunk, |mut row, (seq, (ts, text))| {
            row.push_bind(account.to_string())
                .push_bind(*seq)
                .push_bind(ts.as_millis())
                .push_bind(text.clone());
        });
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
    }
    u64::try_from(last_seq).map_err(|_| corrupt("log seq", last_seq))
}

#[derive(Debug, sqlx::FromRow)]
struct CounterRow {
    bucket: String,
    counter: String,
    value: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct LogRow {
    seq: i64,
    ts: i64,
    message: String,
}

impl SqliteStore {
    pub(crate) async fn add_usage_rows(
        &self,
        increments: &[UsageIncrement],
    ) -> Result<(), StoreError> {
        let sums = aggregate(increments)?;
        if sums.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in sums.chunks(INSERT_CHUNK_ROWS) {
            let mut upsert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO usage_counters (account_id, user_id, bucket, counter, value) ",
            );
            upsert.push_values(
                chunk,
                |mut row, ((account, user, bucket, counter), value)| {
                    row.push_bind(account.clone())
                        .push_bind(user.clone())
                        .push_bind(bucket.clone())
                        .push_bind(counter.clone())
                        .push_bind(*value);
                },
            );
            upsert.push(
                " ON CONFLICT (account_id, user_id, bucket, counter) \
                  DO UPDATE SET value = min(value + excluded.value, 9223372036854775807)",
            );
            upsert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(database_error)?;
        }
        tx.commit().await
    }

    pub(crate) async fn get_usage_rows(
        &self,
        account: AccountId,
        user: Uuid,
        from_bucket: &str,
        to_bucket: &str,
    ) -> Result<UsageReport, StoreError> {
        let rows: Vec<CounterRow> = sqlx::query_as(
            "SELECT bucket, counter, value FROM usage_counters \
             WHERE account_id = ? AND user_id = ? AND bucket >= ? AND bucket <= ?",
        )
        .bind(account.to_string())
        .bind(user.to_string())
        .bind(from_bucket)
        .bind(to_bucket)
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        let mut report = UsageReport::new();
        for row in rows {
            let value = u64::try_from(row.value).map_err(|_| corrupt("usage value", row.value))?;
            report
                .entry(row.bucket)
                .or_default()
                .insert(row.counter, value);
        }
        Ok(report)
    }

    pub(crate) async fn prune_usage_rows(
        &self,
        before_bucket: &str,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .write_statement(
                sqlx::query(
                    "DELETE FROM usage_counters \
                     WHERE (account_id, user_id, bucket, counter) IN ( \
                         SELECT account_id, user_id, bucket, counter FROM usage_counters \
                         WHERE bucket < ? LIMIT ?)",
                )
                .bind(before_bucket)
                .bind(i64::from(limit)),
                database_error,
            )
            .await?;
        Ok(deleted.rows_affected())
    }

    pub(crate) async fn append_account_log_rows(
        &self,
        account: AccountId,
        messages: &[(Timestamp, String)],
    ) -> Result<u64, StoreError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let last = append_log(&mut tx, account, messages).await?;
        tx.commit().await?;
        Ok(last)
    }

    pub(crate) async fn list_account_log_rows(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccountLogMessage>, StoreError> {
        let rows: Vec<LogRow> = sqlx::query_as(
            "SELECT seq, ts, message FROM account_log \
             WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(account.to_string())
        .bind(stored_seq(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(AccountLogMessage {
                    seq: u64::try_from(row.seq).map_err(|_| corrupt("log seq", row.seq))?,
                    ts: Timestamp::from_millis(row.ts),
                    text: row.message,
                })
            })
            .collect()
    }

    pub(crate) async fn prune_account_log_rows(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .write_statement(
                sqlx::query(
                    "DELETE FROM account_log WHERE (account_id, seq) IN ( \
                         SELECT account_id, seq FROM account_log WHERE ts < ? LIMIT ?)",
                )
                .bind(before.as_millis())
                .bind(i64::from(limit)),
                database_error,
            )
            .await?;
        Ok(deleted.rows_affected())
    }

    pub(crate) async fn count_pending_delivery_rows(
        &self,
        account: AccountId,
    ) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries AS d \
             JOIN subscriptions AS s ON s.id = d.subscription_id \
             WHERE s.subscriber_account_id = ?",
        )
        .bind(account.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(database_error)?;
        u64::try_from(count).map_err(|_| corrupt("delivery count", count))
    }
}
