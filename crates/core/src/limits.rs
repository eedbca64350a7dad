//! Fair sharing between tenants: a per-account request rate (token bucket) and quotas on the
//! twins, ledger entries and bytes an account stores.
//!
//! * **Rate.** Every authenticated request takes a token from its account's bucket; an empty
//!   bucket answers 429 / 429000 with `Retry-After`. Buckets live in memory per node, so with
//!   N nodes an account gets up to N× its rate (the documented trade-off: no shared counter on
//!   the hot path). Requests whose authentication fails take a token from a bucket of their
//!   client address (at the server's default rate) and get 429 instead of 401 once it is
//!   empty. A valid credential is never refused because of its address (behind a reverse proxy
//!   every client has the proxy's address), so a flood of bad credentials cannot lock
//!   authenticated accounts out; shedding such floods cheaply is the proxy's job.
//! * **Quotas.** Alive twins per account (checked atomically with the creation), entries per
//!   ledger and bytes of all ledgers of an account (checked on every write that grows them).
//!   Exceeding one is 400 / 400141 naming the quota and its limit; nothing is written.
//! * **Settings.** Server defaults (`rate_limit_per_second`, `rate_limit_burst`,
//!   `quota_max_twins`, `quota_max_ledger_entries`, `quota_max_stored_bytes`; 0 is unlimited)
//!   and per-account overrides in the database (`PUT /operator/accounts/{account}/limits`),
//!   cached per node for [`LIMITS_REFRESH_MILLIS`] and forgotten at once on a local change.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Mutex, RwLock};

use serde::Serialize;
use steward_domain::{AccountId, AccountLimits};

use crate::{Error, ErrorCode, Steward};

/// How long a node uses an account's cached limits before reading them again, in
/// milliseconds: the longest a change through another node takes to apply here.
pub const LIMITS_REFRESH_MILLIS: i64 = 5_000;

/// Largest per-second rate or burst that can be set (0 is unlimited).
pub const MAX_RATE: u32 = 1_000_000;

/// Bucket shards: requests of different accounts rarely wait for each other's lock.
const SHARDS: usize = 16;

/// Buckets per shard before full (idle) ones are dropped; a dropped bucket is the same as a
/// new one, so dropping only full buckets changes nothing.
const MAX_BUCKETS_PER_SHARD: usize = 10_000;

/// Cached accounts before the cache is emptied (bounds memory under many accounts).
const MAX_CACHED_ACCOUNTS: usize = 100_000;

/// The server's defaults, from the configuration; 0 is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitDefaults {
    /// Requests per second per account (0: not limited).
    pub rate_limit_per_second: u32,
    /// Bucket size (0: one second's worth, `rate_limit_per_second`).
    pub rate_limit_burst: u32,
    /// Alive twins per account.
    pub max_twins: u64,
    /// Entries per ledger.
    pub max_ledger_entries: u32,
    /// Bytes of all ledgers of an account.
    pub max_stored_bytes: u64,
}

/// The limits that apply to an account: its own where set, else the server's; 0 is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EffectiveLimits {
    /// Requests per second (0: not limited).
    pub rate_limit_per_second: u32,
    /// Requests that may arrive at once (never below 1 when the rate is limited).
    pub rate_limit_burst: u32,
    /// Alive twins the account may own.
    pub max_twins: u64,
    /// Entries one ledger of the account may hold.
    pub max_ledger_entries: u32,
    /// Bytes all ledgers of the account may hold.
    pub max_stored_bytes: u64,
}

impl EffectiveLimits {
    fn resolve(own: &AccountLimits, defaults: &LimitDefaults) -> Self {
        let rate_limit_per_second = own
            .rate_limit_per_second
            .unwrap_or(defaults.rate_limit_per_second);
        let burst = own.rate_limit_burst.unwrap_or(defaults.rate_limit_burst);
        Self {
            rate_limit_per_second,
            rate_limit_burst: effective_burst(rate_limit_per_second, burst),
            max_twins: own.max_twins.unwrap_or(defaults.max_twins),
            max_ledger_entries: own
                .max_ledger_entries
                .unwrap_or(defaults.max_ledger_entries),
            max_stored_bytes: own.max_stored_bytes.unwrap_or(defaults.max_stored_bytes),
        }
    }
}

/// A burst of 0 means one second's worth of requests; an unlimited rate has no burst.
fn effective_burst(per_second: u32, burst: u32) -> u32 {
    match (per_second, burst) {
        (0, _) => 0,
        (rate, 0) => rate,
        (_, burst) => burst,
    }
}

