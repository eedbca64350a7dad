//! The live event stream (`GET /events`, a Steward extension): the changes a caller may see,
//! as they commit, resumable by event id.
//!
//! Every event is judged for the caller **when it is delivered**, by the same functions that
//! decide its reads: an entry change is shown only if the caller may read the entry
//! (`get_twin_ledger_entry`, the twin's visibility, the entry's visibility, all as they are
//! now); a sticker event only if the caller is among the sticker's recipients
//! (`get_sticker`). The caller's credential is checked again at least every
//! [`REAUTH_INTERVAL_MILLIS`], so a revoked secret, a deleted user or a suspended account ends
//! the stream.

pub(crate) mod hub;

use std::collections::{BTreeSet, VecDeque};

use serde_json::{json, Map, Value as Json};
use steward_domain::{Event, Sticker, Timestamp, TwinId};
use tokio::sync::broadcast::error::RecvError;

use crate::authz::{authorize_operation, twin_visible, visible_entry_names};
use crate::ledgers::LedgerSelector;
use crate::stickers::input::is_colour_or_topic;
use crate::{Error, ErrorCode, Principal, Steward};

/// Most topics one stream may filter on.
pub const MAX_FILTER_TOPICS: usize = 50;
/// Most twins one stream may filter on.
pub const MAX_FILTER_TWINS: usize = 100;
/// How often a stream checks its credential again, at most.
pub const REAUTH_INTERVAL_MILLIS: i64 = 1_000;
/// Events read from the log per round trip while catching up.
const BACKFILL_BATCH: u32 = 100;

/// What a stream is narrowed to; empty lists mean everything the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only changes published to one of these topics.
    pub topics: Vec<String>,
    /// Only changes of these twins.
    pub twins: Vec<TwinId>,
}

impl EventFilter {
    /// Checks the filter's sizes and topic names (400 / 400589).
    pub fn validate(&self) -> Result<(), Error> {
        if self.topics.len() > MAX_FILTER_TOPICS {
            return Err(Error::request_format(format!(
                "`topics` may list at most {MAX_FILTER_TOPICS} topics"
            )));
        }
        if self.twins.len() > MAX_FILTER_TWINS {
            return Err(Error::request_format(format!(
                "`twins` may list at most {MAX_FILTER_TWINS} twins"
            )));
        }
        if let Some(bad) = self.topics.iter().find(|topic| !is_colour_or_topic(topic)) {
            return Err(Error::request_format(format!(
                "topic `{}` must be 3 to 48 letters, digits or `-`",
                crate::stickers::input::shown(bad)
            )));
        }
        Ok(())
    }

    fn admits_twin(&self, twin: TwinId) -> bool {
        self.twins.is_empty() || self.twins.contains(&twin)
    }

    fn admits_topics<'a>(&self, mut topics: impl Iterator<Item = &'a str>) -> bool {
        self.topics.is_empty() || topics.any(|topic| self.topics.iter().any(|t| t == topic))
    }
}

/// One item of a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A change the caller may see: SSE `id`, `event` (the trigger) and `data`.
    Event {
        /// The event's id, to resume after.
        id: u64,
        /// The trigger (`ledger.entry.updated`, `sticker.put`, ...).
        trigger: String,
        /// The change, narrowed to what the caller may see.
        data: Json,
    },
    /// Events `from..=to` were pruned before this stream could resume from them.
    Gap {
        /// The first lost event.
        from: u64,
        /// The last lost event.
        to: u64,
    },
    /// The caller read too slowly and fell too far behind: the stream ends after this item;
    /// reconnect with `Last-Event-ID` to resume.
    Overflow {
        /// The last event this stream went through.
        last_event_id: u64,
    },
    /// The credential is no longer valid: the stream ends after this item.
    Unauthorized,
}

/// An open stream of one caller.
pub struct EventStream {
    steward: Steward,
    authorization: String,
    dict: Option<String>,
    principal: Principal,
    checked_at: Timestamp,
    filter: EventFilter,
    subscription: hub::Subscription,
    /// The last event this stream went through (shown or not).
    cursor: u64,
    /// Whether the stream still reads the stored log (after `Last-Event-ID`, or after the
    /// broadcast skipped ahead) before following the broadcast.
    backfilling: bool,
    pending: VecDeque<StreamItem>,
    finished: bool,
}

