//! Identities: aliases of twins (`RFID#4411`), owned by the account that attached them.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Timestamp, TwinId};

/// One identity attached to a twin by one account. The key is (twin, account, identity): many
/// per twin per account, and the same string may be attached to several twins and by several
/// accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The twin the identity names.
    pub twin: TwinId,
    /// The account that attached (and owns) the identity.
    pub account: AccountId,
    /// The identity string, `prefix#value`.
    pub identity: String,
    /// When the identity stops being valid; `None` never expires.
    pub validity_ts: Option<Timestamp>,
    /// Rule deciding which foreign readers see the identity; `None` = private.
    pub visibility: Option<String>,
    /// When the identity was attached.
    pub created_ts: Timestamp,
    /// When validity or visibility last changed.
    pub updated_ts: Timestamp,
}

impl Identity {
    /// Whether the identity has expired at `now` (`validity_ts <= now`).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.validity_ts.is_some_and(|validity| validity <= now)
    }
}
