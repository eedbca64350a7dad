//! Remembered ledger writes (`transaction` ids), stored with the write they answer.

use sqlx::error::ErrorKind;
use sqlx::PgConnection;
use steward_domain::{AccountId, LedgerTransaction, Timestamp, TwinId};
use steward_store::columns::corrupt;
use steward_store::{Entity, StoreError};

use crate::error::{database_error, map_violation};
use crate::rows::encode_json;
use crate::PostgresStore;

/// Stores a remembered write inside the ledger write's transaction; a transaction id the
/// account already used is `AlreadyExists(Transaction)`.
pub(crate) async fn insert_transaction(
    connection: &mut PgConnection,
    account: AccountId,
    transaction: &LedgerTransaction,
) -> Result<(), StoreError> {
    if transaction.account != account {
        return Err(StoreError::Backend(
            "ledger transaction belongs to another account".to_owned(),
        ));
    }
    sqlx::query("INSERT INTO ledger_transactions (account_id, transaction_id, twin_id, request_hash, response, created_ts) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(transaction.account.as_uuid())
        .bind(&transaction.id)
        .bind(transaction.twin.as_uuid())
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

impl PostgresStore {
    pub(crate) async fn get_ledger_transaction_row(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<LedgerTransaction>, StoreError> {
        type Row = (uuid::Uuid, String, uuid::Uuid, String, String, i64);
        let row: Option<Row> = sqlx::query_as("SELECT account_id, transaction_id, twin_id, request_hash, response, created_ts FROM ledger_transactions WHERE account_id = $1 AND transaction_id = $2")
            .bind(account.as_uuid())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(database_error)?;
        let Some((account, id, twin, request_hash, response, created_ts)) = row else {
            return Ok(None);
        };
        Ok(Some(LedgerTransaction {
            account: AccountId::from_uuid(account),
            id,
            twin: TwinId::from_uuid(twin),
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
        let deleted = sqlx::query("DELETE FROM ledger_transactions WHERE created_ts < $1")
            .bind(before.as_millis())
            .execute(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(deleted.rows_affected())
    }
}
