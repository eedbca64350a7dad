//! Ledgers: one per (twin, account), read whole and written whole under optimistic concurrency
//! on their version.

use sqlx::error::ErrorKind;
use sqlx::SqliteConnection;
use steward_domain::{AccountId, Ledger, Twin, TwinId};
use steward_store::{Entity, LedgerEffects, LedgerOf, StoreError};

use crate::audit::append_audit;
use crate::error::{database_error, map_violation};
use crate::events::append_events;
use crate::history::apply_history;
use crate::rows::{encode_json, LedgerRow, TwinLedgerRow};
use crate::transactions::insert_transaction;
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

    pub(crate) async fn get_twin_with_ledger_row(
        &self,
        twin: TwinId,
        ledger: LedgerOf,
    ) -> Result<(Twin, Option<Ledger>), StoreError> {
        let selector = match ledger {
            LedgerOf::Account(_) => "account",
            LedgerOf::Owner => "owner",
            LedgerOf::Creator => "creator",
        };
        let account = match ledger {
            LedgerOf::Account(account) => Some(account.to_string()),
            LedgerOf::Owner | LedgerOf::Creator => None,
        };
        let row: Option<TwinLedgerRow> = sqlx::query_as(
            "SELECT t.id, t.owner, t.creator, t.status, t.description, t.terminated_by, \
                    t.terminated_ts, t.created_ts, t.updated_ts, \
                    l.account_id AS ledger_account, l.entries AS ledger_entries, \
                    l.version AS ledger_version, l.created_ts AS ledger_created_ts, \
                    l.updated_ts AS ledger_updated_ts \
             FROM twins AS t LEFT JOIN ledgers AS l ON l.twin_id = t.id AND l.account_id = \
                 CASE ?2 WHEN 'owner' THEN t.owner WHEN 'creator' THEN t.creator ELSE ?3 END \
             WHERE t.id = ?1",
        )
        .bind(twin.to_string())
        .bind(selector)
        .bind(account)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        let mut row = row.ok_or(StoreError::NotFound(Entity::Twin))?;
        let ledger = row.ledger().map(Ledger::try_from).transpose()?;
        Ok((Twin::try_from(row.twin)?, ledger))
    }

    pub(crate) async fn save_ledger_row(
        &self,
        account: AccountId,
        ledger: &Ledger,
        expected_version: Option<u64>,
        effects: &LedgerEffects,
    ) -> Result<(), StoreError> {
        ensure_ledger_of(account, ledger)?;
        let entries = encode_json(&ledger.entries)?;
        let version = stored_version(ledger.version)?;
        let mut transaction = self.begin_write().await?;
        let written = match expected_version {
            None => match insert_ledger(&mut transaction, ledger, &entries, version).await {
                Ok(()) => Ok(()),
                Err(error) => Err(self.refused_ledger_insert(error, ledger.twin).await),
            },
            Some(expected) => {
                update_ledger_if_version(
                    &mut transaction,
                    ledger,
                    &entries,
                    version,
                    stored_version(expected)?,
                )
                .await
            }
        };
        let written = match written {
            Ok(()) => write_effects(&mut transaction, account, ledger, version, effects).await,
            Err(error) => Err(error),
        };
        // A refused write settles the batch before the caller hears of it: the caller reads
        // the ledger again and retries, and must then see every write acknowledged so far.
        match written {
            Ok(()) => transaction.commit().await,
            Err(error) => transaction.fail(error).await,
        }
    }

    /// Maps the error of a refused ledger insert, after its transaction was rolled back.
    async fn refused_ledger_insert(&self, error: sqlx::Error, twin: TwinId) -> StoreError {
        if is_foreign_key_violation(&error) {
            return self.missing_ledger_reference(twin).await;
        }
        // The ledger exists already: someone else created it since the caller saw none.
        map_violation(error, |kind| {
            (kind == ErrorKind::UniqueViolation).then_some(StoreError::Conflict(Entity::Ledger))
        })
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

/// Everything a ledger write stores besides the ledger itself, in its transaction.
async fn write_effects(
    transaction: &mut SqliteConnection,
    account: AccountId,
    ledger: &Ledger,
    version: i64,
    effects: &LedgerEffects,
) -> Result<(), StoreError> {
    if !effects.history.is_empty() {
        apply_history(
            &mut *transaction,
            ledger.twin,
            ledger.account,
            version,
            &effects.history,
        )
        .await?;
    }
    if let Some(remembered) = &effects.transaction {
        insert_transaction(&mut *transaction, account, remembered).await?;
    }
    if !effects.deliveries.is_empty() {
        SqliteStore::insert_deliveries(&mut *transaction, &effects.deliveries).await?;
    }
    append_events(&mut *transaction, &effects.events).await?;
    append_audit(&mut *transaction, &effects.audit)
        .await
        .map(|_| ())
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(database) if database.kind() == ErrorKind::ForeignKeyViolation
    )
}

async fn insert_ledger(
    connection: &mut SqliteConnection,
    ledger: &Ledger,
    entries: &str,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledgers (twin_id, account_id, entries, version, created_ts, updated_ts) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(ledger.twin.to_string())
    .bind(ledger.account.to_string())
    .bind(entries)
    .bind(version)
    .bind(ledger.created_ts.as_millis())
    .bind(ledger.updated_ts.as_millis())
    .execute(connection)
    .await
    .map(|_| ())
}

async fn update_ledger_if_version(
    connection: &mut SqliteConnection,
    ledger: &Ledger,
    entries: &str,
    version: i64,
    expected_version: i64,
) -> Result<(), StoreError> {
    // The version test and the write happen under SQLite's write lock (BEGIN IMMEDIATE), so of
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
    .execute(connection)
    .await
    .map_err(database_error)?;
    // A missing ledger is a conflict too: the caller read a version that is not stored.
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict(Entity::Ledger));
    }
    Ok(())
}
