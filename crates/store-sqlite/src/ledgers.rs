//! Ledgers: one per (twin, account), read whole and written whole under optimistic concurrency
//! on their version.

use sqlx::error::ErrorKind;
use steward_domain::{AccountId, Ledger, TwinId};
use steward_store::{Entity, StoreError};

use crate::error::{database_error, map_violation};
use crate::rows::{encode_json, LedgerRow};
use crate::SqliteStore;

const LEDGER_COLUMNS: &str = "twin_id, account_id, entries, version, created_ts, updated_ts";

/// Saving a ledger under an account other than its own is a caller bug; refusing it keeps one
/// account from writing another's ledger.
fn ensure_ledger_of(account: AccountId, ledger: &Ledger) -> Result<(), StoreError> {
    if ledger.account == account {
        return Ok(());
    }
    Err(StoreError::Backend(
        "ledger to save belongs to another account".to_owned(),
    ))
}

/// A version as the INTEGER column holds it; versions past `i64::MAX` cannot be stored.
fn stored_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version)
        .map_err(|_| StoreError::Backend(format!("ledger version {version} is out of range")))
}

impl SqliteStore {
    pub(crate) async fn get_ledger_row(
        &self,
        twin: TwinId,
        account: AccountId,
    ) -> Result<Option<Ledger>, StoreError> {
        let row: Option<LedgerRow> = sqlx::query_as(&format!(
            "SELECT {LEDGER_COLUMNS} FROM ledgers WHERE twin_id = ? AND account_id = ?"
        ))
        .bind(twin.to_string())
        .bind(account.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(Ledger::try_from).transpose()
    }

    pub(crate) async fn save_ledger_row(
        &self,
        account: AccountId,
        ledger: &Ledger,
        expected_version: Option<u64>,
        _history: &steward_domain::HistoryWrite,
    ) -> Result<(), StoreError> {
        ensure_ledger_of(account, ledger)?;
        let entries = encode_json(&ledger.entries)?;
        let version = stored_version(ledger.version)?;
        match expected_version {
            None => self.insert_ledger(ledger, &entries, version).await,
            Some(expected) => {
                self.update_ledger_if_version(ledger, &entries, version, stored_version(expected)?)
                    .await
            }
        }
    }

    async fn insert_ledger(
        &self,
        ledger: &Ledger,
        entries: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO ledgers (twin_id, account_id, entries, version, created_ts, updated_ts) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(ledger.twin.to_string())
        .bind(ledger.account.to_string())
        .bind(entries)
        .bind(version)
        .bind(ledger.created_ts.as_millis())
        .bind(ledger.updated_ts.as_millis())
        .execute(&self.pool)
        .await;
        let Err(error) = inserted else {
            return Ok(());
        };
        if is_foreign_key_violation(&error) {
            return Err(self.missing_ledger_reference(ledger.twin).await);
        }
        // The ledger exists already: someone else created it since the caller saw none.
        Err(map_violation(error, |kind| {
            (kind == ErrorKind::UniqueViolation).then_some(StoreError::Conflict(Entity::Ledger))
        }))
    }

    async fn update_ledger_if_version(
        &self,
        ledger: &Ledger,
        entries: &str,
        version: i64,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        // One statement: the version test and the write happen under SQLite's write lock, so of
        // several writers holding the same version exactly one matches. created_ts is never
        // rewritten.
        let updated = sqlx::query(
            "UPDATE ledgers SET entries = ?, version = ?, updated_ts = ? \
             WHERE twin_id = ? AND account_id = ? AND version = ?",
        )
        .bind(entries)
        .bind(version)
        .bind(ledger.updated_ts.as_millis())
        .bind(ledger.twin.to_string())
        .bind(ledger.account.to_string())
        .bind(expected_version)
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        // A missing ledger is a conflict too: the caller read a version that is not stored.
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(Entity::Ledger));
        }
        Ok(())
    }

    /// Says which reference of a refused ledger insert is missing. SQLite does not name the
    /// violated foreign key, so look: the twin first, else the account. Twins and accounts are
    /// never deleted, so what is missing now was missing at the insert.
    async fn missing_ledger_reference(&self, twin: TwinId) -> StoreError {
        let twin_exists: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM twins WHERE id = ?)")
                .bind(twin.to_string())
                .fetch_one(&self.pool)
                .await;
        match twin_exists {
            Ok(false) => StoreError::NotFound(Entity::Twin),
            Ok(true) => StoreError::NotFound(Entity::Account),
            Err(error) => database_error(error),
        }
    }
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(database) if database.kind() == ErrorKind::ForeignKeyViolation
    )
}
