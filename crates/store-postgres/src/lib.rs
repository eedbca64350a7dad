//! The PostgreSQL backend of the Steward store: [`PostgresStore`] implements
//! [`steward_store::Store`] on a shared PostgreSQL database, so any number of stateless
//! Steward nodes can serve the same tenants. Migrations are embedded and applied at connect.
//!
//! This crate owns the PostgreSQL schema and every SQL statement run against it. It must not
//! depend on HTTP, the services in `steward-core`, or the SQLite backend; row structs and SQL
//! never leave it.

mod access;
mod accounts;
mod audit;
mod error;
mod events;
mod history;
mod identities;
mod ledgers;
mod limits;
mod notifications;
mod pins;
mod rows;
mod secrets;
mod signals;
mod stickers;
#[cfg(feature = "test-support")]
pub mod testing;
mod transactions;
mod twins;
mod usage;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use steward_domain::{
    Account, AccountBootstrap, AccountId, AccountStatus, AuditCheckpoint, AuditRecord,
    AuditRetention, ClaimedDelivery, Delivery, Event, HistoryRecord, Identity, Ledger,
    LedgerTransaction, NewSecret, Role, RoleId, Secret, SecretPin, Sticker, StoredAuditRecord,
    Subscription, Timestamp, Twin, TwinId, User, UserId,
};
use steward_domain::{AccountLogMessage, UsageIncrement};
use steward_store::UsageReport;
use steward_store::{
    AuditHash, AuditQuery, DeadLetter, HistoryQuery, IdentityScope, LedgerEffects, LedgerOf,
    PageRequest, StickerQuery, Store, StoreError, TerminationOutcome,
};
use uuid::Uuid;

use crate::error::database_error;
pub use crate::signals::ChangeListener;

