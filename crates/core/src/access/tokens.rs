//! User tokens: minted from a secret (or a token with `create`), refreshed with `refresh`;
//! never valid beyond the secret they are bound to.

use steward_domain::Timestamp;

use crate::authz::authorize_operation;
use crate::principal::AuthMethod;
use crate::tokens::TokenClaims;
use crate::{validate, CreatedToken, Error, ErrorCode, Principal, Steward, TokenRequest};

/// The earliest of the requested expiry, the secret's and (for tokens) the parent token's.
fn bounded_expiry(principal: &Principal, requested: Option<Timestamp>) -> Option<Timestamp> {
    let parent = match &principal.auth {
        AuthMethod::Token { expires_millis, .. } => expires_millis.map(Timestamp::from_millis),
        AuthMethod::Secret { .. } => None,
    };
    [requested, principal.secret.validity_ts, parent]
        .into_iter()
        .flatten()
        .min()
}

impl Steward {
    /// `create_user_token`.
    pub async fn create_token(
        &self,
        principal: &Principal,
        request: TokenRequest,
    ) -> Result<CreatedToken, Error> {
        authorize_operation(principal, "create_user_token")?;
        validate::description_keys("secret_dict", &request.secret_dict)?;
        let mut can_create = false;
        let mut can_refresh = false;
        for option in &request.options {
            match option.as_str() {
                "create" => can_create = true,
                "refresh" => can_refresh = true,
                other => {
                    return Err(Error::request_format(format!(
                        "`options` may contain only `create` and `refresh`, got `{other}`"
                    )))
                }
            }
        }
        let now = self.clock.now();
        if request.validity_ts.is_some_and(|at| at <= now) {
            return Err(Error::request_format("`validity_ts` must be in the future"));
        }
        // A token can only hand on what it holds: no option it lacks, and its own signed
        // dictionary unchanged (otherwise a child could rewrite the claims rules rely on).
        let mut secret_dict = request.secret_dict;
        if let AuthMethod::Token {
            options,
            secret_dict: parent_dict,
            ..
        } = &principal.auth
        {
            if (can_create && !options.create) || (can_refresh && !options.refresh) {
                return Err(Error::new(
                    ErrorCode::AccessForbidden,
                    "a token cannot grant options it does not have",
                ));
            }
            if !secret_dict.is_empty() && secret_dict != *parent_dict {
                return Err(Error::new(
                    ErrorCode::AccessForbidden,
                    "a token cannot change the `secret_dict` it was issued with",
                ));
            }
            secret_dict = parent_dict.clone();
        }
        let claims = TokenClaims {
            account: principal.account,
            user: principal.user.id,
            secret_fingerprint: principal.secret.fingerprint.clone(),
            secret_created_millis: principal.secret.created_ts.as_millis(),
            can_create,
            can_refresh,
            secret_dict,
            expires_millis: bounded_expiry(principal, request.validity_ts).map(|at| at.as_millis()),
        };
        Ok(self.issue(claims))
    }

    /// `refresh_user_token`: a new token with the same claims and a new expiry, for callers
    /// authenticated with a token that has the `refresh` option.
    pub async fn refresh_token(
        &self,
        principal: &Principal,
        validity_ts: Option<Timestamp>,
    ) -> Result<CreatedToken, Error> {
        authorize_operation(principal, "refresh_user_token")?;
        let AuthMethod::Token {
            options,
            secret_dict,
            ..
        } = &principal.auth
        else {
            return Err(Error::new(
                ErrorCode::AccessForbidden,
                "only a token with the `refresh` option can be refreshed",
            ));
        };
        if !options.refresh {
            return Err(Error::new(
                ErrorCode::AccessForbidden,
                "this token was not issued with the `refresh` option",
            ));
        }
        let now = self.clock.now();
        // A refresh must say how long: an open-ended refresh would turn a short-lived token
        // into a permanent one.
        let Some(validity_ts) = validity_ts else {
            return Err(Error::request_format(
                "`validity_ts` is required to refresh a token",
            ));
        };
        if validity_ts <= now {
            return Err(Error::request_format("`validity_ts` must be in the future"));
        }
        let validity_ts = Some(validity_ts);
        // A refresh extends the token, so it is bounded by the secret only.
        let expires = [validity_ts, principal.secret.validity_ts]
            .into_iter()
            .flatten()
            .min();
        let claims = TokenClaims {
            account: principal.account,
            user: principal.user.id,
            secret_fingerprint: principal.secret.fingerprint.clone(),
            secret_created_millis: principal.secret.created_ts.as_millis(),
            can_create: options.create,
            can_refresh: options.refresh,
            secret_dict: secret_dict.clone(),
            expires_millis: expires.map(|at| at.as_millis()),
        };
        Ok(self.issue(claims))
    }

    fn issue(&self, claims: TokenClaims) -> CreatedToken {
        let options = crate::TokenOptions {
            create: claims.can_create,
            refresh: claims.can_refresh,
        }
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
        let validity_ts = claims.expires_millis.map(Timestamp::from_millis);
        CreatedToken {
            token: self.token_key.sign(&claims),
            options,
            validity_ts,
        }
    }
}
