//! Stickers: one per (twin, account, colour), with recipients indexed for listing.
//!
//! A sticker row holds its recipients as a JSON array (what reads return); `sticker_recipients`
//! holds one row per recipient, the index listings go through. Both are written in one
//! `BEGIN IMMEDIATE` transaction, and the index rows are deleted with their sticker by
//! `ON DELETE CASCADE`.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use steward_domain::{
    AccountId, Event, Sticker, Timestamp, TwinId, STICKER_EXPIRED, STICKER_PUT, STICKER_REMOVED,
};
use steward_store::{Entity, StickerQuery, StoreError};
use uuid::Uuid;

use crate::error::{corrupt, database_error};
use crate::events::append_events;
use crate::rows::{encode_json, encode_optional_json};
use crate::SqliteStore;
use steward_store::columns::{decode_json, decode_optional_json};

const STICKER_COLUMNS: &str =
    "twin_id, account_id, color, note, recipients, publish, validity_ts, created_ts";

/// A sticker row as SQLite returns it.
#[derive(Debug, sqlx::FromRow)]
struct StickerRow {
    twin_id: String,
    account_id: String,
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
            twin: row
                .twin_id
                .parse()
                .map_err(|_| corrupt("sticker twin id", &row.twin_id))?,
            account: row
                .account_id
                .parse()
                .map_err(|_| corrupt("sticker account id", &row.account_id))?,
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

impl SqliteStore {
    pub(crate) async fn put_sticker_rows(
        &self,
        account: AccountId,
        stickers: &[Sticker],
    ) -> Result<Vec<Option<Sticker>>, StoreError> {
        for sticker in stickers {
            ensure_storable(account, sticker)?;
        }
        // BEGIN IMMEDIATE serialises puts: the replaced stickers read here are the ones this
        // transaction deletes, and no other put of the same colours slips in between. All
        // stickers of the request are stored, or none.
        let mut tx = self.begin_write().await?;
        let mut replaced = Vec::with_capacity(stickers.len());
        for sticker in stickers {
            let recipients = encode_json(&sticker.recipients)?;
            let publish = encode_optional_json(sticker.publish.as_ref())?;
            let previous: Option<StickerRow> = sqlx::query_as(&format!(
                "DELETE FROM stickers WHERE twin_id = ? AND account_id = ? AND color = ? \
                 RETURNING {STICKER_COLUMNS}"
            ))
            .bind(sticker.twin.to_string())
            .bind(account.to_string())
            .bind(&sticker.color)
            .fetch_optional(&mut *tx)
            .await
            .map_err(database_error)?;
            let inserted = sqlx::query(
                "INSERT INTO stickers \
                 (twin_id, account_id, color, note, recipients, publish, validity_ts, created_ts) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(sticker.twin.to_string())
            .bind(account.to_string())
            .bind(&sticker.color)
            .bind(&sticker.note)
            .bind(&recipients)
            .bind(&publish)
            .bind(sticker.validity_ts.as_millis())
            .bind(sticker.created_ts.as_millis())
            .execute(&mut *tx)
            .await;
            if let Err(error) = inserted {
                if is_foreign_key_violation(&error) {
                    return Err(Self::missing_sticker_reference(&mut tx, sticker.twin).await);
                }
                return Err(database_error(error));
            }
            Self::insert_recipients(&mut tx, account, sticker).await?;
            replaced.push(previous.map(Sticker::try_from).transpose()?);
        }
        let events: Vec<Event> = stickers
            .iter()
            .map(|sticker| Event::sticker(STICKER_PUT, sticker, sticker.created_ts))
            .collect();
        append_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    async fn insert_recipients(
        tx: &mut SqliteConnection,
        account: AccountId,
        sticker: &Sticker,
    ) -> Result<(), StoreError> {
        let recipients = distinct_recipients(&sticker.recipients);
        if recipients.is_empty() {
            return Ok(());
        }
        let twin = sticker.twin.to_string();
        let account = account.to_string();
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sticker_recipients (twin_id, account_id, color, recipient) ",
        );
        insert.push_values(&recipients, |mut row, recipient| {
            row.push_bind(twin.clone())
                .push_bind(account.clone())
                .push_bind(sticker.color.clone())
                .push_bind(recipient.hyphenated().to_string());
        });
        insert
            .build()
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        Ok(())
    }

    /// Says which reference of a refused sticker insert is missing. SQLite does not name the
    /// violated foreign key, so look: the twin first, else the account.
    async fn missing_sticker_reference(tx: &mut SqliteConnection, twin: TwinId) -> StoreError {
        let twin_exists: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM twins WHERE id = ?)")
                .bind(twin.to_string())
                .fetch_one(&mut *tx)
                .await;
        match twin_exists {
            Ok(false) => StoreError::NotFound(Entity::Twin),
            Ok(true) => StoreError::NotFound(Entity::Account),
            Err(error) => database_error(error),
        }
    }

