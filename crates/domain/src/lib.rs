//! Steward's domain vocabulary: identifiers, timestamps, the injectable [`Clock`] and the
//! entities (accounts, roles, users, secrets) that every other crate talks about.
//!
//! This crate owns no behaviour beyond value semantics. It must not depend on IO, async
//! runtimes, SQL, HTTP or the rule language.

mod audit;
mod clock;
mod entities;
mod events;
mod history;
mod identities;
mod ids;
mod ledgers;
mod limits;
mod notifications;
mod stickers;
mod time;
mod twins;
mod usage;

pub use audit::{
    seq_ranges, AuditCheckpoint, AuditRecord, AuditRetention, StoredAuditRecord,
    AUDIT_PRUNE_OPERATION,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use entities::{
    Account, AccountBootstrap, AccountStatus, NewSecret, Role, RoleRules, RoleStatement, Secret,
    SecretPin, StatementEffect, User,
};
pub use events::{Event, STICKER_EXPIRED, STICKER_PUT, STICKER_REMOVED};
pub use history::{
    HistoryAppend, HistoryRecord, HistoryWrite, RetentionPeriod, MAX_HISTORY_RECORDS,
};
pub use identities::Identity;
pub use ids::{AccountId, IdParseError, RoleId, TwinId, UserId};
pub use ledgers::{Entry, EntryContent, Ledger, LedgerTransaction, TRANSACTION_RETENTION_MILLIS};
pub use limits::AccountLimits;
pub use notifications::{ClaimedDelivery, Delivery, Subscription};
pub use stickers::Sticker;
pub use time::Timestamp;
pub use twins::{Termination, Twin, TwinStatus};
pub use usage::{
    dead_letter_log_text, iso8601_utc, previous_usage_bucket, usage_bucket, AccountLogMessage,
    UsageIncrement, ACCOUNT_LOG_RETENTION_MILLIS, DB_READ_COST, DB_WRITE_COST, IDENTITIES_ADDED,
    NO_USER, REQUEST_COUNT, REST_COUNT, TASK_PUBLISH_TOPIC_COUNT, TWINS_CREATED, TWINS_TERMINATED,
    USAGE_RETENTION_MILLIS,
};