/// Connections per node when the caller does not choose. Several nodes share one server, whose
/// `max_connections` (100 by default) must cover all of them.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a caller waits for a free pooled connection (or a new one) before the store reports
/// itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/database`) with
    /// [`DEFAULT_MAX_CONNECTIONS`] and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_max_connections(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects to `url` with a pool of at most `max_connections` (at least one) and applies
    /// pending migrations. sqlx's migrator holds an advisory lock while it runs, so several
    /// nodes starting at once apply each migration exactly once.
    pub async fn connect_with_max_connections(
        url: &str,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|error| {
            // The url may hold a password: name the problem, not the input.
            StoreError::Backend(format!("invalid database url: {error}"))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| StoreError::Unavailable(format!("cannot connect: {error}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| StoreError::Backend(format!("cannot migrate database: {error}")))?;
        tracing::debug!(max_connections, "postgres store connected");
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_account(&self, bootstrap: &AccountBootstrap) -> Result<(), StoreError> {
        self.create_account_tx(bootstrap).await
    }

    async fn get_account(&self, account: AccountId) -> Result<Account, StoreError> {
        self.get_account_row(account).await
    }

    async fn list_accounts(
        &self,
        page: PageRequest<AccountId>,
    ) -> Result<Vec<Account>, StoreError> {
        self.list_account_rows(page).await
    }

    async fn set_account_status(
        &self,
        account: AccountId,
        status: AccountStatus,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        self.update_account_status(account, status, now).await
    }

    async fn update_account_resource_access_log(
        &self,
        account: AccountId,
        resource_access_log: Option<&Value>,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        self.update_account_access_log(account, resource_access_log, now)
            .await
    }

    async fn create_role(&self, account: AccountId, role: &Role) -> Result<(), StoreError> {
        self.insert_role(account, role).await
    }

    async fn get_role(&self, account: AccountId, role: RoleId) -> Result<Role, StoreError> {
        self.get_role_row(account, role).await
    }

    async fn list_roles(
        &self,
        account: AccountId,
        page: PageRequest<RoleId>,
    ) -> Result<Vec<Role>, StoreError> {
        self.list_role_rows(account, page).await
    }

    async fn update_role(&self, account: AccountId, role: &Role) -> Result<(), StoreError> {
        self.update_role_row(account, role).await
    }

    async fn delete_role(&self, account: AccountId, role: RoleId) -> Result<(), StoreError> {
        self.delete_role_row(account, role).await
    }

    async fn create_user(&self, account: AccountId, user: &User) -> Result<(), StoreError> {
        self.insert_user(account, user).await
    }

    async fn get_user(&self, account: AccountId, user: UserId) -> Result<User, StoreError> {
        self.get_user_row(account, user).await
    }

    async fn list_users(
        &self,
        account: AccountId,
        page: PageRequest<UserId>,
    ) -> Result<Vec<User>, StoreError> {
        self.list_user_rows(account, page).await
    }

    async fn update_user(&self, account: AccountId, user: &User) -> Result<(), StoreError> {
        self.update_user_row(account, user).await
    }

    async fn delete_user(&self, account: AccountId, user: UserId) -> Result<(), StoreError> {
        self.delete_user_row(account, user).await
    }

    async fn put_secret(&self, account: AccountId, secret: &Secret) -> Result<(), StoreError> {
        self.replace_secret(account, secret).await
    }

    async fn get_secret(&self, account: AccountId, user: UserId) -> Result<Secret, StoreError> {
        self.get_secret_row(account, user).await
    }

    async fn delete_secret(&self, account: AccountId, user: UserId) -> Result<(), StoreError> {
        self.delete_secret_row(account, user).await
    }

    async fn find_secret_by_hash(&self, hash: &str) -> Result<Option<Secret>, StoreError> {
        self.find_secret_row_by_hash(hash).await
    }

    async fn create_secret_pin(
        &self,
        account: AccountId,
        pin: &SecretPin,
    ) -> Result<(), StoreError> {
        self.insert_secret_pin(account, pin).await
    }

    async fn redeem_secret_pin(
        &self,
        account: AccountId,
        pin_hash: &str,
        now: Timestamp,
        secret: &NewSecret,
    ) -> Result<Secret, StoreError> {
        self.redeem_secret_pin_tx(account, pin_hash, now, secret)
            .await
    }

    async fn delete_expired_secret_pins(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.delete_expired_secret_pin_rows(now).await
    }

    async fn create_twin(&self, account: AccountId, twin: &Twin) -> Result<(), StoreError> {
        self.insert_twin(account, twin).await
    }

    async fn create_twin_within_quota(
        &self,
        account: AccountId,
        twin: &Twin,
        max_alive_twins: u64,
    ) -> Result<bool, StoreError> {
        self.insert_twin_within_quota(account, twin, max_alive_twins)
            .await
    }

    async fn get_twin(&self, twin: TwinId) -> Result<Twin, StoreError> {
        self.get_twin_row(twin).await
    }

    async fn update_twin_description(
        &self,
        account: AccountId,
        twin: TwinId,
        description: Option<&Map<String, Value>>,
        now: Timestamp,
    ) -> Result<Twin, StoreError> {
        self.update_twin_description_row(account, twin, description, now)
            .await
    }

    async fn terminate_twin(
        &self,
        account: AccountId,
        twin: TwinId,
        now: Timestamp,
    ) -> Result<TerminationOutcome, StoreError> {
        self.terminate_twin_row(account, twin, now).await
    }

    async fn list_owned_twins(
        &self,
        account: AccountId,
        page: PageRequest<TwinId>,
    ) -> Result<Vec<Twin>, StoreError> {
        self.list_owned_twin_rows(account, page).await
    }

    async fn get_ledger(
        &self,
        twin: TwinId,
        account: AccountId,
    ) -> Result<Option<Ledger>, StoreError> {
        self.get_ledger_row(twin, account).await
    }

    async fn save_ledger(
        &self,
        account: AccountId,
        ledger: &Ledger,
        expected_version: Option<u64>,
        effects: &LedgerEffects,
    ) -> Result<(), StoreError> {
        self.save_ledger_row(account, ledger, expected_version, effects)
            .await
    }

    async fn get_ledger_transaction(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<LedgerTransaction>, StoreError> {
        self.get_ledger_transaction_row(account, id).await
    }

    async fn prune_ledger_transactions(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.prune_ledger_transaction_rows(before).await
    }

    async fn get_twin_with_ledger(
        &self,
        twin: TwinId,
        ledger: LedgerOf,
    ) -> Result<(Twin, Option<Ledger>), StoreError> {
        self.get_twin_with_ledger_row(twin, ledger).await
    }

    async fn get_history(
        &self,
        twin: TwinId,
        account: AccountId,
        query: &HistoryQuery,
    ) -> Result<std::collections::BTreeMap<String, Vec<HistoryRecord>>, StoreError> {
        self.get_history_rows(twin, account, query).await
    }

    async fn prune_history(&self, now: Timestamp, limit: u32) -> Result<u64, StoreError> {
        self.prune_history_rows(now, limit).await
    }

    async fn create_identities(
        &self,
        account: AccountId,
        twin: TwinId,
        identities: &[Identity],
    ) -> Result<Vec<bool>, StoreError> {
        self.insert_identity_rows(account, twin, identities).await
    }

    async fn get_identity(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        self.get_identity_row(account, twin, identity).await
    }

    async fn list_twin_identities(
        &self,
        twin: TwinId,
        scope: Option<&IdentityScope>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        self.list_twin_identity_rows(twin, scope, limit).await
    }

    async fn update_identity(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> Result<(), StoreError> {
        self.update_identity_row(account, identity).await
    }

    async fn delete_identity(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        self.delete_identity_row(account, twin, identity).await
    }

    async fn find_identities(
        &self,
        identity: &str,
        accounts: Option<&[AccountId]>,
        scope: Option<&IdentityScope>,
        after: Option<(AccountId, TwinId)>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        self.find_identity_rows(identity, accounts, scope, after, limit)
            .await
    }

    async fn put_stickers(
        &self,
        account: AccountId,
        stickers: &[Sticker],
    ) -> Result<Vec<Option<Sticker>>, StoreError> {
        self.put_sticker_rows(account, stickers).await
    }

    async fn get_sticker(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
    ) -> Result<Sticker, StoreError> {
        self.get_sticker_row(twin, account, color).await
    }

    async fn list_stickers(&self, query: &StickerQuery) -> Result<Vec<Sticker>, StoreError> {
        self.list_sticker_rows(query).await
    }

    async fn remove_sticker(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
        recipients: &[Uuid],
        now: Timestamp,
    ) -> Result<Sticker, StoreError> {
        self.remove_sticker_row(twin, account, color, recipients, now)
            .await
    }

    async fn remove_expired_stickers(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Sticker>, StoreError> {
        self.remove_expired_sticker_rows(now, limit).await
    }

    async fn create_subscription(
        &self,
        subscription: &Subscription,
        confirmation: &Delivery,
    ) -> Result<(), StoreError> {
        self.insert_subscription_row(subscription, confirmation)
            .await
    }

    async fn find_subscription(
        &self,
        topic_account: AccountId,
        token_hash: &str,
    ) -> Result<Subscription, StoreError> {
        self.find_subscription_row(topic_account, token_hash).await
    }

    async fn update_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.update_subscription_row(subscription).await
    }

    async fn delete_subscription(
        &self,
        topic_account: AccountId,
        id: Uuid,
    ) -> Result<Subscription, StoreError> {
        self.delete_subscription_row(topic_account, id).await
    }

    async fn list_active_subscriptions(
        &self,
        topic_account: AccountId,
        topic: &str,
        now: Timestamp,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.list_active_subscription_rows(topic_account, topic, now)
            .await
    }

    async fn get_notification_access(
        &self,
        account: AccountId,
    ) -> Result<std::collections::BTreeMap<AccountId, Vec<String>>, StoreError> {
        self.get_notification_access_rows(account).await
    }

    async fn put_notification_access(
        &self,
        account: AccountId,
        grantee: AccountId,
        topics: &[String],
    ) -> Result<(), StoreError> {
        self.put_notification_access_rows(account, grantee, topics)
            .await
    }

    async fn enqueue_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        self.insert_delivery_rows(deliveries).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        self.claim_delivery_rows(now, lease_until, limit).await
    }

    async fn finish_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.finish_delivery_row(message, lease).await
    }

    async fn retry_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        attempts: u32,
        next_attempt_ts: Timestamp,
    ) -> Result<(), StoreError> {
        self.retry_delivery_row(message, lease, attempts, next_attempt_ts)
            .await
    }

    async fn dead_letter_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.dead_letter_delivery_row(message, lease, reason, now)
            .await
    }

    async fn list_dead_letters(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        self.list_dead_letter_rows(account, limit).await
    }

    async fn prune_notifications(
        &self,
        expired_before: Timestamp,
        dead_before: Timestamp,
        limit: u32,
    ) -> Result<(u64, u64), StoreError> {
        self.prune_notification_rows(expired_before, dead_before, limit)
            .await
    }

    async fn list_events(&self, after: u64, limit: u32) -> Result<Vec<Event>, StoreError> {
        self.list_event_rows(after, limit).await
    }

    async fn last_event_id(&self) -> Result<u64, StoreError> {
        self.last_event_row_id().await
    }

    async fn prune_events(
        &self,
        before: Timestamp,
        up_to: u64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.prune_event_rows(before, up_to, limit).await
    }

    async fn get_event_cursor(&self, name: &str) -> Result<u64, StoreError> {
        self.get_event_cursor_row(name).await
    }

    async fn advance_event_cursor(
        &self,
        name: &str,
        from: u64,
        to: u64,
        deliveries: &[Delivery],
    ) -> Result<bool, StoreError> {
        self.advance_event_cursor_row(name, from, to, deliveries)
            .await
    }

    async fn append_audit_records(&self, records: &[AuditRecord]) -> Result<u64, StoreError> {
        self.append_audit_rows(records).await
    }

    async fn list_audit_records(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<(u64, AuditRecord)>, StoreError> {
        self.list_audit_rows(query).await
    }

    async fn read_audit_records(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredAuditRecord>, StoreError> {
        self.read_audit_rows(from, limit).await
    }

    async fn audit_record_count(&self) -> Result<u64, StoreError> {
        self.audit_row_count().await
    }

    async fn audit_tree_size(&self) -> Result<u64, StoreError> {
        self.audit_tree_row_size().await
    }

    async fn read_audit_hashes(&self, indexes: &[u64]) -> Result<Vec<AuditHash>, StoreError> {
        self.read_audit_hash_rows(indexes).await
    }

    async fn seal_audit(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: &[(u64, AuditHash)],
        checkpoint: &AuditCheckpoint,
    ) -> Result<bool, StoreError> {
        self.seal_audit_rows(from_size, to_size, hashes, checkpoint)
            .await
    }

    async fn latest_audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, StoreError> {
        self.latest_audit_checkpoint_row().await
    }

    async fn list_audit_checkpoints(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditCheckpoint>, StoreError> {
        self.list_audit_checkpoint_rows(after, limit).await
    }

    async fn set_account_limits(
        &self,
        account: AccountId,
        limits: &steward_domain::AccountLimits,
    ) -> Result<(), StoreError> {
        self.set_account_limits_row(account, limits).await
    }

    async fn get_account_limits(
        &self,
        account: AccountId,
    ) -> Result<steward_domain::AccountLimits, StoreError> {
        self.get_account_limits_row(account).await
    }

    async fn account_ledger_bytes(&self, account: AccountId) -> Result<u64, StoreError> {
        self.account_ledger_bytes_row(account).await
    }

    async fn set_audit_retention(
        &self,
        account: AccountId,
        days: Option<u32>,
    ) -> Result<(), StoreError> {
        self.set_audit_retention_row(account, days).await
    }

    async fn get_audit_retention(&self, account: AccountId) -> Result<Option<u32>, StoreError> {
        self.get_audit_retention_row(account).await
    }

    async fn prune_audit_records(
        &self,
        retention: &AuditRetention,
        record: AuditRecord,
    ) -> Result<u64, StoreError> {
        self.prune_audit_rows(retention, record).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.get_setting_row(key).await
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.insert_setting_if_absent(key, value).await
    }

    // ---- usage and account log ----

    async fn add_usage(&self, increments: &[UsageIncrement]) -> Result<(), StoreError> {
        self.add_usage_rows(increments).await
    }

    async fn get_usage(
        &self,
        account: AccountId,
        user: Uuid,
        from_bucket: &str,
        to_bucket: &str,
    ) -> Result<UsageReport, StoreError> {
        self.get_usage_rows(account, user, from_bucket, to_bucket)
            .await
    }

    async fn prune_usage(&self, before_bucket: &str, limit: u32) -> Result<u64, StoreError> {
        self.prune_usage_rows(before_bucket, limit).await
    }

    async fn append_account_log(
        &self,
        account: AccountId,
        messages: &[(Timestamp, String)],
    ) -> Result<u64, StoreError> {
        self.append_account_log_rows(account, messages).await
    }

    async fn list_account_log(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccountLogMessage>, StoreError> {
        self.list_account_log_rows(account, after, limit).await
    }

    async fn prune_account_log(&self, before: Timestamp, limit: u32) -> Result<u64, StoreError> {
        self.prune_account_log_rows(before, limit).await
    }

    async fn count_pending_deliveries(&self, account: AccountId) -> Result<u64, StoreError> {
        self.count_pending_delivery_rows(account).await
    }
}
