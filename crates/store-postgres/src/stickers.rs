//! Stickers: one per (twin, account, colour), with recipients indexed for listing.
//!
//! A sticker row holds its recipients as a JSON array (what reads return); `sticker_recipients`
//! holds one row per recipient, the index listings go through. Both are written in one
//! transaction, and the index rows are deleted with their sticker by `ON DELETE CASCADE`.

use sqlx::error::ErrorKind;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use steward_domain::{
    AccountId, Event, Sticker, Timestamp, TwinId, STICKER_EXPIRED, STICKER_PUT, STICKER_REMOVED,
};
use steward_store::columns::{decode_json, decode_optional_json};
use steward_store::{ChangeSignal, Entity, StickerQuery, StoreError};
use uuid::Uuid;

use crate::error::database_error;
use crate::events::append_events;
use crate::rows::{encode_json, encode_optional_json};
use crate::signals::{send_signal, send_signals};
use crate::PostgresStore;

const STICKER_COLUMNS: &str =
    "twin_id, account_id, color, note, recipients, publish, validity_ts, created_ts";

/// How often a put is tried again after a concurrent put created the same colour first.
const PUT_ATTEMPTS: usize = 8;

/// A sticker row as PostgreSQL returns it.
#[derive(Debug, sqlx::FromRow)]
struct StickerRow {
    twin_id: Uuid,
    account_id: Uuid,
    color: String,
    note: String,
    recipients: String,
    publish: Option<String>,
    validity_ts: i64,
    created_ts: i64,
}

impl TryFrom<StickerRow> for Sticker {
    type Error = StoreError;

    fn try_from(row: StickerRow) -> Result<Self, StoreError> {
        Ok(Sticker {
            twin: TwinId::from_uuid(row.twin_id),
            account: AccountId::from_uuid(row.account_id),
            color: row.color,
            note: row.note,
            recipients: decode_json(&row.recipients, "sticker recipients")?,
            publish: decode_optional_json(row.publish, "sticker publish")?,
            validity_ts: Timestamp::from_millis(row.validity_ts),
            created_ts: Timestamp::from_millis(row.created_ts),
        })
    }
}

/// Putting a sticker under an account other than its own is a caller bug; refusing it keeps
/// one account from writing another's stickers. A NUL character is refused on every backend
/// alike (PostgreSQL text cannot hold one).
fn ensure_storable(account: AccountId, sticker: &Sticker) -> Result<(), StoreError> {
    if sticker.account != account {
        return Err(StoreError::Backend(
            "sticker to put belongs to another account".to_owned(),
        ));
    }
    if sticker.note.contains('\0') || sticker.color.contains('\0') {
        return Err(StoreError::Backend(
            "sticker note or colour contains a NUL character".to_owned(),
        ));
    }
    Ok(())
}

/// The recipients without repetitions, in their first order: the index holds each once.
fn distinct_recipients(recipients: &[Uuid]) -> Vec<Uuid> {
    let mut distinct: Vec<Uuid> = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        if !distinct.contains(recipient) {
            distinct.push(*recipient);
        }
    }
    distinct
}

fn rows_to_stickers(rows: Vec<StickerRow>) -> Result<Vec<Sticker>, StoreError> {
    rows.into_iter().map(Sticker::try_from).collect()
}

/// What a failed put attempt means.
enum PutFailure {
    /// A concurrent put created the same colour after this transaction's snapshot: try again.
    Raced,
    /// Anything else, final.
    Failed(StoreError),
}

fn classify_insert_error(error: sqlx::Error) -> PutFailure {
    if let sqlx::Error::Database(database) = &error {
        match database.kind() {
            ErrorKind::UniqueViolation => return PutFailure::Raced,
            ErrorKind::ForeignKeyViolation => {
                let missing = if database
                    .constraint()
                    .is_some_and(|name| name.contains("twin"))
                {
                    Entity::Twin
                } else {
                    Entity::Account
                };
                return PutFailure::Failed(StoreError::NotFound(missing));
            }
            _ => {}
        }
    }
    PutFailure::Failed(database_error(error))
}

