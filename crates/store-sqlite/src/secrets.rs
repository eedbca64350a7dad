//! User secrets (hashes only) and server-wide settings.

use sqlx::SqliteConnection;
use steward_domain::{AccountId, Secret, UserId};
use steward_store::{Entity, StoreError};

use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::SecretRow;
use crate::SqliteStore;

const SECRET_COLUMNS: &str =
    "account_id, user_id, hash, fingerprint, validity_ts, created_ts, updated_ts";

impl SqliteStore {
    pub(crate) async fn replace_secret(
        &self,
        account: AccountId,
        secret: &Secret,
    ) -> Result<(), StoreError> {
        if secret.account != account {
            // A user of another account does not exist from this account's point of view.
            return Err(StoreError::NotFound(Entity::User));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM secrets WHERE account_id = ? AND user_id = ?")
            .bind(account.to_string())
            .bind(secret.user.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        // On a hash collision the transaction is dropped, so the previous secret stays valid.
        Self::insert_secret_in(&mut tx, secret).await?;
        tx.commit().await
    }

    pub(crate) async fn insert_secret_in(
        connection: &mut SqliteConnection,
        secret: &Secret,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO secrets \
             (account_id, user_id, hash, fingerprint, validity_ts, created_ts, updated_ts) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(secret.account.to_string())
        .bind(secret.user.to_string())
        .bind(&secret.hash)
        .bind(&secret.fingerprint)
        .bind(secret.validity_ts.map(|ts| ts.as_millis()))
        .bind(secret.created_ts.as_millis())
        .bind(secret.updated_ts.as_millis())
        .execute(connection)
        .await
        .map_err(foreign_key_means_missing(Entity::User, Entity::Secret))?;
        Ok(())
    }

    pub(crate) async fn get_secret_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Secret, StoreError> {
        let row: Option<SecretRow> = sqlx::query_as(&format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = ? AND user_id = ?"
        ))
        .bind(account.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Secret))?.try_into()
    }

    pub(crate) async fn delete_secret_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<(), StoreError> {
        let result = self
            .write_statement(
                sqlx::query("DELETE FROM secrets WHERE account_id = ? AND user_id = ?")
                    .bind(account.to_string())
                    .bind(user.to_string()),
                database_error,
            )
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Secret));
        }
        Ok(())
    }

    pub(crate) async fn find_secret_row_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<Secret>, StoreError> {
        let row: Option<SecretRow> = sqlx::query_as(&format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE hash = ?"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(Secret::try_from).transpose()
    }

    pub(crate) async fn get_setting_row(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM server_settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(database_error)
    }

    pub(crate) async fn insert_setting_if_absent(
        &self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        // The loser of a race inserts nothing and reads the winner's value.
        sqlx::query(
            "INSERT INTO server_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM server_settings WHERE key = ?")
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(database_error)?;
        tx.commit().await?;
        Ok(stored)
    }
}