    pub(crate) async fn get_sticker_row(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
    ) -> Result<Sticker, StoreError> {
        let row: Option<StickerRow> = sqlx::query_as(&format!(
            "SELECT {STICKER_COLUMNS} FROM stickers \
             WHERE twin_id = ? AND account_id = ? AND color = ?"
        ))
        .bind(twin.to_string())
        .bind(account.to_string())
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
        let mut select = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {STICKER_COLUMNS} FROM stickers \
             WHERE (twin_id, account_id, color) IN \
             (SELECT twin_id, account_id, color FROM sticker_recipients WHERE recipient IN ("
        ));
        let mut separated = select.separated(", ");
        for recipient in &recipients {
            separated.push_bind(recipient.hyphenated().to_string());
        }
        select.push(")) AND validity_ts > ");
        select.push_bind(query.now.as_millis());
        if let Some(creators) = &query.creators {
            select.push(" AND account_id IN (");
            let mut separated = select.separated(", ");
            for creator in creators {
                separated.push_bind(creator.to_string());
            }
            select.push(")");
        }
        if let Some(twin) = query.twin {
            select.push(" AND twin_id = ").push_bind(twin.to_string());
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
        select
            .push(
                " ORDER BY created_ts DESC, account_id DESC, twin_id DESC, color DESC \
                 LIMIT ",
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
        // One DELETE under the write lock: of concurrent removers exactly one finds the row.
        let mut delete = QueryBuilder::<Sqlite>::new("DELETE FROM stickers WHERE twin_id = ");
        delete
            .push_bind(twin.to_string())
            .push(" AND account_id = ")
            .push_bind(account.to_string())
            .push(" AND color = ")
            .push_bind(color.to_owned())
            .push(" AND validity_ts > ")
            .push_bind(now.as_millis())
            .push(
                " AND EXISTS (SELECT 1 FROM sticker_recipients AS r \
                 WHERE r.twin_id = stickers.twin_id AND r.account_id = stickers.account_id \
                 AND r.color = stickers.color AND r.recipient IN (",
            );
        let mut separated = delete.separated(", ");
        for recipient in &recipients {
            separated.push_bind(recipient.hyphenated().to_string());
        }
        delete.push(format!(")) RETURNING {STICKER_COLUMNS}"));
        let mut tx = self.begin_write().await?;
        let removed: Option<StickerRow> = delete
            .build_query_as()
            .fetch_optional(&mut *tx)
            .await
            .map_err(database_error)?;
        // Nothing removed: dropping the transaction ends it without writing.
        let removed = Sticker::try_from(removed.ok_or(StoreError::NotFound(Entity::Sticker))?)?;
        append_events(&mut tx, &[Event::sticker(STICKER_REMOVED, &removed, now)]).await?;
        tx.commit().await?;
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
        // BEGIN IMMEDIATE: concurrent callers take turns, and each deletes (and returns) only
        // rows still present when it holds the lock.
        let mut tx = self.begin_write().await?;
        let rows: Vec<StickerRow> = sqlx::query_as(&format!(
            "DELETE FROM stickers WHERE (twin_id, account_id, color) IN \
             (SELECT twin_id, account_id, color FROM stickers WHERE validity_ts <= ? \
              ORDER BY validity_ts LIMIT ?) \
             RETURNING {STICKER_COLUMNS}"
        ))
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(database_error)?;
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
        let events: Vec<Event> = removed
            .iter()
            .map(|sticker| Event::sticker(STICKER_EXPIRED, sticker, now))
            .collect();
        append_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(removed)
    }
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(database)
            if database.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    )
}
