//! Notifications: webhook subscriptions, topic access grants, and the outbox of messages
//! waiting to be delivered (with dead letters).
//!
//! Claiming locks the claimed rows with `FOR UPDATE SKIP LOCKED` in the statement that leases
//! them, so concurrent dispatchers (on any number of nodes) never claim the same message and
//! never wait for each other. Moving a message to the dead letters and deleting a subscription
//! are single statements, so of concurrent callers exactly one finds the row.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::error::ErrorKind;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use steward_domain::{AccountId, ClaimedDelivery, Delivery, Subscription, Timestamp, UserId};
use steward_store::columns::{decode_json, encode_json};
use steward_store::{DeadLetter, Entity, StoreError};
use uuid::Uuid;

use crate::error::{corrupt, database_error, map_violation, unique_means_exists};
use crate::PostgresStore;

const SUBSCRIPTION_COLUMNS: &str = "id, topic_account_id, topic, subscriber_account_id, \
     subscriber_user_id, callback_url, client_secret, server_secret, token_hash, \
     expires_seconds, validity_ts, confirmed, created_ts, updated_ts";

/// Rows per multi-row INSERT: 6 bound values each stays far below PostgreSQL's 65535.
const INSERT_CHUNK_ROWS: usize = 500;

/// A subscription row as PostgreSQL returns it.
#[derive(Debug, sqlx::FromRow)]
struct SubscriptionRow {
    id: Uuid,
    topic_account_id: Uuid,
    topic: String,
    subscriber_account_id: Uuid,
    subscriber_user_id: Uuid,
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
            id: row.id,
            topic_account: AccountId::from_uuid(row.topic_account_id),
            topic: row.topic,
            subscriber_account: AccountId::from_uuid(row.subscriber_account_id),
            subscriber_user: UserId::from_uuid(row.subscriber_user_id),
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

/// A claimed delivery joined with what the dispatcher needs from its subscription.
#[derive(Debug, sqlx::FromRow)]
struct ClaimRow {
    seq: i64,
    message: Uuid,
    subscription_id: Uuid,
    body: String,
    attempts: i64,
    next_attempt_ts: i64,
    created_ts: i64,
    lease_until: i64,
    callback_url: String,
    topic_account_id: Uuid,
    validity_ts: i64,
}

impl TryFrom<ClaimRow> for ClaimedDelivery {
    type Error = StoreError;

