//! Remembered ledger writes (`transaction` ids), stored with the write they answer.

use sqlx::error::ErrorKind;
use sqlx::SqliteConnection;
use steward_domain::{AccountId, LedgerTransaction, Timestamp};
use steward_store::columns::corrupt;
use steward_store::{Entity, StoreError};

use crate::error::{database_error, map_violation};
use crate::rows::encode_json;
use crate::SqliteStore;

/// Stores a remembered write inside the ledger write's transaction; a transaction id the
/// account already used is `AlreadyExists(Transaction)`.
pub(crate) async fn insert_transaction(
    connection: &mut SqliteConnection,
    account: AccountId,
    transaction: &LedgerTransaction,
) -> Result<(), StoreError> {
    if transaction.account != account {
        return Err(StoreError::Backend(
            "ledger transaction belongs to another account".to_owned(),
        ));
    }
    sqlx::query("INSERT INTO ledger_transactions (account_id, transaction_id, twin_id, request_hash, response, created_ts) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(transaction.account.to_string())
        .bind(&transaction.id)
        .bind(transaction.twin.to_string())
        .bind(&transaction.request_hash)
        .bind(encode_json(&transaction.response)?)
        .bind(transaction.created_ts.as_millis())
        .execute(connection)
        .await
        .map(|_| ())
        .map_err(|error| {
            map_violation(error, |kind| {
                (kind == ErrorKind::UniqueViolation)
                    .then_some(StoreError::AlreadyExists(Entity::Transaction))
            })
        })
}

fn parse_id<Id: std::str::FromStr>(text: &str, what: &str) -> Result<Id, StoreError> {
    text.parse().map_err(|_| corrupt(what, text))
}

impl SqliteStore {
    pub(crate) async fn get_ledger_transaction_row(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<LedgerTransaction>, StoreError> {
        type Row = (String, String, String, String, String, i64);
        let row: Option<Row> = sqlx::query_as("SELECT account_id, transaction_id, twin_id, request_hash, response, created_ts FROM ledger_transactions WHERE account_id = ? AND transaction_id = ?")
            .bind(account.to_string())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(database_error)?;
        let Some((account, id, twin, request_hash, response, created_ts)) = row else {
            return Ok(None);
        };
        Ok(Some(LedgerTransaction {
            account: parse_id(&account, "transaction account")?,
            id,
            twin: parse_id(&twin, "transaction twin")?,
            request_hash,
            response: serde_json::from_str(&response)
                .map_err(|_| corrupt("transaction response", &response))?,
            created_ts: Timestamp::from_millis(created_ts),
        }))
    }

    pub(crate) async fn prune_ledger_transaction_rows(
        &self,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .write_statement(
                sqlx::query("DELETE FROM ledger_transactions WHERE created_ts < ?")
                    .bind(before.as_millis()),
                database_error,
            )
            .await?;
        Ok(deleted.rows_affected())
    }
}
