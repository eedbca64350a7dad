//! Secrets: the PIN flow that hands a user a secret without anyone else seeing it, and the
//! secret's metadata.

use steward_domain::{AccountId, NewSecret, Secret, SecretPin, Timestamp, UserId};
use steward_store::StoreError;

use crate::authz::authorize_operation;
use crate::credentials::{fingerprint, generate_pin, generate_secret, hash_credential};
use crate::{CreatedPin, Error, IssuedSecret, Principal, Steward};

/// PINs are hashed with their account, so equal PINs of two accounts never collide.
fn pin_hash(account: AccountId, pin: &str) -> String {
    hash_credential(&format!("{account}:{pin}"))
}

fn ensure_future(field: &str, validity: Option<Timestamp>, now: Timestamp) -> Result<(), Error> {
    match validity {
        Some(at) if at <= now => Err(Error::request_format(format!(
            "`{field}` must be in the future"
        ))),
        _ => Ok(()),
    }
}

impl Steward {
    /// `create_user_secret_pin`: a single-use PIN that creates the user's next secret.
    pub async fn create_secret_pin(
        &self,
        principal: &Principal,
        user: UserId,
        secret_validity_ts: Option<Timestamp>,
    ) -> Result<CreatedPin, Error> {
        authorize_operation(principal, "create_user_secret_pin")?;
        let now = self.clock.now();
        ensure_future("validity_ts", secret_validity_ts, now)?;
        let target = self.store.get_user(principal.account, user).await?;
        self.ensure_user_within_reach(principal, &target).await?;
        let lifetime_millis =
            i64::try_from(self.settings.pin_lifetime_seconds.saturating_mul(1000))
                .unwrap_or(i64::MAX);
        let pin = generate_pin();
        let stored = SecretPin {
            account: principal.account,
            user,
            pin_hash: pin_hash(principal.account, &pin),
            secret_validity_ts,
            expires_ts: now.plus_millis(lifetime_millis),
            created_ts: now,
        };
        self.store
            .create_secret_pin(principal.account, &stored)
            .await?;
        Ok(CreatedPin { pin })
    }

    /// `create_user_secret`: redeems a PIN without credentials. Wrong, used and expired PINs
    /// are 404; too many failures for the account are 429 until the window passes.
    pub async fn redeem_secret_pin(
        &self,
        account: AccountId,
        pin: &str,
    ) -> Result<IssuedSecret, Error> {
        let now = self.clock.now();
        let window_millis = i64::try_from(
            self.settings
                .pin_failure_window_seconds
                .saturating_mul(1000),
        )
        .unwrap_or(i64::MAX);
        if let Err(retry_after_seconds) = self.pin_limiter.begin_attempt(
            account,
            now,
            self.settings.pin_max_failures,
            window_millis,
        ) {
            return Err(Error::too_many_requests(
                "too many failed pin attempts for this account",
                retry_after_seconds,
            ));
        }
        let plaintext = generate_secret();
        let new_secret = NewSecret {
            hash: hash_credential(&plaintext),
            fingerprint: fingerprint(&plaintext),
            created_ts: now,
        };
        match self
            .store
            .redeem_secret_pin(account, &pin_hash(account, pin), now, &new_secret)
            .await
        {
            Ok(secret) => {
                self.pin_limiter.forgive_attempt(account, now);
                self.credentials_changed();
                Ok(IssuedSecret { secret, plaintext })
            }
            Err(StoreError::NotFound(_)) => Err(Error::not_found("pin")),
            Err(other) => Err(other.into()),
        }
    }

    /// `get_user_secret`: metadata of a user's secret.
    pub async fn get_user_secret(
        &self,
        principal: &Principal,
        user: UserId,
    ) -> Result<Secret, Error> {
        authorize_operation(principal, "get_user_secret")?;
        Ok(self.store.get_secret(principal.account, user).await?)
    }

    /// `update_user_secret`: changes the secret's validity.
    pub async fn update_user_secret(
        &self,
        principal: &Principal,
        user: UserId,
        validity_ts: Option<Timestamp>,
    ) -> Result<Secret, Error> {
        authorize_operation(principal, "update_user_secret")?;
        let now = self.clock.now();
        ensure_future("validity_ts", validity_ts, now)?;
        let target = self.store.get_user(principal.account, user).await?;
        self.ensure_user_within_reach(principal, &target).await?;
        let mut secret = self.store.get_secret(principal.account, user).await?;
        secret.validity_ts = validity_ts;
        secret.updated_ts = now;
        self.store.put_secret(principal.account, &secret).await?;
        self.credentials_changed();
        Ok(secret)
    }

    /// `delete_user_secret`: revokes the secret and every token minted from it.
    pub async fn delete_user_secret(
        &self,
        principal: &Principal,
        user: UserId,
    ) -> Result<Secret, Error> {
        authorize_operation(principal, "delete_user_secret")?;
        let target = self.store.get_user(principal.account, user).await?;
        self.ensure_user_within_reach(principal, &target).await?;
        let secret = self.store.get_secret(principal.account, user).await?;
        self.store.delete_secret(principal.account, user).await?;
        self.credentials_changed();
        Ok(secret)
    }
}
