//! Publishing ledger changes to topics (spec §2.13, §6.1, gap 2).
//!
//! An entry's `publish` names the topics a change of it goes to, in either of two forms:
//!
//! * rules: `{"<topic template>": "<rule>"}`: after each change the rule is evaluated with the
//!   entry variables plus `trigger`, `old_value` and `new_value`; when true, the change is
//!   published to the topic the template renders to;
//! * events: `{"on_added" | "on_updated" | "on_deleted": topic template | [templates]}`.
//!
//! Topic templates are Python-`format`-style names: `order-{TWIN.number}`, `{entry_name}`; the
//! tokens are `entry_name`, `twin`, `ledger`, `account`, `TWIN.x` / `TWIN[x]` and
//! `LEDGER.x` / `LEDGER[x]`. A template that renders to no valid topic publishes nothing.
//!
//! All changes of one request that go to one topic become one message, written to the outbox
//! of every confirmed, unexpired subscription of that topic in the same transaction as the
//! ledger.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};
use steward_domain::{
    AccountId, Delivery, Entry, EntryContent, Event, Ledger, Timestamp, Twin, UserId,
};
use steward_rules::{Context, Value};
use uuid::Uuid;

use super::subscriptions::{signed_delivery, subscription_json};
use crate::access::roles::validate_rule_text;
use crate::authz::{authorize_operation, twin_visible, visible_entry_names};
use crate::rule_context::{plain_json_to_rule_value, EntryRuleContext};
use crate::stickers::input::is_colour_or_topic;
use crate::templates::{parse_template, Piece};
use crate::{Error, Principal, Steward};

/// The keys of a notification message covered by its hash, in order.
pub const NOTIFICATION_HASHED: &[&str] = &[
    "type",
    "trigger",
    "message",
    "twin",
    "event",
    "sent_ts",
    "subscription",
];

/// Most topics one entry publishes to.
pub const MAX_PUBLISH_TOPICS: usize = 10;

const EVENT_KEYS: [(&str, &str); 3] = [
    ("on_added", "ledger.entry.added"),
    ("on_updated", "ledger.entry.updated"),
    ("on_deleted", "ledger.entry.deleted"),
];

/// When one publish target fires.
enum Fires<'a> {
    /// On this trigger.
    On(&'static str),
    /// When this rule is true.
    When(&'a str),
}

/// The (topic template, condition) pairs of a `publish` value; `Err` describes what is wrong.
fn targets(publish: &Json) -> Result<Vec<(&str, Fires<'_>)>, String> {
    let Json::Object(map) = publish else {
        return Err("must be an object".to_owned());
    };
    let mut targets = Vec::new();
    for (key, value) in map {
        if let Some((_, trigger)) = EVENT_KEYS.iter().find(|(name, _)| name == key) {
            match value {
                Json::String(template) => targets.push((template.as_str(), Fires::On(trigger))),
                Json::Array(templates) => {
                    for template in templates {
                        let Json::String(template) = template else {
                            return Err(format!("`{key}` must list topic templates"));
                        };
                        targets.push((template.as_str(), Fires::On(trigger)));
                    }
                }
                _ => {
                    return Err(format!(
                        "`{key}` must be a topic template or a list of them"
                    ))
                }
            }
        } else if key.starts_with("on_") {
            return Err(format!(
                "`{key}` is not an event: use on_added, on_updated or on_deleted"
            ));
        } else {
            let Json::String(rule) = value else {
                return Err(format!("the rule of topic `{key}` must be a string"));
            };
            targets.push((key.as_str(), Fires::When(rule.as_str())));
        }
    }
    if targets.len() > MAX_PUBLISH_TOPICS {
        return Err(format!("names more than {MAX_PUBLISH_TOPICS} topics"));
    }
    Ok(targets)
}

/// Checks an entry's `publish` value (400 / 400589 when malformed).
pub(crate) fn validate_publish(entry: &str, publish: &Json) -> Result<(), Error> {
    let field = format!("entries.{entry}.publish");
    let targets = targets(publish)
        .map_err(|problem| Error::request_format(format!("`{field}` {problem}")))?;
    for (template, fires) in targets {
        check_template(template)
            .map_err(|problem| Error::request_format(format!("`{field}`: {problem}")))?;
        if let Fires::When(rule) = fires {
            validate_rule_text(&format!("{field}.{template}"), rule)?;
        }
    }
    Ok(())
}

/// A topic template: topic characters and `{token}`s (`{{` and `}}` are literal braces).
fn check_template(template: &str) -> Result<(), String> {
    let pieces = parse_template(template, token_known)?;
    let literal: usize = pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Text(text) => Some(text.len()),
            Piece::Token(_) => None,
        })
        .sum();
    let has_token = pieces.iter().any(|piece| matches!(piece, Piece::Token(_)));
    if !has_token && !is_colour_or_topic(template) {
        return Err(format!(
            "topic `{template}` must be 3 to 48 letters, digits or `-`"
        ));
    }
    if literal > 48 {
        return Err(format!("topic template `{template}` is too long"));
    }
    Ok(())
}

