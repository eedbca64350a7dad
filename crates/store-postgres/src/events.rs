//! The event log (migration 0012): events written in the transactions of the changes they
//! describe, and named cursors of its readers.
//!
//! Ids come from the one-row `event_counter`. A writing transaction appends its events as its
//! last statement before COMMIT: one statement adds their number to the counter and inserts
//! them numbered up to the new value. The counter's row lock is held from there to COMMIT, so
//! writers of events queue only for their commit tails, commit in id order, and a reader that
//! has seen id `n` can never later see a smaller id appear.

use sqlx::PgConnection;
use steward_domain::{AccountId, Delivery, Event, Timestamp, TwinId};
use steward_store::columns::{corrupt, decode_json, encode_json, prefix_end};
use steward_store::StoreError;
use uuid::Uuid;

use crate::error::database_error;
use crate::PostgresStore as Store;

/// An event row as PostgreSQL returns it.
#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    id: i64,
    ts: i64,
    twin_id: Uuid,
    account_id: Uuid,
    trigger: String,
    body: String,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            id: u64::try_from(row.id).map_err(|_| corrupt("event id", row.id))?,
            ts: Timestamp::from_millis(row.ts),
            twin: TwinId::from_uuid(row.twin_id),
            account: AccountId::from_uuid(row.account_id),
            trigger: row.trigger,
            body: decode_json(&row.body, "event body")?,
        })
    }
}

/// A log position as the BIGINT columns hold it; positions past `i64::MAX` cannot be stored.
fn stored_position(position: u64) -> Result<i64, StoreError> {
    i64::try_from(position)
        .map_err(|_| StoreError::Backend(format!("event position {position} is out of range")))
}

/// Appends `events` to the log inside the caller's transaction, numbering them after the newest
/// id ever assigned (their `id` fields are ignored). Call it as the last statement before
/// COMMIT: it locks the counter row until the transaction ends. No events, no statement: the
/// counter is touched only by transactions that write events.
pub(crate) async fn append_events(
    connection: &mut PgConnection,
    events: &[Event],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(events.len())
        .map_err(|_| StoreError::Backend("too many events in one transaction".to_owned()))?;
    let mut timestamps = Vec::with_capacity(events.len());
    let mut twins = Vec::with_capacity(events.len());
    let mut accounts = Vec::with_capacity(events.len());
    let mut triggers = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        timestamps.push(event.ts.as_millis());
        twins.push(event.twin.as_uuid());
        accounts.push(event.account.as_uuid());
        triggers.push(event.trigger.clone());
        bodies.push(encode_json(&event.body)?);
    }
    // One statement takes the ids and stores the events: the counter's row lock is taken as
    // late as possible. The n-th event of the arrays gets id last_id - count + n.
    sqlx::query(
        "WITH counter AS ( \
             UPDATE event_counter SET last_id = last_id + $1 RETURNING last_id) \
         INSERT INTO events (id, ts, twin_id, account_id, trigger, body) \
         SELECT counter.last_id - $1 + e.n, e.ts, e.twin_id, e.account_id, e.trigger, e.body \
         FROM counter, UNNEST($2::BIGINT[], $3::UUID[], $4::UUID[], $5::TEXT[], $6::TEXT[]) \
             WITH ORDINALITY AS e (ts, twin_id, account_id, trigger, body, n)",
    )
    .bind(count)
    .bind(timestamps)
    .bind(twins)
    .bind(accounts)
    .bind(triggers)
    .bind(bodies)
    .execute(connection)
    .await
    .map_err(database_error)?;
    Ok(())
}

impl Store {
    pub(crate) async fn list_event_rows(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        // No stored id is past i64::MAX, so nothing comes after such a position.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, ts, twin_id, account_id, trigger, body FROM events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(Event::try_from).collect()
    }

    pub(crate) async fn last_event_row_id(&self) -> Result<u64, StoreError> {
        let last_id: i64 = sqlx::query_scalar("SELECT last_id FROM event_counter")
            .fetch_one(&self.pool)
            .await
            .map_err(database_error)?;
        u64::try_from(last_id).map_err(|_| corrupt("event counter", last_id))
    }

    pub(crate) async fn prune_event_rows(
        &self,
        before: Timestamp,
        up_to: u64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        // Only a prefix of the log, up to the first event not old enough: `ts` is taken before
        // commit, so it is not quite monotonic in id, and deleting by age alone could leave a
        // hole that a resuming reader would cross without noticing.
        let oldest: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, ts FROM events WHERE id <= $1 ORDER BY id LIMIT $2")
                .bind(up_to)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(database_error)?;
        let Some(cut) = prefix_end(&oldest, before) else {
            return Ok(0);
        };
        let deleted = sqlx::query("DELETE FROM events WHERE id <= $1")
            .bind(cut)
            .execute(&self.pool)
            .await
            .map_err(database_error)?;
        Ok(deleted.rows_affected())
    }

    pub(crate) async fn get_event_cursor_row(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM event_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(database_error)?;
        let position = position.unwrap_or(0);
        u64::try_from(position).map_err(|_| corrupt("event cursor", position))
    }

    pub(crate) async fn advance_event_cursor_row(
        &self,
        name: &str,
        from: u64,
        to: u64,
        deliveries: &[Delivery],
    ) -> Result<bool, StoreError> {
        let from = stored_position(from)?;
        let to = stored_position(to)?;
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        // One statement compares and sets. Racing movers queue on the row lock (or, for a first
        // move, on the speculative insert); once the first commits, the others evaluate their
        // condition against its new row and change nothing.
        let moved = if from == 0 {
            // A missing row is position 0: insert it, or move a row still at 0.
            sqlx::query(
                "INSERT INTO event_cursors (name, position) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position \
                 WHERE event_cursors.position = 0",
            )
            .bind(name)
            .bind(to)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query("UPDATE event_cursors SET position = $1 WHERE name = $2 AND position = $3")
                .bind(to)
                .bind(name)
                .bind(from)
                .execute(&mut *tx)
                .await
        }
        .map_err(database_error)?;
        if moved.rows_affected() == 0 {
            // Dropping the transaction stores nothing.
            return Ok(false);
        }
        if !deliveries.is_empty() {
            Self::insert_deliveries(&mut tx, deliveries).await?;
        }
        tx.commit().await.map_err(database_error)?;
        Ok(true)
    }
}