/// An account's limits as the operator API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsSetting {
    /// The account's own settings (`None`: the server's default).
    pub own: AccountLimits,
    /// What applies.
    pub effective: EffectiveLimits,
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum BucketKey {
    Account(AccountId),
    /// Requests from this client address that failed authentication.
    Client(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_millis: i64,
}

impl Bucket {
    fn refill(&mut self, now_millis: i64, per_second: u32, burst: u32) {
        let elapsed = (now_millis - self.updated_millis).max(0);
        // Millisecond steps: precise enough for rates up to 1000/s per step and beyond.
        #[allow(clippy::cast_precision_loss)]
        let added = elapsed as f64 * f64::from(per_second) / 1_000.0;
        self.tokens = (self.tokens + added).min(f64::from(burst));
        self.updated_millis = now_millis.max(self.updated_millis);
    }

    /// Seconds until one token is back (whole seconds, at least 1).
    fn wait_seconds(&self, per_second: u32) -> u64 {
        let missing = (1.0 - self.tokens).max(0.0);
        let seconds = (missing / f64::from(per_second.max(1))).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let seconds = seconds as u64;
        seconds.max(1)
    }
}

/// Token buckets of one node.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    shards: Vec<Mutex<HashMap<BucketKey, Bucket>>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl RateLimiter {
    fn shard(&self, key: &BucketKey) -> &Mutex<HashMap<BucketKey, Bucket>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    /// Takes a token from `key`'s bucket; else the whole seconds to wait.
    fn take(
        &self,
        key: BucketKey,
        now_millis: i64,
        per_second: u32,
        burst: u32,
    ) -> Result<(), u64> {
        if per_second == 0 {
            return Ok(());
        }
        let burst = effective_burst(per_second, burst);
        let Ok(mut buckets) = self.shard(&key).lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_BUCKETS_PER_SHARD && !buckets.contains_key(&key) {
            drop_full_buckets(&mut buckets, now_millis, per_second, burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: f64::from(burst),
            updated_millis: now_millis,
        });
        bucket.refill(now_millis, per_second, burst);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(bucket.wait_seconds(per_second))
        }
    }

    /// Forgets `account`'s bucket (its rate changed: the next request starts a full one).
    fn forget(&self, account: AccountId) {
        let key = BucketKey::Account(account);
        if let Ok(mut buckets) = self.shard(&key).lock() {
            buckets.remove(&key);
        }
    }
}

/// Drops buckets that have refilled completely (at the given rate; buckets of other rates
/// are approximated by it, and an over-eager drop only gives a client a fresh bucket).
fn drop_full_buckets(
    buckets: &mut HashMap<BucketKey, Bucket>,
    now_millis: i64,
    per_second: u32,
    burst: u32,
) {
    buckets.retain(|_, bucket| {
        let mut refilled = *bucket;
        refilled.refill(now_millis, per_second, burst);
        refilled.tokens < f64::from(burst)
    });
    if buckets.len() >= MAX_BUCKETS_PER_SHARD {
        buckets.clear();
    }
}

/// Effective limits per account, read from the store at most every
/// [`LIMITS_REFRESH_MILLIS`]. Read on every request, so behind a read-write lock.
#[derive(Debug, Default)]
pub(crate) struct LimitsCache {
    entries: RwLock<HashMap<AccountId, (EffectiveLimits, i64)>>,
}

impl LimitsCache {
    fn get(&self, account: AccountId, now_millis: i64) -> Option<EffectiveLimits> {
        let entries = self.entries.read().ok()?;
        entries
            .get(&account)
            .filter(|(_, read_at)| (now_millis - read_at).abs() < LIMITS_REFRESH_MILLIS)
            .map(|(limits, _)| *limits)
    }

    fn put(&self, account: AccountId, limits: EffectiveLimits, now_millis: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_CACHED_ACCOUNTS && !entries.contains_key(&account) {
                entries.clear();
            }
            entries.insert(account, (limits, now_millis));
        }
    }

    fn forget(&self, account: AccountId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&account);
        }
    }
}

impl Steward {
    /// The server's default limits.
    pub fn default_limits(&self) -> LimitDefaults {
        self.settings.limits
    }

