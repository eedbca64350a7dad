//! One node's fan-out of the event log to its live streams.
//!
//! A single tail task per node reads new events from the store, in id order, and broadcasts
//! them to every open stream through a bounded channel. It reads when woken (a commit on this
//! node, or a [`steward_store::ChangeSignal`] from another node) and at least every
//! [`POLL_INTERVAL`], which also covers signals that were lost. A stream that falls more than
//! the channel's capacity behind is told so and closed: memory stays bounded by the capacity,
//! however slow a consumer is.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use steward_domain::{AccountId, Event};
use steward_store::Store;
use tokio::sync::{broadcast, watch, Notify, OnceCell};

use crate::Error;

/// How often the tail looks for new events without being woken.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Events read from the store per round trip.
const READ_BATCH: u32 = 256;

/// The node's event fan-out.
pub(crate) struct EventHub {
    sender: broadcast::Sender<Arc<Event>>,
    wake: Notify,
    /// The id of the newest event broadcast.
    head: AtomicU64,
    started: OnceCell<()>,
    closed: AtomicBool,
    /// Flips to `true` on [`EventHub::close`]; streams watch it.
    shutdown: watch::Sender<bool>,
    /// Open streams per account.
    streams: Arc<std::sync::Mutex<std::collections::HashMap<AccountId, usize>>>,
}

/// One open stream's place in its account's count; given back when dropped.
pub(crate) struct StreamSlot {
    account: AccountId,
    streams: Arc<std::sync::Mutex<std::collections::HashMap<AccountId, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.streams.lock() {
            if let Some(count) = streams.get_mut(&self.account) {
                *count -= 1;
                if *count == 0 {
                    streams.remove(&self.account);
                }
            }
        }
    }
}

impl EventHub {
    /// A hub whose streams may fall at most `capacity` events behind.
    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self {
            sender,
            wake: Notify::new(),
            head: AtomicU64::new(0),
            started: OnceCell::new(),
            closed: AtomicBool::new(false),
            shutdown: watch::Sender::new(false),
            streams: Arc::default(),
        }
    }

    /// A stream slot of `account`, unless it holds [`super::MAX_STREAMS_PER_ACCOUNT`] already.
    pub(crate) fn take_slot(&self, account: AccountId) -> Option<StreamSlot> {
        let mut streams = self.streams.lock().ok()?;
        let count = streams.entry(account).or_default();
        if *count >= super::MAX_STREAMS_PER_ACCOUNT {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            account,
            streams: self.streams.clone(),
        })
    }

    /// Asks the tail to look for new events now (after a commit, or a signal from another
    /// node). Cheap; does nothing before the first stream opened.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ends every open stream and stops the tail (server shutdown).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.shutdown.send_replace(true);
        self.wake.notify_one();
    }

    /// Whether [`EventHub::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// A receiver of every event broadcast from now on, the id of the newest event already
    /// broadcast, and a watch that turns `true` when the hub closes. Starts the tail on first
    /// use (the caller must be inside a Tokio runtime).
    pub(crate) async fn subscribe(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
    ) -> Result<Subscription, Error> {
        self.started
            .get_or_try_init(|| async {
                let last = store.last_event_id().await?;
                self.head.store(last, Ordering::SeqCst);
                tokio::spawn(tail(Arc::downgrade(self), Arc::downgrade(store)));
                Ok::<_, Error>(())
            })
            .await?;
        let events = self.sender.subscribe();
        Ok(Subscription {
            events,
            head: self.head.load(Ordering::SeqCst),
            shutdown: self.shutdown.subscribe(),
        })
    }
}

/// One stream's view of the hub.
pub(crate) struct Subscription {
    /// Every event broadcast after subscribing.
    pub(crate) events: broadcast::Receiver<Arc<Event>>,
    /// The newest event broadcast before subscribing.
    pub(crate) head: u64,
    /// `true` once the hub closed.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Reads new events and broadcasts them until the hub is dropped or closed. Holds only weak
/// references between rounds, so it never keeps a store (or its pool) alive by itself.
async fn tail(hub: Weak<EventHub>, store: Weak<dyn Store>) {
    loop {
        let Some(current) = hub.upgrade() else {
            return;
        };
        if current.is_closed() {
            return;
        }
        let notified = current.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let Some(reader) = store.upgrade() else {
            return;
        };
        let mut full = false;
        match reader
            .list_events(current.head.load(Ordering::SeqCst), READ_BATCH)
            .await
        {
            Ok(events) => {
                full = events.len() == READ_BATCH as usize;
                for event in events {
                    current.head.store(event.id, Ordering::SeqCst);
                    // No receivers is fine: nobody is listening right now.
                    let _ = current.sender.send(Arc::new(event));
                }
            }
            Err(error) => tracing::warn!(%error, "reading the event log failed"),
        }
        drop(reader);
        if full {
            continue;
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}
