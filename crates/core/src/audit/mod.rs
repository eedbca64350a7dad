//! The access audit trail (issue #7): every API operation produces one [`AuditRecord`].
//!
//! The HTTP layer opens an [`AuditScope`] around each request; services add what they learn
//! while deciding (the caller, the twin, whose data, which entries were returned and which
//! withheld, the rules that decided) through [`note`], which finds the scope of the running
//! request (a task-local) and does nothing outside one. When the answer is ready the HTTP layer
//! closes the scope into a record (plus, for a read returning the data of several accounts, one
//! record per other data owner: see [`owners`]):
//!
//! * writes record it themselves **in the write's transaction** (see
//!   [`AuditScope::record_in_transaction`]): a write is never stored without its record;
//! * everything else goes to the [recorder](recorder), which appends records in batches (group
//!   commit) at least every `audit_flush_millis`: that interval plus one batch write is the
//!   most a crash can lose.
//!
//! Records are leaves of a Merkle log that [seal](seal) extends and signs (checkpoints).

pub(crate) mod logs;
mod owners;
pub(crate) mod recorder;
pub mod retention;
pub mod seal;
pub mod view;

pub(crate) use owners::OwnerAccess;
pub use owners::MAX_OWNER_RECORDS;

use std::future::Future;
use std::sync::{Arc, Mutex};

use steward_domain::{AccountId, AuditRecord, Timestamp, TwinId};

use crate::{AuthMethod, Principal};

/// Longest `basis` kept, in characters (rules can be long).
const MAX_BASIS_CHARS: usize = 2_000;

/// Most entry names kept in `returned` or `withheld`.
const MAX_NAMES: usize = 1_000;

tokio::task_local! {
    static SCOPE: AuditScope;
}

/// What one request's record has gathered so far.
#[derive(Debug, Default)]
struct Draft {
    record: Option<AuditRecord>,
    /// The record was stored with the request's write.
    written: bool,
    /// The data concerned was noted (the first note is the request's own object; later ones,
    /// such as reference sources, do not replace it).
    data_noted: bool,
    /// What a read returning several accounts' data showed of each (none on the common path,
    /// which therefore allocates nothing for it).
    owners: Option<Box<owners::OwnerShares>>,
}

/// The audit record of one request, being gathered. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AuditScope {
    draft: Arc<Mutex<Draft>>,
}

impl AuditScope {
    /// A scope for a request of `operation` with this id, from this client address.
    pub fn new(operation: &str, request_id: &str, client: Option<String>, ts: Timestamp) -> Self {
        let mut record = AuditRecord::new(operation, request_id, ts);
        record.client = client;
        Self {
            draft: Arc::new(Mutex::new(Draft {
                record: Some(record),
                written: false,
                data_noted: false,
                owners: None,
            })),
        }
    }

    /// Runs `future` (the request's handling) inside this scope.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        SCOPE.scope(self.clone(), future).await
    }

    /// Closes the scope with the answer's status: the request's record first, then one record
    /// per other data owner whose data the request returned (see [`owners`]). Empty once
    /// finished, and when the records were already stored with the request's write.
    pub fn finish(&self, status: u16, ts: Timestamp) -> Vec<AuditRecord> {
        let Ok(mut draft) = self.draft.lock() else {
            return Vec::new();
        };
        if draft.written {
            return Vec::new();
        }
        let Some(mut record) = draft.record.take() else {
            return Vec::new();
        };
        record.status = status;
        record.outcome = outcome(status).to_owned();
        record.ts = ts;
        match draft.owners.take() {
            None => vec![record],
            Some(owners) => owners.into_records(record),
        }
    }
}

fn outcome(status: u16) -> &'static str {
    if status < 400 {
        "allowed"
    } else {
        "denied"
    }
}

impl crate::Steward {
    /// Whether this node records API operations in the audit trail.
    pub fn audit_enabled(&self) -> bool {
        self.settings.audit_enabled
    }
}

/// Whether a request's audit scope is running (so notes are worth building).
pub(crate) fn active() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

/// Adds to the running request's record; does nothing outside a request.
pub(crate) fn note(change: impl FnOnce(&mut AuditRecord)) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut draft) = scope.draft.lock() {
            if let Some(record) = draft.record.as_mut() {
                change(record);
            }
        }
    });
}

/// Notes the authenticated caller.
pub(crate) fn note_caller(principal: &Principal) {
    note(|record| {
        record.actor_account = Some(principal.account);
        record.actor_user = Some(principal.user.id);
        record.actor_role = Some(principal.role.id);
        let (auth, fingerprint) = match &principal.auth {
            AuthMethod::Secret { fingerprint } => ("secret", fingerprint),
            AuthMethod::Token { fingerprint, .. } => ("token", fingerprint),
        };
        record.auth = Some(auth.to_owned());
        record.fingerprint = Some(fingerprint.clone());
        if record.owner.is_none() {
            record.owner = Some(principal.account);
        }
    });
}

/// Notes the operator as the caller.
pub fn note_operator() {
    note(|record| record.auth = Some("operator".to_owned()));
}

