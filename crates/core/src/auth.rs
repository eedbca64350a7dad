//! Authentication: turns an `Authorization` value (secret or token, optionally after
//! `Bearer `) and an `X-TrustedTwin` header into a [`Principal`].

use steward_domain::{AccountId, AccountStatus, Secret, Timestamp, UserId};
use steward_store::StoreError;

use crate::auth_cache::{CacheKey, Identity};
use crate::credentials::hash_credential;
use crate::principal::{decode_dict_header, AuthMethod, Principal, TokenOptions};
use crate::tokens::looks_like_token;
use crate::{Error, ErrorCode, Steward};

fn unauthorized(message: &str) -> Error {
    Error::new(ErrorCode::Unauthorized, message)
}

fn secret_expired(secret: &Secret, now: Timestamp) -> bool {
    secret.validity_ts.is_some_and(|validity| validity <= now)
}

impl Steward {
    /// Authenticates a request. `authorization` is the raw header value; `dict_header` the raw
    /// `X-TrustedTwin` value. Any credential problem is 401 / 401000; a malformed dictionary
    /// is 400 / 400793.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        dict_header: Option<&str>,
    ) -> Result<Principal, Error> {
        let credential = authorization
            .map(|value| value.trim())
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| unauthorized("missing credentials in `Authorization`"))?;
        let now = self.clock.now();

        let (identity, auth) = if looks_like_token(credential) {
            let claims = self
                .token_key
                .verify(credential)
                .ok_or_else(|| unauthorized("invalid token"))?;
            if claims
                .expires_millis
                .is_some_and(|expires| expires <= now.as_millis())
            {
                return Err(unauthorized("token expired"));
            }
            let identity = self
                .identity_of_user(claims.account, claims.user, now)
                .await?;
            // Bound to the secret it was minted from: a replaced or deleted secret revokes it.
            if identity.secret.fingerprint != claims.secret_fingerprint
                || identity.secret.created_ts.as_millis() != claims.secret_created_millis
            {
                return Err(unauthorized("token revoked"));
            }
            let auth = AuthMethod::Token {
                options: TokenOptions {
                    create: claims.can_create,
                    refresh: claims.can_refresh,
                },
                secret_dict: claims.secret_dict,
                expires_millis: claims.expires_millis,
                fingerprint: claims.secret_fingerprint,
            };
            (identity, auth)
        } else {
            let identity = self
                .identity_of_secret(&hash_credential(credential), now)
                .await?;
            let auth = AuthMethod::Secret {
                fingerprint: identity.secret.fingerprint.clone(),
            };
            (identity, auth)
        };
        if secret_expired(&identity.secret, now) {
            return Err(unauthorized("secret expired"));
        }
        if identity.account_status != AccountStatus::Active {
            return Err(unauthorized("account suspended"));
        }
        // Decoded only for authenticated callers: a bad credential is 401 whatever else is sent.
        let dict = dict_header.map(decode_dict_header).transpose()?;
        let principal = Principal {
            account: identity.user.account,
            user: identity.user,
            role: identity.role,
            secret: identity.secret,
            auth,
            dict,
        };
        crate::audit::note_caller(&principal);
        crate::usage::note_caller(&principal);
        Ok(principal)
    }

    async fn identity_of_secret(&self, hash: &str, now: Timestamp) -> Result<Identity, Error> {
        let key = CacheKey::SecretHash(hash.to_owned());
        if let Some(identity) = self.auth_cache.get(&key, now) {
            return Ok(identity);
        }
        let generation = self.auth_cache.generation();
        let secret = self
            .store
            .find_secret_by_hash(hash)
            .await?
            .ok_or_else(|| unauthorized("invalid credentials"))?;
        let identity = self.load_identity(secret).await?;
        self.auth_cache
            .insert(key, identity.clone(), generation, now);
        Ok(identity)
    }

    async fn identity_of_user(
        &self,
        account: AccountId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Identity, Error> {
        let key = CacheKey::User(user);
        if let Some(identity) = self.auth_cache.get(&key, now) {
            return Ok(identity);
        }
        let generation = self.auth_cache.generation();
        let secret = match self.store.get_secret(account, user).await {
            Ok(secret) => secret,
            Err(StoreError::NotFound(_)) => return Err(unauthorized("token revoked")),
            Err(other) => return Err(other.into()),
        };
        let identity = self.load_identity(secret).await?;
        self.auth_cache
            .insert(key, identity.clone(), generation, now);
        Ok(identity)
    }

    async fn load_identity(&self, secret: Secret) -> Result<Identity, Error> {
        let not_found_is_unauthorized = |error: StoreError| match error {
            StoreError::NotFound(_) => unauthorized("invalid credentials"),
            other => other.into(),
        };
        let user = self
            .store
            .get_user(secret.account, secret.user)
            .await
            .map_err(not_found_is_unauthorized)?;
        let role = self
            .store
            .get_role(secret.account, user.role)
            .await
            .map_err(not_found_is_unauthorized)?;
        let account = self
            .store
            .get_account(secret.account)
            .await
            .map_err(not_found_is_unauthorized)?;
        Ok(Identity {
            secret,
            user,
            role,
            account_status: account.status,
        })
    }

    /// Forgets cached identities; called after every committed change that affects
    /// authentication (users, roles, secrets, account status).
    pub(crate) fn credentials_changed(&self) {
        self.auth_cache.invalidate();
    }
}
