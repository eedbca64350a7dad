//! Usage metering (`GET /usage`, `GET /usage/{user}`): hourly counters per account and user.
//!
//! Requests and services count into this node's [`UsageMeter`] in memory; the server flushes
//! it every `audit_flush_milliseconds` (and at shutdown) with additive upserts, so several
//! nodes sharing one database add up. A crash loses at most the counts of one interval:
//! usage is an operational measure, not an invoice. Reading usage flushes this node first, so
//! a caller sees its own requests at once.
//!
//! The HTTP layer runs each request inside a [`UsageScope`]; authentication notes the caller
//! there ([`note_caller`]), and when the answer is ready the HTTP layer counts the request for
//! that caller ([`Steward::record_request_usage`]). Requests without a caller (probes, the
//! operator API, failed authentication) are not counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use steward_domain::{
    previous_usage_bucket, usage_bucket, AccountId, UsageIncrement, UserId, DB_READ_COST,
    DB_WRITE_COST, NO_USER, REQUEST_COUNT, REST_COUNT, TASK_PUBLISH_TOPIC_COUNT,
};
use steward_store::UsageReport;
use uuid::Uuid;

use crate::authz::authorize_operation;
use crate::{Error, Principal, Steward};

/// Counters waiting for a flush beyond which a counting request flushes first (back-pressure
/// instead of unbounded memory when the database is unreachable for long).
const MAX_PENDING_COUNTERS: usize = 100_000;

/// (account, user, bucket, counter).
type CounterKey = (AccountId, Uuid, String, &'static str);

/// The in-memory usage counts of one node, waiting for the next flush.
#[derive(Debug, Default)]
pub(crate) struct UsageMeter {
    pending: Mutex<HashMap<CounterKey, u64>>,
    /// One flush at a time, so a failed flush's counts go back before the next takes them.
    flushing: tokio::sync::Mutex<()>,
}

impl UsageMeter {
    /// Adds to a counter of the current hour; returns how many counters are pending.
    fn add(&self, key: CounterKey, value: u64) -> usize {
        match self.pending.lock() {
            Ok(mut pending) => {
                let count = pending.entry(key).or_default();
                *count = count.saturating_add(value);
                pending.len()
            }
            Err(_) => 0,
        }
    }

    /// Puts counts taken by a failed flush back.
    fn restore(&self, taken: HashMap<CounterKey, u64>) {
        if let Ok(mut pending) = self.pending.lock() {
            for (key, value) in taken {
                let count = pending.entry(key).or_default();
                *count = count.saturating_add(value);
            }
        }
    }
}

tokio::task_local! {
    static SCOPE: UsageScope;
}

/// The caller of one request, once authentication knows it. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct UsageScope {
    caller: Arc<Mutex<Option<(AccountId, UserId)>>>,
}

impl UsageScope {
    /// Runs `future` (the request's handling) inside this scope.
    pub async fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        SCOPE.scope(self.clone(), future).await
    }

    /// The authenticated caller (account, user), if the request had one.
    pub fn caller(&self) -> Option<(AccountId, UserId)> {
        self.caller.lock().ok().and_then(|caller| *caller)
    }
}

/// Notes the authenticated caller of the running request (the first one wins); does nothing
/// outside a request.
pub(crate) fn note_caller(principal: &Principal) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut caller) = scope.caller.lock() {
            caller.get_or_insert((principal.account, principal.user.id));
        }
    });
}

/// What `GET /usage` and `GET /usage/{user}` answer: the current hour's counters (always
/// present, possibly empty) and the previous hour's (when it has any).
pub type UsageBuckets = UsageReport;

impl Steward {
    /// Adds `value` to `counter` of `user` ([`NO_USER`] for account-level usage) of `account`
    /// in the current hour.
    pub fn meter_usage(&self, account: AccountId, user: Uuid, counter: &'static str, value: u64) {
        if value == 0 {
            return;
        }
        let bucket = usage_bucket(self.clock.now());
        let pending = self.usage.add((account, user, bucket, counter), value);
        if pending >= MAX_PENDING_COUNTERS {
            let steward = self.clone();
            tokio::spawn(async move {
                if let Err(error) = steward.flush_usage().await {
                    tracing::warn!(%error, "flushing usage counters failed");
                }
            });
        }
    }

    /// Adds to a counter of the caller (its account and user).
    pub(crate) fn meter_caller(&self, principal: &Principal, counter: &'static str, value: u64) {
        self.meter_usage(
            principal.account,
            principal.user.id.as_uuid(),
            counter,
            value,
        );
    }

    /// Counts one finished API request for the caller `scope` noted (the HTTP layer calls this
    /// when the answer is ready): `request_count`, `rest_count`, and `db_write_cost` for a
    /// writing method or `db_read_cost` otherwise.
    pub fn record_request_usage(&self, scope: &UsageScope, writing: bool) {
        let Some((account, user)) = scope.caller() else {
            return;
        };
        let user = user.as_uuid();
        self.meter_usage(account, user, REQUEST_COUNT, 1);
        self.meter_usage(account, user, REST_COUNT, 1);
        let cost = if writing { DB_WRITE_COST } else { DB_READ_COST };
        self.meter_usage(account, user, cost, 1);
    }

    /// Counts a webhook message delivered for a topic of `topic_account` (the dispatcher calls
    /// this once the delivery is recorded).
    pub fn record_webhook_delivered(&self, topic_account: AccountId) {
        self.meter_usage(topic_account, NO_USER, TASK_PUBLISH_TOPIC_COUNT, 1);
    }

    /// Adds this node's pending counts to the database; returns how many counters it wrote.
    /// On failure the counts stay pending for the next flush.
    pub async fn flush_usage(&self) -> Result<u64, Error> {
        let _one_at_a_time = self.usage.flushing.lock().await;
        let taken = match self.usage.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return Ok(0),
        };
        if taken.is_empty() {
            return Ok(0);
        }
        let increments: Vec<UsageIncrement> = taken
            .iter()
            .map(|((account, user, bucket, counter), value)| UsageIncrement {
                account: *account,
                user: *user,
                bucket: bucket.clone(),
                counter: (*counter).to_owned(),
                value: *value,
            })
            .collect();
        match self.store.add_usage(&increments).await {
            Ok(()) => Ok(increments.len() as u64),
            Err(error) => {
                self.usage.restore(taken);
                Err(error.into())
            }
        }
    }

    /// `get_account_usage`: the account-level usage (what no user caused) of the caller's
    /// account.
    pub async fn get_account_usage(&self, principal: &Principal) -> Result<UsageBuckets, Error> {
        authorize_operation(principal, "get_account_usage")?;
        self.usage_of(principal.account, NO_USER).await
    }

    /// `get_user_usage`: the usage of a user of the caller's account (404 for any other).
    pub async fn get_user_usage(
        &self,
        principal: &Principal,
        user: UserId,
    ) -> Result<UsageBuckets, Error> {
        authorize_operation(principal, "get_user_usage")?;
        self.store.get_user(principal.account, user).await?;
        self.usage_of(principal.account, user.as_uuid()).await
    }

    async fn usage_of(&self, account: AccountId, user: Uuid) -> Result<UsageBuckets, Error> {
        // This node's own counts are written first, so a caller sees its requests at once.
        if let Err(error) = self.flush_usage().await {
            tracing::warn!(%error, "flushing usage counters before a read failed");
        }
        let now = self.clock.now();
        let current = usage_bucket(now);
        let mut report = self
            .store
            .get_usage(account, user, &previous_usage_bucket(now), &current)
            .await?;
        report.entry(current).or_default();
        Ok(report)
    }
}
