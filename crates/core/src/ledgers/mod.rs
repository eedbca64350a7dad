//! Ledgers and entries: reads filtered by visibility in [`crate::authz`], and writes to the
//! caller's own ledger with conditions, size limits and optimistic concurrency.

mod history;
mod input;
mod references;
mod write;

pub use history::{EntryHistory, HistoryBounds, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT};
pub use references::{ReferenceStatus, ResolvedSource};

pub use write::{Conditions, WriteOptions, MAX_TRANSACTION_ID_CHARS};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use steward_domain::{AccountId, Entry, Ledger, Timestamp, Twin, TwinId};
use steward_store::LedgerOf;

use crate::authz::{authorize_operation, twin_visible, visible_entry_names};
use crate::twins::forbidden_twin;
use crate::{Error, Principal, Steward};
use references::SourceReader;

pub use input::EntryInput;

/// Largest ledger, serialized: 64 kB.
pub const MAX_LEDGER_BYTES: usize = 65_536;

/// Which ledger of a twin a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerSelector {
    /// The caller's account's ledger.
    Personal,
    /// The twin owner's ledger.
    Owner,
    /// The twin creator's ledger.
    Creator,
    /// The ledger of this account.
    Account(AccountId),
}

impl FromStr for LedgerSelector {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "personal" => Ok(Self::Personal),
            "owner" => Ok(Self::Owner),
            "creator" => Ok(Self::Creator),
            other => other.parse().map(Self::Account).map_err(|_| {
                Error::request_format(format!(
                    "`{other}` is not a ledger: use `personal`, `owner`, `creator` or an account uuid"
                ))
            }),
        }
    }
}

impl LedgerSelector {
    fn account(self, principal: &Principal, twin: &Twin) -> AccountId {
        match self {
            Self::Personal => principal.account,
            Self::Owner => twin.owner,
            Self::Creator => twin.creator,
            Self::Account(account) => account,
        }
    }
}

/// Entries as one caller may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerView {
    /// The ledger's account (its id).
    pub account: AccountId,
    /// Whether the ledger is the caller's own: only then is entry configuration shown.
    pub own: bool,
    /// The entries, by name.
    pub entries: BTreeMap<String, Entry>,
    /// The resolved sources of the `ref` and `include` entries among `entries`.
    pub sources: BTreeMap<String, ResolvedSource>,
}

impl LedgerView {
    /// The latest of a timestamp over the entries, `None` when there are none.
    pub fn latest(&self, timestamp: impl Fn(&Entry) -> Timestamp) -> Option<Timestamp> {
        self.entries.values().map(timestamp).max()
    }
}

pub(crate) fn empty_ledger(twin: TwinId, account: AccountId, now: Timestamp) -> Ledger {
    Ledger {
        twin,
        account,
        entries: BTreeMap::new(),
        version: 0,
        created_ts: now,
        updated_ts: now,
    }
}

/// Notes in the request's audit record which entries a read returned and which it withheld,
/// with the rules that decided: the role's, and each returned entry's `visibility`. `asked`
/// says which entries the read is about (the `entries` asked for, or for history every entry
/// keeping history); the others are neither returned nor withheld.
fn note_entry_decisions(
    principal: &Principal,
    operation: &str,
    ledger: &Ledger,
    visible: &std::collections::BTreeSet<String>,
    asked: impl Fn(&str, &Entry) -> bool,
) {
    let mut returned: Vec<&String> = Vec::new();
    let mut withheld: Vec<&String> = Vec::new();
    for (name, entry) in &ledger.entries {
        if !asked(name, entry) {
            continue;
        }
        if visible.contains(name) {
            returned.push(name);
        } else {
            withheld.push(name);
        }
    }
    let mut basis = crate::audit::role_basis(principal, operation);
    let mut entry_basis = String::new();
    if ledger.account != principal.account {
        // Entries usually share a few rules: each rule once, with the entries it admitted.
        let mut by_rule: Vec<(&str, Vec<&str>)> = Vec::new();
        for name in &returned {
            if let Some(rule) = ledger
                .entries
                .get(*name)
                .and_then(|entry| entry.visibility.as_deref())
            {
                match by_rule.iter_mut().find(|(known, _)| *known == rule) {
                    Some((_, names)) => names.push(name),
                    None => by_rule.push((rule, vec![name])),
                }
            }
        }
        for (rule, names) in by_rule {
            if !entry_basis.is_empty() {
                entry_basis.push_str("; ");
            }
            let _ = write!(
                entry_basis,
                "visibility `{rule}` admits {}",
                names.join(", ")
            );
        }
        if !withheld.is_empty() {
            if !entry_basis.is_empty() {
                entry_basis.push_str("; ");
            }
            entry_basis.push_str("withheld: no visibility rule admits the caller");
        }
    } else {
        basis.push_str("; own ledger");
    }
    let entry_basis = (!entry_basis.is_empty()).then_some(entry_basis);
    crate::audit::note_entries(
        returned.into_iter(),
        withheld.into_iter(),
        basis,
        entry_basis,
    );
}

