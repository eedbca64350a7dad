//! A short-lived, in-process cache of twins and ledgers for the read path.
//!
//! Entries are dropped when this node commits a change to them, so a node always reads its own
//! writes. Changes committed by other nodes (several servers on one PostgreSQL database) arrive
//! as change signals (PostgreSQL `NOTIFY`, see [`steward_store::ChangeSignal`]) and drop the
//! entries too; the time to live bounds staleness should a signal be lost. A load that raced with a local write is not cached: every invalidation bumps a
//! generation, and a load only enters the cache if no invalidation happened since it started.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use steward_domain::{AccountId, Ledger, Twin, TwinId};

/// Most twins and most ledgers kept; when full, the cache starts over.
const CAPACITY: usize = 20_000;

/// Cached ledgers by twin, then account, with when they were loaded; `None` = never written.
type LedgerMap = HashMap<TwinId, HashMap<AccountId, (Instant, Option<Ledger>)>>;

/// The cached ledgers and how many there are (all twins together).
#[derive(Debug, Default)]
struct Ledgers {
    by_twin: LedgerMap,
    count: usize,
}

impl Ledgers {
    fn clear(&mut self) {
        self.by_twin.clear();
        self.count = 0;
    }

    fn forget_twin(&mut self, twin: TwinId) {
        if let Some(removed) = self.by_twin.remove(&twin) {
            self.count -= removed.len();
        }
    }
}

/// The cache. With a zero time to live it holds nothing.
#[derive(Debug)]
pub(crate) struct ObjectCache {
    ttl: Duration,
    generation: AtomicU64,
    twins: Mutex<HashMap<TwinId, (Instant, Twin)>>,
    ledgers: Mutex<Ledgers>,
}

/// Where a load started, to tell whether it may enter the cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadTicket(u64);

