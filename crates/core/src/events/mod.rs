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

use std::collections::VecDeque;

use serde_json::{json, Map, Value as Json};
use steward_domain::{Entry, EntryContent, Event, Sticker, Timestamp, TwinId};
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
/// Most open streams per account on one node.
pub const MAX_STREAMS_PER_ACCOUNT: usize = 16;
/// After this many events not shown, a stream sends its position (`steward.progress`).
const PROGRESS_EVERY: u64 = 100;
/// How long a stream waits for an event before it checks its credential again anyway.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(15);
/// Events read from the log per round trip while catching up.
const BACKFILL_BATCH: u32 = 100;

/// One logged entry change.
struct LoggedChange {
    before: Option<Entry>,
    after: Option<Entry>,
    changed_ts: Json,
    topics: Vec<String>,
}

impl LoggedChange {
    /// Reads a change as [`crate::notifications::publish`] logs it; `None` if it does not
    /// decode (never shown).
    fn read(change: &Json) -> Option<Self> {
        let definition = |key: &str| -> Option<Option<Entry>> {
            match change.get(key)? {
                Json::Null => Some(None),
                entry => serde_json::from_value(entry.clone()).ok().map(Some),
            }
        };
        Some(Self {
            before: definition("before")?,
            after: definition("after")?,
            changed_ts: change.get("changed_ts").cloned().unwrap_or(Json::Null),
            topics: change
                .get("topics")
                .and_then(Json::as_array)
                .map(|topics| {
                    topics
                        .iter()
                        .filter_map(|topic| topic.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// An entry's value as events show it (null for references and absent entries).
fn value_of(entry: Option<&Entry>) -> Json {
    match entry.map(|entry| &entry.content) {
        Some(EntryContent::Value(value)) => value.clone(),
        _ => Json::Null,
    }
}

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
    /// The stream went through events up to this one without showing any: a client keeps it
    /// as its resume point (SSE `id`).
    Progress {
        /// The last event gone through.
        last_event_id: u64,
    },
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
    /// Events gone through without showing one, since the last item.
    skipped: u64,
    /// The stream took a fresh receiver after catching up and reads the log once more.
    resubscribed: bool,
    /// Releases the account's stream slot when the stream ends.
    _slot: hub::StreamSlot,
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
        self.admit_request(principal.account).await?;
        let slot = self.events.take_slot(principal.account).ok_or_else(|| {
            Error::new(
                ErrorCode::TooManyRequests,
                format!("an account may hold at most {MAX_STREAMS_PER_ACCOUNT} event streams on one server"),
            )
        })?;
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
            skipped: 0,
            resubscribed: false,
            _slot: slot,
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
                if !self.backfilling && !self.resubscribed {
                    // Caught up with the log: follow the broadcast from its newest event, then
                    // read the log once more, for what was broadcast while this stream read
                    // it (anything later arrives through the new receiver).
                    self.subscription.events = self.subscription.events.resubscribe();
                    self.resubscribed = true;
                    self.backfilling = true;
                } else if !self.backfilling {
                    self.resubscribed = false;
                }
                continue;
            }
            let received = tokio::select! {
                received = self.subscription.events.recv() => received,
                _ = self.subscription.shutdown.changed() => return None,
                () = tokio::time::sleep(IDLE_CHECK) => {
                    // Quiet streams still notice a revoked credential.
                    self.recheck_credential().await;
                    if self.pending.is_empty() && self.skipped > 0 {
                        self.pending.push_back(StreamItem::Progress { last_event_id: self.cursor });
                        self.skipped = 0;
                    }
                    continue;
                }
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
        if events.is_empty() {
            self.backfilling = false;
            return;
        }
        for event in &events {
            if event.id > self.cursor + 1 {
                // Ids are consecutive: what is missing was pruned before this stream read it.
                self.pending.push_back(StreamItem::Gap {
                    from: self.cursor + 1,
                    to: event.id - 1,
                });
            }
            self.consider(event).await;
            if self.finished
                || matches!(
                    self.pending.back(),
                    Some(StreamItem::Unauthorized | StreamItem::Overflow { .. })
                )
            {
                return;
            }
        }
    }

    /// Checks the credential again (at most every [`REAUTH_INTERVAL_MILLIS`]); queues the
    /// final `Unauthorized` when it is no longer valid.
    async fn recheck_credential(&mut self) {
        let now = self.steward.clock.now();
        if now.as_millis() - self.checked_at.as_millis() < REAUTH_INTERVAL_MILLIS {
            return;
        }
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
            }
            // The database may be briefly away; keep the last good identity.
            Err(error) => tracing::warn!(%error, "re-checking a stream's credential failed"),
        }
    }

    /// Queues `event` if the caller may see it and moves the cursor past it. If it cannot be
    /// judged (the database failed), the stream ends with `Overflow` just before it, so the
    /// client resumes from there instead of missing it.
    async fn consider(&mut self, event: &Event) {
        self.recheck_credential().await;
        if matches!(self.pending.back(), Some(StreamItem::Unauthorized)) {
            return;
        }
        match self
            .steward
            .event_view(&self.principal, &self.filter, event)
            .await
        {
            Ok(Some(data)) => {
                self.skipped = 0;
                self.pending.push_back(StreamItem::Event {
                    id: event.id,
                    trigger: event.trigger.clone(),
                    data,
                });
            }
            Ok(None) => {
                self.skipped += 1;
                if self.skipped >= PROGRESS_EVERY {
                    self.skipped = 0;
                    self.pending.push_back(StreamItem::Progress {
                        last_event_id: event.id,
                    });
                }
            }
            Err(error) => {
                tracing::warn!(%error, event = event.id, "an event could not be judged; the stream ends before it");
                self.pending.push_back(StreamItem::Overflow {
                    last_event_id: self.cursor,
                });
                return;
            }
        }
        self.cursor = event.id;
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
        let changes: Vec<(&String, LoggedChange)> = changes
            .iter()
            .filter_map(|(name, change)| Some((name, LoggedChange::read(change)?)))
            .collect();
        // A topic filter on another account's changes admits only topics that account granted
        // the caller: topic names may be rendered from values the caller cannot read, and an
        // ungranted filter would let it test guesses of them.
        let granted = if filter.topics.is_empty() || event.account == principal.account {
            None
        } else {
            Some(
                self.granted_topics(event.account, principal.account)
                    .await?,
            )
        };
        let wanted: Vec<(&String, LoggedChange)> = changes
            .into_iter()
            .filter(|(_, change)| {
                filter.admits_topics(change.topics.iter().map(String::as_str).filter(|topic| {
                    granted
                        .as_ref()
                        .is_none_or(|granted| granted.iter().any(|g| g == topic))
                }))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(None);
        }
        // 403 (twin hidden now) and 404 (twin gone) both mean: nothing to show.
        let (twin, ledger) = match self
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
        // Each change is judged by the entries as they were around it (the definitions before
        // and after it, logged with it) and as they are now: it is shown only if the caller
        // could read it when it happened and may still read the entry (if it still exists).
        let now = self.clock.now();
        let with = |pick: fn(&LoggedChange) -> Option<&Entry>| {
            let mut judged = ledger.clone();
            for (name, change) in &wanted {
                match pick(change) {
                    Some(entry) => {
                        judged.entries.insert((*name).clone(), entry.clone());
                    }
                    None => {
                        judged.entries.remove(*name);
                    }
                }
            }
            visible_entry_names(principal, &twin, &judged, &self.rule_cache, now)
        };
        let visible_before = with(|change| change.before.as_ref());
        let visible_after = with(|change| change.after.as_ref());
        let visible_now = visible_entry_names(principal, &twin, &ledger, &self.rule_cache, now);
        let mut entries = Map::new();
        for (name, change) in &wanted {
            let deleted = change.after.is_none();
            let readable_then = if deleted {
                visible_before.contains(*name)
            } else {
                visible_after.contains(*name)
            };
            let readable_now = !ledger.entries.contains_key(*name) || visible_now.contains(*name);
            if !readable_then || !readable_now {
                continue;
            }
            // The old value only if the caller could read the entry before the change too.
            let old_value = if visible_before.contains(*name) {
                value_of(change.before.as_ref())
            } else {
                Json::Null
            };
            entries.insert(
                (*name).clone(),
                json!({
                    "new_value": value_of(change.after.as_ref()),
                    "old_value": old_value,
                    "changed_ts": change.changed_ts,
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

    /// The topics `publisher` grants `grantee`.
    async fn granted_topics(
        &self,
        publisher: steward_domain::AccountId,
        grantee: steward_domain::AccountId,
    ) -> Result<Vec<String>, Error> {
        Ok(self
            .store
            .get_notification_access(publisher)
            .await?
            .remove(&grantee)
            .unwrap_or_default())
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
            "sticker": crate::notifications::stickers::sticker_event_json(
                &sticker,
                principal.account == sticker.account,
            ),
        })))
    }
}