    /// The limits that apply to `account` (cached per node for [`LIMITS_REFRESH_MILLIS`]).
    pub async fn effective_limits(&self, account: AccountId) -> Result<EffectiveLimits, Error> {
        let now = self.clock.now().as_millis();
        if let Some(limits) = self.limits_cache.get(account, now) {
            return Ok(limits);
        }
        let own = self.store.get_account_limits(account).await?;
        let limits = EffectiveLimits::resolve(&own, &self.settings.limits);
        self.limits_cache.put(account, limits, now);
        Ok(limits)
    }

    /// Admits one request of `account` against its rate; 429 / 429000 with the seconds to
    /// wait when its bucket is empty.
    pub async fn admit_request(&self, account: AccountId) -> Result<(), Error> {
        let limits = self.effective_limits(account).await?;
        if limits.rate_limit_per_second == 0 {
            return Ok(());
        }
        let now = self.clock.now().as_millis();
        self.rate_limiter
            .take(
                BucketKey::Account(account),
                now,
                limits.rate_limit_per_second,
                limits.rate_limit_burst,
            )
            .map_err(|wait| {
                Error::too_many_requests(
                    format!(
                        "the account's rate limit of {} requests per second (burst {}) is \
                         used up; retry after {wait} s",
                        limits.rate_limit_per_second, limits.rate_limit_burst
                    ),
                    wait,
                )
            })
    }

    /// After a request from `client` failed authentication: takes one from the client's budget
    /// (the server's default rate); `Err` (429) when it was already used up.
    pub fn charge_failed_authentication(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(client) = client else {
            return Ok(());
        };
        let defaults = self.settings.limits;
        self.rate_limiter
            .take(
                BucketKey::Client(client),
                self.clock.now().as_millis(),
                defaults.rate_limit_per_second,
                defaults.rate_limit_burst,
            )
            .map_err(client_limited)
    }

    /// The limits of `account` for the operator API.
    pub async fn account_limits(&self, account: AccountId) -> Result<LimitsSetting, Error> {
        self.store.get_account(account).await?;
        let own = self.store.get_account_limits(account).await?;
        Ok(LimitsSetting {
            own,
            effective: EffectiveLimits::resolve(&own, &self.settings.limits),
        })
    }

    /// Replaces the own limits of `account` (every field `None`: back to the server's
    /// defaults). This node applies them at once, other nodes within
    /// [`LIMITS_REFRESH_MILLIS`].
    pub async fn set_account_limits(
        &self,
        account: AccountId,
        own: AccountLimits,
    ) -> Result<LimitsSetting, Error> {
        for (name, value) in [
            ("rate_limit_per_second", own.rate_limit_per_second),
            ("rate_limit_burst", own.rate_limit_burst),
        ] {
            if value.is_some_and(|value| value > MAX_RATE) {
                return Err(Error::request_format(format!(
                    "`{name}` must be between 0 and {MAX_RATE}"
                )));
            }
        }
        for (name, value) in [
            ("max_twins", own.max_twins),
            ("max_stored_bytes", own.max_stored_bytes),
        ] {
            if value.is_some_and(|value| value > i64::MAX as u64) {
                return Err(Error::request_format(format!(
                    "`{name}` must be between 0 and {}",
                    i64::MAX
                )));
            }
        }
        self.store.get_account(account).await?;
        self.store.set_account_limits(account, &own).await?;
        self.limits_cache.forget(account);
        self.rate_limiter.forget(account);
        Ok(LimitsSetting {
            own,
            effective: EffectiveLimits::resolve(&own, &self.settings.limits),
        })
    }

