//! The operator token: the credential of the `/operator/…` API.
//!
//! Taken from configuration (`STEWARD_OPERATOR_TOKEN`) when given; otherwise generated on the
//! first start, stored only as a hash, and handed back once so the server can print it.
//! Several nodes starting at once agree on one token because the hash is stored with
//! put-if-absent.

use crate::credentials::{generate_secret, hash_credential, hashes_equal};
use crate::{Error, Steward};

const OPERATOR_TOKEN_HASH_SETTING: &str = "operator_token_sha256";

/// Checks presented operator tokens.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    token_hash: String,
}

/// The outcome of setting up the operator token at start-up.
#[derive(Debug, Clone)]
pub struct OperatorTokenSetup {
    /// The verifier to use for operator requests.
    pub auth: OperatorAuth,
    /// The token in plain text if this start generated it; print it once, then forget it.
    pub generated_token: Option<String>,
}

impl OperatorAuth {
    /// A verifier for exactly this token (for tests and configured tokens).
    pub fn for_token(token: &str) -> Self {
        Self {
            token_hash: hash_credential(token),
        }
    }

    /// Whether `presented` is the operator token.
    pub fn verify(&self, presented: &str) -> bool {
        hashes_equal(&hash_credential(presented), &self.token_hash)
    }
}

impl Steward {
    /// Sets up operator authentication: the configured token if any, else the stored one,
    /// else a newly generated one (returned so it can be printed once).
    pub async fn setup_operator_token(
        &self,
        configured_token: Option<&str>,
    ) -> Result<OperatorTokenSetup, Error> {
        if let Some(token) = configured_token {
            if token.len() < 16 {
                return Err(Error::request_format(
                    "operator token must be at least 16 characters",
                ));
            }
            return Ok(OperatorTokenSetup {
                auth: OperatorAuth::for_token(token),
                generated_token: None,
            });
        }
        let candidate = generate_secret();
        let candidate_hash = hash_credential(&candidate);
        let stored_hash = self
            .store
            .put_setting_if_absent(OPERATOR_TOKEN_HASH_SETTING, &candidate_hash)
            .await?;
        let generated_token = (stored_hash == candidate_hash).then_some(candidate);
        Ok(OperatorTokenSetup {
            auth: OperatorAuth {
                token_hash: stored_hash,
            },
            generated_token,
        })
    }
}
