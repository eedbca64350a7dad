//! Row structs as SQLite returns them, and their conversion to domain entities.

use serde_json::{Map, Value};
use steward_domain::{
    Account, AccountId, AccountStatus, Ledger, Role, RoleId, Secret, Termination, Timestamp, Twin,
    TwinId, TwinStatus, User, UserId,
};
use steward_store::StoreError;

use crate::error::corrupt;
use steward_store::columns::{decode_json, decode_optional_json};
pub(crate) use steward_store::columns::{encode_json, encode_optional_json};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    name: String,
    status: String,
    resource_access_log: Option<String>,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: parse_id(&row.id, "account id")?,
            name: row.name,
            status: AccountStatus::parse(&row.status)
                .ok_or_else(|| corrupt("account status", &row.status))?,
            resource_access_log: decode_optional_json(row.resource_access_log, "access log")?,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RoleRow {
    account_id: String,
    id: String,
    name: String,
    statement: String,
    rules: String,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<RoleRow> for Role {
    type Error = StoreError;

    fn try_from(row: RoleRow) -> Result<Self, StoreError> {
        Ok(Role {
            id: parse_id::<RoleId>(&row.id, "role id")?,
            account: parse_id(&row.account_id, "account id")?,
            name: row.name,
            statement: decode_json(&row.statement, "role statement")?,
            rules: decode_json(&row.rules, "role rules")?,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    account_id: String,
    id: String,
    role_id: String,
    name: String,
    description: String,
    activity: Option<String>,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: parse_id::<UserId>(&row.id, "user id")?,
            account: parse_id(&row.account_id, "account id")?,
            role: parse_id(&row.role_id, "role id")?,
            name: row.name,
            description: decode_json::<Map<String, Value>>(&row.description, "user description")?,
            activity: decode_optional_json(row.activity, "user activity")?,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SecretRow {
    account_id: String,
    user_id: String,
    hash: String,
    fingerprint: String,
    validity_ts: Option<i64>,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<SecretRow> for Secret {
    type Error = StoreError;

    fn try_from(row: SecretRow) -> Result<Self, StoreError> {
        Ok(Secret {
            account: parse_id::<AccountId>(&row.account_id, "account id")?,
            user: parse_id(&row.user_id, "user id")?,
            hash: row.hash,
            fingerprint: row.fingerprint,
            validity_ts: row.validity_ts.map(Timestamp::from_millis),
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

/// What redeeming a PIN returns of it: whose secret it creates, and that secret's validity.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RedeemedPinRow {
    user_id: String,
    secret_validity_ts: Option<i64>,
}

impl RedeemedPinRow {
    pub(crate) fn user_id(&self) -> Result<UserId, StoreError> {
        parse_id(&self.user_id, "user id")
    }

    pub(crate) fn secret_validity_ts(&self) -> Option<Timestamp> {
        self.secret_validity_ts.map(Timestamp::from_millis)
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TwinRow {
    id: String,
    owner: String,
    creator: String,
    status: String,
    description: Option<String>,
    terminated_by: Option<String>,
    terminated_ts: Option<i64>,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<TwinRow> for Twin {
    type Error = StoreError;

    fn try_from(row: TwinRow) -> Result<Self, StoreError> {
        let termination = match (row.terminated_by, row.terminated_ts) {
            (Some(issuer), Some(terminated_ts)) => Some(Termination {
                issuer: parse_id(&issuer, "twin terminator")?,
                terminated_ts: Timestamp::from_millis(terminated_ts),
            }),
            (None, None) => None,
            _ => {
                return Err(corrupt(
                    "twin termination",
                    "issuer and time not set together",
                ))
            }
        };
        Ok(Twin {
            id: parse_id::<TwinId>(&row.id, "twin id")?,
            owner: parse_id(&row.owner, "twin owner")?,
            creator: parse_id(&row.creator, "twin creator")?,
            status: TwinStatus::parse(&row.status)
                .ok_or_else(|| corrupt("twin status", &row.status))?,
            description: row
                .description
                .map(|text| decode_json::<Map<String, Value>>(&text, "twin description"))
                .transpose()?,
            termination,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

/// A twin with one of its ledgers, from a LEFT JOIN: the ledger columns are all null when the
/// ledger was never written.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TwinLedgerRow {
    #[sqlx(flatten)]
    pub(crate) twin: TwinRow,
    ledger_account: Option<String>,
    ledger_entries: Option<String>,
    ledger_version: Option<i64>,
    ledger_created_ts: Option<i64>,
    ledger_updated_ts: Option<i64>,
}

impl TwinLedgerRow {
    /// The ledger part, if the join found one.
    pub(crate) fn ledger(&mut self) -> Option<LedgerRow> {
        Some(LedgerRow {
            twin_id: self.twin.id.clone(),
            account_id: self.ledger_account.take()?,
            entries: self.ledger_entries.take()?,
            version: self.ledger_version.take()?,
            created_ts: self.ledger_created_ts.take()?,
            updated_ts: self.ledger_updated_ts.take()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LedgerRow {
    twin_id: String,
    account_id: String,
    entries: String,
    version: i64,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<LedgerRow> for Ledger {
    type Error = StoreError;

    fn try_from(row: LedgerRow) -> Result<Self, StoreError> {
        Ok(Ledger {
            twin: parse_id(&row.twin_id, "ledger twin")?,
            account: parse_id(&row.account_id, "ledger account")?,
            entries: decode_json(&row.entries, "ledger entries")?,
            version: u64::try_from(row.version)
                .map_err(|_| corrupt("ledger version", row.version))?,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

pub(crate) fn parse_id<Id: std::str::FromStr>(text: &str, what: &str) -> Result<Id, StoreError> {
    text.parse().map_err(|_| corrupt(what, text))
}
