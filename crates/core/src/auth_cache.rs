//! In-memory cache of authenticated identities, so a request with a known secret costs a hash
//! and a map lookup instead of database round trips.
//!
//! Every mutation of users, roles, secrets or accounts on this node invalidates the whole cache
//! after its commit, and a generation counter stops a lookup that started before the commit
//! from re-inserting what it read. Entries also expire after [`ENTRY_TTL_MILLIS`], which bounds
//! staleness when another node (or `steward admin`) changes the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use steward_domain::{AccountStatus, Role, Secret, Timestamp, User};

/// How long an entry is trusted without looking at the database again.
pub const ENTRY_TTL_MILLIS: i64 = 5_000;

/// Entries beyond this are dropped wholesale; bounds memory under credential stuffing.
const MAX_ENTRIES: usize = 100_000;

/// Everything authentication needs about one user, loaded together.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub secret: Secret,
    pub user: User,
    pub role: Role,
    pub account_status: AccountStatus,
}

#[derive(Debug)]
struct Entry {
    identity: Identity,
    loaded_at: Timestamp,
}

/// Cache key: a secret's hash, or a user id for token lookups.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CacheKey {
    SecretHash(String),
    User(steward_domain::UserId),
}

#[derive(Debug, Default)]
pub(crate) struct AuthCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl AuthCache {
    /// The current generation; read it before loading from the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn get(&self, key: &CacheKey, now: Timestamp) -> Option<Identity> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        let fresh = now.as_millis() - entry.loaded_at.as_millis() < ENTRY_TTL_MILLIS;
        fresh.then(|| entry.identity.clone())
    }

    /// Stores what was loaded, unless something changed since `generation` was read.
    pub(crate) fn insert(
        &self,
        key: CacheKey,
        identity: Identity,
        generation: u64,
        now: Timestamp,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        // Checked under the lock that `invalidate` also takes, so no stale insert slips in
        // between an invalidation's bump and its clear.
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                identity,
                loaded_at: now,
            },
        );
    }

    /// Forgets everything; called after every committed change that affects authentication.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        } else {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}
