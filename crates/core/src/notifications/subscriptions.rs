//! Webhook subscriptions (spec §5.10, §6.1): subscribe, confirm through the URL sent in the
//! confirmation message, refresh, unsubscribe, and topic access grants to other accounts.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use steward_domain::{AccountId, Delivery, Subscription, Timestamp};
use uuid::Uuid;

use super::signed_json::signed_body;
use crate::authz::authorize_operation;
use crate::credentials::{hash_credential, random_hex};
use crate::stickers::input::topic as check_topic;
use crate::{Error, ErrorCode, Principal, Steward};

/// Longest (and default) subscription lifetime: 7 days, in seconds.
pub const MAX_SUBSCRIPTION_SECONDS: u64 = 7 * 24 * 60 * 60;

/// Length of the client's and the server's half of the signing key.
pub const SECRET_CHARS: usize = 16;

/// Most topics one access grant lists.
pub const MAX_GRANTED_TOPICS: usize = 100;

/// The keys of a confirmation message covered by its hash, in order.
pub const CONFIRMATION_HASHED: &[&str] = &[
    "type",
    "message",
    "sent_ts",
    "confirmation_url",
    "subscription",
];

/// `type` of a confirmation message.
pub const CONFIRMATION_TYPE: &str = "SubscriptionConfirmation";

/// A `webhook_subscribe` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    /// Where messages go.
    pub callback_url: String,
    /// The topic.
    pub topic: String,
    /// The client's half of the signing key (16 URL-safe base64 characters).
    pub client_secret: Option<String>,
    /// Lifetime in seconds (1 to 7 days; default 7 days).
    pub expires: Option<u64>,
    /// The account whose topic is subscribed (default: the caller's).
    pub account: Option<AccountId>,
}

/// A subscription as answered, with what only its creator or token holder learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionAnswer {
    /// The subscription.
    pub subscription: Subscription,
    /// The server's half of the signing key, once, at subscription.
    pub server_secret: Option<String>,
    /// The management URL (confirm, refresh, unsubscribe) with its token.
    pub management_url: Option<String>,
}