fn token_known(token: &str) -> bool {
    matches!(token, "entry_name" | "twin" | "ledger" | "account")
        || mapping_key(token, "TWIN").is_some()
        || mapping_key(token, "LEDGER").is_some()
}

/// `TWIN.x` or `TWIN[x]` → `x`.
fn mapping_key<'a>(token: &'a str, mapping: &str) -> Option<&'a str> {
    let rest = token.strip_prefix(mapping)?;
    let key = rest
        .strip_prefix('.')
        .or_else(|| rest.strip_prefix('[').and_then(|key| key.strip_suffix(']')))?;
    (!key.is_empty()).then_some(key)
}

/// Subscribers as readers, one per subscribing user however many subscriptions it has.
pub(crate) type Readers = BTreeMap<(AccountId, UserId), Option<Principal>>;

/// A signed notification message for `subscription` (spec §6.1), queued for now.
pub(crate) fn notification(
    subscription: &steward_domain::Subscription,
    trigger: &str,
    twin: steward_domain::TwinId,
    event: Json,
    now: Timestamp,
) -> Result<Delivery, Error> {
    let message = Uuid::new_v4();
    let fields = [
        ("type", Json::from("Notification")),
        ("trigger", Json::from(trigger)),
        ("message", Json::from(message.to_string())),
        ("twin", Json::from(twin.to_string())),
        ("event", event),
        ("sent_ts", Json::from(now.as_tt_seconds())),
        ("subscription", subscription_json(subscription)),
    ];
    signed_delivery(subscription, message, &fields, NOTIFICATION_HASHED, now)
}

/// One change of an entry, as published.
struct Change<'a> {
    name: &'a str,
    trigger: &'static str,
    old_value: Json,
    new_value: Json,
    changed_ts: Timestamp,
    publish: Option<&'a Json>,
    /// The entry before and after the change (`None`: absent), as the event log keeps them:
    /// readers of the log are judged by the entry as it was when it changed.
    before: Option<&'a Entry>,
    after: Option<&'a Entry>,
}

fn stored_value(entry: Option<&Entry>) -> Json {
    match entry.map(|entry| &entry.content) {
        Some(EntryContent::Value(value)) => value.clone(),
        _ => Json::Null,
    }
}

fn changes<'a>(before: &'a BTreeMap<String, Entry>, after: &'a Ledger) -> Vec<Change<'a>> {
    let mut changes = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        before.keys().chain(after.entries.keys()).collect();
    for name in names {
        let old = before.get(name);
        let new = after.entries.get(name);
        let (trigger, holder) = match (old, new) {
            (None, Some(new)) => ("ledger.entry.added", new),
            (Some(old), None) => ("ledger.entry.deleted", old),
            (Some(old), Some(new)) if old.content != new.content => ("ledger.entry.updated", new),
            _ => continue,
        };
        changes.push(Change {
            name,
            trigger,
            old_value: stored_value(old),
            new_value: stored_value(new),
            changed_ts: new.map_or(after.updated_ts, |entry| entry.value_changed_ts),
            publish: holder.publish.as_ref(),
            before: old,
            after: new,
        });
    }
    changes
}

/// The rule context of a publish rule: the entry's variables plus the change.
struct PublishContext<'a> {
    entry: EntryRuleContext<'a>,
    change: &'a Change<'a>,
}

impl Context for PublishContext<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        match name {
            "trigger" => Some(Value::string(self.change.trigger)),
            "old_value" => Some(plain_json_to_rule_value(&self.change.old_value)),
            "new_value" => Some(plain_json_to_rule_value(&self.change.new_value)),
            _ => self.entry.resolve(name),
        }
    }
}

