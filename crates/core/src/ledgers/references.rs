//! Read-time resolution of `ref` and `include` entries.
//!
//! A source is read **as the reader**: the reader must be able to see the source twin and the
//! source entry exactly as if it read that ledger directly, so nothing invisible leaks through
//! a reference or an include. Chains are followed up to [`MAX_SOURCE_HOPS`] hops; a chain that
//! comes back to an entry already on it is a cycle. The outcome of each resolution is reported
//! in `ref.status` / `include.status`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use steward_domain::{AccountId, EntryContent, Ledger, Timestamp, Twin, TwinId};

use super::input::parse_source;
use crate::authz::{twin_visible, visible_entry_names};
use crate::{Error, ErrorCode, Principal, Steward};

/// Most hops followed from a reference or include to a value entry.
pub const MAX_SOURCE_HOPS: usize = 8;

/// Most other ledgers one request reads to resolve references; sources beyond report
/// [`ReferenceStatus::TooManySources`], so a ledger full of long chains cannot turn one read
/// into thousands.
pub const MAX_SOURCE_LEDGERS: usize = 64;

/// How the source of a `ref` or `include` entry resolved for this reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceStatus {
    /// The source is a value the reader may see; it is the entry's value.
    Ok,
    /// The source twin does not exist, or the source entry does not exist in the reader's own
    /// ledger.
    NotFound,
    /// The reader may not see the source twin or entry (on another account's ledger a missing
    /// entry also answers this, so a reference cannot probe for entries).
    NoAccess,
    /// Following the chain came back to an entry already on it.
    Cycle,
    /// The chain is longer than [`MAX_SOURCE_HOPS`] hops.
    TooDeep,
    /// The request already read [`MAX_SOURCE_LEDGERS`] other ledgers for references.
    TooManySources,
}

impl ReferenceStatus {
    /// The status as shown in `ref.status`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotFound => "not_found",
            Self::NoAccess => "no_access",
            Self::Cycle => "cycle",
            Self::TooDeep => "too_deep",
            Self::TooManySources => "too_many_sources",
        }
    }
}

/// The resolved value of a `ref` or `include` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSource {
    /// How resolution ended.
    pub status: ReferenceStatus,
    /// The source's value; null unless `status` is ok.
    pub value: Value,
    /// The source's `value_changed_ts` when `status` is ok.
    pub value_changed_ts: Option<Timestamp>,
}

impl ResolvedSource {
    fn failed(status: ReferenceStatus) -> Self {
        Self {
            status,
            value: Value::Null,
            value_changed_ts: None,
        }
    }
}

/// A ledger as one reader sees it: the stored ledger and the names visible to the reader.
struct SeenLedger {
    ledger: Option<Ledger>,
    visible: BTreeSet<String>,
}

/// Twins and ledgers loaded while resolving one request, so each is read once.
pub(crate) struct SourceReader<'a> {
    steward: &'a Steward,
    principal: &'a Principal,
    now: Timestamp,
    twins: HashMap<TwinId, Option<Twin>>,
    ledgers: HashMap<(TwinId, AccountId), SeenLedger>,
    /// Ledgers loaded for references so far (not counting ones the caller already had).
    loaded: usize,
}

impl<'a> SourceReader<'a> {
    pub(crate) fn new(steward: &'a Steward, principal: &'a Principal, now: Timestamp) -> Self {
        Self {
            steward,
            principal,
            now,
            twins: HashMap::new(),
            ledgers: HashMap::new(),
            loaded: 0,
        }
    }

    /// Tells the reader about a ledger the caller already loaded and filtered, so sources
    /// inside it are not read again.
    pub(crate) fn know(&mut self, twin: &Twin, ledger: &Ledger, visible: &BTreeSet<String>) {
        self.twins.insert(twin.id, Some(twin.clone()));
        self.ledgers.insert(
            (twin.id, ledger.account),
            SeenLedger {
                ledger: Some(ledger.clone()),
                visible: visible.clone(),
            },
        );
    }

    async fn twin(&mut self, id: TwinId) -> Result<Option<Twin>, Error> {
        if let Some(known) = self.twins.get(&id) {
            return Ok(known.clone());
        }
        let loaded = match self.steward.cached_twin(id).await {
            Ok(twin) => Some(twin),
            Err(error) if error.code == ErrorCode::NotFound => None,
            Err(other) => return Err(other),
        };
        self.twins.insert(id, loaded.clone());
        Ok(loaded)
    }

