//! Typed UUID identifiers, so an account id can never be passed where a user id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Error for a string that is not a lowercase-or-uppercase hyphenated UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid uuid")]
pub struct IdParseError {
    /// The rejected input, kept for the error message.
    pub input: String,
}

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Trusted Twin uses lowercase hyphenated UUIDs everywhere.
                write!(f, "{}", self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                // Only the hyphenated form is accepted: it is the only form TT clients send,
                // and accepting several spellings would make ids compare unequal as strings.
                if input.len() != 36 {
                    return Err(IdParseError { input: input.to_owned() });
                }
                Uuid::parse_str(input)
                    .map(Self)
                    .map_err(|_| IdParseError { input: input.to_owned() })
            }
        }
    };
}

uuid_id!(
    /// Identifies an account: the tenant that owns users, roles, twins and ledgers.
    AccountId
);
uuid_id!(
    /// Identifies a user of an account.
    UserId
);
uuid_id!(
    /// Identifies a role of an account.
    RoleId
);
uuid_id!(
    /// Identifies a twin: a shared object partners attach their ledgers to.
    TwinId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_lowercase_and_parse_back() {
        let id = AccountId::new_random();
        let text = id.to_string();
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<AccountId>().unwrap(), id);
    }

    #[test]
    fn ids_reject_non_hyphenated_and_garbage() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
        assert!("6c1d0c3e9a4b4c5d8e7f001122334455"
            .parse::<UserId>()
            .is_err());
        let err = "x".parse::<RoleId>().unwrap_err();
        assert_eq!(err.to_string(), "`x` is not a valid uuid");
    }
}
