//! The access audit trail: one record per API operation, and in particular per access decision
//! on another account's data. Records are the leaves of a tamper-evident Merkle log: a record's
//! leaf is the exact text of its canonical JSON ([`AuditRecord::leaf_text`]), and its position
//! in the log is its `seq`.

use serde::{Deserialize, Serialize};

use crate::{AccountId, RoleId, Timestamp, TwinId, UserId};

/// One audited operation. Field order is part of the format: the leaf text is this struct
/// serialized with its fields in this (alphabetical) order, so the text is canonical JSON
/// (RFC 8785 key order) as long as no field is a map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The account that acted, if the caller was authenticated as a user.
    pub actor_account: Option<AccountId>,
    /// The role the actor held.
    pub actor_role: Option<RoleId>,
    /// The user that acted.
    pub actor_user: Option<UserId>,
    /// How the caller authenticated: `secret`, `token`, `operator`, or null.
    pub auth: Option<String>,
    /// What decided the outcome, in words: the role statement, the rules applied.
    pub basis: Option<String>,
    /// The client's address as the server saw it.
    pub client: Option<String>,
    /// The data owner's rules that decided per entry (each returned entry's `visibility`):
    /// the owner's configuration, so shown to the owner only.
    pub entry_basis: Option<String>,
    /// Fingerprint of the secret used (never the secret).
    pub fingerprint: Option<String>,
    /// The Trusted Twin operation (`get_twin_ledger_entry`, ...) or route.
    pub operation: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// The account whose data was accessed (null: none, or the caller's own request with no
    /// data of a particular account).
    pub owner: Option<AccountId>,
    /// Only in the records retention pruning writes: the seqs of the records it deleted, as
    /// inclusive `[first, last]` ranges. Their leaf hashes stay in the Merkle log, so the log
    /// still verifies, and this record (itself a leaf) says which records are gone and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Vec<[u64; 2]>>,
    /// The request id (`X-Request-Id`).
    pub request_id: String,
    /// Entry names shown to the caller.
    pub returned: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// When the operation was answered.
    pub ts: Timestamp,
    /// The twin concerned.
    pub twin: Option<TwinId>,
    /// Entry names that exist but were withheld from the caller.
    pub withheld: Vec<String>,
}

impl AuditRecord {
    /// A record of `operation` at `ts` with nothing else known yet.
    pub fn new(operation: impl Into<String>, request_id: impl Into<String>, ts: Timestamp) -> Self {
        Self {
            actor_account: None,
            actor_role: None,
            actor_user: None,
            auth: None,
            basis: None,
            client: None,
            entry_basis: None,
            fingerprint: None,
            operation: operation.into(),
            outcome: String::new(),
            owner: None,
            pruned: None,
            request_id: request_id.into(),
            returned: Vec::new(),
            status: 0,
            ts,
            twin: None,
            withheld: Vec::new(),
        }
    }

    /// The record's leaf text: its canonical JSON.
    pub fn leaf_text(&self) -> String {
        // Only strings, numbers, nulls and lists of strings: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The operation of the records retention pruning writes (see [`AuditRecord::pruned`]).
pub const AUDIT_PRUNE_OPERATION: &str = "prune_audit_records";

/// How long audit records are kept: a record is deleted once it is older than the retention
/// of its data owner's account **and** of its actor's account (each party keeps its own view
/// for as long as it asked), and only once a signed checkpoint covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRetention {
    /// The retention of accounts without one of their own, in days; 0 keeps records forever.
    pub default_days: u32,
    /// The time pruning runs at.
    pub now: Timestamp,
    /// Most records deleted by one call.
    pub limit: u32,
}

/// Folds sorted seqs into inclusive `[first, last]` ranges.
pub fn seq_ranges(seqs: &[u64]) -> Vec<[u64; 2]> {
    let mut ranges: Vec<[u64; 2]> = Vec::new();
    for &seq in seqs {
        match ranges.last_mut() {
            Some(last) if last[1].checked_add(1) == Some(seq) => last[1] = seq,
            _ => ranges.push([seq, seq]),
        }
    }
    ranges
}

/// A record as stored in the log: its position and its exact leaf text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditRecord {
    /// Position in the log, from 0, consecutive and in commit order.
    pub seq: u64,
    /// The leaf text, as written.
    pub text: String,
}

/// A signed checkpoint of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// Number of records covered.
    pub size: u64,
    /// When it was signed.
    pub ts: Timestamp,
    /// The C2SP signed note.
    pub note: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seqs_fold_into_ranges() {
        assert_eq!(seq_ranges(&[]), Vec::<[u64; 2]>::new());
        assert_eq!(seq_ranges(&[3]), vec![[3, 3]]);
        assert_eq!(
            seq_ranges(&[0, 1, 2, 5, 7, 8]),
            vec![[0, 2], [5, 5], [7, 8]]
        );
    }

    #[test]
    fn only_prune_records_carry_the_pruned_key() {
        let mut record = AuditRecord::new("get_twin", "req-1", Timestamp::from_millis(1));
        assert!(!record.leaf_text().contains("pruned"));
        record.pruned = Some(vec![[0, 4]]);
        let text = record.leaf_text();
        assert!(
            text.contains(r#""owner":null,"pruned":[[0,4]],"request_id""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<AuditRecord>(&text).unwrap(), record);
    }

    #[test]
    fn leaf_text_has_its_keys_in_canonical_order() {
        let record = AuditRecord::new("get_twin", "req-1", Timestamp::from_millis(1_500));
        let text = record.leaf_text();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        // serde_json's map is ordered here; the text itself must list keys sorted.
        let positions: Vec<usize> = sorted
            .iter()
            .map(|key| text.find(&format!("\"{key}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
        assert_eq!(serde_json::from_str::<AuditRecord>(&text).unwrap(), record);
    }
}
