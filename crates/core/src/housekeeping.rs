//! Background housekeeping: deletes what expired. Every node may run it; each step is safe to
//! run concurrently on several nodes (the store hands each expired item to one caller).

use steward_domain::{
    usage_bucket, Timestamp, ACCOUNT_LOG_RETENTION_MILLIS, TRANSACTION_RETENTION_MILLIS,
    USAGE_RETENTION_MILLIS,
};

use crate::{Error, Steward};

/// Most rows one store call deletes, so one pass never holds a long transaction.
const BATCH: u32 = 1_000;

/// What one housekeeping pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Expired history records deleted.
    pub history_records: u64,
    /// Expired secret PINs deleted.
    pub secret_pins: u64,
    /// Expired stickers removed.
    pub stickers: u64,
    /// Ledger write transaction ids forgotten after 24 hours.
    pub transactions: u64,
    /// Webhook subscriptions deleted an hour after they expired.
    pub subscriptions: u64,
    /// Undeliverable webhook messages forgotten after 30 days.
    pub dead_letters: u64,
    /// Events older than the event retention deleted from the event log.
    pub events: u64,
    /// Usage counters of buckets older than 48 hours deleted.
    pub usage_counters: u64,
    /// Account log messages older than 7 days deleted.
    pub log_messages: u64,
    /// Audit records past their accounts' retention deleted (at most hourly; see
    /// [`crate::audit::retention`]).
    pub audit_records: u64,
}

/// How long an expired subscription is kept, so the dispatcher dead-letters what it still had
/// queued first: one hour.
const EXPIRED_SUBSCRIPTION_GRACE_MILLIS: i64 = 3_600_000;

/// How long dead letters are kept: 30 days.
const DEAD_LETTER_RETENTION_MILLIS: i64 = 30 * 24 * 3_600_000;

impl Steward {
    /// Deletes events older than the retention from the event log, but never one the sticker
    /// fan-out has not gone through yet.
    async fn prune_events(&self, now: Timestamp) -> Result<u64, Error> {
        let retention = i64::try_from(self.settings.event_retention_millis).unwrap_or(i64::MAX);
        let before = now.plus_millis(retention.saturating_neg());
        let up_to = self
            .store
            .get_event_cursor(crate::notifications::stickers::STICKER_FAN_OUT_CURSOR)
            .await?;
        let mut pruned = 0;
        loop {
            let batch = self.store.prune_events(before, up_to, BATCH).await?;
            pruned += batch;
            if batch < u64::from(BATCH) {
                return Ok(pruned);
            }
        }
    }

    /// One housekeeping pass at the clock's current time: removes expired stickers, deletes
    /// expired history records (in batches until none is left), expired secret PINs and
    /// ledger write transaction ids older than 24 hours.
    pub async fn housekeeping(&self) -> Result<HousekeepingReport, Error> {
        let now = self.clock.now();
        let mut report = HousekeepingReport::default();
        // Each step runs even when another fails; the first failure is returned after all ran.
        let mut failure: Option<Error> = None;
        let mut note = |step: &str, result: Result<u64, Error>| match result {
            Ok(count) => count,
            Err(error) => {
                tracing::warn!(step, %error, "housekeeping step failed");
                failure.get_or_insert(error);
                0
            }
        };
        report.stickers = note("stickers", self.expire_stickers().await);
        report.history_records = note("history", self.prune_all_history(now).await);
        report.secret_pins = note(
            "secret pins",
            self.store
                .delete_expired_secret_pins(now)
                .await
                .map_err(Error::from),
        );
        report.transactions = note(
            "transactions",
            self.store
                .prune_ledger_transactions(now.plus_millis(-TRANSACTION_RETENTION_MILLIS))
                .await
                .map_err(Error::from),
        );
        report.events = note("events", self.prune_events(now).await);
        report.usage_counters = note("usage", self.prune_all_usage(now).await);
        report.log_messages = note("account log", self.prune_all_account_log(now).await);
        report.audit_records = note("audit retention", self.prune_audit_when_due().await);
        match self.prune_all_notifications(now).await {
            Ok((subscriptions, dead_letters)) => {
                report.subscriptions = subscriptions;
                report.dead_letters = dead_letters;
            }
            Err(error) => {
                tracing::warn!(step = "notifications", %error, "housekeeping step failed");
                failure.get_or_insert(error);
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(report),
        }
    }

    /// Deletes expired subscriptions and old dead letters in batches until none is left.
    async fn prune_all_notifications(&self, now: Timestamp) -> Result<(u64, u64), Error> {
        let (mut subscriptions, mut dead_letters) = (0, 0);
        loop {
            let (deleted, forgotten) = self
                .store
                .prune_notifications(
                    now.plus_millis(-EXPIRED_SUBSCRIPTION_GRACE_MILLIS),
                    now.plus_millis(-DEAD_LETTER_RETENTION_MILLIS),
                    BATCH,
                )
                .await?;
            subscriptions += deleted;
            dead_letters += forgotten;
            if deleted < u64::from(BATCH) && forgotten < u64::from(BATCH) {
                return Ok((subscriptions, dead_letters));
            }
        }
    }

    /// Deletes usage counters of buckets older than 48 hours, in batches until none is left.
    async fn prune_all_usage(&self, now: Timestamp) -> Result<u64, Error> {
        let before = usage_bucket(now.plus_millis(-USAGE_RETENTION_MILLIS));
        let mut total = 0;
        loop {
            let deleted = self.store.prune_usage(&before, BATCH).await?;
            total += deleted;
            if deleted < u64::from(BATCH) {
                return Ok(total);
            }
        }
    }

    /// Deletes account log messages older than 7 days, in batches until none is left.
    async fn prune_all_account_log(&self, now: Timestamp) -> Result<u64, Error> {
        let before = now.plus_millis(-ACCOUNT_LOG_RETENTION_MILLIS);
        let mut total = 0;
        loop {
            let deleted = self.store.prune_account_log(before, BATCH).await?;
            total += deleted;
            if deleted < u64::from(BATCH) {
                return Ok(total);
            }
        }
    }

    /// Deletes expired history records in batches until none is left.
    async fn prune_all_history(&self, now: Timestamp) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let deleted = self.store.prune_history(now, BATCH).await?;
            total += deleted;
            if deleted < u64::from(BATCH) {
                return Ok(total);
            }
        }
    }
}
