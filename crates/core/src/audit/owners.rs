//! Per-owner shares of one request's audit. A read that returns the data of several accounts
//! (identity listings, identity resolution, scans) produces, besides the request's own record,
//! one record per other data owner: each owner sees exactly what concerned its data (its twins,
//! its identities, what was withheld of them and by which of its rules) and nothing of the
//! others'.
//!
//! Services gather the decisions of such a read in an [`OwnerAccess`] (only when a request is
//! being audited, see [`super::active`]) and hand it over once with [`OwnerAccess::note`]; the
//! request's draft merges what it receives by owner, and [`super::AuditScope::finish`] turns it
//! into records: the share of the request's own owner goes into the request's record, every
//! other owner's into a record of its own.

use std::collections::{BTreeMap, BTreeSet};

use steward_domain::{AccountId, AuditRecord, TwinId};

use super::{bounded, MAX_BASIS_CHARS, MAX_NAMES};

/// Most per-owner records one request produces; the accounts beyond share one summary record
/// (whose owner is null, so only the actor sees it), so a wide read cannot flood the log.
pub const MAX_OWNER_RECORDS: usize = 1_000;

/// Which twin an owner's share concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TwinNoted {
    /// Exactly this one (the record's `twin`).
    One(TwinId),
    /// Several (the record's `twin` is null).
    Several,
}

/// One owner's share: names returned and withheld, the caller's side of the decision and the
/// owner's rules that admitted what was returned.
#[derive(Debug, Clone)]
struct OwnerShare {
    twin: TwinNoted,
    returned: Vec<String>,
    withheld: Vec<String>,
    basis: String,
    entry_basis: Vec<String>,
    /// Characters in `entry_basis`, to stop building what would be cut anyway.
    entry_basis_chars: usize,
}

impl OwnerShare {
    fn new(twin: TwinId, basis: &str) -> Self {
        Self {
            twin: TwinNoted::One(twin),
            returned: Vec::new(),
            withheld: Vec::new(),
            basis: basis.to_owned(),
            entry_basis: Vec::new(),
            entry_basis_chars: 0,
        }
    }

    fn concerns(&mut self, twin: TwinId) {
        if self.twin != TwinNoted::One(twin) {
            self.twin = TwinNoted::Several;
        }
    }

    fn absorb(&mut self, other: OwnerShare) {
        if self.twin != other.twin {
            self.twin = TwinNoted::Several;
        }
        push_names(&mut self.returned, other.returned);
        push_names(&mut self.withheld, other.withheld);
        for rule in other.entry_basis {
            self.push_rule(rule);
        }
    }

    fn push_rule(&mut self, rule: String) {
        if self.entry_basis_chars <= MAX_BASIS_CHARS {
            self.entry_basis_chars += rule.chars().count() + 2;
            self.entry_basis.push(rule);
        }
    }

    /// Returned and withheld in name order, each name once; a name returned is not also
    /// withheld (another decision on the same twin returned it).
    fn settle(&mut self) {
        self.returned.sort_unstable();
        self.returned.dedup();
        self.withheld.sort_unstable();
        self.withheld.dedup();
        let returned = &self.returned;
        self.withheld
            .retain(|name| returned.binary_search(name).is_err());
    }

    fn entry_basis(&self) -> Option<String> {
        (!self.entry_basis.is_empty()).then(|| bounded(self.entry_basis.join("; ")))
    }
}

fn push_names(names: &mut Vec<String>, more: Vec<String>) {
    let room = MAX_NAMES.saturating_sub(names.len());
    names.extend(more.into_iter().take(room));
}

/// The per-owner decisions of one multi-owner read, gathered by a service.
#[derive(Debug, Clone)]
pub(crate) struct OwnerAccess {
    /// The caller's side of every decision (its role and the rules applied).
    basis: String,
    shares: BTreeMap<AccountId, OwnerShare>,
}