impl Steward {
    /// Opens a stream for the caller (401 / 401000 without valid credentials). `last_event_id`
    /// resumes after that event, from the retained log; without it the stream starts with the
    /// next change.
    pub async fn open_event_stream(
        &self,
        authorization: Option<&str>,
        dict: Option<&str>,
        filter: EventFilter,
        last_event_id: Option<u64>,
    ) -> Result<EventStream, Error> {
        filter.validate()?;
        let principal = self.authenticate(authorization, dict).await?;
        let subscription = self.events.subscribe(&self.store).await?;
        let (cursor, backfilling) = match last_event_id {
            None => (subscription.head, false),
            // An id from the future (another database, a typo) resumes from the newest event.
            Some(id) => (id.min(self.store.last_event_id().await?), true),
        };
        Ok(EventStream {
            steward: self.clone(),
            authorization: authorization.unwrap_or_default().to_owned(),
            dict: dict.map(str::to_owned),
            principal,
            checked_at: self.clock.now(),
            filter,
            subscription,
            cursor,
            backfilling,
            pending: VecDeque::new(),
            finished: false,
        })
    }

    /// Tells this node's streams to look for new events now. Called after this node committed
    /// events, and by the server when another node signals that it did.
    pub fn wake_event_streams(&self) {
        self.events.wake();
    }

    /// Ends every open event stream (server shutdown).
    pub fn close_event_streams(&self) {
        self.events.close();
    }
}

impl EventStream {
    /// The next item, waiting for one; `None` when the stream ended (after a final item, or at
    /// server shutdown).
    pub async fn next(&mut self) -> Option<StreamItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                if matches!(item, StreamItem::Overflow { .. } | StreamItem::Unauthorized) {
                    self.finished = true;
                }
                return Some(item);
            }
            if self.finished || *self.subscription.shutdown.borrow() {
                return None;
            }
            if self.backfilling {
                self.backfill().await;
                continue;
            }
            let received = tokio::select! {
                received = self.subscription.events.recv() => received,
                _ = self.subscription.shutdown.changed() => return None,
            };
            match received {
                Ok(event) => {
                    if event.id <= self.cursor {
                        continue;
                    }
                    if event.id > self.cursor + 1 {
                        // Events this stream has not seen are in the log: read them from there.
                        self.backfilling = true;
                        continue;
                    }
                    self.consider(&event).await;
                }
                Err(RecvError::Lagged(_)) => self.pending.push_back(StreamItem::Overflow {
                    last_event_id: self.cursor,
                }),
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads one batch of the stored log after the cursor; stops backfilling when it is empty.
    async fn backfill(&mut self) {
        let events = match self
            .steward
            .store
            .list_events(self.cursor, BACKFILL_BATCH)
            .await
        {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, "reading the event log for a stream failed");
                tokio::time::sleep(hub::POLL_INTERVAL).await;
                return;
            }
        };
        let Some(first) = events.first() else {
            self.backfilling = false;
            return;
        };
        if first.id > self.cursor + 1 {
            self.pending.push_back(StreamItem::Gap {
                from: self.cursor + 1,
                to: first.id - 1,
            });
        }
        for event in &events {
            self.consider(event).await;
            if self.finished || matches!(self.pending.back(), Some(StreamItem::Unauthorized)) {
                return;
            }
        }
    }

    /// Moves the cursor past `event` and queues it if the caller may see it.
    async fn consider(&mut self, event: &Event) {
        self.cursor = event.id;
        let now = self.steward.clock.now();
        if now.as_millis() - self.checked_at.as_millis() >= REAUTH_INTERVAL_MILLIS {
            match self
                .steward
                .authenticate(Some(&self.authorization), self.dict.as_deref())
                .await
            {
                Ok(principal) => {
                    self.principal = principal;
                    self.checked_at = now;
                }
                Err(error) if error.code == ErrorCode::Unauthorized => {
                    self.pending.push_back(StreamItem::Unauthorized);
                    return;
                }
                // The database may be briefly away; keep the last good identity.
                Err(error) => tracing::warn!(%error, "re-checking a stream's credential failed"),
            }
        }
        match self
            .steward
            .event_view(&self.principal, &self.filter, event)
            .await
        {
            Ok(Some(data)) => self.pending.push_back(StreamItem::Event {
                id: event.id,
                trigger: event.trigger.clone(),
                data,
            }),
            Ok(None) => {}
            // Not shown: a failure to judge an event never shows it.
            Err(error) => tracing::debug!(%error, event = event.id, "event not shown"),
        }
    }
}

