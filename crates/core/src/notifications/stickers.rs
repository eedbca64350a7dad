//! Sticker notifications: `sticker.put`, `sticker.removed` and `sticker.expired` go to the
//! topics a sticker's `publish` names (`on_put`, `on_remove`, `on_expire`).
//!
//! Sticker changes write their events to the event log in their own transactions (removal by
//! expiry included). A fan-out step then turns those events into outbox messages: it reads the
//! log after a named cursor and, in one transaction, queues the messages and moves the cursor.
//! Two nodes racing for the same events cannot both queue them (the cursor moves from where
//! it was, or not at all), and a crash between a change and its fan-out loses nothing: the event
//! is in the log and the cursor has not passed it.
//!
//! A subscriber receives a sticker event only if it could see the sticker itself: it is among
//! the recipients (its user, role or account), its role allows `get_sticker`, and the twin is
//! visible to it. A foreign subscriber also needs the publisher's topic grant.

use serde_json::{json, Value as Json};
use steward_domain::{Event, Sticker, STICKER_EXPIRED, STICKER_PUT, STICKER_REMOVED};

use super::publish::{notification, Readers};
use crate::authz::{authorize_operation, twin_visible};
use crate::stickers::addressed_to;
use crate::{Error, Steward};

/// The event-log cursor of the sticker fan-out.
pub const STICKER_FAN_OUT_CURSOR: &str = "sticker_webhooks";

/// Events fanned out per step.
const FAN_OUT_BATCH: u32 = 200;

/// The `publish` key of a sticker trigger.
fn publish_key(trigger: &str) -> Option<&'static str> {
    match trigger {
        STICKER_PUT => Some("on_put"),
        STICKER_REMOVED => Some("on_remove"),
        STICKER_EXPIRED => Some("on_expire"),
        _ => None,
    }
}

/// The topics a sticker publishes `trigger` to (deduplicated, in the order given).
pub(crate) fn sticker_topics<'a>(sticker: &'a Sticker, trigger: &str) -> Vec<&'a str> {
    let Some(key) = publish_key(trigger) else {
        return Vec::new();
    };
    let mut topics: Vec<&str> = match sticker.publish.as_ref().and_then(|p| p.get(key)) {
        Some(Json::String(topic)) => vec![topic.as_str()],
        Some(Json::Array(list)) => list.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    topics.retain(|topic| seen.insert(*topic));
    topics
}

/// The `event` of a sticker message: the sticker as its recipients see it, plus its creator;
/// the recipients only for the creating account (`get_sticker` shows them to it alone: who
/// else a sticker addresses is the creator's business).
pub(crate) fn sticker_event_json(sticker: &Sticker, creator: bool) -> Json {
    let mut event = json!({
        "color": sticker.color,
        "note": sticker.note,
        "validity_ts": sticker.validity_ts.as_tt_seconds(),
        "created_ts": sticker.created_ts.as_tt_seconds(),
        "account": sticker.account,
    });
    if creator {
        event["recipients"] = json!(sticker.recipients);
    }
    event
}

impl Steward {
    /// Turns sticker events not fanned out yet into webhook messages (at most one batch);
    /// returns how many events it went through (0: nothing to do, or another node did it).
    /// Meant to run often, next to the dispatcher, on every node.
    pub async fn fan_out_sticker_events(&self) -> Result<u64, Error> {
        let from = self.store.get_event_cursor(STICKER_FAN_OUT_CURSOR).await?;
        let events = self.store.list_events(from, FAN_OUT_BATCH).await?;
        let Some(to) = events.last().map(|event| event.id) else {
            return Ok(0);
        };
        let mut readers = Readers::new();
        let mut deliveries = Vec::new();
        for event in events.iter().filter(|event| event.is_sticker()) {
            deliveries.extend(self.sticker_messages(event, &mut readers).await?);
        }
        let moved = self
            .store
            .advance_event_cursor(STICKER_FAN_OUT_CURSOR, from, to, &deliveries)
            .await?;
        Ok(if moved { events.len() as u64 } else { 0 })
    }

    /// The messages one sticker event sends: one per active subscription of each of its topics
    /// whose subscriber may see the sticker.
    async fn sticker_messages(
        &self,
        event: &Event,
        readers: &mut Readers,
    ) -> Result<Vec<steward_domain::Delivery>, Error> {
        let Ok(sticker) = serde_json::from_value::<Sticker>(event.body.clone()) else {
            tracing::warn!(event = event.id, "a sticker event does not decode; skipped");
            return Ok(Vec::new());
        };
        let topics = sticker_topics(&sticker, &event.trigger);
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        // The twin may be gone by now; then nobody can see the sticker any more.
        let twin = match self.cached_twin(sticker.twin).await {
            Ok(twin) => twin,
            Err(error) if error.code.http_status() < 500 => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut messages = Vec::new();
        for topic in topics {
            let subscriptions = self
                .store
                .list_active_subscriptions(sticker.account, topic, now)
                .await?;
            for subscription in subscriptions {
                let Some(reader) = self
                    .subscription_reader(&subscription, readers, now)
                    .await?
                else {
                    continue;
                };
                if authorize_operation(&reader, "get_sticker").is_err()
                    || !addressed_to(&reader, &sticker)
                    || !twin_visible(&reader, &twin, &self.rule_cache, now)
                {
                    continue;
                }
                messages.push(notification(
                    &subscription,
                    &event.trigger,
                    sticker.twin,
                    sticker_event_json(&sticker, reader.account == sticker.account),
                    now,
                )?);
            }
        }
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use steward_domain::{AccountId, Timestamp, TwinId};

    use super::*;

    fn sticker(publish: Json) -> Sticker {
        Sticker {
            twin: TwinId::new_random(),
            account: AccountId::new_random(),
            color: "red".to_owned(),
            note: String::new(),
            recipients: Vec::new(),
            validity_ts: Timestamp::from_millis(2_000),
            created_ts: Timestamp::from_millis(1_000),
            publish: Some(publish),
        }
    }

    #[test]
    fn topics_follow_the_trigger_and_are_deduplicated() {
        let sticker = sticker(json!({"on_put": "one", "on_remove": ["two", "three", "two"]}));
        assert_eq!(sticker_topics(&sticker, STICKER_PUT), ["one"]);
        assert_eq!(sticker_topics(&sticker, STICKER_REMOVED), ["two", "three"]);
        assert!(sticker_topics(&sticker, STICKER_EXPIRED).is_empty());
        assert!(sticker_topics(&sticker, "ledger.entry.added").is_empty());
    }
}