impl OwnerAccess {
    /// Decisions made on the caller's side by `basis` (its role and rules).
    pub(crate) fn new(basis: String) -> Self {
        Self {
            basis,
            shares: BTreeMap::new(),
        }
    }

    fn share(&mut self, owner: AccountId, twin: TwinId) -> &mut OwnerShare {
        let share = self
            .shares
            .entry(owner)
            .or_insert_with(|| OwnerShare::new(twin, &self.basis));
        share.concerns(twin);
        share
    }

    /// `name`, of `owner`'s data on `twin`, was shown to the caller; `owner_rule` is the
    /// owner's rule that admitted it (an identity's `visibility`), if one did.
    pub(crate) fn returned(
        &mut self,
        owner: AccountId,
        twin: TwinId,
        name: String,
        owner_rule: Option<&str>,
    ) {
        let share = self.share(owner, twin);
        if let Some(rule) = owner_rule {
            share.push_rule(format!("{name}: visibility `{rule}`"));
        }
        if share.returned.len() < MAX_NAMES {
            share.returned.push(name);
        }
    }

    /// `name`, of `owner`'s data on `twin`, exists but was withheld from the caller.
    pub(crate) fn withheld(&mut self, owner: AccountId, twin: TwinId, name: String) {
        let share = self.share(owner, twin);
        if share.withheld.len() < MAX_NAMES {
            share.withheld.push(name);
        }
    }

    /// Hands the decisions to the running request's record; does nothing outside a request.
    pub(crate) fn note(self) {
        let _ = super::SCOPE.try_with(|scope| {
            if let Ok(mut draft) = scope.draft.lock() {
                draft
                    .owners
                    .get_or_insert_with(Box::default)
                    .merge(self.shares);
            }
        });
    }
}

/// The shares a request's draft has received, by owner.
#[derive(Debug, Clone, Default)]
pub(super) struct OwnerShares {
    shares: BTreeMap<AccountId, OwnerShare>,
    /// Owners beyond what is kept per owner.
    beyond: BTreeSet<AccountId>,
}

impl OwnerShares {
    fn merge(&mut self, shares: BTreeMap<AccountId, OwnerShare>) {
        for (owner, share) in shares {
            if let Some(known) = self.shares.get_mut(&owner) {
                known.absorb(share);
            } else if self.shares.len() <= MAX_OWNER_RECORDS {
                // One more than the records allowed: one share may be the request's own.
                self.shares.insert(owner, share);
            } else {
                self.beyond.insert(owner);
            }
        }
    }

    /// Folds the share of `record`'s owner into `record` and makes one record per other owner
    /// (at most [`MAX_OWNER_RECORDS`], then one summary record); `record` (already finished:
    /// status, outcome, time) comes first.
    pub(super) fn into_records(mut self, mut record: AuditRecord) -> Vec<AuditRecord> {
        if let Some(mut own) = record.owner.and_then(|owner| self.shares.remove(&owner)) {
            own.settle();
            fold_into(&mut record, own);
        }
        let others = self.shares.len() + self.beyond.len();
        let beyond = others - self.shares.len().min(MAX_OWNER_RECORDS);
        let mut records = Vec::with_capacity(1 + others.min(MAX_OWNER_RECORDS + 1));
        if others > 0 {
            let note = format!(
                "data of {others} other account{}, each recorded for its owner",
                if others == 1 { "" } else { "s" }
            );
            record.basis = Some(bounded(match record.basis.take() {
                Some(basis) => format!("{basis}; {note}"),
                None => note,
            }));
        }
        let mut owner_records: Vec<AuditRecord> = self
            .shares
            .into_iter()
            .take(MAX_OWNER_RECORDS)
            .map(|(owner, mut share)| {
                share.settle();
                owner_record(&record, Some(owner), share)
            })
            .collect();
        let summary = (beyond > 0).then(|| {
            let share = OwnerShare {
                twin: TwinNoted::Several,
                returned: Vec::new(),
                withheld: Vec::new(),
                basis: format!(
                    "data of {beyond} further accounts, not recorded per owner \
                     (at most {MAX_OWNER_RECORDS} owner records per request)"
                ),
                entry_basis: Vec::new(),
                entry_basis_chars: 0,
            };
            owner_record(&record, None, share)
        });
        records.push(record);
        records.append(&mut owner_records);
        records.extend(summary);
        records
    }
}