/// Notes whose data, on which twin, the request is about. The first note of a request wins:
/// reads it makes on the way (reference sources) do not replace its own object.
pub(crate) fn note_data(twin: Option<TwinId>, owner: AccountId) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut draft) = scope.draft.lock() {
            if draft.data_noted {
                return;
            }
            draft.data_noted = true;
            if let Some(record) = draft.record.as_mut() {
                record.twin = twin;
                record.owner = Some(owner);
            }
        }
    });
}

/// Notes which entries were returned and which withheld, and why: `basis` from the caller's
/// role, `entry_basis` from the owner's entry rules.
pub(crate) fn note_entries<'a>(
    returned: impl Iterator<Item = &'a String>,
    withheld: impl Iterator<Item = &'a String>,
    basis: String,
    entry_basis: Option<String>,
) {
    note(|record| {
        record.returned = returned.take(MAX_NAMES).cloned().collect();
        record.withheld = withheld.take(MAX_NAMES).cloned().collect();
        record.basis = Some(bounded(basis));
        record.entry_basis = entry_basis.map(bounded);
    });
}

/// Notes why a request was refused, unless a service already noted what decided.
pub fn note_refusal(reason: &str) {
    note(|record| {
        let refused = format!("refused: {reason}");
        record.basis = Some(bounded(match record.basis.take() {
            Some(basis) => format!("{basis}; {refused}"),
            None => refused,
        }));
    });
}

/// Notes what decided the outcome.
pub(crate) fn note_basis(basis: String) {
    note(|record| record.basis = Some(bounded(basis)));
}

fn bounded(mut text: String) -> String {
    if text.chars().count() > MAX_BASIS_CHARS {
        text = text.chars().take(MAX_BASIS_CHARS).collect();
        text.push('…');
    }
    text
}

/// The records a write stores in its own transaction, answered with `status` (the request's
/// own, then one per other data owner, as [`AuditScope::finish`] makes them); empty outside a
/// request. The draft stays as it is, for a retried attempt; call [`mark_written`] once the
/// write committed.
pub(crate) fn record_in_transaction(status: u16, ts: Timestamp) -> Vec<AuditRecord> {
    SCOPE
        .try_with(|scope| {
            let Ok(draft) = scope.draft.lock() else {
                return Vec::new();
            };
            let Some(mut record) = draft.record.clone() else {
                return Vec::new();
            };
            record.status = status;
            record.outcome = outcome(status).to_owned();
            record.ts = ts;
            match &draft.owners {
                None => vec![record],
                Some(owners) => owners.as_ref().clone().into_records(record),
            }
        })
        .unwrap_or_default()
}

/// The running request's record was stored with its write: the HTTP layer must not record it
/// again.
pub(crate) fn mark_written() {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut draft) = scope.draft.lock() {
            draft.written = true;
        }
    });
}

/// A short description of what a role lets decide, for `basis`.
pub(crate) fn role_basis(principal: &Principal, operation: &str) -> String {
    let rules = &principal.role.rules;
    format!(
        "role `{}` allows {operation}; twin_rule: {}; entry_rule: {}",
        principal.role.name,
        rules.twin_rule.as_deref().map_or_else(
            || "none (own twins only)".to_owned(),
            |rule| format!("`{rule}`")
        ),
        rules
            .entry_rule
            .as_deref()
            .map_or_else(|| "none".to_owned(), |rule| format!("`{rule}`")),
    )
}

/// Like [`role_basis`], for identity decisions: the role's `twin_rule` and `identity_rule`.
pub(crate) fn identity_role_basis(principal: &Principal, operation: &str) -> String {
    let rules = &principal.role.rules;
    format!(
        "role `{}` allows {operation}; twin_rule: {}; identity_rule: {}",
        principal.role.name,
        rules.twin_rule.as_deref().map_or_else(
            || "none (own twins only)".to_owned(),
            |rule| format!("`{rule}`")
        ),
        rules.identity_rule.as_deref().map_or_else(
            || "none (own identities only)".to_owned(),
            |rule| format!("`{rule}`")
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn notes_reach_the_scope_of_the_running_request_only() {
        let scope = AuditScope::new("get_twin", "req-1", None, Timestamp::from_millis(1));
        let twin = TwinId::new_random();
        let owner = AccountId::new_random();
        scope.run(async { note_data(Some(twin), owner) }).await;
        // Outside any scope: ignored.
        note_data(None, AccountId::new_random());
        let record = scope.finish(200, Timestamp::from_millis(2)).pop().unwrap();
        assert_eq!(record.twin, Some(twin));
        assert_eq!(record.owner, Some(owner));
        assert_eq!(record.outcome, "allowed");
        assert_eq!(record.ts, Timestamp::from_millis(2));
        assert!(
            scope.finish(200, Timestamp::from_millis(3)).is_empty(),
            "finished once"
        );
    }

    #[tokio::test]
    async fn a_record_written_with_its_write_is_not_finished_again() {
        let scope = AuditScope::new(
            "add_twin_ledger_entry",
            "req-2",
            None,
            Timestamp::from_millis(1),
        );
        let stored = scope
            .run(async {
                let record = record_in_transaction(201, Timestamp::from_millis(5));
                mark_written();
                record
            })
            .await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].status, 201);
        assert!(scope.finish(201, Timestamp::from_millis(6)).is_empty());
    }
}
