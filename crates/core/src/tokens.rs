//! User tokens: stateless, signed with HMAC-SHA256 by a server key, expiring.
//!
//! Format: `stt1.<base64url(claims json)>.<base64url(mac)>`. The claims bind the token to the
//! secret it was minted from (fingerprint and creation time), so replacing or deleting the
//! secret, or deleting the user, revokes every token minted from it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;
use steward_domain::{AccountId, UserId};

const PREFIX: &str = "stt1.";

/// What a token asserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TokenClaims {
    /// Account of the user.
    #[serde(rename = "a")]
    pub account: AccountId,
    /// The user the token acts for.
    #[serde(rename = "u")]
    pub user: UserId,
    /// Fingerprint of the secret it was minted from.
    #[serde(rename = "f")]
    pub secret_fingerprint: String,
    /// Creation time (ms) of that secret.
    #[serde(rename = "c")]
    pub secret_created_millis: i64,
    /// `create` option.
    #[serde(rename = "oc")]
    pub can_create: bool,
    /// `refresh` option.
    #[serde(rename = "or")]
    pub can_refresh: bool,
    /// The signed user dictionary.
    #[serde(rename = "d")]
    pub secret_dict: Map<String, Value>,
    /// Expiry (ms); `None` = bound only by the secret.
    #[serde(rename = "e")]
    pub expires_millis: Option<i64>,
}

/// The server's token signing key (32 random bytes, kept in the database as hex).
#[derive(Clone)]
pub(crate) struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even in debug output.
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("hmac-sha256 should accept a key of any length")
    }

    /// Signs claims into a token string.
    pub(crate) fn sign(&self, claims: &TokenClaims) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let encoded = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = self.mac();
        mac.update(encoded.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{PREFIX}{encoded}.{signature}")
    }

    /// The claims of a token this key signed; `None` for anything forged or malformed.
    pub(crate) fn verify(&self, token: &str) -> Option<TokenClaims> {
        let body = token.strip_prefix(PREFIX)?;
        let (encoded, signature) = body.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(encoded.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let payload = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        serde_json::from_slice(&payload).ok()
    }
}

/// Whether a credential has the token shape (secrets never contain a dot).
pub(crate) fn looks_like_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            account: AccountId::new_random(),
            user: UserId::new_random(),
            secret_fingerprint: "HrwA".to_owned(),
            secret_created_millis: 1_700_000_000_000,
            can_create: false,
            can_refresh: true,
            secret_dict: Map::new(),
            expires_millis: Some(1_700_000_100_000),
        }
    }

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let key = TokenKey::from_bytes(vec![7; 32]);
        let claims = claims();
        let token = key.sign(&claims);
        assert!(looks_like_token(&token));
        assert_eq!(key.verify(&token), Some(claims));
        let other_key = TokenKey::from_bytes(vec![8; 32]);
        assert_eq!(other_key.verify(&token), None);
        let mut tampered = token.clone();
        tampered.insert(10, 'x');
        assert_eq!(key.verify(&tampered), None);
        assert_eq!(key.verify("stt1.garbage"), None);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = TokenKey::from_bytes(vec![1, 2, 3]);
        assert_eq!(format!("{key:?}"), "TokenKey(..)");
    }
}