fn render(template: &str, twin: &Twin, ledger: &Ledger, entry: &str) -> Option<String> {
    let plain = |value: &Json| match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut topic = String::new();
    for piece in parse_template(template, token_known).ok()? {
        match piece {
            Piece::Text(text) => topic.push_str(&text),
            Piece::Token("entry_name") => topic.push_str(entry),
            Piece::Token("twin") => topic.push_str(&twin.id.to_string()),
            Piece::Token("ledger" | "account") => topic.push_str(&ledger.account.to_string()),
            Piece::Token(token) => {
                if let Some(key) = mapping_key(token, "TWIN") {
                    topic.push_str(&plain(twin.description.as_ref()?.get(key)?));
                } else {
                    let key = mapping_key(token, "LEDGER")?;
                    let EntryContent::Value(value) = &ledger.entries.get(key)?.content else {
                        return None;
                    };
                    topic.push_str(&plain(value));
                }
            }
        }
    }
    is_colour_or_topic(&topic).then_some(topic)
}

impl Steward {
    /// The subscriber as a reader: its user with its current role and secret, as if it called
    /// with that secret. `None` when the account is suspended, or the user, its role or a valid
    /// secret is gone; such a subscriber receives nothing.
    async fn subscriber_principal(
        &self,
        subscription: &steward_domain::Subscription,
        now: Timestamp,
    ) -> Result<Option<Principal>, Error> {
        use steward_store::StoreError;
        let account = subscription.subscriber_account;
        let loaded = async {
            let owner = self.store.get_account(account).await?;
            let user = self
                .store
                .get_user(account, subscription.subscriber_user)
                .await?;
            let role = self.store.get_role(account, user.role).await?;
            let secret = self.store.get_secret(account, user.id).await?;
            Ok::<_, StoreError>((owner, user, role, secret))
        };
        let (owner, user, role, secret) = match loaded.await {
            Ok(found) => found,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        if owner.status != steward_domain::AccountStatus::Active
            || secret.validity_ts.is_some_and(|validity| validity <= now)
        {
            return Ok(None);
        }
        Ok(Some(Principal {
            account,
            auth: crate::AuthMethod::Secret {
                fingerprint: secret.fingerprint.clone(),
            },
            user,
            role,
            secret,
            dict: None,
        }))
    }

    /// The reader a message for `subscription` is judged as: its subscriber (see
    /// [`Steward::subscriber_principal`], looked up once per user in `readers`), provided a
    /// foreign subscriber's topic grant still lasts. `None`: the subscription receives nothing.
    pub(crate) async fn subscription_reader(
        &self,
        subscription: &steward_domain::Subscription,
        readers: &mut Readers,
        now: Timestamp,
    ) -> Result<Option<Principal>, Error> {
        let key = (
            subscription.subscriber_account,
            subscription.subscriber_user,
        );
        let reader = match readers.get(&key) {
            Some(reader) => reader.clone(),
            None => {
                let reader = self.subscriber_principal(subscription, now).await?;
                readers.insert(key, reader.clone());
                reader
            }
        };
        // Another account's subscription keeps receiving only while the grant lasts.
        if subscription.subscriber_account != subscription.topic_account
            && !self
                .topic_granted(
                    subscription.topic_account,
                    subscription.subscriber_account,
                    &subscription.topic,
                )
                .await?
        {
            return Ok(None);
        }
        Ok(reader)
    }

    /// What a ledger write publishes: the outbox messages (its changes grouped by topic, one
    /// message per topic for each active subscription of it) and its entries of the event log
    /// (one per trigger).
    pub(crate) async fn publish(
        &self,
        principal: &Principal,
        twin: &Twin,
        after: &Ledger,
        before: &BTreeMap<String, Entry>,
        now: Timestamp,
    ) -> Result<(Vec<Delivery>, Vec<Event>), Error> {
        let changes = changes(before, after);
        if changes.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // The ledger as it was, for rules about deleted entries.
        let previous = Ledger {
            entries: before.clone(),
            ..after.clone()
        };
        let (after_values, previous_values) = (OnceCell::new(), OnceCell::new());
        // topic → trigger of its first change, and the changes it carries
        let mut topics: BTreeMap<String, (&'static str, Vec<usize>)> = BTreeMap::new();
        for (index, change) in changes.iter().enumerate() {
            let deleted = change.trigger == "ledger.entry.deleted";
            let (scope, values) = if deleted {
                (&previous, &previous_values)
            } else {
                (after, &after_values)
            };
            let Some(Ok(targets)) = change.publish.map(targets) else {
                continue;
            };
            for (template, fires) in targets {
                let fired = match fires {
                    Fires::On(trigger) => trigger == change.trigger,
                    Fires::When(rule) => {
                        let context = PublishContext {
                            entry: EntryRuleContext {
                                principal,
                                twin,
                                ledger: scope,
                                ledger_values: values,
                                entry_name: change.name,
                                entry: scope.entries.get(change.name),
                                now,
                            },
                            change,
                        };
                        self.rule_cache
                            .get(rule)
                            .is_some_and(|rule| rule.matches(&context))
                    }
                };
                if !fired {
                    continue;
                }
                let Some(topic) = render(template, twin, scope, change.name) else {
                    tracing::debug!(template, "publish template renders to no topic");
                    continue;
                };
                let (_, fired) = topics
                    .entry(topic)
                    .or_insert_with(|| (change.trigger, Vec::new()));
                if !fired.contains(&index) {
                    fired.push(index);
                }
            }
        }
        let events = ledger_events(&changes, &topics, twin, after.account, now);
        let mut deliveries = Vec::new();
        let mut readers = Readers::new();
        for (topic, (trigger, fired)) in topics {
            let subscriptions = self
                .store
                .list_active_subscriptions(after.account, &topic, now)
                .await?;
            for subscription in subscriptions {
                // Each subscriber gets only what it may read itself, as if it read the ledger
                // with its secret: the twin and every entry through the usual visibility.
                let Some(reader) = self
                    .subscription_reader(&subscription, &mut readers, now)
                    .await?
                else {
                    continue;
                };
                if authorize_operation(&reader, "get_twin_ledger_entry").is_err()
                    || !twin_visible(&reader, twin, &self.rule_cache, now)
                {
                    continue;
                }
                let visible_now = visible_entry_names(&reader, twin, after, &self.rule_cache, now);
                let visible_before =
                    visible_entry_names(&reader, twin, &previous, &self.rule_cache, now);
                let mut events = Map::new();
                for index in &fired {
                    let change = &changes[*index];
                    let visible = if change.trigger == "ledger.entry.deleted" {
                        &visible_before
                    } else {
                        &visible_now
                    };
                    if !visible.contains(change.name) {
                        continue;
                    }
                    // The old value only if the subscriber could read it before the change too.
                    let old_value = if visible_before.contains(change.name) {
                        change.old_value.clone()
                    } else {
                        Json::Null
                    };
                    events.insert(
                        change.name.to_owned(),
                        json!({
                            "new_value": change.new_value,
                            "old_value": old_value,
                            "changed_ts": change.changed_ts.as_tt_seconds(),
                        }),
                    );
                }
                if events.is_empty() {
                    continue;
                }
                deliveries.push(notification(
                    &subscription,
                    trigger,
                    twin.id,
                    Json::Object(events),
                    now,
                )?);
            }
        }
        Ok((deliveries, events))
    }
}

/// The event-log entries of a ledger write: one per trigger, each with its changed entries (the
/// entry before and after the change, values included) and the topics each change was
/// published to.
fn ledger_events(
    changes: &[Change<'_>],
    topics: &BTreeMap<String, (&'static str, Vec<usize>)>,
    twin: &Twin,
    account: AccountId,
    now: Timestamp,
) -> Vec<Event> {
    let mut by_trigger: BTreeMap<&'static str, Map<String, Json>> = BTreeMap::new();
    for (index, change) in changes.iter().enumerate() {
        let published: Vec<&str> = topics
            .iter()
            .filter(|(_, (_, fired))| fired.contains(&index))
            .map(|(topic, _)| topic.as_str())
            .collect();
        let definition = |entry: Option<&Entry>| {
            entry.map_or(Json::Null, |entry| {
                serde_json::to_value(entry).unwrap_or(Json::Null)
            })
        };
        let record = json!({
            "before": definition(change.before),
            "after": definition(change.after),
            "changed_ts": change.changed_ts.as_tt_seconds(),
            "topics": published,
        });
        by_trigger
            .entry(change.trigger)
            .or_default()
            .insert(change.name.to_owned(), record);
    }
    by_trigger
        .into_iter()
        .map(|(trigger, entries)| Event {
            id: 0,
            ts: now,
            twin: twin.id,
            account,
            trigger: trigger.to_owned(),
            body: json!({ "entries": entries }),
        })
        .collect()
}
