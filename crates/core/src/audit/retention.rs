//! Audit retention: records are deleted once they are older than the retention of **both**
//! accounts that can read them (the data owner's and the actor's; an account without its own
//! retention has the server's `audit_retention_days`, and 0 days keeps records forever), and
//! only once a signed checkpoint covers them.
//!
//! Deleting a record keeps its Merkle hashes, so every checkpoint still verifies; in the same
//! transaction the store appends a record of operation [`AUDIT_PRUNE_OPERATION`] whose
//! `pruned` lists the deleted seqs. That record is itself a leaf, sealed by the next
//! checkpoint, so `steward audit verify` can tell a record removed by retention (listed by a
//! later prune record) from one removed by anybody else (listed nowhere).

use std::sync::atomic::Ordering;

use serde::Serialize;
use steward_domain::{AccountId, AuditRecord, AuditRetention, AUDIT_PRUNE_OPERATION};

use crate::{Error, Steward};

/// Longest retention an account can be given, in days (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Records deleted per transaction.
const PRUNE_BATCH: u32 = 1_000;

/// How often a node prunes at most: pruning scans the log, so once an hour is plenty for
/// retentions counted in days.
pub const PRUNE_INTERVAL_MILLIS: i64 = 3_600_000;

/// An account's audit retention as the operator API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionSetting {
    /// The account's own retention in days (0: forever), if it has one.
    pub days: Option<u32>,
    /// The retention that applies: its own, else the server's default.
    pub effective_days: u32,
}

impl Steward {
    /// The server's default audit retention in days (0: forever).
    pub fn default_audit_retention_days(&self) -> u32 {
        self.settings.audit_retention_days
    }

    /// The audit retention of `account`.
    pub async fn audit_retention(&self, account: AccountId) -> Result<RetentionSetting, Error> {
        self.store.get_account(account).await?;
        let days = self.store.get_audit_retention(account).await?;
        Ok(RetentionSetting {
            days,
            effective_days: days.unwrap_or(self.settings.audit_retention_days),
        })
    }

    /// Sets (or, with `None`, removes) the audit retention of `account`, in days; 0 keeps its
    /// records forever.
    pub async fn set_audit_retention(
        &self,
        account: AccountId,
        days: Option<u32>,
    ) -> Result<RetentionSetting, Error> {
        if let Some(days) = days {
            if days > MAX_RETENTION_DAYS {
                return Err(Error::request_format(format!(
                    "`days` must be between 0 (forever) and {MAX_RETENTION_DAYS}, got {days}"
                )));
            }
        }
        self.store.get_account(account).await?;
        self.store.set_audit_retention(account, days).await?;
        Ok(RetentionSetting {
            days,
            effective_days: days.unwrap_or(self.settings.audit_retention_days),
        })
    }

    /// Deletes every sealed audit record past its retention, a batch per transaction;
    /// returns how many it deleted.
    pub async fn prune_audit(&self) -> Result<u64, Error> {
        let now = self.clock.now();
        let retention = AuditRetention {
            default_days: self.settings.audit_retention_days,
            now,
            limit: PRUNE_BATCH,
        };
        let mut pruned = 0;
        loop {
            let mut record =
                AuditRecord::new(AUDIT_PRUNE_OPERATION, uuid::Uuid::new_v4().to_string(), now);
            record.auth = Some("system".to_owned());
            record.outcome = "allowed".to_owned();
            record.status = 200;
            record.basis = Some(format!(
                "retention: records older than the audit retention of both their owner's and \
                 their actor's account (default {} days; 0 is forever)",
                self.settings.audit_retention_days
            ));
            let batch = self.store.prune_audit_records(&retention, record).await?;
            pruned += batch;
            if batch < u64::from(PRUNE_BATCH) {
                return Ok(pruned);
            }
        }
    }

    /// Prunes the audit log if this node has not done so for [`PRUNE_INTERVAL_MILLIS`]
    /// (housekeeping calls it on every pass).
    pub(crate) async fn prune_audit_when_due(&self) -> Result<u64, Error> {
        let now = self.clock.now().as_millis();
        let last = self.audit.pruned_at.load(Ordering::Relaxed);
        // 0: not pruned since this node started.
        if last != 0 && now.saturating_sub(last) < PRUNE_INTERVAL_MILLIS {
            return Ok(0);
        }
        self.audit.pruned_at.store(now, Ordering::Relaxed);
        self.prune_audit().await
    }
}
