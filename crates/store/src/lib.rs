//! Steward's storage contract.
//!
//! Every method that touches tenant data takes the account first, is shaped like a use case
//! (not like a table), and runs in exactly one transaction: either all of its effects are
//! stored or none are. Backends (`steward-store-sqlite`, `steward-store-postgres`) implement
//! [`Store`]; the conformance suite (`steward-store-conformance`) proves they behave the same.
//!
//! This crate must not depend on SQL drivers, HTTP or the async runtime.

pub mod columns;
mod signals;

pub use signals::ChangeSignal;

use async_trait::async_trait;
use serde_json::Map;
use serde_json::Value;
use steward_domain::{
    Account, AccountBootstrap, AccountId, AccountLimits, AccountLogMessage, AccountStatus,
    AuditCheckpoint, AuditRecord, AuditRetention, ClaimedDelivery, Delivery, Event, HistoryRecord,
    HistoryWrite, Identity, Ledger, LedgerTransaction, NewSecret, Role, RoleId, Secret, SecretPin,
    Sticker, StoredAuditRecord, Subscription, Timestamp, Twin, TwinId, UsageIncrement, User,
    UserId,
};
use uuid::Uuid;

/// What kind of stored thing an error is about; used in messages and for error mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// An account.
    Account,
    /// A role.
    Role,
    /// A user.
    User,
    /// A user secret.
    Secret,
    /// A server setting.
    Setting,
    /// A one-time PIN for creating a secret.
    Pin,
    /// A twin.
    Twin,
    /// A ledger.
    Ledger,
    /// An identity of a twin.
    Identity,
    /// A sticker.
    Sticker,
    /// A ledger write's transaction id.
    Transaction,
    /// A webhook subscription.
    Subscription,
    /// A message in the notification outbox.
    Delivery,
}

impl Entity {
    /// The product word for the entity, used in error messages.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Role => "role",
            Self::User => "user",
            Self::Secret => "secret",
            Self::Setting => "setting",
            Self::Pin => "pin",
            Self::Twin => "twin",
            Self::Ledger => "ledger",
            Self::Identity => "identity",
            Self::Sticker => "sticker",
            Self::Transaction => "transaction",
            Self::Subscription => "subscription",
            Self::Delivery => "delivery",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors every backend maps its driver errors onto.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist for this account (or at all).
    #[error("{0} not found")]
    NotFound(Entity),
    /// A uniqueness rule was violated: the thing already exists.
    #[error("{0} already exists")]
    AlreadyExists(Entity),
    /// The change conflicts with other stored data (for example deleting a role still in use).
    #[error("{entity} is in use: {reason}")]
    InUse {
        /// The entity that could not be changed.
        entity: Entity,
        /// Why, in product words.
        reason: String,
    },
    /// Someone else changed the thing since it was read (optimistic concurrency); read it again
    /// and retry.
    #[error("{0} was changed concurrently")]
    Conflict(Entity),
    /// The database cannot be reached or the pool is closed; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else from the backend. The text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// One page of a listing ordered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<Id> {
    /// Return only items whose id sorts after this one.
    pub after: Option<Id>,
    /// At most this many items.
    pub limit: u32,
}

/// What happened when a twin's termination was requested.
#[derive(Debug, Clone, PartialEq)]
pub enum TerminationOutcome {
    /// The twin was alive and is now terminated.
    Terminated(Twin),
    /// The twin was already terminated; nothing changed.
    AlreadyTerminated(Twin),
}

/// Which history records of one ledger to read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    /// The entries to read; records of other entries are not returned.
    pub entries: Vec<String>,
    /// Only records with `ts >= ge`.
    pub ge: Option<Timestamp>,
    /// Only records with `ts <= le`.
    pub le: Option<Timestamp>,
    /// At most this many records per entry, newest first.
    pub limit: u32,
    /// Records that expired at or before this time are never returned, pruned or not.
    pub now: Timestamp,
}

