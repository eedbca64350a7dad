//! The event log: every change partners may watch (entry changes, sticker changes), written in
//! the same transaction as the change. It feeds the live event stream (`GET /events`, resumable
//! by event id) and the webhook fan-out of sticker events.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AccountId, Sticker, Timestamp, TwinId};

/// Trigger of a sticker put (or re-put) on a twin.
pub const STICKER_PUT: &str = "sticker.put";
/// Trigger of a sticker removed by a recipient.
pub const STICKER_REMOVED: &str = "sticker.removed";
/// Trigger of a sticker removed because it expired.
pub const STICKER_EXPIRED: &str = "sticker.expired";

/// One change in the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log: assigned by the store when the event is written (0 before). Ids
    /// are consecutive and increase in commit order, so a reader that has seen id `n` has seen
    /// every event up to `n` and can resume after it.
    pub id: u64,
    /// When the change was made.
    pub ts: Timestamp,
    /// The twin that changed.
    pub twin: TwinId,
    /// The account whose ledger or sticker changed.
    pub account: AccountId,
    /// What happened: `ledger.entry.added|updated|deleted` or `sticker.put|removed|expired`.
    pub trigger: String,
    /// The change itself. For sticker events the [`Sticker`]; for entry events
    /// `{"entries": {name: {"old_value", "new_value", "changed_ts", "topics", "entry"?}}}`
    /// (built and read by the services; the store keeps it as opaque JSON).
    pub body: Value,
}

impl Event {
    /// The event of a sticker change (`trigger` is one of the `STICKER_*` constants).
    pub fn sticker(trigger: &str, sticker: &Sticker, ts: Timestamp) -> Self {
        Self {
            id: 0,
            ts,
            twin: sticker.twin,
            account: sticker.account,
            trigger: trigger.to_owned(),
            // A sticker always serializes: it holds only strings, ids, numbers and JSON.
            body: serde_json::to_value(sticker).unwrap_or(Value::Null),
        }
    }

    /// Whether this is a sticker event.
    pub fn is_sticker(&self) -> bool {
        self.trigger.starts_with("sticker.")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_sticker_event_carries_the_sticker() {
        let sticker = Sticker {
            twin: TwinId::new_random(),
            account: AccountId::new_random(),
            color: "red".to_owned(),
            note: "check".to_owned(),
            recipients: vec![uuid::Uuid::new_v4()],
            validity_ts: Timestamp::from_millis(2_000),
            created_ts: Timestamp::from_millis(1_000),
            publish: Some(serde_json::json!({"on_put": "t-1"})),
        };
        let event = Event::sticker(STICKER_PUT, &sticker, Timestamp::from_millis(1_500));
        assert!(event.is_sticker());
        assert_eq!(event.twin, sticker.twin);
        let back: Sticker = serde_json::from_value(event.body).unwrap();
        assert_eq!(back, sticker);
    }
}
