//! Group commit of audit records that are not stored with a write (reads, denials, failed
//! requests): requests queue their record and go on; a flush appends everything queued in one
//! transaction. The server flushes every `audit_flush_milliseconds`, so a crash loses at most
//! the records of that long (plus one batch being written). A queue that grows past
//! [`MAX_QUEUED`] makes the request that finds it full flush first: back-pressure instead of
//! unbounded memory or dropped records.

use std::sync::Mutex;

use steward_domain::AuditRecord;

use crate::{Error, Steward};

/// Records queued before a request flushes them itself.
pub const MAX_QUEUED: usize = 8_192;

/// The queue of one node.
#[derive(Debug, Default)]
pub(crate) struct AuditRecorder {
    queue: Mutex<Vec<AuditRecord>>,
    /// One flush at a time, so records keep their order.
    flushing: tokio::sync::Mutex<()>,
    /// When this node last pruned the log by retention (clock millis; 0: not yet).
    pub(crate) pruned_at: std::sync::atomic::AtomicI64,
}

impl Steward {
    /// Queues a record for the next flush (the HTTP layer calls this when a request ends).
    pub async fn record_audit(&self, record: AuditRecord) {
        let queued = match self.audit.queue.lock() {
            Ok(mut queue) => {
                queue.push(record);
                queue.len()
            }
            Err(_) => 0,
        };
        if queued >= MAX_QUEUED {
            // In its own task: if this request is dropped (the client went away), the flush
            // still finishes instead of losing the batch it took.
            let steward = self.clone();
            let flushed = tokio::spawn(async move { steward.flush_audit().await }).await;
            match flushed {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "flushing audit records failed"),
                Err(error) => tracing::warn!(%error, "the audit flush task failed"),
            }
        }
    }

    /// Appends every queued record to the audit log; returns how many. On failure the records
    /// stay queued (in order) for the next flush. Not cancellation safe: a flush dropped while
    /// writing loses its batch, so callers run it to completion (the server's audit task is
    /// stopped between flushes, never aborted; requests flush in a task of their own).
    pub async fn flush_audit(&self) -> Result<u64, Error> {
        let _one_at_a_time = self.audit.flushing.lock().await;
        let batch = match self.audit.queue.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match self.store.append_audit_records(&batch).await {
            Ok(_) => Ok(batch.len() as u64),
            Err(error) => {
                if let Ok(mut queue) = self.audit.queue.lock() {
                    let newer = std::mem::replace(&mut *queue, batch);
                    queue.extend(newer);
                }
                Err(error.into())
            }
        }
    }
}
