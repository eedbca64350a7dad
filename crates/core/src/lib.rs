//! Steward's services: the use cases the HTTP layer and the CLI call.
//!
//! Services load and store through [`steward_store::Store`], read time through
//! [`steward_domain::Clock`] and report failures as [`Error`] with one closed set of
//! [`ErrorCode`]s that the HTTP layer maps to Trusted Twin statuses and sub-codes. Access is
//! decided in [`authz`] only: every service method that acts for a caller checks the operation
//! there before it loads anything.
//!
//! This crate must not depend on HTTP frameworks or SQL drivers: handlers stay thin and
//! backends stay replaceable.

mod access;
mod account_log;
mod accounts;
pub mod actions;
pub mod audit;
mod auth;
mod auth_cache;
pub mod authz;
pub mod credentials;
mod error;
mod events;
mod housekeeping;
mod identities;
mod ledgers;
pub mod limits;
pub mod notifications;
mod object_cache;
mod operator;
mod pin_limiter;
pub mod principal;
mod rule_cache;
mod rule_context;
mod stickers;
mod templates;
mod tokens;
mod twins;
pub mod usage;
mod validate;

use std::sync::Arc;

use steward_domain::Clock;
use steward_store::Store;

pub use access::DEFAULT_ROLE_NAME;
pub use access::{CreatedPin, CreatedToken, IssuedSecret, RolePatch, TokenRequest, UserPatch};
pub use account_log::{LogPage, LOG_PAGE_SIZE};
pub use accounts::{AccountPage, CreatedAccount, SUPER_ADMIN_ROLE_NAME};
pub use error::{Error, ErrorCode};
pub use events::{
    EventFilter, EventStream, StreamItem, MAX_FILTER_TOPICS, MAX_FILTER_TWINS,
    MAX_STREAMS_PER_ACCOUNT,
};
pub use housekeeping::HousekeepingReport;
pub use identities::{
    ForeignIdentities, IdentityCreation, IdentityInput, IdentityListing, IdentityPatch,
    ResolveContext, ResolvedTwins,
};
pub use ledgers::{
    Conditions, EntryHistory, EntryInput, HistoryBounds, LedgerSelector, LedgerView,
    ReferenceStatus, ResolvedSource, WriteOptions, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT,
    MAX_LEDGER_BYTES, MAX_TRANSACTION_ID_CHARS,
};
pub use operator::{OperatorAuth, OperatorTokenSetup};
pub use principal::{AuthMethod, Principal, TokenOptions};
pub use stickers::{StickerContext, StickerInput, StickerListing};
pub use twins::{TwinScan, TwinScanPage, DEFAULT_SCAN_COUNT, MAX_SCAN_COUNT};

use auth_cache::AuthCache;
use object_cache::ObjectCache;
use pin_limiter::PinLimiter;
use rule_cache::RuleCache;
use tokens::TokenKey;

/// Tunable behaviour of the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// How long a secret PIN can be redeemed, in seconds (default 24 h).
    pub pin_lifetime_seconds: u64,
    /// Failed PIN redemptions per account tolerated within the window (default 10).
    pub pin_max_failures: u32,
    /// The window for counting failed PIN redemptions, in seconds (default 15 min).
    pub pin_failure_window_seconds: u64,
    /// How long twins and ledgers read by this node may be served from memory, in
    /// milliseconds; 0 turns the cache off (default 1000). Changes made through this node are
    /// seen at once; changes made through other nodes after at most this long.
    pub object_cache_ttl_millis: u64,
    /// The base URL clients reach this server at, used in webhook confirmation, refresh and
    /// unsubscribe URLs (default `http://127.0.0.1:8080`).
    pub public_url: String,
    /// Which webhook callback URLs are allowed (loopback only when asked for).
    pub callbacks: notifications::callback::CallbackPolicy,
    /// How long the event log keeps events for `GET /events` to resume from, in milliseconds
    /// (default 24 h).
    pub event_retention_millis: u64,
    /// How many events a live stream may fall behind before it is closed with a final
    /// `steward.overflow` event (default 4096).
    pub event_stream_capacity: usize,
    /// Whether API operations are recorded in the audit trail (default true; off only to
    /// measure what auditing costs).
    pub audit_enabled: bool,
    /// How long audit records are kept, in days, for accounts without a retention of their
    /// own (0, the default: forever).
    pub audit_retention_days: u32,
    /// The key that signs audit checkpoints; `None`: the log is not sealed by this node.
    pub audit_signer: Option<audit::seal::AuditSigner>,
    /// Default per-account request rate and quotas (all 0, the default: unlimited).
    pub limits: limits::LimitDefaults,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            pin_lifetime_seconds: 24 * 60 * 60,
            pin_max_failures: 10,
            pin_failure_window_seconds: 15 * 60,
            object_cache_ttl_millis: 1_000,
            public_url: "http://127.0.0.1:8080".to_owned(),
            callbacks: notifications::callback::CallbackPolicy::default(),
            event_retention_millis: 24 * 60 * 60 * 1000,
            event_stream_capacity: 4096,
            audit_enabled: true,
            audit_retention_days: 0,
            audit_signer: None,
            limits: limits::LimitDefaults::default(),
        }
    }
}

