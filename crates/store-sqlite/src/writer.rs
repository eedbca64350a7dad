//! Group commit: every write runs on the one writer connection inside a shared transaction,
//! each in its own savepoint, and one `COMMIT` (one WAL sync) makes a whole batch of writes
//! durable at once.
//!
//! A write takes the writer lock, opens the batch's transaction if none is open (`BEGIN
//! IMMEDIATE`) and runs its statements after a savepoint of its own. It then joins the batch
//! and, if no other write is queued for the lock (or the batch is full
//! or old enough), commits the batch itself; otherwise it leaves the commit to the writes queued
//! behind it. Either way it is acknowledged only once the batch's `COMMIT` has returned, so an
//! acknowledged write is as durable as before (`synchronous = FULL`), and if the commit fails
//! every write of the batch gets the error. A write that fails rolls back to its own savepoint;
//! the writes before it in the batch are unaffected. Savepoints are not released one by one
//! (that would cost a statement per write): the batch's `COMMIT` releases them all.
//!
//! Alone, a write commits at once, exactly as without batching. Under load, the writes that
//! queue while one batch syncs form the next batch, so the cost of the sync and of handing
//! the connection over is shared among them.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqlitePool;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use steward_store::StoreError;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

use crate::error::database_error;

/// At most this many writes share one commit.
const MAX_BATCH_WRITES: usize = 256;

/// A batch older than this commits even while more writes are queued, bounding the latency a
/// write can gain from waiting for others.
const MAX_BATCH_AGE: Duration = Duration::from_millis(10);

/// A write that joined a batch and has heard nothing for this long takes the lock and commits
/// the batch itself (the writes meant to commit it may have been cancelled while queued).
const STALLED_BATCH: Duration = Duration::from_millis(50);

/// The name of savepoint `number` of a batch. Each write's is unique in its batch, so that
/// rolling back a write can never reach an earlier write's savepoint.
fn savepoint_name(number: u32) -> String {
    format!("steward_write_{number}")
}

/// Runs a savepoint statement; their names vary, so they are not kept as prepared statements.
async fn savepoint_statement(
    connection: &mut SqliteConnection,
    statement: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .persistent(false)
        .execute(connection)
        .await
        .map(|_| ())
}

/// The writer connection and the batch being filled on it.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    /// The pool holding the one writer connection.
    pool: SqlitePool,
    batch: Arc<Mutex<Batch>>,
    /// Writes waiting for the lock; the holder commits only when none are.
    waiting: AtomicUsize,
    /// The longest a batch stays open while writes keep queueing.
    max_batch_age: Duration,
    /// How long a finished write waits before it commits a batch nobody else committed.
    stalled_batch: Duration,
    /// Writes acknowledged and batches committed, for diagnostics.
    writes: AtomicU64,
    commits: AtomicU64,
}

/// How many writes the writer connection committed, and in how many commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Writes that were committed.
    pub writes: u64,
    /// `COMMIT`s (WAL syncs) that committed them.
    pub commits: u64,
}

/// The open transaction and the writes waiting for its commit.
#[derive(Debug, Default)]
struct Batch {
    transaction: Option<Transaction<'static, Sqlite>>,
    /// The savepoint of a write that has not finished: set before `SAVEPOINT` runs, cleared
    /// when the write joins the batch or is rolled back. A write cancelled in between leaves
    /// it set, and the next holder of the lock rolls back to it.
    unfinished: Option<u32>,
    /// The number of the next savepoint in this batch.
    next_savepoint: u32,
    /// One sender per finished write in this batch; each hears the commit's outcome.
    members: Vec<oneshot::Sender<Result<(), StoreError>>>,
    /// Counts commits, so a write can tell whether its batch is still open.
    epoch: u64,
    opened: Option<Instant>,
}

impl Batch {
    fn connection(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        self.transaction
            .as_deref_mut()
            .ok_or_else(|| StoreError::Backend("the write batch has no transaction".to_owned()))
    }
}

impl GroupCommit {
    pub(crate) fn new(pool: SqlitePool) -> Arc<Self> {
        Self::tuned(pool, MAX_BATCH_AGE, STALLED_BATCH)
    }

    fn tuned(pool: SqlitePool, max_batch_age: Duration, stalled_batch: Duration) -> Arc<Self> {
        Arc::new(Self {
            pool,
            batch: Arc::new(Mutex::new(Batch::default())),
            waiting: AtomicUsize::new(0),
            max_batch_age,
            stalled_batch,
            writes: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        })
    }

