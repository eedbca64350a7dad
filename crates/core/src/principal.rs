//! Who is calling: the authenticated user with its role, how it authenticated, and the
//! `X-TrustedTwin` dictionary it sent.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::{Map, Value};
use steward_domain::{AccountId, Role, Secret, User};

use crate::{Error, ErrorCode};

/// Largest accepted `X-TrustedTwin` header value, in bytes (base64 text).
pub const MAX_DICT_HEADER_BYTES: usize = 8_192;

/// What a token may do beyond acting for its user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenOptions {
    /// The token may create further tokens (`create`).
    pub create: bool,
    /// The token may be refreshed (`refresh`).
    pub refresh: bool,
}

impl TokenOptions {
    /// The options as Trusted Twin lists them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.create {
            names.push("create");
        }
        if self.refresh {
            names.push("refresh");
        }
        names
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthMethod {
    /// With the user's secret.
    Secret {
        /// Last four characters of the secret.
        fingerprint: String,
    },
    /// With a token minted from the user's secret.
    Token {
        /// What the token may do.
        options: TokenOptions,
        /// The signed `secret_dict` the token was issued with.
        secret_dict: Map<String, Value>,
        /// Expiry in milliseconds since the epoch; `None` = bound only by the secret.
        expires_millis: Option<i64>,
        /// Fingerprint of the secret the token was minted from.
        fingerprint: String,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The caller's account.
    pub account: AccountId,
    /// The caller's user (its description is `USER` in rules).
    pub user: User,
    /// The caller's role.
    pub role: Role,
    /// Metadata of the caller's secret (tokens too are bound to it).
    pub secret: Secret,
    /// Secret or token.
    pub auth: AuthMethod,
    /// The decoded `X-TrustedTwin` header; `None` when absent.
    pub dict: Option<Map<String, Value>>,
}

impl Principal {
    /// `DICT` as rules see it: the `X-TrustedTwin` header, overlaid with a token's signed
    /// `secret_dict` (signed claims win over what the caller sends).
    pub fn rule_dict(&self) -> Map<String, Value> {
        let mut dict = self.dict.clone().unwrap_or_default();
        if let AuthMethod::Token { secret_dict, .. } = &self.auth {
            for (key, value) in secret_dict {
                dict.insert(key.clone(), value.clone());
            }
        }
        dict
    }
}

/// Decodes an `X-TrustedTwin` header: standard (or URL-safe) base64 of a JSON object.
/// Anything else is 400 / 400793.
pub fn decode_dict_header(header: &str) -> Result<Map<String, Value>, Error> {
    if header.len() > MAX_DICT_HEADER_BYTES {
        return Err(Error::new(
            ErrorCode::CorruptedRequest,
            format!("`X-TrustedTwin` header is larger than {MAX_DICT_HEADER_BYTES} bytes"),
        ));
    }
    let trimmed = header.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE.decode(trimmed))
        .map_err(|_| {
            Error::new(
                ErrorCode::CorruptedRequest,
                "`X-TrustedTwin` header is not valid base64",
            )
        })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::new(
            ErrorCode::CorruptedRequest,
            "`X-TrustedTwin` header must encode a json object",
        )),
        Err(_) => Err(Error::new(
            ErrorCode::CorruptedRequest,
            "`X-TrustedTwin` header does not encode valid json",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_example_header() {
        let dict = decode_dict_header(
            "eyJzZXJpYWwiOiAiYjBmNTMxYzMtOTE0Yi00NDA4LTk4OTUtYjYxZjU5YzA2YjY2In0=",
        )
        .unwrap();
        assert_eq!(dict["serial"], "b0f531c3-914b-4408-9895-b61f59c06b66");
    }

    #[test]
    fn malformed_headers_are_400793() {
        let not_object = STANDARD.encode("[1, 2]");
        let not_json = STANDARD.encode("{serial");
        let too_large = "A".repeat(MAX_DICT_HEADER_BYTES + 4);
        for header in [
            "%%%not base64",
            not_object.as_str(),
            not_json.as_str(),
            &too_large,
        ] {
            let error = decode_dict_header(header).unwrap_err();
            assert_eq!(error.code, ErrorCode::CorruptedRequest, "{header:.20}");
        }
    }
}
