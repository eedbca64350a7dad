//! Usage counters and the account log (migration 0014).
//!
//! Counters are added with additive upserts (`value = value + EXCLUDED.value`), so increments
//! of several nodes add up; a flush upserts its rows in key order, so two concurrent flushes
//! lock rows in the same order and never deadlock. Log `seq`s come from the account's row in
//! `account_log_counters`, locked by the appending transaction until it commits: appends to one
//! account's log commit in `seq` order, and a reader never misses a message behind its cursor.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use steward_domain::{AccountId, AccountLogMessage, Timestamp, UsageIncrement};
use steward_store::{Entity, StoreError, UsageReport};
use uuid::Uuid;

use crate::error::{corrupt, database_error, map_violation};
use crate::notifications::ensure_no_nul;
use crate::PostgresStore;

/// A counter's key: (account, user, bucket, counter).
type CounterKey = (Uuid, Uuid, String, String);

fn stored_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Appends messages to the log of `account` inside the caller's transaction; returns the `seq`
/// of the last. A missing account is `NotFound(Account)`.
pub(crate) async fn append_log(
    connection: &mut PgConnection,
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
    let timestamps: Vec<i64> = messages.iter().map(|(ts, _)| ts.as_millis()).collect();
    let texts: Vec<String> = messages.iter().map(|(_, text)| text.clone()).collect();
    // One statement takes the seqs (locking the account's counter row until commit) and stores
    // the messages; the n-th message gets last_seq - count + n.
    let last_seq: i64 = sqlx::query_scalar(
        "WITH counter AS ( \
             INSERT INTO account_log_counters AS c (account_id, last_seq) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq \
             RETURNING last_seq), \
         stored AS ( \
             INSERT INTO account_log (account_id, seq, ts, message) \
             SELECT $1, counter.last_seq - $2 + m.n, m.ts, m.message \
             FROM counter, UNNEST($3::BIGINT[], $4::TEXT[]) WITH ORDINALITY AS m (ts, message, n)) \
         SELECT last_seq FROM counter",
    )
    .bind(account.as_uuid())
    .bind(count)
    .bind(timestamps)
    .bind(texts)
    .fetch_one(&mut *connection)
    .await
    .map_err(|error| {
        map_violation(error, |kind| {
            (kind == sqlx::error::ErrorKind::ForeignKeyViolation)
                .then_some(StoreError::NotFound(Entity::Account))
        })
    })?;
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

impl PostgresStore {
    pub(crate) async fn add_usage_rows(
        &self,
        increments: &[UsageIncrement],
    ) -> Result<(), StoreError> {
        let mut sums: BTreeMap<CounterKey, u64> = BTreeMap::new();
        for increment in increments {
            ensure_no_nul("usage key", [increment.bucket.as_str(), &increment.counter])?;
            let key = (
                increment.account.as_uuid(),
                increment.user,
                increment.bucket.clone(),
                increment.counter.clone(),
            );
            let sum = sums.entry(key).or_default();
            *sum = sum.saturating_add(increment.value);
        }
        if sums.is_empty() {
            return Ok(());
        }
        let mut accounts = Vec::with_capacity(sums.len());
        let mut users = Vec::with_capacity(sums.len());
        let mut buckets = Vec::with_capacity(sums.len());
        let mut counters = Vec::with_capacity(sums.len());
        let mut values = Vec::with_capacity(sums.len());
        for ((account, user, bucket, counter), value) in sums {
            accounts.push(account);
            users.push(user);
            buckets.push(bucket);
            counters.push(counter);
            values.push(i64::try_from(value).unwrap_or(i64::MAX));
        }
        // Rows in key order (the arrays' order, kept by ORDER BY n) lock in the same order in
        // every flush.
        sqlx::query(
            "INSERT INTO usage_counters AS u (account_id, user_id, bucket, counter, value) \
             SELECT account_id, user_id, bucket, counter, value \
             FROM UNNEST($1::UUID[], $2::UUID[], $3::TEXT[], $4::TEXT[], $5::BIGINT[]) \
                 WITH ORDINALITY AS i (account_id, user_id, bucket, counter, value, n) \
             ORDER BY n \
             ON CONFLICT (account_id, user_id, bucket, counter) \
             DO UPDATE SET value = u.value + EXCLUDED.value",
        )
        .bind(accounts)
        .bind(users)
        .bind(buckets)
        .bind(counters)
        .bind(values)
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        Ok(())
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
             WHERE account_id = $1 AND user_id = $2 AND bucket >= $3 AND bucket <= $4",
        )
        .bind(account.as_uuid())
        .bind(user)
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
        let deleted = sqlx::query(
            "DELETE FROM usage_counters WHERE ctid IN ( \
                 SELECT ctid FROM usage_counters WHERE bucket < $1 LIMIT $2)",
        )
        .bind(before_bucket)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
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
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let last = append_log(&mut tx, account, messages).await?;
        tx.commit().await.map_err(database_error)?;
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
             WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(account.as_uuid())
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
        let deleted = sqlx::query(
            "DELETE FROM account_log WHERE ctid IN ( \
                 SELECT ctid FROM account_log WHERE ts < $1 LIMIT $2)",
        )
        .bind(before.as_millis())
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        Ok(deleted.rows_affected())
    }

    pub(crate) async fn count_pending_delivery_rows(
        &self,
        account: AccountId,
    ) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries AS d \
             JOIN subscriptions AS s ON s.id = d.subscription_id \
             WHERE s.subscriber_account_id = $1",
        )
        .bind(account.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(database_error)?;
        u64::try_from(count).map_err(|_| corrupt("delivery count", count))
    }
}