    /// Writes and commits so far.
    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            writes: self.writes.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// The pool of the writer connection, to close it.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write: waits for the writer, joins or opens the batch's transaction and opens
    /// this write's savepoint.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<WriteTx, StoreError> {
        let batch = {
            let mut queued = Queued::new(self);
            let batch = Arc::clone(&self.batch).lock_owned().await;
            queued.served = true;
            batch
        };
        // From here on a cancelled or failed start settles the batch like a failed write.
        let mut write = WriteTx {
            group: Arc::clone(self),
            batch: Some(batch),
        };
        match write.open().await {
            Ok(()) => Ok(write),
            Err(error) => write.fail(error).await,
        }
    }

    /// Commits whatever batch is open, waiting for the writer first; for shutdown and tests.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        let mut batch = self.batch.lock().await;
        undo_unfinished(&mut batch).await;
        commit_batch(self, &mut batch).await
    }
}

/// Counts a write as queued for the lock while it waits. A holder that sees it queued leaves
/// the batch open for it; if it is cancelled instead, it makes sure the batch does not stay
/// open with nobody to close it.
struct Queued<'a> {
    group: &'a Arc<GroupCommit>,
    served: bool,
}

impl<'a> Queued<'a> {
    fn new(group: &'a Arc<GroupCommit>) -> Self {
        group.waiting.fetch_add(1, Ordering::SeqCst);
        Self {
            group,
            served: false,
        }
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.group.waiting.fetch_sub(1, Ordering::SeqCst);
        if self.served {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let group = Arc::clone(self.group);
            runtime.spawn(async move {
                let batch = Arc::clone(&group.batch).lock_owned().await;
                settle(group, batch).await;
            });
        }
    }
}

/// One write in progress; derefs to the writer connection. [`WriteTx::commit`] makes it
/// durable; dropping it (an early error return, a cancelled request) rolls back only this
/// write.
#[derive(Debug)]
pub(crate) struct WriteTx {
    group: Arc<GroupCommit>,
    /// The writer lock, from begin until commit or failure.
    batch: Option<OwnedMutexGuard<Batch>>,
}

impl WriteTx {
    /// Undoes what a cancelled write left, opens the batch's transaction if none is open and
    /// makes this write's savepoint.
    async fn open(&mut self) -> Result<(), StoreError> {
        let Some(batch) = self.batch.as_mut() else {
            unreachable!("a write holds the writer until it ends")
        };
        undo_unfinished(batch).await;
        if batch.transaction.is_none() {
            let transaction = self
                .group
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(database_error)?;
            batch.transaction = Some(transaction);
            batch.opened = Some(Instant::now());
        }
        let number = batch.next_savepoint;
        batch.next_savepoint = number.wrapping_add(1);
        batch.unfinished = Some(number);
        let statement = format!("SAVEPOINT {}", savepoint_name(number));
        let opened = savepoint_statement(batch.connection()?, &statement).await;
        if let Err(error) = opened {
            let error = database_error(error);
            abandon(batch, &error).await;
            return Err(error);
        }
        Ok(())
    }

    /// Keeps this write's changes and returns once the batch holding them is committed.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let Some(mut batch) = self.batch.take() else {
            unreachable!("a write holds the writer until it ends")
        };
        batch.unfinished = None;
        let (sender, outcome) = oneshot::channel();
        batch.members.push(sender);
        let epoch = batch.epoch;
        if self.group.waiting.load(Ordering::SeqCst) == 0
            || batch.members.len() >= MAX_BATCH_WRITES
            || batch
                .opened
                .is_some_and(|opened| opened.elapsed() >= self.group.max_batch_age)
        {
            // In a task of its own, so that a cancelled caller cannot interrupt the commit of
            // the others' writes; every member, this one included, hears the outcome.
            let group = Arc::clone(&self.group);
            tokio::spawn(async move {
                let _ = commit_batch(&group, &mut batch).await;
            });
        } else {
            drop(batch);
        }
        wait_for_commit(&self.group, outcome, epoch).await
    }

    /// Rolls back this write and returns `error`, after settling the batch: when this write
    /// fails, the batch commits before the caller hears of it, so a caller that reads again
    /// and retries (optimistic concurrency) sees every write acknowledged before.
    pub(crate) async fn fail<T>(mut self, error: StoreError) -> Result<T, StoreError> {
        if let Some(batch) = self.batch.take() {
            let group = Arc::clone(&self.group);
            // Settled in a task, so that it completes even if this caller is cancelled.
            let _ = tokio::spawn(settle(group, batch)).await;
        }
        Err(error)
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.batch
            .as_ref()
            .and_then(|batch| batch.transaction.as_deref())
            .unwrap_or_else(|| unreachable!("a write holds the writer and its transaction"))
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.batch
            .as_mut()
            .and_then(|batch| batch.transaction.as_deref_mut())
            .unwrap_or_else(|| unreachable!("a write holds the writer and its transaction"))
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        // The rollback needs the connection, so it runs in a task that keeps the writer lock
        // until it is done: no other write can run in between. Without a runtime (only at
        // process exit) the lock is simply released; the next write, if any, undoes the
        // savepoint.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(settle(Arc::clone(&self.group), batch));
        }
    }
}

