//! The event log (migration 0012): events written in the transactions of the changes they
//! describe, and named cursors of its readers.
//!
//! Ids come from the one-row `event_counter`: a transaction that writes `n` events adds `n` to
//! it and numbers its events up to the new value. SQLite's single writer (every writing
//! transaction starts with `BEGIN IMMEDIATE`) makes the ids consecutive and increasing in
//! commit order; the scheme is the same as on PostgreSQL, where the counter's row lock does it.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use steward_domain::{Delivery, Event, Timestamp};
use steward_store::columns::{corrupt, decode_json, encode_json, prefix_end};
use steward_store::StoreError;

use crate::error::database_error;
use crate::rows::parse_id;
use crate::SqliteStore as Store;

/// Rows per multi-row INSERT: 6 bound values each stays far below SQLite's variable limit.
const INSERT_CHUNK_ROWS: usize = 500;

/// An event row as SQLite returns it.
#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    id: i64,
    ts: i64,
    twin_id: String,
    account_id: String,
    trigger: String,
    body: String,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            id: u64::try_from(row.id).map_err(|_| corrupt("event id", row.id))?,
            ts: Timestamp::from_millis(row.ts),
            twin: parse_id(&row.twin_id, "event twin")?,
            account: parse_id(&row.account_id, "event account")?,
            trigger: row.trigger,
            body: decode_json(&row.body, "event body")?,
        })
    }
}

/// A log position as the INTEGER columns hold it; positions past `i64::MAX` cannot be stored.
fn stored_position(position: u64) -> Result<i64, StoreError> {
    i64::try_from(position)
        .map_err(|_| StoreError::Backend(format!("event position {position} is out of range")))
}

/// Appends `events` to the log inside the caller's write transaction, numbering them after the
/// newest id ever assigned (their `id` fields are ignored). No events, no statement: the
/// counter is touched only by transactions that write events.
pub(crate) async fn append_events(
    connection: &mut SqliteConnection,
    events: &[Event],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let bodies = events
        .iter()
        .map(|event| encode_json(&event.body))
        .collect::<Result<Vec<String>, StoreError>>()?;
    let count = i64::try_from(events.len())
        .map_err(|_| StoreError::Backend("too many events in one transaction".to_owned()))?;
    let last_id: i64 = sqlx::query_scalar(
        "UPDATE event_counter SET last_id = last_id + ? WHERE only_row = 1 RETURNING last_id",
    )
    .bind(count)
    .fetch_one(&mut *connection)
    .await
    .map_err(database_error)?;
    let numbered: Vec<(i64, &Event, String)> = (last_id - count + 1..)
        .zip(events.iter().zip(bodies))
        .map(|(id, (event, body))| (id, event, body))
        .collect();
    for chunk in numbered.chunks(INSERT_CHUNK_ROWS) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (id, ts, twin_id, account_id, trigger, body) ",
        );
        insert.push_values(chunk, |mut row, (id, event, body)| {
            row.push_bind(*id)
                .push_bind(event.ts.as_millis())
                .push_bind(event.twin.to_string())
                .push_bind(event.account.to_string())
                .push_bind(event.trigger.clone())
                .push_bind(body.clone());
        });
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
    }
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
             WHERE id > ? ORDER BY id LIMIT ?",
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
        let mut tx = self.begin_write().await?;
        // Only a prefix of the log, up to the first event not old enough: `ts` is taken before
        // commit, so it is not quite monotonic in id, and deleting by age alone could leave a
        // hole that a resuming reader would cross without noticing.
        let oldest: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, ts FROM events WHERE id <= ? ORDER BY id LIMIT ?")
                .bind(up_to)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(database_error)?;
        let Some(cut) = prefix_end(&oldest, before) else {
            return Ok(0);
        };
        let deleted = sqlx::query("DELETE FROM events WHERE id <= ?")
            .bind(cut)
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }

    pub(crate) async fn get_event_cursor_row(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM event_cursors WHERE name = ?")
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
        // The write lock (BEGIN IMMEDIATE) makes the compare and the set one step.
        let mut tx = self.begin_write().await?;
        let moved = if from == 0 {
            // A missing row is position 0: insert it, or move a row still at 0.
            sqlx::query(
                "INSERT INTO event_cursors (name, position) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position \
                 WHERE event_cursors.position = 0",
            )
            .bind(name)
            .bind(to)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query("UPDATE event_cursors SET position = ? WHERE name = ? AND position = ?")
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
        tx.commit().await?;
        Ok(true)
    }
}