impl Steward {
    /// What `principal` may see of `event` under `filter`, or `None`.
    pub(crate) async fn event_view(
        &self,
        principal: &Principal,
        filter: &EventFilter,
        event: &Event,
    ) -> Result<Option<Json>, Error> {
        if !filter.admits_twin(event.twin) {
            return Ok(None);
        }
        if event.is_sticker() {
            self.sticker_event_view(principal, filter, event).await
        } else {
            self.entry_event_view(principal, filter, event).await
        }
    }

    async fn entry_event_view(
        &self,
        principal: &Principal,
        filter: &EventFilter,
        event: &Event,
    ) -> Result<Option<Json>, Error> {
        if authorize_operation(principal, "get_twin_ledger_entry").is_err() {
            return Ok(None);
        }
        let Some(Json::Object(changes)) = event.body.get("entries") else {
            return Ok(None);
        };
        let topics_of = |change: &Json| -> Vec<String> {
            change
                .get("topics")
                .and_then(Json::as_array)
                .map(|topics| {
                    topics
                        .iter()
                        .filter_map(|topic| topic.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let wanted: Vec<(&String, &Json)> = changes
            .iter()
            .filter(|(_, change)| {
                let topics = topics_of(change);
                filter.admits_topics(topics.iter().map(String::as_str))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(None);
        }
        // 403 (twin hidden) and 404 (twin gone) both mean: nothing to show.
        let (twin, mut ledger) = match self
            .twin_with_ledger(
                principal,
                event.twin,
                LedgerSelector::Account(event.account),
            )
            .await
        {
            Ok(found) => found,
            Err(error) if error.code.http_status() < 500 => return Ok(None),
            Err(error) => return Err(error),
        };
        // A deleted entry is judged by its last definition, unless it was added again since.
        for (name, change) in &wanted {
            if let Some(entry) = change.get("entry") {
                if !ledger.entries.contains_key(*name) {
                    if let Ok(entry) = serde_json::from_value(entry.clone()) {
                        ledger.entries.insert((*name).clone(), entry);
                    }
                }
            }
        }
        let visible: BTreeSet<String> = visible_entry_names(
            principal,
            &twin,
            &ledger,
            &self.rule_cache,
            self.clock.now(),
        );
        let mut entries = Map::new();
        for (name, change) in wanted {
            if !visible.contains(name) {
                continue;
            }
            entries.insert(
                name.clone(),
                json!({
                    "new_value": change.get("new_value").cloned().unwrap_or(Json::Null),
                    "old_value": change.get("old_value").cloned().unwrap_or(Json::Null),
                    "changed_ts": change.get("changed_ts").cloned().unwrap_or(Json::Null),
                }),
            );
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(json!({
            "id": event.id,
            "trigger": event.trigger,
            "twin": event.twin,
            "ledger": event.account,
            "ts": event.ts.as_tt_seconds(),
            "entries": entries,
        })))
    }

    async fn sticker_event_view(
        &self,
        principal: &Principal,
        filter: &EventFilter,
        event: &Event,
    ) -> Result<Option<Json>, Error> {
        if authorize_operation(principal, "get_sticker").is_err() {
            return Ok(None);
        }
        let Ok(sticker) = serde_json::from_value::<Sticker>(event.body.clone()) else {
            return Ok(None);
        };
        if !crate::stickers::addressed_to(principal, &sticker)
            || !filter.admits_topics(
                crate::notifications::stickers::sticker_topics(&sticker, &event.trigger)
                    .into_iter(),
            )
        {
            return Ok(None);
        }
        let twin = match self.cached_twin(event.twin).await {
            Ok(twin) => twin,
            Err(error) if error.code.http_status() < 500 => return Ok(None),
            Err(error) => return Err(error),
        };
        if !twin_visible(principal, &twin, &self.rule_cache, self.clock.now()) {
            return Ok(None);
        }
        Ok(Some(json!({
            "id": event.id,
            "trigger": event.trigger,
            "twin": event.twin,
            "ts": event.ts.as_tt_seconds(),
            "sticker": crate::notifications::stickers::sticker_event_json(&sticker),
        })))
    }
}
