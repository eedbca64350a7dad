//! The embedded SQLite backend of the Steward store: [`SqliteStore`] implements
//! [`steward_store::Store`] on one database file (`steward.db`) in the data directory, with its
//! migrations embedded and applied at open.
//!
//! This crate owns the SQLite schema and every SQL statement run against it. It must not depend
//! on HTTP, the services in `steward-core`, or the PostgreSQL backend; row structs and SQL never
//! leave it.

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
mod stickers;
mod transactions;
mod twins;
mod usage;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteRow, SqliteSynchronous,
};
use sqlx::Sqlite;
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
pub use crate::writer::WriteStats;

/// The name of the database file inside the data directory.
pub const DATABASE_FILE_NAME: &str = "steward.db";

/// Connections in the pool. SQLite admits one writer at a time, so more connections only help
/// concurrent readers; a handful is plenty and keeps file handles low.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

/// How long a statement waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a caller waits for a free pooled connection before the store reports itself
/// unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write may queue for the writer connection.
const WRITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The writer's page cache: 32 MiB (negative: KiB), against SQLite's default 2 MiB.
const WRITER_CACHE_SIZE: &str = "-32768";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The embedded store: one SQLite file in WAL mode with foreign keys enforced.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Connections for reads.
    pool: SqlitePool,
    /// The one connection every write goes through, with group commit (see [`writer`]).
    /// SQLite has one writer at a time anyway; queueing writers here instead of letting
    /// several connections contend for the lock means no writer sleeps in the busy handler,
    /// concurrent writes share one WAL sync, and the writer keeps a warm page cache of the
    /// pages writes touch (index tails, counters, the audit log).
    writer: Arc<writer::GroupCommit>,
    path: PathBuf,
}

/// Connection settings of an open store as SQLite reports them; for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteDiagnostics {
    /// `PRAGMA journal_mode`, expected `wal`.
    pub journal_mode: String,
    /// `PRAGMA foreign_keys`, expected `true`.
    pub foreign_keys: bool,
    /// `PRAGMA synchronous` (0 off, 1 normal, 2 full, 3 extra), expected 2.
    pub synchronous: i64,
    /// `PRAGMA busy_timeout` in milliseconds.
    pub busy_timeout_millis: i64,
    /// The first line of `PRAGMA integrity_check`, `ok` for a healthy file.
    pub integrity_check: String,
}

impl SqliteStore {
    /// Opens (creating if missing) the data directory and `steward.db` inside it, then applies
    /// pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|error| {
            StoreError::Unavailable(format!(
                "cannot create data directory `{}`: {error}",
                data_dir.display()
            ))
        })?;
        Self::open_file(&data_dir.join(DATABASE_FILE_NAME)).await
    }

    /// Opens (creating if missing) the database file at `path` and applies pending migrations.
    /// The parent directory must exist.
    pub async fn open_file(path: &Path) -> Result<Self, StoreError> {
        Self::open_file_with_max_connections(path, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`SqliteStore::open_file`] with a chosen pool size (at least one connection).
    pub async fn open_file_with_max_connections(
        path: &Path,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // FULL syncs the WAL on every commit: an acknowledged write survives power loss,
            // which NORMAL does not promise in WAL mode.
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!(
                    "cannot open database `{}`: {error}",
                    path.display()
                ))
            })?;
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Backend(format!(
                "cannot migrate database `{}`: {error}",
                path.display()
            ))
        })?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_ACQUIRE_TIMEOUT)
            .connect_with(options.pragma("cache_size", WRITER_CACHE_SIZE))
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!(
                    "cannot open database `{}`: {error}",
                    path.display()
                ))
            })?;
        tracing::debug!(path = %path.display(), "sqlite store open");
        Ok(Self {
            pool,
            writer: writer::GroupCommit::new(writer),
            path: path.to_owned(),
        })
    }

    /// The database file this store works on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the connection settings and runs an integrity check, on one pooled connection.
    pub async fn diagnostics(&self) -> Result<SqliteDiagnostics, StoreError> {
        let mut connection = self.pool.acquire().await.map_err(database_error)?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        let busy_timeout_millis: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        let integrity_check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        Ok(SqliteDiagnostics {
            journal_mode,
            foreign_keys: foreign_keys == 1,
            synchronous,
            busy_timeout_millis,
            integrity_check,
        })
    }

    /// How many writes were committed since the store opened, and in how many commits (WAL
    /// syncs): the ratio is the average group-commit batch.
    pub fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }

    /// Starts a write on the writer connection; [`writer::WriteTx::commit`] returns once it
    /// is durable. The batch's transaction is `BEGIN IMMEDIATE`, which takes the write lock up
    /// front: a deferred transaction that reads first could not upgrade to a writer after
    /// another connection committed (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not
    /// retry).
    async fn begin_write(&self) -> Result<writer::WriteTx, StoreError> {
        self.writer.begin().await
    }

    /// Runs one statement as a write of its own; a failing statement's error goes through
    /// `map`.
    async fn write_statement<'q>(
        &self,
        statement: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
        map: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> Result<SqliteQueryResult, StoreError> {
        let mut tx = self.begin_write().await?;
        match statement.execute(&mut *tx).await {
            Ok(done) => {
                tx.commit().await?;
                Ok(done)
            }
            Err(error) => tx.fail(map(error)).await,
        }
    }

    /// Runs one statement with `RETURNING` as a write of its own and reads the row it returns,
    /// if any.
    async fn write_returning<'q, Row>(
        &self,
        statement: sqlx::query::QueryAs<'q, Sqlite, Row, SqliteArguments<'q>>,
    ) -> Result<Option<Row>, StoreError>
    where
        Row: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow>,
    {
        let mut tx = self.begin_write().await?;
        match statement.fetch_optional(&mut *tx).await {
            Ok(row) => {
                tx.commit().await?;
                Ok(row)
            }
            Err(error) => tx.fail(database_error(error)).await,
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(())
    }

    async fn close(&self) {
        if let Err(error) = self.writer.flush().await {
            tracing::warn!(%error, "cannot commit the last writes at close");
        }
        self.pool.close().await;
        self.writer.pool().close().await;
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