impl PostgresStore {
    pub(crate) async fn put_sticker_rows(
        &self,
        account: AccountId,
        stickers: &[Sticker],
    ) -> Result<Vec<Option<Sticker>>, StoreError> {
        for sticker in stickers {
            ensure_storable(account, sticker)?;
        }
        for _ in 0..PUT_ATTEMPTS {
            match self.try_put_stickers(account, stickers).await {
                Ok(previous) => {
                    return previous
                        .into_iter()
                        .map(|row| row.map(Sticker::try_from).transpose())
                        .collect()
                }
                Err(PutFailure::Raced) => continue,
                Err(PutFailure::Failed(error)) => return Err(error),
            }
        }
        Err(StoreError::Conflict(Entity::Sticker))
    }

    /// One attempt, in one transaction: per sticker, delete the current sticker of the colour
    /// (locking it, so concurrent puts of an existing colour queue up), insert the new one and
    /// its recipients. A put racing with the first put of a colour fails the insert with a
    /// unique violation; the whole transaction is then dropped and tried again.
    async fn try_put_stickers(
        &self,
        account: AccountId,
        stickers: &[Sticker],
    ) -> Result<Vec<Option<StickerRow>>, PutFailure> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|error| PutFailure::Failed(database_error(error)))?;
        let mut replaced = Vec::with_capacity(stickers.len());
        for sticker in stickers {
            let recipients = encode_json(&sticker.recipients).map_err(PutFailure::Failed)?;
            let publish =
                encode_optional_json(sticker.publish.as_ref()).map_err(PutFailure::Failed)?;
            let previous: Option<StickerRow> = sqlx::query_as(&format!(
                "DELETE FROM stickers WHERE twin_id = $1 AND account_id = $2 AND color = $3 \
                 RETURNING {STICKER_COLUMNS}"
            ))
            .bind(sticker.twin.as_uuid())
            .bind(account.as_uuid())
            .bind(&sticker.color)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|error| PutFailure::Failed(database_error(error)))?;
            sqlx::query(
                "INSERT INTO stickers \
                 (twin_id, account_id, color, note, recipients, publish, validity_ts, created_ts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(sticker.twin.as_uuid())
            .bind(account.as_uuid())
            .bind(&sticker.color)
            .bind(&sticker.note)
            .bind(&recipients)
            .bind(publish.as_deref())
            .bind(sticker.validity_ts.as_millis())
            .bind(sticker.created_ts.as_millis())
            .execute(&mut *tx)
            .await
            .map_err(classify_insert_error)?;
            Self::insert_recipients(&mut tx, account, sticker)
                .await
                .map_err(PutFailure::Failed)?;
            replaced.push(previous);
        }
        send_signals(
            &mut tx,
            stickers
                .iter()
                .map(|sticker| ChangeSignal::Twin(sticker.twin)),
        )
        .await
        .map_err(PutFailure::Failed)?;
        let events: Vec<Event> = stickers
            .iter()
            .map(|sticker| Event::sticker(STICKER_PUT, sticker, sticker.created_ts))
            .collect();
        // Last: it holds the event counter's lock until COMMIT.
        append_events(&mut tx, &events)
            .await
            .map_err(PutFailure::Failed)?;
        tx.commit()
            .await
            .map_err(|error| PutFailure::Failed(database_error(error)))?;
        Ok(replaced)
    }

    async fn insert_recipients(
        connection: &mut PgConnection,
        account: AccountId,
        sticker: &Sticker,
    ) -> Result<(), StoreError> {
        let recipients = distinct_recipients(&sticker.recipients);
        if recipients.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO sticker_recipients (twin_id, account_id, color, recipient) \
             SELECT $1, $2, $3, recipient FROM UNNEST($4::uuid[]) AS recipient",
        )
        .bind(sticker.twin.as_uuid())
        .bind(account.as_uuid())
        .bind(&sticker.color)
        .bind(&recipients)
        .execute(connection)
        .await
        .map_err(database_error)?;
        Ok(())
    }

    pub(crate) async fn get_sticker_row(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
    ) -> Result<Sticker, StoreError> {
        let row: Option<StickerRow> = sqlx::query_as(&format!(
            "SELECT {STICKER_COLUMNS} FROM stickers \
             WHERE twin_id = $1 AND account_id = $2 AND color = $3"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .bind(color)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Sticker))?.try_into()
    }

    pub(crate) async fn list_sticker_rows(
        &self,
        query: &StickerQuery,
    ) -> Result<Vec<Sticker>, StoreError> {
        let recipients = distinct_recipients(&query.recipients);
        if recipients.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        if query.creators.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        // The stickers addressed to one of the recipients come from sticker_recipients by its
        // recipient index; the other filters and the order apply to that set only.
        let mut select = QueryBuilder::<Postgres>::new(format!(
            "SELECT {STICKER_COLUMNS} FROM stickers \
             WHERE (twin_id, account_id, color) IN \
             (SELECT twin_id, account_id, color FROM sticker_recipients \
              WHERE recipient = ANY("
        ));
        select.push_bind(recipients);
        select.push(")) AND validity_ts > ");
        select.push_bind(query.now.as_millis());
        if let Some(creators) = &query.creators {
            let creators: Vec<Uuid> = creators.iter().map(AccountId::as_uuid).collect();
            select
                .push(" AND account_id = ANY(")
                .push_bind(creators)
                .push(")");
        }
        if let Some(twin) = query.twin {
            select.push(" AND twin_id = ").push_bind(twin.as_uuid());
        }
        if let Some(color) = &query.color {
            select.push(" AND color = ").push_bind(color.clone());
        }
        if let Some(ge) = query.ge {
            select.push(" AND created_ts >= ").push_bind(ge.as_millis());
        }
        if let Some(le) = query.le {
            select.push(" AND created_ts <= ").push_bind(le.as_millis());
        }
        // `COLLATE "C"` orders colours by bytes, as SQLite does, whatever the database's
        // default collation; uuids order the same on both (lowercase hex text in SQLite).
        select
            .push(
                " ORDER BY created_ts DESC, account_id DESC, twin_id DESC, \
                 color COLLATE \"C\" DESC LIMIT ",
            )
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(query.offset));
        let rows: Vec<StickerRow> = select
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database_error)?;
        rows_to_stickers(rows)
    }

    pub(crate) async fn remove_sticker_row(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
        recipients: &[Uuid],
        now: Timestamp,
    ) -> Result<Sticker, StoreError> {
        let recipients = distinct_recipients(recipients);
        if recipients.is_empty() {
            return Err(StoreError::NotFound(Entity::Sticker));
        }
        // One DELETE: a concurrent remover waits for the row lock of the first, then finds the
        // row gone and deletes nothing, so exactly one gets the sticker.
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let removed: Option<StickerRow> = sqlx::query_as(&format!(
            "DELETE FROM stickers \
             WHERE twin_id = $1 AND account_id = $2 AND color = $3 AND validity_ts > $4 \
             AND EXISTS (SELECT 1 FROM sticker_recipients AS r \
                 WHERE r.twin_id = stickers.twin_id AND r.account_id = stickers.account_id \
                 AND r.color = stickers.color AND r.recipient = ANY($5)) \
             RETURNING {STICKER_COLUMNS}"
        ))
        .bind(twin.as_uuid())
        .bind(account.as_uuid())
        .bind(color)
        .bind(now.as_millis())
        .bind(&recipients)
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        // Nothing removed: dropping the transaction ends it without writing.
        let removed = Sticker::try_from(removed.ok_or(StoreError::NotFound(Entity::Sticker))?)?;
        send_signal(&mut tx, ChangeSignal::Twin(removed.twin)).await?;
        append_events(&mut tx, &[Event::sticker(STICKER_REMOVED, &removed, now)]).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(removed)
    }

    pub(crate) async fn remove_expired_sticker_rows(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Sticker>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // SKIP LOCKED: concurrent callers claim disjoint rows instead of waiting for each
        // other; a row another caller deleted is neither locked nor returned here.
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let rows: Vec<StickerRow> = sqlx::query_as(&format!(
            "DELETE FROM stickers WHERE (twin_id, account_id, color) IN \
             (SELECT twin_id, account_id, color FROM stickers WHERE validity_ts <= $1 \
              ORDER BY validity_ts LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING {STICKER_COLUMNS}"
        ))
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(database_error)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut removed = rows_to_stickers(rows)?;
        // RETURNING has no order of its own; log the expiries oldest first.
        removed.sort_by_cached_key(|sticker| {
            (
                sticker.validity_ts,
                sticker.twin,
                sticker.account,
                sticker.color.clone(),
            )
        });
        send_signal(&mut tx, ChangeSignal::Events).await?;
        let events: Vec<Event> = removed
            .iter()
            .map(|sticker| Event::sticker(STICKER_EXPIRED, sticker, now))
            .collect();
        append_events(&mut tx, &events).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(removed)
    }
}