/// Undoes any unfinished write's savepoint, then commits the batch if writes are waiting for
/// its commit, or closes it if no write is queued to continue it.
async fn settle(group: Arc<GroupCommit>, mut batch: OwnedMutexGuard<Batch>) {
    undo_unfinished(&mut batch).await;
    if batch.transaction.is_some()
        && (!batch.members.is_empty() || group.waiting.load(Ordering::SeqCst) == 0)
    {
        let _ = commit_batch(&group, &mut batch).await;
    }
}

/// Rolls back to the savepoint of a write that did not finish, if any. If that savepoint was
/// never made (the write was cancelled before `SAVEPOINT` ran), there is nothing to undo; if
/// the connection cannot even say that, the batch is abandoned.
async fn undo_unfinished(batch: &mut Batch) {
    let Some(number) = batch.unfinished.take() else {
        return;
    };
    let Ok(connection) = batch.connection() else {
        return;
    };
    let name = savepoint_name(number);
    let undone = match savepoint_statement(&mut *connection, &format!("ROLLBACK TO {name}")).await {
        Ok(()) => savepoint_statement(connection, &format!("RELEASE {name}"))
            .await
            .map_err(database_error),
        Err(sqlx::Error::Database(error)) if error.message().contains("no such savepoint") => {
            Ok(())
        }
        Err(error) => Err(database_error(error)),
    };
    if let Err(error) = undone {
        tracing::warn!(%error, "cannot roll back a failed write; abandoning its batch");
        abandon(batch, &error).await;
    }
}

/// Commits the open batch and tells every member the outcome.
async fn commit_batch(group: &GroupCommit, batch: &mut Batch) -> Result<(), StoreError> {
    let members = std::mem::take(&mut batch.members);
    batch.epoch = batch.epoch.wrapping_add(1);
    batch.opened = None;
    batch.next_savepoint = 0;
    let outcome = match batch.transaction.take() {
        Some(transaction) => transaction.commit().await.map_err(database_error),
        None => Ok(()),
    };
    if outcome.is_ok() && !members.is_empty() {
        group.commits.fetch_add(1, Ordering::Relaxed);
        group
            .writes
            .fetch_add(members.len() as u64, Ordering::Relaxed);
    }
    if let Err(error) = &outcome {
        tracing::warn!(%error, writes = members.len(), "batch commit failed");
    }
    for member in members {
        let _ = member.send(outcome.clone());
    }
    outcome
}

/// Gives up on a batch whose connection is in an unknown state: rolls it back and tells its
/// members why.
async fn abandon(batch: &mut Batch, error: &StoreError) {
    let members = std::mem::take(&mut batch.members);
    batch.epoch = batch.epoch.wrapping_add(1);
    batch.opened = None;
    batch.unfinished = None;
    batch.next_savepoint = 0;
    if let Some(transaction) = batch.transaction.take() {
        if let Err(rollback) = transaction.rollback().await {
            tracing::warn!(error = %rollback, "cannot roll back an abandoned batch");
        }
    }
    for member in members {
        let _ = member.send(Err(error.clone()));
    }
}

