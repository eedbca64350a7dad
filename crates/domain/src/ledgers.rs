//! Ledgers: one per (twin, account), a map of named entries written by that account only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AccountId, Timestamp, TwinId};

/// What an entry holds. The kind is fixed when the entry is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryContent {
    /// A value written by the ledger's account.
    Value(Value),
    /// A read-through reference to an entry of any ledger: `twin://{twin}/{account}/{entry}`.
    Reference {
        /// The source URI.
        source: String,
    },
    /// A read-through include of an entry of the same account: `twin://{twin}/{entry}`.
    Include {
        /// The source URI.
        source: String,
    },
}

/// One entry of a ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Value, reference or include.
    pub content: EntryContent,
    /// Rule deciding which foreign readers see the entry; `None` = private.
    pub visibility: Option<String>,
    /// History retention (`7D`, `3M`, `INF`, ...); `None` = no history.
    pub history: Option<String>,
    /// Notification configuration.
    pub publish: Option<Value>,
    /// Timeseries configuration.
    pub timeseries: Option<Value>,
    /// When the entry was created.
    pub entry_created_ts: Timestamp,
    /// When the entry (value or configuration) last changed.
    pub entry_updated_ts: Timestamp,
    /// When the value last changed.
    pub value_changed_ts: Timestamp,
}

/// The ledger of one account on one twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// The twin.
    pub twin: TwinId,
    /// The account that owns (and alone writes) the ledger; also the ledger's id.
    pub account: AccountId,
    /// Entries by name.
    pub entries: BTreeMap<String, Entry>,
    /// Incremented by every write; used for optimistic concurrency.
    pub version: u64,
    /// When the ledger was first written.
    pub created_ts: Timestamp,
    /// When the ledger last changed.
    pub updated_ts: Timestamp,
}

/// How long a ledger write's `transaction` id is remembered, in milliseconds: 24 hours.
pub const TRANSACTION_RETENTION_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A ledger write made under a client-chosen `transaction` id, remembered so that a retry of
/// the same request returns the first answer instead of writing again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerTransaction {
    /// The account that wrote (transaction ids are scoped to it).
    pub account: AccountId,
    /// The client's transaction id.
    pub id: String,
    /// The twin written to.
    pub twin: TwinId,
    /// A digest of the operation and its request, to tell a retry from a different request
    /// that reuses the id.
    pub request_hash: String,
    /// The entries the write answered with, as JSON.
    pub response: Value,
    /// When the write was stored.
    pub created_ts: Timestamp,
}
