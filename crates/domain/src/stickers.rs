//! Stickers: workflow tags an account puts on a twin for chosen recipients.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{AccountId, Timestamp, TwinId};

/// One sticker: at most one per (twin, creating account, colour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sticker {
    /// The twin the sticker is on.
    pub twin: TwinId,
    /// The account that put the sticker.
    pub account: AccountId,
    /// The colour, unique per account and twin.
    pub color: String,
    /// Free text, at most 512 characters.
    pub note: String,
    /// Ids of the users, roles or accounts (of any account) that may see and remove the
    /// sticker; at most 100.
    pub recipients: Vec<Uuid>,
    /// When the sticker expires and is removed.
    pub validity_ts: Timestamp,
    /// When the sticker was put (re-putting a colour sets it anew).
    pub created_ts: Timestamp,
    /// Notification configuration (`on_put`, `on_remove`, `on_expire`).
    pub publish: Option<Value>,
}
