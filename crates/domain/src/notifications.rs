//! Notifications: webhook subscriptions to an account's topics, topic access grants, and the
//! outbox of messages waiting to be delivered.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AccountId, Timestamp, UserId};

/// A webhook subscription to one topic of one (publishing) account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The subscription's id.
    pub id: Uuid,
    /// The account whose topic is subscribed (the publisher).
    pub topic_account: AccountId,
    /// The topic name.
    pub topic: String,
    /// The account of the user that subscribed.
    pub subscriber_account: AccountId,
    /// The user that subscribed.
    pub subscriber_user: UserId,
    /// Where messages are POSTed.
    pub callback_url: String,
    /// The client's half of the message signing key (16 characters), if it gave one.
    pub client_secret: Option<String>,
    /// The server's half of the signing key, present exactly when `client_secret` is.
    pub server_secret: Option<String>,
    /// SHA-256 (hex) of the token in the confirmation, refresh and unsubscribe URLs.
    pub token_hash: String,
    /// The lifetime asked for at subscription, in seconds; refreshes extend by it.
    pub expires_seconds: u64,
    /// Until when messages are delivered.
    pub validity_ts: Timestamp,
    /// Whether the receiver confirmed the subscription; only confirmed ones receive messages.
    pub confirmed: bool,
    /// When the subscription was made.
    pub created_ts: Timestamp,
    /// When it was last confirmed or refreshed.
    pub updated_ts: Timestamp,
}

/// A message waiting in the outbox for one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The message's uuid, stable across retries (receivers de-duplicate by it).
    pub message: Uuid,
    /// The subscription it goes to.
    pub subscription: Uuid,
    /// The exact JSON text to POST.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not tried before this time.
    pub next_attempt_ts: Timestamp,
    /// When the message was queued; messages of one subscription go out in this order.
    pub created_ts: Timestamp,
}

/// A delivery claimed by one dispatcher, with what it needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub delivery: Delivery,
    /// The subscription's callback URL.
    pub callback_url: String,
    /// The account whose topic the subscription is to (its usage counts the delivery).
    pub topic_account: AccountId,
    /// The subscription's validity.
    pub validity_ts: Timestamp,
    /// Until when this claim holds; after it, another dispatcher may claim the delivery.
    pub lease_until: Timestamp,
}