/// The request's own owner's share goes into the request's record.
fn fold_into(record: &mut AuditRecord, share: OwnerShare) {
    if record.twin.is_none() {
        if let TwinNoted::One(twin) = share.twin {
            record.twin = Some(twin);
        }
    }
    let entry_basis = share.entry_basis();
    if record.returned.is_empty() {
        record.returned = share.returned;
    } else {
        record.returned.extend(share.returned);
        record.returned.sort_unstable();
        record.returned.dedup();
        record.returned.truncate(MAX_NAMES);
    }
    if record.withheld.is_empty() {
        record.withheld = share.withheld;
    } else {
        record.withheld.extend(share.withheld);
        record.withheld.sort_unstable();
        record.withheld.dedup();
        record.withheld.truncate(MAX_NAMES);
    }
    if record.basis.is_none() {
        record.basis = Some(bounded(share.basis));
    }
    record.entry_basis = match (record.entry_basis.take(), entry_basis) {
        (Some(known), Some(more)) => Some(bounded(format!("{known}; {more}"))),
        (known, more) => known.or(more),
    };
}

/// The record of one owner's share of `request` (a finished record): the same request, actor,
/// client, operation and outcome; this owner, its twin, names and rules.
fn owner_record(request: &AuditRecord, owner: Option<AccountId>, share: OwnerShare) -> AuditRecord {
    let entry_basis = share.entry_basis();
    AuditRecord {
        actor_account: request.actor_account,
        actor_role: request.actor_role,
        actor_user: request.actor_user,
        auth: request.auth.clone(),
        basis: Some(bounded(share.basis)),
        client: request.client.clone(),
        entry_basis,
        fingerprint: request.fingerprint.clone(),
        operation: request.operation.clone(),
        outcome: request.outcome.clone(),
        owner,
        pruned: None,
        request_id: request.request_id.clone(),
        returned: share.returned,
        status: request.status,
        ts: request.ts,
        twin: match share.twin {
            TwinNoted::One(twin) => Some(twin),
            TwinNoted::Several => None,
        },
        withheld: share.withheld,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use steward_domain::Timestamp;

    use super::super::{note, AuditScope};
    use super::*;

    /// Runs `notes` in a request of `caller` (the record's owner unless a note changes it) and
    /// finishes it.
    async fn finished(caller: AccountId, notes: impl FnOnce()) -> Vec<AuditRecord> {
        let scope = AuditScope::new(
            "resolve_twin_identity",
            "req",
            None,
            Timestamp::from_millis(1),
        );
        scope
            .run(async {
                note(|record| {
                    record.actor_account = Some(caller);
                    record.owner = Some(caller);
                });
                notes();
            })
            .await;
        scope.finish(200, Timestamp::from_millis(2))
    }

    #[tokio::test]
    async fn each_owner_gets_a_record_of_its_own_share_only() {
        let caller = AccountId::new_random();
        let (first, second) = (AccountId::new_random(), AccountId::new_random());
        let (own_twin, first_twin, first_other, second_twin) = (
            TwinId::new_random(),
            TwinId::new_random(),
            TwinId::new_random(),
            TwinId::new_random(),
        );
        let records = finished(caller, || {
            let mut access = OwnerAccess::new("role basis".to_owned());
            access.returned(caller, own_twin, own_twin.to_string(), None);
            access.returned(first, first_twin, first_twin.to_string(), Some("true"));
            access.withheld(first, first_other, first_other.to_string());
            access.returned(second, second_twin, second_twin.to_string(), None);
            access.note();
            // A second note for the same owner and twin merges: one name, once.
            let mut again = OwnerAccess::new("ignored".to_owned());
            again.returned(second, second_twin, second_twin.to_string(), None);
            again.withheld(second, second_twin, second_twin.to_string());
            again.note();
        })
        .await;
        assert_eq!(records.len(), 3, "{records:#?}");
        let request = &records[0];
        assert_eq!(request.owner, Some(caller));
        assert_eq!(request.twin, Some(own_twin));
        assert_eq!(request.returned, [own_twin.to_string()]);
        assert_eq!(
            request.basis.as_deref(),
            Some("role basis; data of 2 other accounts, each recorded for its owner")
        );
        let of = |owner| records.iter().find(|r| r.owner == Some(owner)).unwrap();
        let first_record = of(first);
        assert_eq!(first_record.twin, None, "two twins concerned");
        assert_eq!(first_record.returned, [first_twin.to_string()]);
        assert_eq!(first_record.withheld, [first_other.to_string()]);
        assert_eq!(first_record.basis.as_deref(), Some("role basis"));
        assert_eq!(
            first_record.entry_basis,
            Some(format!("{first_twin}: visibility `true`"))
        );
        let second_record = of(second);
        assert_eq!(second_record.twin, Some(second_twin));
        assert_eq!(second_record.returned, [second_twin.to_string()]);
        assert!(second_record.withheld.is_empty(), "returned wins");
        for record in &records[1..] {
            assert_eq!(record.actor_account, Some(caller));
            assert_eq!((record.status, record.outcome.as_str()), (200, "allowed"));
            assert_eq!(record.request_id, "req");
            let text = record.leaf_text();
            assert!(!text.contains(&own_twin.to_string()), "{text}");
        }
        assert!(!second_record.leaf_text().contains(&first.to_string()));
        assert!(!second_record.leaf_text().contains(&first_twin.to_string()));
    }

    #[tokio::test]
    async fn a_single_owner_read_makes_one_record() {
        let caller = AccountId::new_random();
        let twin = TwinId::new_random();
        let records = finished(caller, || {
            let mut access = OwnerAccess::new("basis".to_owned());
            access.returned(caller, twin, "RFID#1".to_owned(), None);
            access.withheld(caller, twin, "NFC#2".to_owned());
            access.note();
        })
        .await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].returned, ["RFID#1"]);
        assert_eq!(records[0].withheld, ["NFC#2"]);
        assert_eq!(records[0].basis.as_deref(), Some("basis"));
    }

    #[tokio::test]
    async fn owners_beyond_the_bound_share_one_summary_record() {
        let caller = AccountId::new_random();
        let extra = 7;
        let records = finished(caller, || {
            let mut access = OwnerAccess::new("basis".to_owned());
            for _ in 0..MAX_OWNER_RECORDS + extra {
                let twin = TwinId::new_random();
                access.returned(AccountId::new_random(), twin, twin.to_string(), None);
            }
            access.note();
        })
        .await;
        assert_eq!(records.len(), 1 + MAX_OWNER_RECORDS + 1);
        let summary = records.last().unwrap();
        assert_eq!(summary.owner, None);
        assert!(summary.returned.is_empty());
        assert!(
            summary
                .basis
                .as_deref()
                .unwrap()
                .starts_with(&format!("data of {extra} further accounts")),
            "{summary:?}"
        );
        assert!(records[0].basis.as_deref().unwrap().contains(&format!(
            "data of {} other accounts",
            MAX_OWNER_RECORDS + extra
        )));
    }

    #[tokio::test]
    async fn notes_outside_a_request_are_ignored() {
        let mut access = OwnerAccess::new("basis".to_owned());
        access.returned(
            AccountId::new_random(),
            TwinId::new_random(),
            "x".to_owned(),
            None,
        );
        access.note();
    }
}