    /// The ledger as the reader sees it; `None` once the request read
    /// [`MAX_SOURCE_LEDGERS`] ledgers.
    async fn ledger(
        &mut self,
        twin: &Twin,
        account: AccountId,
    ) -> Result<Option<&SeenLedger>, Error> {
        let key = (twin.id, account);
        if !self.ledgers.contains_key(&key) {
            if self.loaded >= MAX_SOURCE_LEDGERS {
                return Ok(None);
            }
            self.loaded += 1;
            let cache = &self.steward.object_cache;
            let ticket = cache.ticket();
            let ledger = match cache.ledger(twin.id, account) {
                Some(ledger) => ledger,
                None => {
                    let ledger = self.steward.store.get_ledger(twin.id, account).await?;
                    cache.put_ledger(ticket, twin.id, account, ledger.as_ref());
                    ledger
                }
            };
            let visible = ledger.as_ref().map_or_else(BTreeSet::new, |ledger| {
                visible_entry_names(
                    self.principal,
                    twin,
                    ledger,
                    &self.steward.rule_cache,
                    self.now,
                )
            });
            self.ledgers.insert(key, SeenLedger { ledger, visible });
        }
        self.ledgers.get(&key).map(Some).ok_or_else(|| {
            Error::new(
                ErrorCode::General,
                "source ledger vanished from the request cache",
            )
        })
    }

    /// Resolves the `ref`/`include` entry `name` of `account`'s ledger on `twin`.
    pub(crate) async fn resolve(
        &mut self,
        twin: TwinId,
        account: AccountId,
        name: &str,
        content: &EntryContent,
    ) -> Result<ResolvedSource, Error> {
        let mut path = vec![(twin, account, name.to_owned())];
        let mut content = content.clone();
        let mut holder = account;
        loop {
            let (source, include) = match &content {
                EntryContent::Value(_) => {
                    return Err(Error::new(
                        ErrorCode::General,
                        "a value entry has no source to resolve",
                    ))
                }
                EntryContent::Reference { source } => (source.clone(), false),
                EntryContent::Include { source } => (source.clone(), true),
            };
            if path.len() > MAX_SOURCE_HOPS {
                return Ok(ResolvedSource::failed(ReferenceStatus::TooDeep));
            }
            let Some(address) = parse_source(&source, include) else {
                return Ok(ResolvedSource::failed(ReferenceStatus::NotFound));
            };
            let source_account = address.account.unwrap_or(holder);
            let key = (address.twin, source_account, address.entry.to_owned());
            if path.contains(&key) {
                return Ok(ResolvedSource::failed(ReferenceStatus::Cycle));
            }
            let Some(source_twin) = self.twin(address.twin).await? else {
                return Ok(ResolvedSource::failed(ReferenceStatus::NotFound));
            };
            if !twin_visible(
                self.principal,
                &source_twin,
                &self.steward.rule_cache,
                self.now,
            ) {
                return Ok(ResolvedSource::failed(ReferenceStatus::NoAccess));
            }
            let own = source_account == self.principal.account;
            let Some(seen) = self.ledger(&source_twin, source_account).await? else {
                return Ok(ResolvedSource::failed(ReferenceStatus::TooManySources));
            };
            let entry = seen
                .ledger
                .as_ref()
                .and_then(|ledger| ledger.entries.get(address.entry));
            let Some(entry) = entry.filter(|_| seen.visible.contains(address.entry)) else {
                let exists = entry.is_some();
                let status = if own && !exists {
                    ReferenceStatus::NotFound
                } else {
                    ReferenceStatus::NoAccess
                };
                return Ok(ResolvedSource::failed(status));
            };
            if let EntryContent::Value(value) = &entry.content {
                return Ok(ResolvedSource {
                    status: ReferenceStatus::Ok,
                    value: value.clone(),
                    value_changed_ts: Some(entry.value_changed_ts),
                });
            }
            content = entry.content.clone();
            holder = source_account;
            path.push(key);
        }
    }

    /// Resolves every `ref`/`include` entry among `entries` of `account`'s ledger on `twin`.
    pub(crate) async fn resolve_all(
        &mut self,
        twin: TwinId,
        account: AccountId,
        entries: &BTreeMap<String, steward_domain::Entry>,
    ) -> Result<BTreeMap<String, ResolvedSource>, Error> {
        let mut resolved = BTreeMap::new();
        for (name, entry) in entries {
            if !matches!(entry.content, EntryContent::Value(_)) {
                let source = self.resolve(twin, account, name, &entry.content).await?;
                resolved.insert(name.clone(), source);
            }
        }
        Ok(resolved)
    }
}