fn valid_secret(secret: &str) -> bool {
    secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random URL-safe secret of [`SECRET_CHARS`] characters.
fn new_server_secret() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0_u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Steward {
    fn management_url(&self, topic_account: AccountId, token: &str) -> String {
        format!(
            "{}/notifications/webhooks/{topic_account}?token={token}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// `webhook_subscribe`: stores an unconfirmed subscription and queues its confirmation
    /// message (with the confirmation URL) for the callback, in one transaction. Another
    /// account's topic needs that account's access grant (403 / 403535 otherwise).
    pub async fn webhook_subscribe(
        &self,
        principal: &Principal,
        request: SubscribeRequest,
    ) -> Result<SubscriptionAnswer, Error> {
        authorize_operation(principal, "webhook_subscribe")?;
        self.settings.callbacks.check_url(&request.callback_url)?;
        check_topic("topic", &request.topic)?;
        if let Some(secret) = &request.client_secret {
            if !valid_secret(secret) {
                return Err(Error::request_format(format!(
                    "`client_secret` must be {SECRET_CHARS} characters of A-Z, a-z, 0-9, `-` and `_`"
                )));
            }
        }
        let expires = request.expires.unwrap_or(MAX_SUBSCRIPTION_SECONDS);
        if !(1..=MAX_SUBSCRIPTION_SECONDS).contains(&expires) {
            return Err(Error::request_format(format!(
                "`expires` must be between 1 and {MAX_SUBSCRIPTION_SECONDS} seconds"
            )));
        }
        let topic_account = request.account.unwrap_or(principal.account);
        if topic_account != principal.account
            && !self
                .topic_granted(topic_account, principal.account, &request.topic)
                .await?
        {
            return Err(Error::new(
                ErrorCode::AccessForbidden,
                format!(
                    "account {topic_account} has not granted access to topic `{}`",
                    request.topic
                ),
            ));
        }
        let now = self.clock.now();
        let token = random_hex(32);
        let server_secret = request.client_secret.as_ref().map(|_| new_server_secret());
        let subscription = Subscription {
            id: Uuid::new_v4(),
            topic_account,
            topic: request.topic,
            subscriber_account: principal.account,
            subscriber_user: principal.user.id,
            callback_url: request.callback_url,
            client_secret: request.client_secret,
            server_secret: server_secret.clone(),
            token_hash: hash_credential(&token),
            expires_seconds: expires,
            validity_ts: now.plus_millis(i64::try_from(expires * 1000).unwrap_or(i64::MAX)),
            confirmed: false,
            created_ts: now,
            updated_ts: now,
        };
        let confirmation = self.confirmation_delivery(&subscription, &token, now)?;
        self.store
            .create_subscription(&subscription, &confirmation)
            .await?;
        Ok(SubscriptionAnswer {
            subscription,
            server_secret,
            management_url: None,
        })
    }

    /// The confirmation message of a new subscription, signed when it has a client secret.
    fn confirmation_delivery(
        &self,
        subscription: &Subscription,
        token: &str,
        now: Timestamp,
    ) -> Result<Delivery, Error> {
        let message = Uuid::new_v4();
        let fields = [
            ("type", Value::from(CONFIRMATION_TYPE)),
            ("message", Value::from(message.to_string())),
            ("sent_ts", Value::from(now.as_tt_seconds())),
            (
                "confirmation_url",
                Value::from(self.management_url(subscription.topic_account, token)),
            ),
            ("subscription", subscription_json(subscription)),
        ];
        signed_delivery(subscription, message, &fields, CONFIRMATION_HASHED, now)
    }

    async fn subscription_by_token(
        &self,
        topic_account: AccountId,
        token: &str,
    ) -> Result<Subscription, Error> {
        let found = self
            .store
            .find_subscription(topic_account, &hash_credential(token))
            .await?;
        if found.validity_ts <= self.clock.now() {
            return Err(Error::not_found("subscription"));
        }
        Ok(found)
    }

    /// Whether `publisher` grants `grantee` access to `topic`.
    pub(crate) async fn topic_granted(
        &self,
        publisher: AccountId,
        grantee: AccountId,
        topic: &str,
    ) -> Result<bool, Error> {
        let granted = self.store.get_notification_access(publisher).await?;
        Ok(granted
            .get(&grantee)
            .is_some_and(|topics| topics.iter().any(|granted| granted == topic)))
    }

    /// `webhook_confirm_subscription` (no credentials: the token is the proof): activates the
    /// subscription. Unknown, wrong or expired tokens are 404.
    pub async fn webhook_confirm(
        &self,
        topic_account: AccountId,
        token: &str,
    ) -> Result<SubscriptionAnswer, Error> {
        let mut subscription = self.subscription_by_token(topic_account, token).await?;
        if !subscription.confirmed {
            subscription.confirmed = true;
            subscription.updated_ts = self.clock.now();
            self.store.update_subscription(&subscription).await?;
        }
        Ok(SubscriptionAnswer {
            management_url: Some(self.management_url(topic_account, token)),
            subscription,
            server_secret: None,
        })
    }

    /// `webhook_refresh_subscription`: extends a confirmed subscription by its lifetime from
    /// now (at most 7 days ahead). An unconfirmed one is 400 / 400897.
    pub async fn webhook_refresh(
        &self,
        topic_account: AccountId,
        token: &str,
    ) -> Result<SubscriptionAnswer, Error> {
        let mut subscription = self.subscription_by_token(topic_account, token).await?;
        if !subscription.confirmed {
            return Err(Error::new(
                ErrorCode::OperationNotAllowed,
                "the subscription is not confirmed yet",
            ));
        }
        if subscription.subscriber_account != topic_account
            && !self
                .topic_granted(
                    topic_account,
                    subscription.subscriber_account,
                    &subscription.topic,
                )
                .await?
        {
            return Err(Error::new(
                ErrorCode::AccessForbidden,
                "the topic's account no longer grants access to it",
            ));
        }
        let now = self.clock.now();
        let lifetime = subscription.expires_seconds.min(MAX_SUBSCRIPTION_SECONDS);
        subscription.validity_ts =
            now.plus_millis(i64::try_from(lifetime * 1000).unwrap_or(i64::MAX));
        subscription.updated_ts = now;
        self.store.update_subscription(&subscription).await?;
        Ok(SubscriptionAnswer {
            management_url: Some(self.management_url(topic_account, token)),
            subscription,
            server_secret: None,
        })
    }

    /// `webhook_unsubscribe`: deletes the subscription and its undelivered messages.
    pub async fn webhook_unsubscribe(
        &self,
        topic_account: AccountId,
        token: &str,
    ) -> Result<Subscription, Error> {
        let found = self
            .store
            .find_subscription(topic_account, &hash_credential(token))
            .await?;
        Ok(self
            .store
            .delete_subscription(topic_account, found.id)
            .await?)
    }

    /// `get_notifications_access`: the topics the caller's account grants to other accounts.
    pub async fn get_notifications_access(
        &self,
        principal: &Principal,
    ) -> Result<BTreeMap<AccountId, Vec<String>>, Error> {
        authorize_operation(principal, "get_notifications_access")?;
        Ok(self
            .store
            .get_notification_access(principal.account)
            .await?)
    }

    /// `update_notifications_account_access`: replaces the topics the caller's account grants
    /// to `grantee` (an empty list revokes). An unknown account is 404.
    pub async fn update_notifications_access(
        &self,
        principal: &Principal,
        grantee: AccountId,
        topics: Vec<String>,
    ) -> Result<Vec<String>, Error> {
        authorize_operation(principal, "update_notifications_account_access")?;
        if topics.len() > MAX_GRANTED_TOPICS {
            return Err(Error::request_format(format!(
                "`topics` must list at most {MAX_GRANTED_TOPICS} topics"
            )));
        }
        for topic in &topics {
            check_topic("topics", topic)?;
        }
        let mut topics = topics;
        topics.sort();
        topics.dedup();
        self.store
            .put_notification_access(principal.account, grantee, &topics)
            .await?;
        Ok(topics)
    }
}

/// A message for `subscription` with these top-level `fields`, signed over `hashed` when the
/// subscription has a client secret, queued for now.
pub(crate) fn signed_delivery(
    subscription: &Subscription,
    message: Uuid,
    fields: &[(&str, Value)],
    hashed: &[&str],
    now: Timestamp,
) -> Result<Delivery, Error> {
    let body = signed_body(fields, hashed, signing_key(subscription).as_deref())?;
    Ok(Delivery {
        message,
        subscription: subscription.id,
        body,
        attempts: 0,
        next_attempt_ts: now,
        created_ts: now,
    })
}

/// The key a subscription's messages are signed with: client secret + server secret.
pub(crate) fn signing_key(subscription: &Subscription) -> Option<Vec<u8>> {
    let client = subscription.client_secret.as_ref()?;
    let server = subscription.server_secret.as_ref()?;
    Some([client.as_bytes(), server.as_bytes()].concat())
}

/// `{"topic", "account", "validity_ts"}` of a subscription, as messages carry it.
pub fn subscription_json(subscription: &Subscription) -> Value {
    json!({
        "topic": subscription.topic,
        "account": subscription.topic_account.to_string(),
        "validity_ts": subscription.validity_ts.as_tt_seconds(),
    })
}
