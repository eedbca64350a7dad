//! Secret PINs (hashes only): issuing, single-use redemption into a new secret, housekeeping.

use steward_domain::{AccountId, NewSecret, Secret, SecretPin, Timestamp, UserId};
use steward_store::{Entity, StoreError};

use crate::error::{database_error, foreign_key_means_missing};
use crate::rows::RedeemedPinRow;
use crate::SqliteStore;

impl SqliteStore {
    pub(crate) async fn insert_secret_pin(
        &self,
        account: AccountId,
        pin: &SecretPin,
    ) -> Result<(), StoreError> {
        if pin.account != account {
            // A user of another account does not exist from this account's point of view.
            return Err(StoreError::NotFound(Entity::User));
        }
        self.write_statement(
            sqlx::query(
                "INSERT INTO secret_pins \
                 (account_id, pin_hash, user_id, secret_validity_ts, expires_ts, created_ts) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(account.to_string())
            .bind(&pin.pin_hash)
            .bind(pin.user.to_string())
            .bind(pin.secret_validity_ts.map(|ts| ts.as_millis()))
            .bind(pin.expires_ts.as_millis())
            .bind(pin.created_ts.as_millis()),
            foreign_key_means_missing(Entity::User, Entity::Pin),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn redeem_secret_pin_tx(
        &self,
        account: AccountId,
        pin_hash: &str,
        now: Timestamp,
        new_secret: &NewSecret,
    ) -> Result<Secret, StoreError> {
        // BEGIN IMMEDIATE serialises redeemers: the second one to take the write lock no longer
        // finds the PIN the first one deleted.
        let mut tx = self.begin_write().await?;
        // An expired PIN is not deleted here; housekeeping removes it, and it can never match.
        let redeemed: Option<RedeemedPinRow> = sqlx::query_as(
            "DELETE FROM secret_pins WHERE account_id = ? AND pin_hash = ? AND expires_ts > ? \
             RETURNING user_id, secret_validity_ts",
        )
        .bind(account.to_string())
        .bind(pin_hash)
        .bind(now.as_millis())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        let redeemed = redeemed.ok_or(StoreError::NotFound(Entity::Pin))?;
        let user: UserId = redeemed.user_id()?;
        let secret = Secret {
            account,
            user,
            hash: new_secret.hash.clone(),
            fingerprint: new_secret.fingerprint.clone(),
            validity_ts: redeemed.secret_validity_ts(),
            created_ts: new_secret.created_ts,
            updated_ts: new_secret.created_ts,
        };
        sqlx::query("DELETE FROM secrets WHERE account_id = ? AND user_id = ?")
            .bind(account.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        // On a hash collision the transaction is dropped: the PIN and the old secret stay.
        Self::insert_secret_in(&mut tx, &secret).await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub(crate) async fn delete_expired_secret_pin_rows(
        &self,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        // Expired means "can no longer be redeemed": `expires_ts <= now`, the complement of the
        // redemption condition.
        let result = self
            .write_statement(
                sqlx::query("DELETE FROM secret_pins WHERE expires_ts <= ?").bind(now.as_millis()),
                database_error,
            )
            .await?;
        Ok(result.rows_affected())
    }
}
