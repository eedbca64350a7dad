//! Response and request bodies shared by the access routes, in Trusted Twin's JSON shapes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_domain::{Account, Role, RoleRules, RoleStatement, Secret, StatementEffect, User};
use utoipa::ToSchema;

/// Unix seconds with three decimals, or `null`.
fn seconds(ts: Option<steward_domain::Timestamp>) -> Option<f64> {
    ts.map(|ts| ts.as_tt_seconds())
}

/// `GET /account`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountBody {
    uuid: String,
    #[schema(value_type = Option<Object>)]
    resource_access_log: Option<Value>,
    created_ts: f64,
    updated_ts: f64,
}

impl From<Account> for AccountBody {
    fn from(account: Account) -> Self {
        Self {
            uuid: account.id.to_string(),
            resource_access_log: account.resource_access_log,
            created_ts: account.created_ts.as_tt_seconds(),
            updated_ts: account.updated_ts.as_tt_seconds(),
        }
    }
}

/// A full user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserBody {
    uuid: String,
    role: String,
    account: String,
    name: String,
    #[schema(value_type = Object)]
    description: Map<String, Value>,
    #[schema(value_type = Option<Object>)]
    activity: Option<Value>,
    created_ts: f64,
    updated_ts: f64,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            uuid: user.id.to_string(),
            role: user.role.to_string(),
            account: user.account.to_string(),
            name: user.name,
            description: user.description,
            activity: user.activity,
            created_ts: user.created_ts.as_tt_seconds(),
            updated_ts: user.updated_ts.as_tt_seconds(),
        }
    }
}

/// `allow` lists what is allowed, `deny` what is not.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EffectBody {
    Allow,
    Deny,
}

/// A role statement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementBody {
    effect: EffectBody,
    #[serde(default)]
    actions: Option<Vec<String>>,
}

impl From<StatementBody> for RoleStatement {
    fn from(body: StatementBody) -> Self {
        Self {
            effect: match body.effect {
                EffectBody::Allow => StatementEffect::Allow,
                EffectBody::Deny => StatementEffect::Deny,
            },
            actions: body.actions,
        }
    }
}

impl From<RoleStatement> for StatementBody {
    fn from(statement: RoleStatement) -> Self {
        Self {
            effect: match statement.effect {
                StatementEffect::Allow => EffectBody::Allow,
                StatementEffect::Deny => EffectBody::Deny,
            },
            actions: statement.actions,
        }
    }
}

/// A role's rules; older key names (`twin`, `entry`, `identity`) are accepted on input.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesBody {
    #[serde(default, alias = "twin")]
    twin_rule: Option<String>,
    #[serde(default, alias = "entry")]
    entry_rule: Option<String>,
    #[serde(default, alias = "identity")]
    identity_rule: Option<String>,
}

impl From<RulesBody> for RoleRules {
    fn from(body: RulesBody) -> Self {
        Self {
            twin_rule: body.twin_rule,
            entry_rule: body.entry_rule,
            identity_rule: body.identity_rule,
        }
    }
}

/// A full role.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleBody {
    uuid: String,
    account: String,
    name: String,
    statement: StatementBody,
    rules: RulesBody,
    created_ts: f64,
    updated_ts: f64,
}

impl From<Role> for RoleBody {
    fn from(role: Role) -> Self {
        Self {
            uuid: role.id.to_string(),
            account: role.account.to_string(),
            name: role.name,
            statement: role.statement.into(),
            rules: RulesBody {
                twin_rule: role.rules.twin_rule,
                entry_rule: role.rules.entry_rule,
                identity_rule: role.rules.identity_rule,
            },
            created_ts: role.created_ts.as_tt_seconds(),
            updated_ts: role.updated_ts.as_tt_seconds(),
        }
    }
}

/// A secret's metadata (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SecretBody {
    account: String,
    user: String,
    validity_ts: Option<f64>,
    created_ts: f64,
    updated_ts: f64,
    fingerprint: String,
}

impl From<Secret> for SecretBody {
    fn from(secret: Secret) -> Self {
        Self {
            account: secret.account.to_string(),
            user: secret.user.to_string(),
            validity_ts: seconds(secret.validity_ts),
            created_ts: secret.created_ts.as_tt_seconds(),
            updated_ts: secret.updated_ts.as_tt_seconds(),
            fingerprint: secret.fingerprint,
        }
    }
}

/// `POST /secrets/{account}/{pin}`: the new secret, shown once.
// No `Debug`: the body carries a credential that must never reach a log.
#[derive(Serialize, ToSchema)]
pub(crate) struct IssuedSecretBody {
    account: String,
    user: String,
    secret: String,
    validity_ts: Option<f64>,
    created_ts: f64,
    updated_ts: f64,
}

impl From<steward_core::IssuedSecret> for IssuedSecretBody {
    fn from(issued: steward_core::IssuedSecret) -> Self {
        Self {
            account: issued.secret.account.to_string(),
            user: issued.secret.user.to_string(),
            secret: issued.plaintext,
            validity_ts: seconds(issued.secret.validity_ts),
            created_ts: issued.secret.created_ts.as_tt_seconds(),
            updated_ts: issued.secret.updated_ts.as_tt_seconds(),
        }
    }
}

/// A minted token.
// No `Debug`: the body carries a credential that must never reach a log.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenBody {
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<Vec<String>>,
    validity_ts: Option<f64>,
}

impl TokenBody {
    pub(crate) fn created(token: steward_core::CreatedToken) -> Self {
        Self {
            token: token.token,
            options: Some(token.options),
            validity_ts: seconds(token.validity_ts),
        }
    }

    pub(crate) fn refreshed(token: steward_core::CreatedToken) -> Self {
        Self {
            token: token.token,
            options: None,
            validity_ts: seconds(token.validity_ts),
        }
    }
}
