//! Background housekeeping: deletes what expired. Every node may run it; each step is safe to
//! run concurrently on several nodes (the store hands each expired item to one caller).

use steward_domain::TRANSACTION_RETENTION_MILLIS;

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
}

impl Steward {
    /// One housekeeping pass at the clock's current time: removes expired stickers, deletes
    /// expired history records (in batches until none is left), expired secret PINs and
    /// ledger write transaction ids older than 24 hours.
    pub async fn housekeeping(&self) -> Result<HousekeepingReport, Error> {
        let now = self.clock.now();
        let mut report = HousekeepingReport {
            stickers: self.expire_stickers().await?,
            ..HousekeepingReport::default()
        };
        loop {
            let deleted = self.store.prune_history(now, BATCH).await?;
            report.history_records += deleted;
            if deleted < u64::from(BATCH) {
                break;
            }
        }
        report.secret_pins = self.store.delete_expired_secret_pins(now).await?;
        report.transactions = self
            .store
            .prune_ledger_transactions(now.plus_millis(-TRANSACTION_RETENTION_MILLIS))
            .await?;
        Ok(report)
    }
}