impl LedgerSelector {
    fn ledger_of(self, principal: &Principal) -> LedgerOf {
        match self {
            Self::Personal => LedgerOf::Account(principal.account),
            Self::Owner => LedgerOf::Owner,
            Self::Creator => LedgerOf::Creator,
            Self::Account(account) => LedgerOf::Account(account),
        }
    }
}

impl Steward {
    /// Loads a twin the caller may see (404 / 403 like `get_twin`) and the selected ledger of
    /// it, from the object cache or in one store round trip; a ledger never written reads as
    /// empty.
    pub(crate) async fn twin_with_ledger(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
    ) -> Result<(Twin, Ledger), Error> {
        let cache = &self.object_cache;
        let ticket = cache.ticket();
        let cached = cache.twin(twin).and_then(|twin| {
            let account = selector.account(principal, &twin);
            cache.ledger(twin.id, account).map(|ledger| (twin, ledger))
        });
        let (twin, ledger) = match cached {
            Some(hit) => hit,
            None => {
                let (twin, ledger) = self
                    .store
                    .get_twin_with_ledger(twin, selector.ledger_of(principal))
                    .await?;
                cache.put_twin(ticket, &twin);
                let account = selector.account(principal, &twin);
                cache.put_ledger(ticket, twin.id, account, ledger.as_ref());
                (twin, ledger)
            }
        };
        let now = self.clock.now();
        let account = selector.account(principal, &twin);
        if !twin_visible(principal, &twin, &self.rule_cache, now) {
            crate::audit::note_data(Some(twin.id), twin.owner);
            crate::audit::note_basis(format!(
                "{}; the twin_rule hides the twin",
                crate::audit::role_basis(principal, "get_twin")
            ));
            return Err(forbidden_twin());
        }
        crate::audit::note_data(Some(twin.id), account);
        let ledger = ledger.unwrap_or_else(|| empty_ledger(twin.id, account, now));
        Ok((twin, ledger))
    }

    /// `get_twin_ledger_entry`: the entries of a ledger the caller may see; `names` narrows the
    /// selection (names not visible are simply absent).
    pub async fn get_ledger_entries(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        names: Option<&[String]>,
    ) -> Result<LedgerView, Error> {
        self.read_ledger(principal, "get_twin_ledger_entry", twin, selector, names)
            .await
    }

    /// `get_twin_ledger_entry_value`: like [`Self::get_ledger_entries`], for value reads.
    pub async fn get_ledger_values(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        names: Option<&[String]>,
    ) -> Result<LedgerView, Error> {
        self.read_ledger(
            principal,
            "get_twin_ledger_entry_value",
            twin,
            selector,
            names,
        )
        .await
    }

    async fn read_ledger(
        &self,
        principal: &Principal,
        operation: &str,
        twin: TwinId,
        selector: LedgerSelector,
        names: Option<&[String]>,
    ) -> Result<LedgerView, Error> {
        authorize_operation(principal, operation)?;
        let (twin, ledger) = self.twin_with_ledger(principal, twin, selector).await?;
        let account = ledger.account;
        let now = self.clock.now();
        let visible = visible_entry_names(principal, &twin, &ledger, &self.rule_cache, now);
        if crate::audit::active() {
            note_entry_decisions(principal, operation, &ledger, &visible, |name, _| {
                names.is_none_or(|wanted| wanted.iter().any(|w| w == name))
            });
        }
        let mut sources = SourceReader::new(self, principal, now);
        sources.know(&twin, &ledger, &visible);
        let entries: BTreeMap<String, Entry> = ledger
            .entries
            .into_iter()
            .filter(|(name, _)| visible.contains(name))
            .filter(|(name, _)| names.is_none_or(|wanted| wanted.iter().any(|w| w == name)))
            .collect();
        let sources = sources.resolve_all(twin.id, account, &entries).await?;
        Ok(LedgerView {
            account,
            own: account == principal.account,
            entries,
            sources,
        })
    }
}