/// The services of one Steward node, sharing one store and one clock. Cheap to clone.
#[derive(Clone)]
pub struct Steward {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<ServiceSettings>,
    token_key: Arc<TokenKey>,
    auth_cache: Arc<AuthCache>,
    pin_limiter: Arc<PinLimiter>,
    rule_cache: Arc<RuleCache>,
    object_cache: Arc<ObjectCache>,
    events: Arc<events::hub::EventHub>,
    audit: Arc<audit::recorder::AuditRecorder>,
    usage: Arc<usage::UsageMeter>,
    rate_limiter: Arc<limits::RateLimiter>,
    limits_cache: Arc<limits::LimitsCache>,
}

const TOKEN_KEY_SETTING: &str = "token_signing_key_hex";

impl Steward {
    /// Services over `store`, reading time from `clock`. Loads the token signing key, creating
    /// it on first start (several nodes starting at once agree on one key).
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: ServiceSettings,
    ) -> Result<Self, Error> {
        let candidate = credentials::random_hex(32);
        let stored = store
            .put_setting_if_absent(TOKEN_KEY_SETTING, &candidate)
            .await?;
        let key_bytes = credentials::decode_hex(&stored)
            .ok_or_else(|| Error::new(ErrorCode::General, "stored token signing key is corrupt"))?;
        let object_cache_ttl = std::time::Duration::from_millis(settings.object_cache_ttl_millis);
        let events = Arc::new(events::hub::EventHub::new(settings.event_stream_capacity));
        Ok(Self {
            store,
            clock,
            settings: Arc::new(settings),
            token_key: Arc::new(TokenKey::from_bytes(key_bytes)),
            auth_cache: Arc::new(AuthCache::default()),
            pin_limiter: Arc::new(PinLimiter::default()),
            rule_cache: Arc::new(RuleCache::default()),
            object_cache: Arc::new(ObjectCache::new(object_cache_ttl)),
            events,
            audit: Arc::default(),
            usage: Arc::default(),
            rate_limiter: Arc::default(),
            limits_cache: Arc::default(),
        })
    }

    /// Applies a change another node signalled: forgets what this node cached about it and
    /// wakes the live event streams.
    pub fn apply_change_signal(&self, signal: steward_store::ChangeSignal) {
        use steward_store::ChangeSignal;
        match signal {
            ChangeSignal::Twin(twin) => self.object_cache.forget_twin_and_ledgers(twin),
            ChangeSignal::Access => self.auth_cache.invalidate(),
            ChangeSignal::Events => {}
            ChangeSignal::Resync => {
                self.object_cache.clear();
                self.auth_cache.invalidate();
            }
        }
        self.events.wake();
    }

    /// The service clock's current time.
    pub fn now(&self) -> steward_domain::Timestamp {
        self.clock.now()
    }

    /// The store, for readiness checks and shutdown.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers.
    pub async fn database_ready(&self) -> bool {
        self.store.ping().await.is_ok()
    }
}