/// Waits for the commit of batch `epoch`; if it stalls, commits it.
async fn wait_for_commit(
    group: &Arc<GroupCommit>,
    mut outcome: oneshot::Receiver<Result<(), StoreError>>,
    epoch: u64,
) -> Result<(), StoreError> {
    loop {
        match tokio::time::timeout(group.stalled_batch, &mut outcome).await {
            Ok(Ok(result)) => return result,
            Ok(Err(_)) => {
                return Err(StoreError::Unavailable(
                    "the writer stopped before this write was committed".to_owned(),
                ))
            }
            Err(_) => {
                let batch = Arc::clone(&group.batch).lock_owned().await;
                if batch.epoch == epoch {
                    tokio::spawn(settle(Arc::clone(group), batch));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    const LONG: Duration = Duration::from_secs(600);

    async fn open_pool(path: &Path) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(2));
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap()
    }

    /// A writer over a fresh file with table `t (id INTEGER PRIMARY KEY)`, whose batches never
    /// close on age or stall, so only the queue decides when to commit; and a second,
    /// independent connection to look at the file from outside.
    async fn setup(dir: &Path) -> (Arc<GroupCommit>, SqlitePool) {
        let path = dir.join("w.db");
        let pool = open_pool(&path).await;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let outside = open_pool(&path).await;
        (GroupCommit::tuned(pool, LONG, LONG), outside)
    }

    async fn insert(write: &mut WriteTx, id: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO t (id) VALUES (?)")
            .bind(id)
            .execute(&mut **write)
            .await
            .map(|_| ())
            .map_err(database_error)
    }

    async fn committed_ids(outside: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(outside)
            .await
            .unwrap()
    }

    async fn until_waiting(group: &GroupCommit, count: usize) {
        tokio::time::timeout(Duration::from_secs(30), async {
            while group.waiting.load(Ordering::SeqCst) != count {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("writes should queue");
    }

    /// Starts a write in a task: insert `id`, then commit.
    fn spawn_insert(
        group: &Arc<GroupCommit>,
        id: i64,
    ) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let group = Arc::clone(group);
        tokio::spawn(async move {
            let mut write = group.begin().await?;
            match insert(&mut write, id).await {
                Ok(()) => write.commit().await,
                Err(error) => write.fail(error).await,
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_behind_a_write_share_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (group, outside) = setup(dir.path()).await;
        let mut first = group.begin().await.unwrap();
        insert(&mut first, 0).await.unwrap();
        let queued: Vec<_> = (1..=10).map(|id| spawn_insert(&group, id)).collect();
        until_waiting(&group, 10).await;
        // Not committed yet: others are queued, and the batch is theirs to finish.
        let first = tokio::spawn(first.commit());
        for write in queued {
            write.await.unwrap().unwrap();
        }
        first.await.unwrap().unwrap();
        assert_eq!(committed_ids(&outside).await, (0..=10).collect::<Vec<_>>());
        assert_eq!(
            group.stats(),
            WriteStats {
                writes: 11,
                commits: 1
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lone_write_commits_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (group, outside) = setup(dir.path()).await;
        for id in 0..3 {
            spawn_insert(&group, id).await.unwrap().unwrap();
            // Acknowledged means committed: another connection sees it now.
            assert_eq!(committed_ids(&outside).await.len() as i64, id + 1);
        }
        assert_eq!(group.stats().commits, 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_rolls_back_alone_and_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (group, outside) = setup(dir.path()).await;
        let mut first = group.begin().await.unwrap();
        insert(&mut first, 1).await.unwrap();
        let duplicate = spawn_insert(&group, 1);
        until_waiting(&group, 1).await;
        let second = spawn_insert(&group, 2);
        until_waiting(&group, 2).await;
        let first = tokio::spawn(first.commit());
        assert!(duplicate.await.unwrap().is_err());
        second.await.unwrap().unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(committed_ids(&outside).await, vec![1, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_write_is_undone_and_frees_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let (group, outside) = setup(dir.path()).await;
        let mut write = group.begin().await.unwrap();
        insert(&mut write, 5).await.unwrap();
        drop(write);
        // Another connection can write (the batch's lock is gone) and 5 was never written.
        let mut other = outside.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES (6)")
            .execute(&mut *other)
            .await
            .unwrap();
        other.commit().await.unwrap();
        assert_eq!(committed_ids(&outside).await, vec![6]);
        // The writer still works.
        spawn_insert(&group, 7).await.unwrap().unwrap();
        assert_eq!(committed_ids(&outside).await, vec![6, 7]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_queued_write_does_not_strand_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (group, outside) = setup(dir.path()).await;
        let mut first = group.begin().await.unwrap();
        insert(&mut first, 1).await.unwrap();
        let cancelled = spawn_insert(&group, 2);
        until_waiting(&group, 1).await;
        // The first write leaves the commit to the queued one, which then goes away.
        let first = tokio::spawn(first.commit());
        cancelled.abort();
        let outcome = tokio::time::timeout(Duration::from_secs(30), first)
            .await
            .expect("the batch should commit without the cancelled write");
        outcome.unwrap().unwrap();
        assert!(committed_ids(&outside).await.contains(&1));
    }
}
