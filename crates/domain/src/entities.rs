//! The entities of accounts and access: account, role, user and user secret.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{AccountId, RoleId, Timestamp, UserId};

/// Whether an account may act. Suspended accounts' credentials are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// The account works normally.
    Active,
    /// The operator suspended the account; every credential of it is refused.
    Suspended,
}

impl AccountStatus {
    /// The stored and displayed name of the status.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    /// Parses a stored status name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// A tenant: owns users, roles, twins' ledgers and everything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// Human-readable name given by the operator.
    pub name: String,
    /// Active or suspended.
    pub status: AccountStatus,
    /// Resource Access Log configuration (Trusted Twin `resource_access_log`); `None` = off.
    pub resource_access_log: Option<Value>,
    /// When the account was created.
    pub created_ts: Timestamp,
    /// When the account last changed.
    pub updated_ts: Timestamp,
}

/// `allow`: only the listed actions are permitted; `deny`: all but the listed ones are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementEffect {
    /// Only the listed actions are allowed.
    Allow,
    /// Every action except the listed ones is allowed.
    Deny,
}

/// A role's statement: which operations its users may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleStatement {
    /// Whether `actions` lists what is allowed or what is denied.
    pub effect: StatementEffect,
    /// Operation ids; `None` means an empty list.
    pub actions: Option<Vec<String>>,
}

impl Default for RoleStatement {
    /// Trusted Twin's default: deny nothing, so every action is allowed.
    fn default() -> Self {
        Self {
            effect: StatementEffect::Deny,
            actions: None,
        }
    }
}

/// The rule expressions of a role. `None` means the role sees no foreign resource of that kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRules {
    /// Which foreign twins the role may access.
    pub twin_rule: Option<String>,
    /// Which foreign entries the role may access.
    pub entry_rule: Option<String>,
    /// Which foreign identities the role may access.
    pub identity_rule: Option<String>,
}

/// A role: a statement plus rules, shared by any number of users of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// The role's id.
    pub id: RoleId,
    /// The owning account.
    pub account: AccountId,
    /// Display name (not unique).
    pub name: String,
    /// Which operations are allowed.
    pub statement: RoleStatement,
    /// Which foreign resources are visible.
    pub rules: RoleRules,
    /// When the role was created.
    pub created_ts: Timestamp,
    /// When the role last changed.
    pub updated_ts: Timestamp,
}

/// A user of an account; acts with the permissions of its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The owning account.
    pub account: AccountId,
    /// The role the user acts with.
    pub role: RoleId,
    /// Display name (not unique).
    pub name: String,
    /// Free-form description, exposed to rules as `USER`.
    pub description: Map<String, Value>,
    /// User Activity Log configuration; `None` = off.
    pub activity: Option<Value>,
    /// When the user was created.
    pub created_ts: Timestamp,
    /// When the user last changed.
    pub updated_ts: Timestamp,
}

/// A user's secret (API key). Only a hash of the secret is ever stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// The owning account.
    pub account: AccountId,
    /// The user the secret authenticates.
    pub user: UserId,
    /// Hex digest of the secret; the lookup key during authentication.
    pub hash: String,
    /// Last four characters of the secret, shown to help tell secrets apart.
    pub fingerprint: String,
    /// Expiry; `None` = never expires.
    pub validity_ts: Option<Timestamp>,
    /// When the secret was issued.
    pub created_ts: Timestamp,
    /// When the secret's metadata last changed.
    pub updated_ts: Timestamp,
}

/// A one-time PIN with which its holder creates a user's next secret. Only a hash of the PIN is
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretPin {
    /// The owning account.
    pub account: AccountId,
    /// The user whose secret the PIN creates.
    pub user: UserId,
    /// Hex digest of the PIN; the lookup key when it is redeemed.
    pub pin_hash: String,
    /// Validity of the secret the PIN will create; `None` = never expires.
    pub secret_validity_ts: Option<Timestamp>,
    /// After this moment the PIN can no longer be redeemed.
    pub expires_ts: Timestamp,
    /// When the PIN was issued.
    pub created_ts: Timestamp,
}

/// The parts of a new secret chosen by the service when a PIN is redeemed; the user and the
/// validity come from the PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecret {
    /// Hex digest of the secret.
    pub hash: String,
    /// Last four characters of the secret.
    pub fingerprint: String,
    /// When the secret is issued.
    pub created_ts: Timestamp,
}

/// Everything created together when the operator creates an account: the account, its Super
/// Admin role, the first user and that user's secret. Stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountBootstrap {
    /// The new account.
    pub account: Account,
    /// Its Super Admin role.
    pub admin_role: Role,
    /// Its first user, holding `admin_role`.
    pub admin_user: User,
    /// The first user's secret (hash only).
    pub admin_secret: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_statement_allows_everything_as_in_trusted_twin() {
        let statement = RoleStatement::default();
        assert_eq!(statement.effect, StatementEffect::Deny);
        assert_eq!(statement.actions, None);
        assert_eq!(
            serde_json::to_value(&statement).unwrap(),
            serde_json::json!({"effect": "deny", "actions": null})
        );
    }

    #[test]
    fn account_status_names_round_trip() {
        for status in [AccountStatus::Active, AccountStatus::Suspended] {
            assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AccountStatus::parse("gone"), None);
    }
}