    fn try_from(row: ClaimRow) -> Result<Self, StoreError> {
        Ok(ClaimedDelivery {
            delivery: Delivery {
                message: row.message,
                subscription: row.subscription_id,
                body: row.body,
                attempts: u32::try_from(row.attempts)
                    .map_err(|_| corrupt("delivery attempts", row.attempts))?,
                next_attempt_ts: Timestamp::from_millis(row.next_attempt_ts),
                created_ts: Timestamp::from_millis(row.created_ts),
            },
            callback_url: row.callback_url,
            topic_account: AccountId::from_uuid(row.topic_account_id),
            validity_ts: Timestamp::from_millis(row.validity_ts),
            lease_until: Timestamp::from_millis(row.lease_until),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DeadLetterRow {
    message: Uuid,
    subscription_id: Uuid,
    subscriber_account_id: Uuid,
    reason: String,
    dead_ts: i64,
}

impl From<DeadLetterRow> for DeadLetter {
    fn from(row: DeadLetterRow) -> Self {
        DeadLetter {
            message: row.message,
            subscription: row.subscription_id,
            subscriber_account: AccountId::from_uuid(row.subscriber_account_id),
            reason: row.reason,
            dead_ts: Timestamp::from_millis(row.dead_ts),
        }
    }
}

/// PostgreSQL text cannot hold a NUL character: refuse it with a clear message (and alike on
/// every backend) instead of a driver error.
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

/// A refused subscription insert: a missing publisher or subscriber (told apart by the named
/// foreign keys of 0010), or a taken id or token hash.
fn subscription_insert_error(error: sqlx::Error) -> StoreError {
    let missing = match &error {
        sqlx::Error::Database(database) if database.kind() == ErrorKind::ForeignKeyViolation => {
            if database
                .constraint()
                .is_some_and(|name| name.contains("topic_account"))
            {
                Entity::Account
            } else {
                Entity::User
            }
        }
        _ => return unique_means_exists(Entity::Subscription)(error),
    };
    StoreError::NotFound(missing)
}

impl PostgresStore {
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
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        sqlx::query(&format!(
            "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(subscription.id)
        .bind(subscription.topic_account.as_uuid())
        .bind(&subscription.topic)
        .bind(subscription.subscriber_account.as_uuid())
        .bind(subscription.subscriber_user.as_uuid())
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
        .await
        .map_err(subscription_insert_error)?;
        Self::insert_deliveries(&mut tx, std::slice::from_ref(confirmation)).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn find_subscription_row(
        &self,
        topic_account: AccountId,
        token_hash: &str,
    ) -> Result<Subscription, StoreError> {
        let row: Option<SubscriptionRow> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE token_hash = $1 AND topic_account_id = $2"
        ))
        .bind(token_hash)
        .bind(topic_account.as_uuid())
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
        let updated = sqlx::query(
            "UPDATE subscriptions SET confirmed = $1, validity_ts = $2, updated_ts = $3 \
             WHERE id = $4 AND topic_account_id = $5",
        )
        .bind(subscription.confirmed)
        .bind(subscription.validity_ts.as_millis())
        .bind(subscription.updated_ts.as_millis())
        .bind(subscription.id)
        .bind(subscription.topic_account.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Subscription));
        }
        Ok(())
    }

    pub(crate) async fn delete_subscription_row(
        &self,
        topic_account: AccountId,
        id: Uuid,
    ) -> Result<Subscription, StoreError> {
        // The pending deliveries go with it through ON DELETE CASCADE, in the same statement;
        // a concurrent delete waits for this one and then finds nothing.
        let deleted: Option<SubscriptionRow> = sqlx::query_as(&format!(
            "DELETE FROM subscriptions WHERE id = $1 AND topic_account_id = $2 \
             RETURNING {SUBSCRIPTION_COLUMNS}"
        ))
        .bind(id)
        .bind(topic_account.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        deleted
            .ok_or(StoreError::NotFound(Entity::Subscription))?
            .try_into()
    }

    pub(crate) async fn list_active_subscription_rows(
        &self,
        topic_account: AccountId,
        topic: &str,
        now: Timestamp,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE topic_account_id = $1 AND topic = $2 AND confirmed AND validity_ts > $3 \
             ORDER BY id"
        ))
        .bind(topic_account.as_uuid())
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
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT grantee_account_id, topics FROM notification_access WHERE account_id = $1",
        )
        .bind(account.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter()
            .map(|(grantee, topics)| {
                Ok((
                    AccountId::from_uuid(grantee),
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
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        // Checked explicitly so that revoking (which inserts nothing) refuses a missing grantee
        // like granting does.
        let grantee_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
                .bind(grantee.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(database_error)?;
        if !grantee_exists {
            return Err(StoreError::NotFound(Entity::Account));
        }
        if topics.is_empty() {
            sqlx::query(
                "DELETE FROM notification_access \
                 WHERE account_id = $1 AND grantee_account_id = $2",
            )
            .bind(account.as_uuid())
            .bind(grantee.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        } else {
            // One upsert: concurrent replaces of the same grant each store a whole list.
            sqlx::query(
                "INSERT INTO notification_access (account_id, grantee_account_id, topics) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id, grantee_account_id) \
                 DO UPDATE SET topics = excluded.topics",
            )
            .bind(account.as_uuid())
            .bind(grantee.as_uuid())
            .bind(encode_json(&topics)?)
            .execute(&mut *tx)
            .await
            .map_err(|error| {
                map_violation(error, |kind| {
                    (kind == ErrorKind::ForeignKeyViolation)
                        .then_some(StoreError::NotFound(Entity::Account))
                })
            })?;
        }
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn insert_delivery_rows(
        &self,
        deliveries: &[Delivery],
    ) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        Self::insert_deliveries(&mut tx, deliveries).await?;
        tx.commit().await.map_err(database_error)
    }

    /// Inserts outbox rows in the given order (so `seq` follows it). A taken message uuid is
    /// `AlreadyExists(Delivery)`, a missing subscription `NotFound(Subscription)`.
    pub(crate) async fn insert_deliveries(
        connection: &mut PgConnection,
        deliveries: &[Delivery],
    ) -> Result<(), StoreError> {
        ensure_no_nul(
            "message body",
            deliveries.iter().map(|delivery| delivery.body.as_str()),
        )?;
        for chunk in deliveries.chunks(INSERT_CHUNK_ROWS) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO deliveries \
                 (message, subscription_id, body, attempts, next_attempt_ts, created_ts) ",
            );
            insert.push_values(chunk, |mut row, delivery| {
                row.push_bind(delivery.message)
                    .push_bind(delivery.subscription)
                    .push_bind(delivery.body.clone())
                    .push_bind(i64::from(delivery.attempts))
                    .push_bind(delivery.next_attempt_ts.as_millis())
                    .push_bind(delivery.created_ts.as_millis());
            });
            insert
                .build()
                .execute(&mut *connection)
                .await
                .map_err(|error| {
                    map_violation(error, |kind| match kind {
                        ErrorKind::ForeignKeyViolation => {
                            Some(StoreError::NotFound(Entity::Subscription))
                        }
                        ErrorKind::UniqueViolation => {
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
        // One statement: pick the claimable messages, lock them (skipping those another
        // dispatcher is claiming right now) and lease them. Claimable: due, not under an
        // unexpired lease, and the head of its subscription's queue: no message of the same
        // subscription, leased or not, comes before it. A row leased by a concurrent claimer
        // after this statement's snapshot is re-checked once locked and dropped.
        let mut rows: Vec<ClaimRow> = sqlx::query_as(
            "WITH claimable AS ( \
                 SELECT d.message FROM deliveries AS d \
                 WHERE d.next_attempt_ts <= $1 \
                   AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                   AND NOT EXISTS (SELECT 1 FROM deliveries AS earlier \
                                   WHERE earlier.subscription_id = d.subscription_id \
                                     AND (earlier.created_ts, earlier.seq) \
                                         < (d.created_ts, d.seq)) \
                 ORDER BY d.created_ts, d.seq \
                 LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) \
             UPDATE deliveries AS d SET lease_until = $2 \
             FROM claimable, subscriptions AS s \
             WHERE d.message = claimable.message AND s.id = d.subscription_id \
             RETURNING d.seq, d.message, d.subscription_id, d.body, d.attempts, \
                       d.next_attempt_ts, d.created_ts, d.lease_until, \
                       s.callback_url, s.topic_account_id, s.validity_ts",
        )
        .bind(now.as_millis())
        .bind(lease_until.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        // RETURNING has no order of its own.
        rows.sort_by_key(|row| (row.created_ts, row.seq));
        rows.into_iter().map(ClaimedDelivery::try_from).collect()
    }

    pub(crate) async fn finish_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM deliveries \
             WHERE message = $1 AND ($2::BIGINT IS NULL OR lease_until = $2)",
        )
        .bind(message)
        .bind(lease.map(|lease| lease.as_millis()))
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Delivery));
        }
        Ok(())
    }

    pub(crate) async fn retry_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        attempts: u32,
        next_attempt_ts: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE deliveries SET attempts = $1, next_attempt_ts = $2, lease_until = NULL \
             WHERE message = $3 AND ($4::BIGINT IS NULL OR lease_until = $4)",
        )
        .bind(i64::from(attempts))
        .bind(next_attempt_ts.as_millis())
        .bind(message)
        .bind(lease.map(|lease| lease.as_millis()))
        .execute(&self.pool)
        .await
        .map_err(database_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Delivery));
        }
        Ok(())
    }

    pub(crate) async fn dead_letter_delivery_row(
        &self,
        message: Uuid,
        lease: Option<Timestamp>,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        ensure_no_nul("dead letter reason", [reason])?;
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        // One statement moves the row: of concurrent movers (or a mover and a finisher) only
        // the one whose DELETE removed the row inserts a dead letter (and logs it).
        let moved: Option<(Uuid, String)> = sqlx::query_as(
            "WITH moved AS ( \
                 DELETE FROM deliveries \
                 WHERE message = $1 AND ($4::BIGINT IS NULL OR lease_until = $4) \
                 RETURNING message, subscription_id), \
             dead AS ( \
                 INSERT INTO dead_letters \
                     (message, subscription_id, subscriber_account_id, reason, dead_ts) \
                 SELECT moved.message, moved.subscription_id, s.subscriber_account_id, $2, $3 \
                 FROM moved JOIN subscriptions AS s ON s.id = moved.subscription_id \
                 RETURNING subscription_id, subscriber_account_id) \
             SELECT dead.subscriber_account_id, s.topic \
             FROM dead JOIN subscriptions AS s ON s.id = dead.subscription_id",
        )
        .bind(message)
        .bind(reason)
        .bind(now.as_millis())
        .bind(lease.map(|lease| lease.as_millis()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(unique_means_exists(Entity::Delivery))?;
        let Some((subscriber, topic)) = moved else {
            return Err(StoreError::NotFound(Entity::Delivery));
        };
        let text = steward_domain::dead_letter_log_text(now, message, &topic, reason);
        crate::usage::append_log(&mut tx, AccountId::from_uuid(subscriber), &[(now, text)]).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn list_dead_letter_rows(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT message, subscription_id, subscriber_account_id, reason, dead_ts \
             FROM dead_letters WHERE subscriber_account_id = $1 \
             ORDER BY dead_ts DESC, seq DESC LIMIT $2",
        )
        .bind(account.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        Ok(rows.into_iter().map(DeadLetter::from).collect())
    }
}

impl PostgresStore {
    pub(crate) async fn prune_notification_rows(
        &self,
        expired_before: Timestamp,
        dead_before: Timestamp,
        limit: u32,
    ) -> Result<(u64, u64), StoreError> {
        // Deliveries go with their subscription (ON DELETE CASCADE).
        let subscriptions = sqlx::query(
            "DELETE FROM subscriptions WHERE id IN ( \
                 SELECT id FROM subscriptions WHERE validity_ts < $1 LIMIT $2)",
        )
        .bind(expired_before.as_millis())
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(crate::error::database_error)?;
        let dead = sqlx::query(
            "DELETE FROM dead_letters WHERE ctid IN ( \
                 SELECT ctid FROM dead_letters WHERE dead_ts < $1 LIMIT $2)",
        )
        .bind(dead_before.as_millis())
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(crate::error::database_error)?;
        Ok((subscriptions.rows_affected(), dead.rows_affected()))
    }
}