impl ObjectCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            twins: Mutex::new(HashMap::new()),
            ledgers: Mutex::new(Ledgers::default()),
        }
    }

    /// Call before loading from the store; pass the ticket to `put_*`.
    pub(crate) fn ticket(&self) -> LoadTicket {
        LoadTicket(self.generation.load(Ordering::SeqCst))
    }

    pub(crate) fn twin(&self, id: TwinId) -> Option<Twin> {
        let twins = self.twins.lock().ok()?;
        let (stored, twin) = twins.get(&id)?;
        (stored.elapsed() < self.ttl).then(|| twin.clone())
    }

    /// `Some(None)` is a cached "never written".
    pub(crate) fn ledger(&self, twin: TwinId, account: AccountId) -> Option<Option<Ledger>> {
        let ledgers = self.ledgers.lock().ok()?;
        let (stored, ledger) = ledgers.by_twin.get(&twin)?.get(&account)?;
        (stored.elapsed() < self.ttl).then(|| ledger.clone())
    }

    pub(crate) fn put_twin(&self, ticket: LoadTicket, twin: &Twin) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut twins) = self.twins.lock() {
            if self.generation.load(Ordering::SeqCst) != ticket.0 {
                return;
            }
            if twins.len() >= CAPACITY {
                twins.clear();
            }
            twins.insert(twin.id, (Instant::now(), twin.clone()));
        }
    }

    pub(crate) fn put_ledger(
        &self,
        ticket: LoadTicket,
        twin: TwinId,
        account: AccountId,
        ledger: Option<&Ledger>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut ledgers) = self.ledgers.lock() {
            if self.generation.load(Ordering::SeqCst) != ticket.0 {
                return;
            }
            if ledgers.count >= CAPACITY {
                ledgers.clear();
            }
            let previous = ledgers
                .by_twin
                .entry(twin)
                .or_default()
                .insert(account, (Instant::now(), ledger.cloned()));
            if previous.is_none() {
                ledgers.count += 1;
            }
        }
    }

    /// Drops a twin after this node changed it.
    pub(crate) fn forget_twin(&self, id: TwinId) {
        if let Ok(mut twins) = self.twins.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            twins.remove(&id);
        }
    }

    /// Drops a twin and every cached ledger of it (another node changed one of them).
    pub(crate) fn forget_twin_and_ledgers(&self, id: TwinId) {
        self.forget_twin(id);
        if let Ok(mut ledgers) = self.ledgers.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            ledgers.forget_twin(id);
        }
    }

    /// Drops everything (change signals may have been lost).
    pub(crate) fn clear(&self) {
        if let (Ok(mut twins), Ok(mut ledgers)) = (self.twins.lock(), self.ledgers.lock()) {
            self.generation.fetch_add(1, Ordering::SeqCst);
            twins.clear();
            ledgers.clear();
        }
    }

    /// Drops a ledger after this node changed it.
    pub(crate) fn forget_ledger(&self, twin: TwinId, account: AccountId) {
        if let Ok(mut ledgers) = self.ledgers.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            let removed = ledgers
                .by_twin
                .get_mut(&twin)
                .and_then(|of_twin| of_twin.remove(&account));
            if removed.is_some() {
                ledgers.count -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use steward_domain::{Timestamp, TwinStatus};

    use super::*;

    fn twin() -> Twin {
        let owner = AccountId::new_random();
        Twin {
            id: TwinId::new_random(),
            owner,
            creator: owner,
            status: TwinStatus::Alive,
            description: None,
            termination: None,
            created_ts: Timestamp::from_millis(0),
            updated_ts: Timestamp::from_millis(0),
        }
    }

    fn ledger(twin: &Twin) -> Ledger {
        Ledger {
            twin: twin.id,
            account: twin.owner,
            entries: BTreeMap::new(),
            version: 1,
            created_ts: Timestamp::from_millis(0),
            updated_ts: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn a_load_that_raced_with_a_write_is_not_cached() {
        let cache = ObjectCache::new(Duration::from_secs(60));
        let twin = twin();
        let before_write = cache.ticket();
        cache.forget_ledger(twin.id, twin.owner);
        cache.put_ledger(before_write, twin.id, twin.owner, Some(&ledger(&twin)));
        assert_eq!(
            cache.ledger(twin.id, twin.owner),
            None,
            "stale load entered"
        );
        cache.put_twin(before_write, &twin);
        assert_eq!(cache.twin(twin.id), None);

        let fresh = cache.ticket();
        cache.put_ledger(fresh, twin.id, twin.owner, None);
        assert_eq!(cache.ledger(twin.id, twin.owner), Some(None));
        cache.put_twin(fresh, &twin);
        assert_eq!(cache.twin(twin.id), Some(twin.clone()));
        cache.forget_twin(twin.id);
        assert_eq!(cache.twin(twin.id), None);
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_caches_nothing() {
        let cache = ObjectCache::new(Duration::from_millis(20));
        let twin = twin();
        cache.put_twin(cache.ticket(), &twin);
        assert!(cache.twin(twin.id).is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.twin(twin.id), None);

        let off = ObjectCache::new(Duration::ZERO);
        off.put_twin(off.ticket(), &twin);
        off.put_ledger(off.ticket(), twin.id, twin.owner, Some(&ledger(&twin)));
        assert_eq!(off.twin(twin.id), None);
        assert_eq!(off.ledger(twin.id, twin.owner), None);
    }

    #[test]
    fn ledgers_of_one_twin_count_against_the_capacity() {
        let cache = ObjectCache::new(Duration::from_secs(60));
        let twin = twin();
        let first = AccountId::new_random();
        cache.put_ledger(cache.ticket(), twin.id, first, None);
        assert_eq!(cache.ledger(twin.id, first), Some(None));
        // Random ledger ids on one twin fill the cache and make it start over.
        for _ in 0..CAPACITY {
            cache.put_ledger(cache.ticket(), twin.id, AccountId::new_random(), None);
        }
        assert_eq!(cache.ledger(twin.id, first), None, "the cache started over");
        let count = cache
            .ledgers
            .lock()
            .map(|ledgers| ledgers.count)
            .unwrap_or(usize::MAX);
        assert!(count <= CAPACITY, "{count}");
        cache.forget_twin_and_ledgers(twin.id);
        assert_eq!(
            cache
                .ledgers
                .lock()
                .map(|ledgers| ledgers.count)
                .unwrap_or(usize::MAX),
            0
        );
    }
}