/// Narrows identity queries to what one caller could be shown, so identities nobody may share
/// with it are never read: the caller's own identities, and (with `foreign`) other accounts'
/// identities that have a `visibility` rule and have not expired at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityScope {
    /// The caller's account.
    pub caller: AccountId,
    /// Whether other accounts' shareable identities are included.
    pub foreign: bool,
    /// The time expiry is judged at.
    pub now: Timestamp,
}

/// A message that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The message's uuid.
    pub message: Uuid,
    /// The subscription it was for.
    pub subscription: Uuid,
    /// The subscriber account.
    pub subscriber_account: AccountId,
    /// Why it was given up.
    pub reason: String,
    /// When it was given up.
    pub dead_ts: Timestamp,
}

/// Which stickers to list (`GET /stickers`, `GET /twins/{twin}/stickers`). Only stickers one
/// of whose recipients is in `recipients` are ever returned.
#[derive(Debug, Clone, PartialEq)]
pub struct StickerQuery {
    /// The caller's user, role and account ids: a sticker is listed only when one of them is
    /// among its recipients.
    pub recipients: Vec<Uuid>,
    /// Only stickers put by these accounts; `None` = any account.
    pub creators: Option<Vec<AccountId>>,
    /// Only stickers on this twin.
    pub twin: Option<TwinId>,
    /// Only stickers of this colour.
    pub color: Option<String>,
    /// Only stickers with `created_ts >= ge`.
    pub ge: Option<Timestamp>,
    /// Only stickers with `created_ts <= le`.
    pub le: Option<Timestamp>,
    /// Stickers that expired at or before this time are not listed, removed yet or not.
    pub now: Timestamp,
    /// Skip this many matching stickers.
    pub offset: u32,
    /// At most this many stickers. Order: newest first by (`created_ts`, `account`, `twin`,
    /// `color`), all descending.
    pub limit: u32,
}

/// What a ledger write stores besides the ledger, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerEffects {
    /// History records to append, re-expire or purge.
    pub history: HistoryWrite,
    /// The write's remembered `transaction` id and answer.
    pub transaction: Option<LedgerTransaction>,
    /// Notification messages the write publishes, queued in the outbox.
    pub deliveries: Vec<Delivery>,
    /// Entries of the event log the write adds (their `id`s are assigned by the store).
    pub events: Vec<Event>,
    /// Audit records of the write, appended to the audit log.
    pub audit: Vec<AuditRecord>,
}

impl LedgerEffects {
    /// Effects with only history.
    pub fn with_history(history: HistoryWrite) -> Self {
        Self {
            history,
            ..Self::default()
        }
    }
}

/// Which audit records to list (`GET /audit`): only records about the viewer's data or of
/// the viewer's own accesses are ever returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// The viewing account: records whose `owner` or `actor_account` it is.
    pub viewer: AccountId,
    /// Only records about this twin.
    pub twin: Option<TwinId>,
    /// Only records of this acting account.
    pub actor: Option<AccountId>,
    /// Only records of this operation.
    pub operation: Option<String>,
    /// Only records with this outcome.
    pub outcome: Option<String>,
    /// Only records with `ts >= ge`.
    pub ge: Option<Timestamp>,
    /// Only records with `ts <= le`.
    pub le: Option<Timestamp>,
    /// Only records with `seq < before` (the cursor of the next page).
    pub before: Option<u64>,
    /// At most this many records, newest (highest `seq`) first.
    pub limit: u32,
}

/// A SHA-256 hash of the audit Merkle log.
pub type AuditHash = [u8; 32];

/// Which ledger of a twin [`Store::get_twin_with_ledger`] loads along with the twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerOf {
    /// The ledger of this account.
    Account(AccountId),
    /// The ledger of the twin's owner.
    Owner,
    /// The ledger of the twin's creator.
    Creator,
}

