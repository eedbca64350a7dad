//! Notifications: webhook subscriptions, topic access grants, and the outbox of messages
//! waiting to be delivered (with dead letters).
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, so writers that read first (claiming,
//! dead-lettering, deleting) take turns: of concurrent claimers each sees the leases the
//! previous one committed, and never claims the same message.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use steward_domain::{AccountId, ClaimedDelivery, Delivery, Subscription, Timestamp, UserId};
use steward_store::columns::{decode_json, encode_json};
use steward_store::{DeadLetter, Entity, StoreError};
use uuid::Uuid;

use crate::error::{corrupt, database_error, map_violation, unique_means_exists};
use crate::SqliteStore;

const SUBSCRIPTION_COLUMNS: &str = "id, topic_account_id, topic, subscriber_account_id, \
     subscriber_user_id, callback_url, client_secret, server_secret, token_hash, \
     expires_seconds, validity_ts, confirmed, created_ts, updated_ts";

/// Rows per multi-row INSERT: 7 bound values each stays far below SQLite's variable limit.
const INSERT_CHUNK_ROWS: usize = 500;

/// A subscription row as SQLite returns it.
#[derive(Debug, sqlx::FromRow)]
struct SubscriptionRow {
    id: String,
    topic_account_id: String,
    topic: String,
    subscriber_account_id: String,
    subscriber_user_id: String,
    callback_url: String,
    client_secret: Option<String>,
    server_secret: Option<String>,
    token_hash: String,
    expires_seconds: i64,
    validity_ts: i64,
    confirmed: bool,
    created_ts: i64,
    updated_ts: i64,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StoreError;

    fn try_from(row: SubscriptionRow) -> Result<Self, StoreError> {
        Ok(Subscription {
            id: parse(&row.id, "subscription id")?,
            topic_account: parse(&row.topic_account_id, "subscription topic account")?,
            topic: row.topic,
            subscriber_account: parse(&row.subscriber_account_id, "subscriber account")?,
            subscriber_user: parse::<UserId>(&row.subscriber_user_id, "subscriber user")?,
            callback_url: row.callback_url,
            client_secret: row.client_secret,
            server_secret: row.server_secret,
            token_hash: row.token_hash,
            expires_seconds: u64::try_from(row.expires_seconds)
                .map_err(|_| corrupt("subscription expires", row.expires_seconds))?,
            validity_ts: Timestamp::from_millis(row.validity_ts),
            confirmed: row.confirmed,
            created_ts: Timestamp::from_millis(row.created_ts),
            updated_ts: Timestamp::from_millis(row.updated_ts),
        })
    }
}

/// A due delivery joined with what the dispatcher needs from its subscription.
#[derive(Debug, sqlx::FromRow)]
struct ClaimRow {
    seq: i64,
    message: String,
    subscription_id: String,
    body: String,
    attempts: i64,
    next_attempt_ts: i64,
    created_ts: i64,
    callback_url: String,
    topic_account_id: String,
    validity_ts: i64,
}

impl ClaimRow {
    fn into_claimed(self, lease_until: Timestamp) -> Result<ClaimedDelivery, StoreError> {
        Ok(ClaimedDelivery {
            delivery: Delivery {
                message: parse(&self.message, "delivery message")?,
                subscription: parse(&self.subscription_id, "delivery subscription")?,
                body: self.body,
                attempts: u32::try_from(self.attempts)
                    .map_err(|_| corrupt("delivery attempts", self.attempts))?,
                next_attempt_ts: Timestamp::from_millis(self.next_attempt_ts),
                created_ts: Timestamp::from_millis(self.created_ts),
            },
            callback_url: self.callback_url,
            topic_account: parse(&self.topic_account_id, "subscription topic account")?,
            validity_ts: Timestamp::from_millis(self.validity_ts),
            lease_until,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DeadLetterRow {
    message: String,
    subscription_id: String,
    subscriber_account_id: String,
    reason: String,
    dead_ts: i64,
}

impl TryFrom<DeadLetterRow> for DeadLetter {
    type Error = StoreError;

    fn try_from(row: DeadLetterRow) -> Result<Self, StoreError> {
        Ok(DeadLetter {
            message: parse(&row.message, "dead letter message")?,
            subscription: parse(&row.subscription_id, "dead letter subscription")?,
            subscriber_account: parse(&row.subscriber_account_id, "dead letter account")?,
            reason: row.reason,
            dead_ts: Timestamp::from_millis(row.dead_ts),
        })
    }
}

fn parse<Id: std::str::FromStr>(text: &str, what: &str) -> Result<Id, StoreError> {
    text.parse().map_err(|_| corrupt(what, text))
}

/// PostgreSQL text cannot hold a NUL character; refusing it here too keeps the backends alike.
pub(crate) fn ensure_no_nul<'a>(
    what: &str,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    if texts.into_iter().any(|text| text.contains('\0')) {
        return Err(StoreError::Backend(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(())
}

fn ensure_subscription_storable(subscription: &Subscription) -> Result<(), StoreError> {
    ensure_no_nul(
        "subscription",
        [
            subscription.topic.as_str(),
            &subscription.callback_url,
            &subscription.token_hash,
            subscription.client_secret.as_deref().unwrap_or_default(),
            subscription.server_secret.as_deref().unwrap_or_default(),
        ],
    )
}

fn expires_column(subscription: &Subscription) -> Result<i64, StoreError> {
    i64::try_from(subscription.expires_seconds)
        .map_err(|_| StoreError::Backend("subscription lifetime is out of range".to_owned()))
}

impl SqliteStore {
    pub(crate) async fn insert_subscription_row(
        &self,
        subscription: &Subscription,
        confirmation: &Delivery,
    ) -> Result<(), StoreError> {
        ensure_subscription_storable(subscription)?;
        if confirmation.subscription != subscription.id {
            return Err(StoreError::Backend(
                "confirmation message is for another subscription".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(subscription.id.to_string())
        .bind(subscription.topic_account.to_string())
        .bind(&subscription.topic)
        .bind(subscription.subscriber_account.to_string())
        .bind(subscription.subscriber_user.to_string())
        .bind(&subscription.callback_url)
        .bind(&subscription.client_secret)
        .bind(&subscription.server_secret)
        .bind(&subscription.token_hash)
        .bind(expires_column(subscription)?)
        .bind(subscription.validity_ts.as_millis())
        .bind(subscription.confirmed)
        .bind(subscription.created_ts.as_millis())
        .bind(subscription.updated_ts.as_millis())
        .execute(&mut *tx)
        .await;
        if let Err(error) = inserted {
            if is_foreign_key_violation(&error) {
                return Err(Self::missing_subscription_reference(&mut tx, subscription).await);
            }
            return Err(unique_means_exists(Entity::Subscription)(error));
        }
        Self::insert_deliveries(&mut tx, std::slice::from_ref(confirmation)).await?;
        tx.commit().await
    }

    /// Says which reference of a refused subscription is missing. SQLite does not name the
    /// violated foreign key, so look: the publishing account first, else the subscriber.
    async fn missing_subscription_reference(
        tx: &mut SqliteConnection,
        subscription: &Subscription,
    ) -> StoreError {
        let publisher_exists: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)")
                .bind(subscription.topic_account.to_string())
                .fetch_one(&mut *tx)
                .await;
        match publisher_exists {
            Ok(false) => StoreError::NotFound(Entity::Account),
            Ok(true) => StoreError::NotFound(Entity::User),
            Err(error) => database_error(error),
        }
    }

    pub(crate) async fn find_subscription_row(
        &self,
        topic_account: AccountId,
        token_hash: &str,
    ) -> Result<Subscription, StoreError> {
        let row: Option<SubscriptionRow> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE token_hash = ? AND topic_account_id = ?"
        ))
        .bind(token_hash)
        .bind(topic_account.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Subscription))?
            .try_into()
    }

    pub(crate) async fn update_subscription_row(
        &self,
        subscription: &Subscription,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE subscriptions SET confirmed = ?, validity_ts = ?, updated_ts = ? \
             WHERE id = ? AND topic_account_id = ?",
        )
        .bind(subscription.confirmed)
        .bind(subscription.validity_ts.as_millis())
        .bind(subscription.updated_ts.as_millis())
        .bind(subscription.id.to_string())
        .bind(subscription.topic_account.to_string())
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Subscription));
        }
        tx.commit().await
    }

    pub(crate) async fn delete_subscription_row(
        &self,
        topic_account: AccountId,
        id: Uuid,
    ) -> Result<Subscription, StoreError> {
        // One DELETE under the write lock: of concurrent deletes exactly one finds the row.
        let mut tx = self.begin_write().await?;
        let deleted: Option<SubscriptionRow> = sqlx::query_as(&format!(
            "DELETE FROM subscriptions WHERE id = ? AND topic_account_id = ? \
             RETURNING {SUBSCRIPTION_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(topic_account.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        let Some(deleted) = deleted else {
            return Err(StoreError::NotFound(Entity::Subscription));
        };
        // The foreign key cascades too; deleting explicitly keeps the behaviour independent of
        // whether the connection enforces foreign keys.
        sqlx::query("DELETE FROM deliveries WHERE subscription_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        tx.commit().await?;
        deleted.try_into()
    }

    pub(crate) async fn list_active_subscription_rows(
        &self,
        topic_account: AccountId,
        topic: &str,
        now: Timestamp,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE topic_account_id = ? AND topic = ? AND confirmed = 1 AND validity_ts > ? \
             ORDER BY id"
        ))
        .bind(topic_account.to_string())
        .bind(topic)
        .bind(now.as_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(Subscription::try_from).collect()
    }

    pub(crate) async fn get_notification_access_rows(
        &self,
        account: AccountId,
    ) -> Result<BTreeMap<AccountId, Vec<String>>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT grantee_account_id, topics FROM notification_access WHERE account_id = ?",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter()
            .map(|(grantee, topics)| {
                Ok((
                    parse(&grantee, "notification access grantee")?,
                    decode_json(&topics, "notification access topics")?,
                ))
            })
            .collect()
    }

    pub(crate) async fn put_notification_access_rows(
        &self,
        account: AccountId,
        grantee: AccountId,
        topics: &[String],
    ) -> Result<(), StoreError> {
        ensure_no_nul("topic", topics.iter().map(String::as_str))?;
        let topics: BTreeSet<&String> = topics.iter().collect();
        let mut tx = self.begin_write().await?;
        // Checked explicitly so that revoking (which inserts nothing) refuses a missing grantee
        // like granting does.
        let grantee_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)")
                .bind(grantee.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(database_error)?;
        if !grantee_exists {
            return Err(StoreError::NotFound(Entity::Account));
        }
        if topics.is_empty() {
            sqlx::query(
                "DELETE FROM notification_access WHERE account_id = ? AND grantee_account_id = ?",
            )
            .bind(account.to_string())
            .bind(grantee.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        } else {
            sqlx::query(
                "INSERT INTO notification_access (account_id, grantee_account_id, topics) \
                 VALUES (?, ?, ?) \
                 ON CONFLICT (account_id, grantee_account_id) DO UPDATE SET topics = excluded.topics",
            )
            .bind(account.to_string())
            .bind(grantee.to_string())
            .bind(encode_json(&topics)?)
            .execute(&mut *tx)
            .await
            .map_err(|error| {
                map_violation(error, |kind| {
                    (kind == sqlx::error::ErrorKind::ForeignKeyViolation)
                        .then_some(StoreError::NotFound(Entity::Account))
                })
            })?;
        }
        tx.commit().await
    }

    pub(crate) async fn insert_delivery_rows(
        &self,
        deliveries: &[Delivery],
    ) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::insert_deliveries(&mut tx, deliveries).await?;
        tx.commit().await
    }

    /// Inserts outbox rows in the given order (so `seq` follows it). A taken message uuid is
    /// `AlreadyExists(Delivery)`, a missing subscription `NotFound(Subscription)`.
    pub(crate) async fn insert_deliveries(
        tx: &mut SqliteConnection,
        deliveries: &[Delivery],
    ) -> Result<(), StoreError> {
        ensure_no_nul("message body", deliveries.iter().map(|d| d.body.as_str()))?;
        for chunk in deliveries.chunks(INSERT_CHUNK_ROWS) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO deliveries \
                 (message, subscription_id, body, attempts, next_attempt_ts, created_ts) ",
            );
            insert.push_values(chunk, |mut row, delivery| {
                row.push_bind(delivery.message.to_string())
                    .push_bind(delivery.subscription.to_string())
                    .push_bind(delivery.body.clone())
                    .push_bind(i64::from(delivery.attempts))
                    .push_bind(delivery.next_attempt_ts.as_millis())
                    .push_bind(delivery.created_ts.as_millis());
            });
            insert.build().execute(&mut *tx).await.map_err(|error| {
                map_violation(error, |kind| match kind {
                    sqlx::error::ErrorKind::ForeignKeyViolation => {
                        Some(StoreError::NotFound(Entity::Subscription))
                    }
                    sqlx::error::ErrorKind::UniqueViolation => {
                        Some(StoreError::AlreadyExists(Entity::Delivery))
                    }
                    _ => None,
                })
            })?;
        }
        Ok(())
    }

    pub(crate) async fn claim_delivery_rows(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // BEGIN IMMEDIATE serialises claimers: each sees the leases the previous one committed.
        let mut tx = self.begin_write().await?;
        // Due, not under an unexpired lease, and the head of its subscription's queue: no
        // message of the same subscription, leased or not, comes before it.
        let rows: Vec<ClaimRow> = sqlx::query_as(
            "SELECT d.seq, d.message, d.subscription_id, d.body, d.attempts, d.next_attempt_ts, \
                    d.created_ts, s.callback_url, s.topic_account_id, s.validity_ts \
             FROM deliveries AS d JOIN subscriptions AS s ON s.id = d.subscription_id \
             WHERE d.next_attempt_ts <= ?1 \
               AND (d.lease_until IS NULL OR d.lease_until <= ?1) \
               AND NOT EXISTS (SELECT 1 FROM deliveries AS earlier \
                               WHERE earlier.subscription_id = d.subscription_id \
                                 AND (earlier.created_ts, earlier.seq) < (d.created_ts, d.seq)) \
             ORDER BY d.created_ts, d.seq \
             LIMIT ?2",
        )
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(database_error)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut lease = QueryBuilder::<Sqlite>::new("UPDATE deliveries SET lease_until = ");
        lease
            .push_bind(lease_until.as_millis())
            .push(" WHERE seq IN (");
        let mut separated = lease.separated(", ");
        for row in &rows {
            separated.push_bind(row.seq);
        }
        lease.push(")");
        lease
            .build()
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| row.into_claimed(lease_until))
            .collect()
    }

    pub(crate) async fn finish_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let lease = lease.map(|lease| lease.as_millis());
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM deliveries WHERE message = ? AND (? IS NULL OR lease_until = ?)",
        )
        .bind(message.to_string())
        .bind(lease)
        .bind(lease)
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Delivery));
        }
        tx.commit().await
    }

    pub(crate) async fn retry_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        attempts: u32,
        next_attempt_ts: Timestamp,
    ) -> Result<(), StoreError> {
        let lease = lease.map(|lease| lease.as_millis());
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE deliveries SET attempts = ?, next_attempt_ts = ?, lease_until = NULL \
             WHERE message = ? AND (? IS NULL OR lease_until = ?)",
        )
        .bind(i64::from(attempts))
        .bind(next_attempt_ts.as_millis())
        .bind(message.to_string())
        .bind(lease)
        .bind(lease)
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Delivery));
        }
        tx.commit().await
    }

    pub(crate) async fn dead_letter_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        ensure_no_nul("dead letter reason", [reason])?;
        let lease = lease.map(|lease| lease.as_millis());
        let mut tx = self.begin_write().await?;
        let moving: Option<(String, String)> = sqlx::query_as(
            "SELECT s.subscriber_account_id, s.topic \
             FROM deliveries AS d JOIN subscriptions AS s ON s.id = d.subscription_id \
             WHERE d.message = ? AND (? IS NULL OR d.lease_until = ?)",
        )
        .bind(message.to_string())
        .bind(lease)
        .bind(lease)
        .fetch_optional(&mut *tx)
        .await
        .map_err(database_error)?;
        let Some((subscriber, topic)) = moving else {
            return Err(StoreError::NotFound(Entity::Delivery));
        };
        sqlx::query(
            "INSERT INTO dead_letters \
             (message, subscription_id, subscriber_account_id, reason, dead_ts) \
             SELECT d.message, d.subscription_id, s.subscriber_account_id, ?, ? \
             FROM deliveries AS d JOIN subscriptions AS s ON s.id = d.subscription_id \
             WHERE d.message = ?",
        )
        .bind(reason)
        .bind(now.as_millis())
        .bind(message.to_string())
        .execute(&mut *tx)
        .await
        .map_err(unique_means_exists(Entity::Delivery))?;
        sqlx::query("DELETE FROM deliveries WHERE message = ?")
            .bind(message.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        let subscriber: AccountId = parse(&subscriber, "subscriber account")?;
        let text = steward_domain::dead_letter_log_text(now, message, &topic, reason);
        crate::usage::append_log(&mut tx, subscriber, &[(now, text)]).await?;
        tx.commit().await
    }

    pub(crate) async fn list_dead_letter_rows(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT message, subscription_id, subscriber_account_id, reason, dead_ts \
             FROM dead_letters WHERE subscriber_account_id = ? \
             ORDER BY dead_ts DESC, seq DESC LIMIT ?",
        )
        .bind(account.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(DeadLetter::try_from).collect()
    }
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(database)
            if database.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    )
}

impl SqliteStore {
    pub(crate) async fn prune_notification_rows(
        &self,
        expired_before: Timestamp,
        dead_before: Timestamp,
        limit: u32,
    ) -> Result<(u64, u64), StoreError> {
        // Deliveries go with their subscription (ON DELETE CASCADE).
        let subscriptions = self
            .write_statement(
                sqlx::query(
                    "DELETE FROM subscriptions WHERE id IN ( \
                         SELECT id FROM subscriptions WHERE validity_ts < ? LIMIT ?)",
                )
                .bind(expired_before.as_millis())
                .bind(i64::from(limit)),
                crate::error::database_error,
            )
            .await?;
        let dead = self
            .write_statement(
                sqlx::query(
                    "DELETE FROM dead_letters WHERE rowid IN ( \
                         SELECT rowid FROM dead_letters WHERE dead_ts < ? LIMIT ?)",
                )
                .bind(dead_before.as_millis())
                .bind(i64::from(limit)),
                crate::error::database_error,
            )
            .await?;
        Ok((subscriptions.rows_affected(), dead.rows_affected()))
    }
}
