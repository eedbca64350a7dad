//! Per-account limits: the operator's overrides, the twin quota checked in the creating
//! statement, and the bytes an account's ledgers take.

use steward_domain::{AccountId, AccountLimits, Twin};
use steward_store::columns::corrupt;
use steward_store::{Entity, StoreError};

use crate::access::ensure_created_in;
use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::encode_json;
use crate::SqliteStore;

/// A stored non-negative integer, or `None` for NULL.
fn stored(value: Option<u64>) -> Result<Option<i64>, StoreError> {
    value
        .map(|value| {
            i64::try_from(value)
                .map_err(|_| StoreError::Backend(format!("limit {value} is out of range")))
        })
        .transpose()
}

fn read_u64(value: Option<i64>) -> Result<Option<u64>, StoreError> {
    value
        .map(|value| u64::try_from(value).map_err(|_| corrupt("account limit", value)))
        .transpose()
}

fn read_u32(value: Option<i64>) -> Result<Option<u32>, StoreError> {
    value
        .map(|value| u32::try_from(value).map_err(|_| corrupt("account limit", value)))
        .transpose()
}

type LimitsRow = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

impl SqliteStore {
    pub(crate) async fn set_account_limits_row(
        &self,
        account: AccountId,
        limits: &AccountLimits,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        if limits.is_empty() {
            sqlx::query("DELETE FROM account_limits WHERE account_id = ?")
                .bind(account.to_string())
                .execute(&mut *transaction)
                .await
                .map_err(database_error)?;
        } else {
            sqlx::query(
                "INSERT INTO account_limits (account_id, rate_limit_per_second, \
                 rate_limit_burst, max_twins, max_ledger_entries, max_stored_bytes) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET \
                 rate_limit_per_second = excluded.rate_limit_per_second, \
                 rate_limit_burst = excluded.rate_limit_burst, \
                 max_twins = excluded.max_twins, \
                 max_ledger_entries = excluded.max_ledger_entries, \
                 max_stored_bytes = excluded.max_stored_bytes",
            )
            .bind(account.to_string())
            .bind(stored(limits.rate_limit_per_second.map(u64::from))?)
            .bind(stored(limits.rate_limit_burst.map(u64::from))?)
            .bind(stored(limits.max_twins)?)
            .bind(stored(limits.max_ledger_entries.map(u64::from))?)
            .bind(stored(limits.max_stored_bytes)?)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        }
        transaction.commit().await
    }

    pub(crate) async fn get_account_limits_row(
        &self,
        account: AccountId,
    ) -> Result<AccountLimits, StoreError> {
        let row: Option<LimitsRow> = sqlx::query_as(
            "SELECT rate_limit_per_second, rate_limit_burst, max_twins, max_ledger_entries, \
             max_stored_bytes FROM account_limits WHERE account_id = ?",
        )
        .bind(account.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        let Some((per_second, burst, twins, entries, bytes)) = row else {
            return Ok(AccountLimits::default());
        };
        Ok(AccountLimits {
            rate_limit_per_second: read_u32(per_second)?,
            rate_limit_burst: read_u32(burst)?,
            max_twins: read_u64(twins)?,
            max_ledger_entries: read_u32(entries)?,
            max_stored_bytes: read_u64(bytes)?,
        })
    }

    /// One statement on the single writer: the count and the insert cannot interleave with
    /// another creation.
    pub(crate) async fn insert_twin_within_quota(
        &self,
        account: AccountId,
        twin: &Twin,
        max_alive_twins: u64,
    ) -> Result<bool, StoreError> {
        ensure_created_in(account, twin.owner, Entity::Twin)?;
        ensure_created_in(account, twin.creator, Entity::Twin)?;
        let description = twin.description.as_ref().map(encode_json).transpose()?;
        let max = i64::try_from(max_alive_twins).unwrap_or(i64::MAX);
        let insert = sqlx::query(
            "INSERT INTO twins (id, owner, creator, status, description, terminated_by, \
             terminated_ts, created_ts, updated_ts) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? \
             WHERE (SELECT COUNT(*) FROM twins WHERE owner = ? AND status = 'alive') < ?",
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
        .bind(twin.updated_ts.as_millis())
        .bind(account.to_string())
        .bind(max);
        let done = self
            .write_statement(
                insert,
                foreign_key_means_missing(Entity::Account, Entity::Twin),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn account_ledger_bytes_row(
        &self,
        account: AccountId,
    ) -> Result<u64, StoreError> {
        let bytes: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(LENGTH(CAST(entries AS BLOB))), 0) FROM ledgers \
             WHERE account_id = ?",
        )
        .bind(account.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(database_error)?;
        u64::try_from(bytes).map_err(|_| corrupt("ledger size", bytes))
    }
}