    /// Creates `twin` within the owner's twin quota; 400 / 400141 at the quota.
    pub(crate) async fn store_twin_within_quota(
        &self,
        account: AccountId,
        twin: &steward_domain::Twin,
    ) -> Result<(), Error> {
        let max_twins = self.effective_limits(account).await?.max_twins;
        if max_twins == 0 {
            self.store.create_twin(account, twin).await?;
            return Ok(());
        }
        if self
            .store
            .create_twin_within_quota(account, twin, max_twins)
            .await?
        {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::QuotaViolation,
                format!(
                    "quota `max_twins` exceeded: the account may own at most {max_twins} alive \
                     twins"
                ),
            ))
        }
    }

    /// Checks a ledger write of `account` whose ledger held `before` (`None`: not stored yet)
    /// and will hold `after` entries taking `after_bytes`; only growth is refused, so an
    /// account over a lowered quota can still shrink its data.
    pub(crate) async fn check_ledger_quotas(
        &self,
        account: AccountId,
        before: Option<&std::collections::BTreeMap<String, steward_domain::Entry>>,
        after: usize,
        after_bytes: usize,
    ) -> Result<(), Error> {
        let limits = self.effective_limits(account).await?;
        let max_entries = usize::try_from(limits.max_ledger_entries).unwrap_or(usize::MAX);
        let before_entries = before.map_or(0, std::collections::BTreeMap::len);
        if max_entries > 0 && after > max_entries && after > before_entries {
            return Err(Error::new(
                ErrorCode::QuotaViolation,
                format!(
                    "quota `max_ledger_entries` exceeded: the ledger would hold {after} entries; \
                     at most {max_entries} are allowed"
                ),
            ));
        }
        if limits.max_stored_bytes > 0 {
            let before_bytes = before.map_or(0, |entries| {
                serde_json::to_vec(entries).map_or(0, |bytes| bytes.len())
            });
            if after_bytes > before_bytes {
                let stored = self.store.account_ledger_bytes(account).await?;
                let grown = u64::try_from(after_bytes - before_bytes).unwrap_or(u64::MAX);
                let total = stored.saturating_add(grown);
                if total > limits.max_stored_bytes {
                    return Err(Error::new(
                        ErrorCode::QuotaViolation,
                        format!(
                            "quota `max_stored_bytes` exceeded: the account's ledgers would \
                             take {total} bytes; at most {} are allowed",
                            limits.max_stored_bytes
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn client_limited(wait: u64) -> Error {
    Error::too_many_requests(
        format!(
            "too many requests with invalid credentials from this address; retry after {wait} s"
        ),
        wait,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::default();
        let key = BucketKey::Account(AccountId::new_random());
        for _ in 0..3 {
            assert_eq!(limiter.take(key, 1_000, 2, 3), Ok(()));
        }
        assert_eq!(limiter.take(key, 1_000, 2, 3), Err(1));
        // Half a second at 2/s gives one token back.
        assert_eq!(limiter.take(key, 1_500, 2, 3), Ok(()));
        assert_eq!(limiter.take(key, 1_500, 2, 3), Err(1));
        // Never more than the burst, however long it waited.
        for _ in 0..3 {
            assert_eq!(limiter.take(key, 100_000, 2, 3), Ok(()));
        }
        assert!(limiter.take(key, 100_000, 2, 3).is_err());
    }

    #[test]
    fn retry_after_is_whole_seconds_until_a_token() {
        let limiter = RateLimiter::default();
        let key = BucketKey::Account(AccountId::new_random());
        assert_eq!(limiter.take(key, 0, 1, 1), Ok(()));
        assert_eq!(limiter.take(key, 0, 1, 1), Err(1));
        let slow = BucketKey::Account(AccountId::new_random());
        // A rate below one per second cannot be set; a burst of 0 is one second's worth.
        for _ in 0..5 {
            assert_eq!(limiter.take(slow, 0, 5, 0), Ok(()));
        }
        assert_eq!(limiter.take(slow, 0, 5, 0), Err(1));
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let limiter = RateLimiter::default();
        let key = BucketKey::Client("192.0.2.1".parse().unwrap());
        for _ in 0..1_000 {
            assert_eq!(limiter.take(key, 0, 0, 0), Ok(()));
        }
        assert_eq!(limiter.take(key, 0, 1, 1), Ok(()));
        assert_eq!(limiter.take(key, 0, 1, 1), Err(1));
    }

    #[test]
    fn own_settings_override_defaults_field_by_field() {
        let defaults = LimitDefaults {
            rate_limit_per_second: 100,
            rate_limit_burst: 0,
            max_twins: 10,
            max_ledger_entries: 0,
            max_stored_bytes: 1_000,
        };
        let own = AccountLimits {
            rate_limit_per_second: Some(5),
            max_stored_bytes: Some(0),
            ..AccountLimits::default()
        };
        let effective = EffectiveLimits::resolve(&own, &defaults);
        assert_eq!(
            effective,
            EffectiveLimits {
                rate_limit_per_second: 5,
                rate_limit_burst: 5,
                max_twins: 10,
                max_ledger_entries: 0,
                max_stored_bytes: 0,
            }
        );
        assert_eq!(
            EffectiveLimits::resolve(&AccountLimits::default(), &LimitDefaults::default()),
            EffectiveLimits::default()
        );
    }
}