/// The whole storage contract. Object safe, so the server can choose a backend at run time.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Short name of the backend (`sqlite`, `postgres`), for logs and test names.
    fn backend_name(&self) -> &'static str;

    /// Checks that the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the connection pool, waiting for connections in use to be returned.
    async fn close(&self);

    // ---- accounts (operator scope) ------------------------------------------------------

    /// Stores a new account together with its Super Admin role, first user and that user's
    /// secret, in one transaction.
    async fn create_account(&self, bootstrap: &AccountBootstrap) -> Result<(), StoreError>;

    /// Loads one account.
    async fn get_account(&self, account: AccountId) -> Result<Account, StoreError>;

    /// Lists accounts ordered by id.
    async fn list_accounts(&self, page: PageRequest<AccountId>)
        -> Result<Vec<Account>, StoreError>;

    /// Suspends or resumes an account; returns the updated account.
    async fn set_account_status(
        &self,
        account: AccountId,
        status: AccountStatus,
        now: Timestamp,
    ) -> Result<Account, StoreError>;

    /// Replaces the account's Resource Access Log configuration; returns the updated account.
    async fn update_account_resource_access_log(
        &self,
        account: AccountId,
        resource_access_log: Option<&Value>,
        now: Timestamp,
    ) -> Result<Account, StoreError>;

    // ---- roles ----------------------------------------------------------------------------

    /// Stores a new role of `account` (`role.account` must equal `account`).
    async fn create_role(&self, account: AccountId, role: &Role) -> Result<(), StoreError>;

    /// Loads a role of `account`.
    async fn get_role(&self, account: AccountId, role: RoleId) -> Result<Role, StoreError>;

    /// Lists the roles of `account` ordered by id.
    async fn list_roles(
        &self,
        account: AccountId,
        page: PageRequest<RoleId>,
    ) -> Result<Vec<Role>, StoreError>;

    /// Replaces name, statement, rules and `updated_ts` of a role of `account`.
    async fn update_role(&self, account: AccountId, role: &Role) -> Result<(), StoreError>;

    /// Deletes a role of `account`; refused with [`StoreError::InUse`] while a user holds it.
    async fn delete_role(&self, account: AccountId, role: RoleId) -> Result<(), StoreError>;

    // ---- users ----------------------------------------------------------------------------

    /// Stores a new user of `account`; its role must be a role of the same account.
    async fn create_user(&self, account: AccountId, user: &User) -> Result<(), StoreError>;

    /// Loads a user of `account`.
    async fn get_user(&self, account: AccountId, user: UserId) -> Result<User, StoreError>;

    /// Lists the users of `account` ordered by id.
    async fn list_users(
        &self,
        account: AccountId,
        page: PageRequest<UserId>,
    ) -> Result<Vec<User>, StoreError>;

    /// Replaces role, name, description, activity and `updated_ts` of a user of `account`.
    async fn update_user(&self, account: AccountId, user: &User) -> Result<(), StoreError>;

    /// Deletes a user of `account` and, in the same transaction, its secret.
    async fn delete_user(&self, account: AccountId, user: UserId) -> Result<(), StoreError>;

    // ---- secrets --------------------------------------------------------------------------

    /// Stores the user's secret, replacing (revoking) any previous one, in one transaction.
    async fn put_secret(&self, account: AccountId, secret: &Secret) -> Result<(), StoreError>;

    /// Loads the metadata of a user's secret.
    async fn get_secret(&self, account: AccountId, user: UserId) -> Result<Secret, StoreError>;

    /// Deletes (revokes) a user's secret.
    async fn delete_secret(&self, account: AccountId, user: UserId) -> Result<(), StoreError>;

    /// Finds a secret by its hash. The one lookup that is not account-first: authentication
    /// learns the account from the secret.
    async fn find_secret_by_hash(&self, hash: &str) -> Result<Option<Secret>, StoreError>;

    // ---- secret PINs ---------------------------------------------------------------------

    /// Stores a PIN for a user of `account` (the user must exist: else `NotFound(User)`).
    async fn create_secret_pin(
        &self,
        account: AccountId,
        pin: &SecretPin,
    ) -> Result<(), StoreError>;

    /// Redeems a PIN in one transaction: finds the PIN of `account` with `pin_hash` that has not
    /// expired at `now`, deletes it (single use), replaces the user's secret with one built from
    /// `secret` plus the PIN's user and secret validity, and returns the stored secret. A
    /// missing, used or expired PIN is `NotFound(Pin)` and changes nothing.
    async fn redeem_secret_pin(
        &self,
        account: AccountId,
        pin_hash: &str,
        now: Timestamp,
        secret: &NewSecret,
    ) -> Result<Secret, StoreError>;

    /// Deletes PINs that expired before `now` (housekeeping); returns how many.
    async fn delete_expired_secret_pins(&self, now: Timestamp) -> Result<u64, StoreError>;

    // ---- twins ----------------------------------------------------------------------------
    //
    // Twins are shared objects: reading one is not limited to its owner's account, because
    // who may see a twin is decided by rules in `steward-core`, not by the store. Changes are
    // limited to the owner.

    /// Stores a new twin owned (and created) by `account`.
    async fn create_twin(&self, account: AccountId, twin: &Twin) -> Result<(), StoreError>;

    /// Like [`Store::create_twin`], but only while `account` owns fewer than
    /// `max_alive_twins` alive twins, decided atomically with every other call of this method
    /// for the same account (concurrent creations cannot overshoot the quota). Returns `false`,
    /// storing nothing, when the account is at its quota.
    async fn create_twin_within_quota(
        &self,
        account: AccountId,
        twin: &Twin,
        max_alive_twins: u64,
    ) -> Result<bool, StoreError>;

    /// Loads a twin, whoever owns it.
    async fn get_twin(&self, twin: TwinId) -> Result<Twin, StoreError>;

    /// Replaces the description of a twin owned by `account` (`None` removes it) and sets
    /// `updated_ts`; `NotFound(Twin)` if the twin is missing or owned by another account.
    /// Does not check the twin's status.
    async fn update_twin_description(
        &self,
        account: AccountId,
        twin: TwinId,
        description: Option<&Map<String, serde_json::Value>>,
        now: Timestamp,
    ) -> Result<Twin, StoreError>;

    /// Terminates a twin owned by `account`, atomically: of two concurrent calls exactly one
    /// gets [`TerminationOutcome::Terminated`]. `NotFound(Twin)` if missing or foreign.
    async fn terminate_twin(
        &self,
        account: AccountId,
        twin: TwinId,
        now: Timestamp,
    ) -> Result<TerminationOutcome, StoreError>;

    /// Lists twins owned by `account`, ordered by id, alive and terminated alike.
    async fn list_owned_twins(
        &self,
        account: AccountId,
        page: PageRequest<TwinId>,
    ) -> Result<Vec<Twin>, StoreError>;

    // ---- ledgers --------------------------------------------------------------------------

    /// Loads the ledger of `account` on `twin`; `None` when that account never wrote one.
    /// Like twins, ledgers are readable by anyone the rules allow, so this is not limited to
    /// the caller's account.
    async fn get_ledger(
        &self,
        twin: TwinId,
        account: AccountId,
    ) -> Result<Option<Ledger>, StoreError>;

    /// Stores `ledger` (whose `account` must be `account`) if nobody changed it since it was
    /// read: with `expected_version` `None` the ledger must not exist yet; with `Some(v)` the
    /// stored version must still be `v`. `ledger.version` is the new version. Otherwise
    /// [`StoreError::Conflict`] and nothing changes. `NotFound(Twin)` for a missing twin.
    /// `effects` are stored in the same transaction: the history (purges, then retention
    /// changes, then appends, then trimming each appended entry to its newest
    /// [`steward_domain::MAX_HISTORY_RECORDS`] records), the remembered `transaction` (whose
    /// account must be `account`; if the account already stored that id, nothing changes and
    /// the answer is `AlreadyExists(Transaction)`), and the notification `deliveries` the write
    /// publishes.
    async fn save_ledger(
        &self,
        account: AccountId,
        ledger: &Ledger,
        expected_version: Option<u64>,
        effects: &LedgerEffects,
    ) -> Result<(), StoreError>;

    /// Loads a remembered ledger write of `account` by its transaction id.
    async fn get_ledger_transaction(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<LedgerTransaction>, StoreError>;

    /// Forgets remembered ledger writes stored before `before`; returns how many.
    async fn prune_ledger_transactions(&self, before: Timestamp) -> Result<u64, StoreError>;

    /// Loads a twin (whoever owns it) and one of its ledgers in one round trip: the hot path of
    /// every ledger read. `NotFound(Twin)` for a missing twin; `None` for a ledger never
    /// written.
    async fn get_twin_with_ledger(
        &self,
        twin: TwinId,
        ledger: LedgerOf,
    ) -> Result<(Twin, Option<Ledger>), StoreError>;

    // ---- history --------------------------------------------------------------------------

    /// Reads history records of the ledger of `account` on `twin`, per entry newest first.
    /// Entries without records are absent from the answer.
    async fn get_history(
        &self,
        twin: TwinId,
        account: AccountId,
        query: &HistoryQuery,
    ) -> Result<std::collections::BTreeMap<String, Vec<HistoryRecord>>, StoreError>;

    /// Deletes history records that expired at or before `now`, at most `limit` of them;
    /// returns how many (housekeeping; call again while it returns `limit`).
    async fn prune_history(&self, now: Timestamp, limit: u32) -> Result<u64, StoreError>;

    // ---- identities -----------------------------------------------------------------------
    //
    // Identities are readable by anyone the rules allow, like twins; changes are limited to the
    // account that attached them.

    /// Attaches identities of `account` (each `identity.account` must be `account`) to `twin`
    /// in one transaction. Returns, per input in order, whether it was stored: `false` when
    /// `account` already has that identity on the twin (the stored one is kept).
    /// `NotFound(Twin)` for a missing twin, and then nothing is stored.
    async fn create_identities(
        &self,
        account: AccountId,
        twin: TwinId,
        identities: &[Identity],
    ) -> Result<Vec<bool>, StoreError>;

    /// Loads an identity `account` attached to `twin`.
    async fn get_identity(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError>;

    /// Lists identities attached to `twin`, ordered by (account, identity), at most `limit`:
    /// of every account with `scope` `None`, else only those `scope` admits.
    async fn list_twin_identities(
        &self,
        twin: TwinId,
        scope: Option<&IdentityScope>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError>;

    /// Replaces `validity_ts`, `visibility` and `updated_ts` of an identity of `account`
    /// (matched by twin and identity string).
    async fn update_identity(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> Result<(), StoreError>;

    /// Deletes an identity of `account` and returns it.
    async fn delete_identity(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError>;

    /// Finds identities equal to `identity` through the (identity, account, twin) index: of the
    /// given accounts, or of every account with `None`; only those `scope` admits; after
    /// `after` (keyset paging). Ordered by (account, twin); at most `limit`.
    async fn find_identities(
        &self,
        identity: &str,
        accounts: Option<&[AccountId]>,
        scope: Option<&IdentityScope>,
        after: Option<(AccountId, TwinId)>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError>;

    // ---- stickers -------------------------------------------------------------------------

    /// Puts stickers of `account` (each `sticker.account` must be `account`) in one
    /// transaction, each replacing the account's sticker of the same colour on its twin;
    /// returns the replaced ones, in input order. `NotFound(Twin)` for a missing twin, and then
    /// nothing is stored. Writes a `sticker.put` event (at the sticker's `created_ts`) for each
    /// sticker in the same transaction.
    async fn put_stickers(
        &self,
        account: AccountId,
        stickers: &[Sticker],
    ) -> Result<Vec<Option<Sticker>>, StoreError>;

    /// Loads the sticker of `account` with `color` on `twin`, expired or not.
    async fn get_sticker(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
    ) -> Result<Sticker, StoreError>;

    /// Lists stickers (see [`StickerQuery`]).
    async fn list_stickers(&self, query: &StickerQuery) -> Result<Vec<Sticker>, StoreError>;

    /// Removes the sticker of `account` with `color` on `twin` if one of `recipients` is among
    /// its recipients and it has not expired at `now`, atomically: of concurrent removals
    /// exactly one gets the sticker, the others `NotFound(Sticker)`. Writes a `sticker.removed`
    /// event (at `now`) in the same transaction.
    async fn remove_sticker(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
        recipients: &[Uuid],
        now: Timestamp,
    ) -> Result<Sticker, StoreError>;

    /// Removes up to `limit` stickers whose `validity_ts <= now` and returns them; each expired
    /// sticker is returned by exactly one call, even with several callers at once. Writes a
    /// `sticker.expired` event (at `now`) for each in the same transaction.
    async fn remove_expired_stickers(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Sticker>, StoreError>;

    // ---- notifications --------------------------------------------------------------------

    /// Stores a new subscription and, in the same transaction, its confirmation message.
    /// `AlreadyExists(Subscription)` for a taken id or token hash; `NotFound(Account)` /
    /// `NotFound(User)` for a missing publisher or subscriber.
    async fn create_subscription(
        &self,
        subscription: &Subscription,
        confirmation: &Delivery,
    ) -> Result<(), StoreError>;

    /// Loads the subscription to a topic of `topic_account` whose token hashes to
    /// `token_hash`; `NotFound(Subscription)` otherwise.
    async fn find_subscription(
        &self,
        topic_account: AccountId,
        token_hash: &str,
    ) -> Result<Subscription, StoreError>;

    /// Replaces `confirmed`, `validity_ts` and `updated_ts` of a subscription (matched by id
    /// and topic account); `NotFound(Subscription)` if missing.
    async fn update_subscription(&self, subscription: &Subscription) -> Result<(), StoreError>;

    /// Deletes a subscription and, in the same transaction, its pending deliveries; returns
    /// it. `NotFound(Subscription)` if missing (of concurrent deletes exactly one succeeds).
    async fn delete_subscription(
        &self,
        topic_account: AccountId,
        id: Uuid,
    ) -> Result<Subscription, StoreError>;

    /// The confirmed subscriptions to `topic` of `topic_account` that are valid at `now`,
    /// ordered by id.
    async fn list_active_subscriptions(
        &self,
        topic_account: AccountId,
        topic: &str,
        now: Timestamp,
    ) -> Result<Vec<Subscription>, StoreError>;

    /// The topic access `account` granted: grantee account → its topics (sorted).
    async fn get_notification_access(
        &self,
        account: AccountId,
    ) -> Result<std::collections::BTreeMap<AccountId, Vec<String>>, StoreError>;

    /// Replaces the topics `account` grants to `grantee` (an empty list revokes the grant).
    /// `NotFound(Account)` for a missing grantee.
    async fn put_notification_access(
        &self,
        account: AccountId,
        grantee: AccountId,
        topics: &[String],
    ) -> Result<(), StoreError>;

    /// Queues messages in the outbox.
    async fn enqueue_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError>;

    /// Claims up to `limit` deliveries that are due at `now` for one dispatcher until
    /// `lease_until`: not tried before `next_attempt_ts`, not held by an unexpired lease, and
    /// each the oldest pending delivery of its subscription (so a subscription's messages go
    /// out in order). A delivery is claimed by one caller at a time; when a lease runs out
    /// (its dispatcher died), another caller may claim it.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Removes a delivered message from the outbox; `NotFound(Delivery)` if it is gone.
    ///
    /// `lease` fences the outcome of a claim: with `Some(lease_until)` (the value of the
    /// [`ClaimedDelivery`]) nothing changes and the answer is `NotFound(Delivery)` unless the
    /// message is still held by that very claim, so a dispatcher whose lease ran out (and whose
    /// message another node may have claimed since) cannot record over the new claim. `None`
    /// applies regardless of leases. The same holds for [`Store::retry_delivery`] and
    /// [`Store::dead_letter_delivery`].
    async fn finish_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Records a failed attempt: sets `attempts` and `next_attempt_ts` and releases the lease
    /// (fenced by `lease` as for [`Store::finish_delivery`]).
    async fn retry_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        attempts: u32,
        next_attempt_ts: Timestamp,
    ) -> Result<(), StoreError>;

    /// Moves a message that will not be delivered out of the outbox into the dead letters,
    /// with the reason, in one transaction (fenced by `lease` as for
    /// [`Store::finish_delivery`]). The same transaction appends
    /// [`steward_domain::dead_letter_log_text`] to the subscriber account's log.
    async fn dead_letter_delivery(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Dead letters of subscriptions of `account` (the subscriber), newest first, at most
    /// `limit`: (message, subscription, reason, when).
    async fn list_dead_letters(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError>;

    /// Housekeeping: deletes up to `limit` subscriptions whose `validity_ts` is before
    /// `expired_before` (with any deliveries they still have) and up to `limit` dead letters
    /// given up before `dead_before`; returns how many of each.
    async fn prune_notifications(
        &self,
        expired_before: Timestamp,
        dead_before: Timestamp,
        limit: u32,
    ) -> Result<(u64, u64), StoreError>;

    // ---- event log ------------------------------------------------------------------------
    //
    // Events are written by the changes themselves (`save_ledger`'s effects, sticker puts,
    // removals and expiry), in their transactions. Ids are consecutive and assigned in commit
    // order: once a reader saw event `n`, no event with a smaller id can appear later.

    /// Events with `id > after`, in id order, at most `limit`.
    async fn list_events(&self, after: u64, limit: u32) -> Result<Vec<Event>, StoreError>;

    /// The id of the newest event ever written (0 if none), pruned or not.
    async fn last_event_id(&self) -> Result<u64, StoreError>;

    /// Deletes up to `limit` events with `ts < before` and `id <= up_to`; returns how many.
    async fn prune_events(
        &self,
        before: Timestamp,
        up_to: u64,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// The position of a named reader of the event log (0 if it never advanced).
    async fn get_event_cursor(&self, name: &str) -> Result<u64, StoreError>;

    /// Moves the named cursor from `from` to `to` and queues `deliveries` in the outbox, in one
    /// transaction, only if the cursor is still at `from`; returns whether it moved (`false`:
    /// another node got there first, and nothing was stored).
    async fn advance_event_cursor(
        &self,
        name: &str,
        from: u64,
        to: u64,
        deliveries: &[Delivery],
    ) -> Result<bool, StoreError>;

    // ---- audit log ---------------------------------------------------------------------------
    //
    // Records get consecutive `seq`s from 0 in commit order (like event ids). A sealer then
    // appends each record's Merkle hashes in `seq` order and stores a signed checkpoint; the
    // store only keeps what it is given (hashing and signing are the services' job).

    /// Appends records in one transaction (order kept); returns the `seq` of the first.
    async fn append_audit_records(&self, records: &[AuditRecord]) -> Result<u64, StoreError>;

    /// Records `query` admits, with their `seq`, newest first.
    async fn list_audit_records(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<(u64, AuditRecord)>, StoreError>;

    /// Records with `seq >= from` in `seq` order, at most `limit`, as their exact leaf text.
    async fn read_audit_records(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<StoredAuditRecord>, StoreError>;

    /// How many records were ever appended.
    async fn audit_record_count(&self) -> Result<u64, StoreError>;

    /// How many records the stored Merkle hashes cover (the sealed size).
    async fn audit_tree_size(&self) -> Result<u64, StoreError>;

    /// Stored Merkle hashes by their index (Go tlog numbering), in the order asked;
    /// `NotFound(Setting)` if one is missing.
    async fn read_audit_hashes(&self, indexes: &[u64]) -> Result<Vec<AuditHash>, StoreError>;

    /// In one transaction, if the sealed size is still `from_size`: stores `hashes` (index,
    /// hash), sets the sealed size to `to_size` and stores `checkpoint` (whose size must be
    /// `to_size`); returns whether it did (`false`: another node sealed first, nothing stored).
    async fn seal_audit(
        &self,
        from_size: u64,
        to_size: u64,
        hashes: &[(u64, AuditHash)],
        checkpoint: &AuditCheckpoint,
    ) -> Result<bool, StoreError>;

    /// The checkpoint of the largest sealed size, if any.
    async fn latest_audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, StoreError>;

    /// Checkpoints with `size > after`, by size, at most `limit`.
    async fn list_audit_checkpoints(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditCheckpoint>, StoreError>;

    /// Sets how long the audit records of `account` are kept, in days (0: forever); `None`
    /// removes the account's own retention, so the server's default applies.
    async fn set_audit_retention(
        &self,
        account: AccountId,
        days: Option<u32>,
    ) -> Result<(), StoreError>;

    /// The account's own audit retention in days, if it has one.
    async fn get_audit_retention(&self, account: AccountId) -> Result<Option<u32>, StoreError>;

    /// Deletes, in one transaction, up to `retention.limit` sealed records (seq below the
    /// sealed size), lowest seqs first, that are older than the retention of their owner's
    /// account and of their actor's account (a missing account, or one without a retention of
    /// its own, has `retention.default_days`; 0 days never expires), and appends `record`
    /// with [`AuditRecord::pruned`] set to the deleted seqs in the same transaction. The
    /// stored hashes stay, so the Merkle log keeps verifying. Returns how many records it
    /// deleted; with none, nothing is appended.
    async fn prune_audit_records(
        &self,
        retention: &AuditRetention,
        record: AuditRecord,
    ) -> Result<u64, StoreError>;

    // ---- per-account limits ---------------------------------------------------------------

    /// Stores the operator's limits of `account`, replacing its previous ones; limits with
    /// every field `None` remove them.
    async fn set_account_limits(
        &self,
        account: AccountId,
        limits: &AccountLimits,
    ) -> Result<(), StoreError>;

    /// The account's own limits (every field `None` when it has none).
    async fn get_account_limits(&self, account: AccountId) -> Result<AccountLimits, StoreError>;

    /// How many bytes the entries of every ledger of `account` (on any twin) take together:
    /// the sum of the lengths, in bytes, of their stored JSON text.
    async fn account_ledger_bytes(&self, account: AccountId) -> Result<u64, StoreError>;

    // ---- server settings ------------------------------------------------------------------

    /// Reads a server-wide setting (operator token hash, signing keys, ...).
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores a server-wide setting only if it is not set yet; returns the value now stored.
    /// Lets several nodes starting at once agree on one generated value.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError>;

    // ---- usage and account log ----
    //
    // Usage counters are hourly and additive: several nodes add their increments to the same
    // rows. Account log messages get a per-account `seq` from a counter row updated in the
    // appending transaction, so `seq`s increase in commit order and a reader that saw `n` never
    // later finds a message below `n`. Dead letters append to the subscriber's log in
    // [`Store::dead_letter_delivery`]'s transaction.

    /// Adds each increment to its counter (`value = value + increment`, creating the row at 0),
    /// all in one transaction. Increments of the same counter may repeat; they add up.
    async fn add_usage(&self, increments: &[UsageIncrement]) -> Result<(), StoreError>;

    /// The counters of `user` ([`steward_domain::NO_USER`] for account-level usage) of
    /// `account` in buckets from `from_bucket` to `to_bucket` (inclusive): bucket → counter →
    /// value. Buckets without counters are absent.
    async fn get_usage(
        &self,
        account: AccountId,
        user: Uuid,
        from_bucket: &str,
        to_bucket: &str,
    ) -> Result<UsageReport, StoreError>;

    /// Deletes up to `limit` counters of buckets before `before_bucket`; returns how many.
    async fn prune_usage(&self, before_bucket: &str, limit: u32) -> Result<u64, StoreError>;

    /// Appends messages (time, text) to the log of `account` in one transaction, in order;
    /// returns the `seq` of the last (0 for none). `NotFound(Account)` for a missing account.
    async fn append_account_log(
        &self,
        account: AccountId,
        messages: &[(Timestamp, String)],
    ) -> Result<u64, StoreError>;

    /// Messages of the log of `account` with `seq > after`, in `seq` order, at most `limit`.
    async fn list_account_log(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccountLogMessage>, StoreError>;

    /// Deletes up to `limit` log messages (of any account) appended before `before`; returns
    /// how many.
    async fn prune_account_log(&self, before: Timestamp, limit: u32) -> Result<u64, StoreError>;

    /// How many messages wait in the outbox for the subscriptions of `account` (as subscriber).
    async fn count_pending_deliveries(&self, account: AccountId) -> Result<u64, StoreError>;
}

/// Usage counters by bucket (`YYYY-MM-DD-HH`) and counter name.
pub type UsageReport = std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>;
