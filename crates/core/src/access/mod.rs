//! Accounts and access for callers: the caller's account, users, roles, secrets and tokens.
//! Every method checks the operation with [`crate::authz`] before it loads anything, and
//! invalidates cached credentials after each committed change.

mod account;
pub use roles::DEFAULT_ROLE_NAME;
pub(crate) mod roles;
mod secrets;
mod tokens;
mod users;

use serde_json::{Map, Value};
use steward_domain::{RoleId, RoleRules, RoleStatement, Secret, Timestamp};

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<RoleId>,
    /// New description (replaces the whole object).
    pub description: Option<Map<String, Value>>,
    /// New activity configuration; `Some(None)` turns it off.
    pub activity: Option<Option<Value>>,
}

/// Changes to a role; a present field replaces that whole part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RolePatch {
    /// New name.
    pub name: Option<String>,
    /// New statement.
    pub statement: Option<RoleStatement>,
    /// New rules.
    pub rules: Option<RoleRules>,
}

/// A new PIN; shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedPin {
    /// Six upper-case letters and digits.
    pub pin: String,
}

/// A secret created by redeeming a PIN; `plaintext` is shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedSecret {
    /// The stored metadata.
    pub secret: Secret,
    /// The secret itself.
    pub plaintext: String,
}

/// What the caller asks for in `POST /token`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenRequest {
    /// Signed user dictionary, exposed to rules in `DICT`.
    pub secret_dict: Map<String, Value>,
    /// Subset of `create` and `refresh`.
    pub options: Vec<String>,
    /// Requested expiry; `None` = as long as the secret.
    pub validity_ts: Option<Timestamp>,
}

/// A minted token.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedToken {
    /// The token string.
    pub token: String,
    /// Its options.
    pub options: Vec<String>,
    /// Its expiry; `None` = never (bounded by the secret).
    pub validity_ts: Option<Timestamp>,
}

/// Debug output never shows credentials, in case a value is ever logged.
macro_rules! redacted_debug {
    ($type:ty, $name:literal) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!($name, " { .. }"))
            }
        }
    };
}

redacted_debug!(CreatedPin, "CreatedPin");
redacted_debug!(IssuedSecret, "IssuedSecret");
redacted_debug!(CreatedToken, "CreatedToken");
