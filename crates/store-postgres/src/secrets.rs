//! User secrets (hashes only) and server-wide settings.

use sqlx::PgConnection;
use steward_domain::{AccountId, Secret, UserId};
use steward_store::{ChangeSignal, Entity, StoreError};

use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::SecretRow;
use crate::signals::send_signal;
use crate::PostgresStore;

const SECRET_COLUMNS: &str =
    "account_id, user_id, hash, fingerprint, validity_ts, created_ts, updated_ts";

impl PostgresStore {
    pub(crate) async fn replace_secret(
        &self,
        account: AccountId,
        secret: &Secret,
    ) -> Result<(), StoreError> {
        if secret.account != account {
            // A user of another account does not exist from this account's point of view.
            return Err(StoreError::NotFound(Entity::User));
        }
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        Self::lock_user_for_secret_replacement(&mut tx, account, secret.user).await?;
        sqlx::query("DELETE FROM secrets WHERE account_id = $1 AND user_id = $2")
            .bind(account.as_uuid())
            .bind(secret.user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        // On a hash collision the transaction is dropped, so the previous secret stays valid.
        Self::insert_secret_in(&mut tx, secret).await?;
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    /// Serialises replacements of one user's secret. Without it two concurrent replacements
    /// both delete the old row, and the later insert collides with the earlier one's new row
    /// (a spurious `AlreadyExists`). `FOR NO KEY UPDATE` does not block foreign key checks,
    /// which take `FOR KEY SHARE`. A missing user locks nothing; the insert then reports it.
    pub(crate) async fn lock_user_for_secret_replacement(
        connection: &mut PgConnection,
        account: AccountId,
        user: UserId,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 FROM users WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE")
            .bind(account.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(connection)
            .await
            .map_err(database_error)?;
        Ok(())
    }

    pub(crate) async fn insert_secret_in(
        connection: &mut PgConnection,
        secret: &Secret,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO secrets \
             (account_id, user_id, hash, fingerprint, validity_ts, created_ts, updated_ts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(secret.account.as_uuid())
        .bind(secret.user.as_uuid())
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
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE account_id = $1 AND user_id = $2"
        ))
        .bind(account.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(Secret::from)
            .ok_or(StoreError::NotFound(Entity::Secret))
    }

    pub(crate) async fn delete_secret_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let result = sqlx::query("DELETE FROM secrets WHERE account_id = $1 AND user_id = $2")
            .bind(account.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Secret));
        }
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn find_secret_row_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<Secret>, StoreError> {
        let row: Option<SecretRow> = sqlx::query_as(&format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        Ok(row.map(Secret::from))
    }

    pub(crate) async fn get_setting_row(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
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
        // An insert racing with ours waits for the other transaction and then does nothing;
        // the SELECT, a new statement, sees whichever value won.
        sqlx::query(
            "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(database_error)
    }
}
