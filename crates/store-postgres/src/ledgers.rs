//! Ledgers: one per (twin, account), read whole and written whole under optimistic concurrency
//! on their version.

use sqlx::error::ErrorKind;
use sqlx::PgConnection;
use steward_domain::{AccountId, Ledger, Twin, TwinId};
use steward_store::{ChangeSignal, Entity, LedgerEffects, LedgerOf, StoreError};

use crate::audit::append_audit;
use crate::error::{database_error, map_violation};
use crate::events::append_events;
use crate::history::apply_history;
use crate::rows::{encode_json, LedgerRow, TwinLedgerRow};
use crate::signals::send_signal;
use crate::transactions::insert_transaction;
use crate::PostgresStore;

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

/// A version as the BIGINT column holds it; versions past `i64::MAX` cannot be stored.
fn stored_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version)
        .map_err(|_| StoreError::Backend(format!("ledger version {version} is out of range")))
}

impl PostgresStore {
    pub(crate) async fn get_ledger_row(
        &self,
        twin: TwinId,
        account: AccountId,
    ) -> Result<Option<Ledger>, StoreError> {
        let row: Option<LedgerRow> = sqlx::query_as(&format!(
            "SELECT {LEDGER_COLUMNS} FROM ledgers WHERE twin_id = $1 AND account_id = $2"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
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
            LedgerOf::Account(account) => Some(account.as_uuid()),
            LedgerOf::Owner | LedgerOf::Creator => None,
        };
        let row: Option<TwinLedgerRow> = sqlx::query_as(
            "SELECT t.id, t.owner, t.creator, t.status, t.description, t.terminated_by, \
                    t.terminated_ts, t.created_ts, t.updated_ts, \
                    l.account_id AS ledger_account, l.entries AS ledger_entries, \
                    l.version AS ledger_version, l.created_ts AS ledger_created_ts, \
                    l.updated_ts AS ledger_updated_ts \
             FROM twins AS t LEFT JOIN ledgers AS l ON l.twin_id = t.id AND l.account_id = \
                 CASE $2::TEXT WHEN 'owner' THEN t.owner WHEN 'creator' THEN t.creator ELSE $3 END \
             WHERE t.id = $1",
        )
        .bind(twin.as_uuid())
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
        let history = &effects.history;
        ensure_ledger_of(account, ledger)?;
        let entries = encode_json(&ledger.entries)?;
        let version = stored_version(ledger.version)?;
        let mut transaction = self.pool.begin().await.map_err(database_error)?;
        match expected_version {
            None => {
                if let Err(error) = insert_ledger(&mut transaction, ledger, &entries, version).await
                {
                    drop(transaction);
                    return Err(self.refused_ledger_insert(error, ledger.twin).await);
                }
            }
            Some(expected) => {
                update_ledger_if_version(
                    &mut transaction,
                    ledger,
                    &entries,
                    version,
                    stored_version(expected)?,
                )
                .await?;
            }
        }
        if !history.is_empty() {
            apply_history(
                &mut transaction,
                ledger.twin,
                ledger.account,
                version,
                history,
            )
            .await?;
        }
        if let Some(remembered) = &effects.transaction {
            insert_transaction(&mut transaction, account, remembered).await?;
        }
        if !effects.deliveries.is_empty() {
            Self::insert_deliveries(&mut transaction, &effects.deliveries).await?;
        }
        send_signal(&mut transaction, ChangeSignal::Twin(ledger.twin)).await?;
        // Last: they hold the event and audit counters' locks until COMMIT (always taken in this
        // order, so writers of both cannot deadlock).
        append_events(&mut transaction, &effects.events).await?;
        append_audit(&mut transaction, &effects.audit).await?;
        transaction.commit().await.map_err(database_error)
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

    /// Says which reference of a refused ledger insert is missing: the twin first, else the
    /// account. Looking rather than reading the violated constraint's name gives the same
    /// answer as SQLite when both are missing, whichever check PostgreSQL ran first. Twins and
    /// accounts are never deleted, so what is missing now was missing at the insert.
    async fn missing_ledger_reference(&self, twin: TwinId) -> StoreError {
        let twin_exists: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM twins WHERE id = $1)")
                .bind(twin.as_uuid())
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

async fn insert_ledger(
    connection: &mut PgConnection,
    ledger: &Ledger,
    entries: &str,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledgers (twin_id, account_id, entries, version, created_ts, updated_ts) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ledger.twin.as_uuid())
    .bind(ledger.account.as_uuid())
    .bind(entries)
    .bind(version)
    .bind(ledger.created_ts.as_millis())
    .bind(ledger.updated_ts.as_millis())
    .execute(connection)
    .await
    .map(|_| ())
}

async fn update_ledger_if_version(
    connection: &mut PgConnection,
    ledger: &Ledger,
    entries: &str,
    version: i64,
    expected_version: i64,
) -> Result<(), StoreError> {
    // One statement decides. Concurrent writers holding the same version queue on the row
    // lock; once the first commits, the others re-check `version = $6` against the new row
    // (READ COMMITTED) and update nothing, so exactly one matches. created_ts is never
    // rewritten.
    let updated = sqlx::query(
        "UPDATE ledgers SET entries = $1, version = $2, updated_ts = $3 \
         WHERE twin_id = $4 AND account_id = $5 AND version = $6",
    )
    .bind(entries)
    .bind(version)
    .bind(ledger.updated_ts.as_millis())
    .bind(ledger.twin.as_uuid())
    .bind(ledger.account.as_uuid())
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
