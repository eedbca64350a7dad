//! Conformance cases for the event log: events are written only by the transactions of the
//! changes they describe (ledger saves, sticker puts, removals and expiry), get consecutive ids
//! in commit order with no gaps even under concurrent writers, page by id, are pruned by age
//! and position without ever lowering the last id, and named cursors move by compare-and-set
//! together with the deliveries they queue.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use steward_domain::{
    AccountBootstrap, AccountId, Delivery, Event, Ledger, LedgerTransaction, Sticker, Subscription,
    Timestamp, TwinId, UserId, STICKER_EXPIRED, STICKER_PUT, STICKER_REMOVED,
};
use steward_store::{Entity, LedgerEffects, Store, StoreError};

use super::ledgers::new_twin;
use super::{assert_already_exists, assert_conflict, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// The trigger of fixture ledger events.
const ENTRY_UPDATED: &str = "ledger.entry.updated";

/// An entry event of `account` on `twin` at `T0 + millis`, numbered `n` in its body, with JSON
/// a careless encoding would change.
fn entry_event(twin: TwinId, account: AccountId, millis: i64, n: u64) -> Event {
    Event {
        id: 0,
        ts: at(millis),
        twin,
        account,
        trigger: ENTRY_UPDATED.to_owned(),
        body: json!({
            "entries": {
                "temperature": {
                    "old_value": n,
                    "new_value": Value::Object(fixtures::exact_json_object()),
                    "changed_ts": 1_707_997_392.123,
                    "topics": ["zażółć", "数据 🦀"],
                },
            },
            "n": n,
        }),
    }
}

/// `events` as the store numbers them: consecutive ids from `first_id`.
fn numbered(events: &[Event], first_id: u64) -> Vec<Event> {
    (first_id..)
        .zip(events)
        .map(|(id, event)| Event {
            id,
            ..event.clone()
        })
        .collect()
}

/// Saves `ledger` over `expected_version` with `events` as its only effect.
async fn save_with_events(
    store: &dyn Store,
    ledger: &Ledger,
    expected_version: Option<u64>,
    events: &[Event],
) -> Result<(), StoreError> {
    let effects = LedgerEffects {
        events: events.to_vec(),
        ..LedgerEffects::default()
    };
    store
        .save_ledger(ledger.account, ledger, expected_version, &effects)
        .await
}

/// Every stored event, in id order.
async fn all_events(store: &dyn Store) -> Vec<Event> {
    store.list_events(0, 10_000).await.expect("list events")
}

async fn last_id(store: &dyn Store) -> u64 {
    store.last_event_id().await.expect("last event id")
}

/// The ids of `events`.
fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|event| event.id).collect()
}

/// Writes `count` events through one ledger save on a fresh twin; event `i` (from 0) is at
/// `T0 + i * 10ms`.
async fn write_events(store: &dyn Store, count: u64) -> Vec<Event> {
    let (twin, owner) = new_twin(store).await;
    let events: Vec<Event> = (0..count)
        .map(|n| entry_event(twin, owner, i64::try_from(n * 10).unwrap_or(i64::MAX), n))
        .collect();
    let ledger = fixtures::ledger(twin, owner, BTreeMap::new());
    save_with_events(store, &ledger, None, &events)
        .await
        .expect("saving a ledger with events");
    events
}

/// The events of a ledger save are stored with consecutive ids, in the order given, and read
/// back exactly; a save without events does not use an id.
pub async fn ledger_save_events_get_consecutive_ids_and_exact_bodies(store: Arc<dyn Store>) {
    assert_eq!(last_id(store.as_ref()).await, 0);
    assert!(all_events(store.as_ref()).await.is_empty());
    let (twin, owner) = new_twin(store.as_ref()).await;
    let first = fixtures::ledger(twin, owner, BTreeMap::new());
    let first_events: Vec<Event> = (1..=3)
        .map(|n| Event {
            // The id a caller sets is ignored: the store assigns ids.
            id: 1_000 + n,
            ..entry_event(twin, owner, 100, n)
        })
        .collect();
    save_with_events(store.as_ref(), &first, None, &first_events)
        .await
        .expect("create with events");
    let stored = all_events(store.as_ref()).await;
    assert_eq!(stored, numbered(&first_events, 1));
    assert_eq!(
        stored[0].body["entries"]["temperature"]["new_value"]["big_float"],
        json!(1e18)
    );
    assert!(stored[0].body["entries"]["temperature"]["new_value"]["big_float"].is_f64());
    assert_eq!(last_id(store.as_ref()).await, 3);

    let quiet = Ledger {
        version: 2,
        ..first.clone()
    };
    save_with_events(store.as_ref(), &quiet, Some(1), &[])
        .await
        .expect("update without events");
    assert_eq!(last_id(store.as_ref()).await, 3, "no events, no id used");

    let second = Ledger {
        version: 3,
        ..first.clone()
    };
    let second_events = vec![
        entry_event(twin, owner, 200, 4),
        entry_event(twin, owner, 201, 5),
    ];
    save_with_events(store.as_ref(), &second, Some(2), &second_events)
        .await
        .expect("update with events");
    let stored = all_events(store.as_ref()).await;
    assert_eq!(ids(&stored), [1, 2, 3, 4, 5]);
    assert_eq!(stored[3..], numbered(&second_events, 4));
    assert_eq!(last_id(store.as_ref()).await, 5);
}

/// A save that conflicts or repeats a transaction id stores none of its events and uses no id;
/// the next successful save continues without a gap.
pub async fn refused_ledger_saves_write_no_events(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let ledger = fixtures::ledger(twin, owner, BTreeMap::new());
    let events = vec![entry_event(twin, owner, 100, 1)];

    let missing = Ledger {
        version: 5,
        ..ledger.clone()
    };
    assert_conflict(
        save_with_events(store.as_ref(), &missing, Some(4), &events).await,
        Entity::Ledger,
    );
    assert!(all_events(store.as_ref()).await.is_empty());
    assert_eq!(last_id(store.as_ref()).await, 0);

    let remembered = LedgerTransaction {
        account: owner,
        id: "retry-me".to_owned(),
        twin,
        request_hash: "hash".to_owned(),
        response: json!({}),
        created_ts: at(100),
    };
    let with_transaction = LedgerEffects {
        transaction: Some(remembered.clone()),
        events: events.clone(),
        ..LedgerEffects::default()
    };
    store
        .save_ledger(owner, &ledger, None, &with_transaction)
        .await
        .expect("first write with a transaction id");
    assert_eq!(last_id(store.as_ref()).await, 1);

    let stale = Ledger {
        version: 9,
        ..ledger.clone()
    };
    assert_conflict(
        save_with_events(store.as_ref(), &stale, Some(7), &events).await,
        Entity::Ledger,
    );
    let repeated = Ledger {
        version: 2,
        ..ledger.clone()
    };
    assert_already_exists(
        store
            .save_ledger(owner, &repeated, Some(1), &with_transaction)
            .await,
        Entity::Transaction,
    );
    assert_eq!(ids(&all_events(store.as_ref()).await), [1]);
    assert_eq!(last_id(store.as_ref()).await, 1);

    let next = vec![entry_event(twin, owner, 300, 2)];
    save_with_events(store.as_ref(), &repeated, Some(1), &next)
        .await
        .expect("a successful save after the refused ones");
    assert_eq!(ids(&all_events(store.as_ref()).await), [1, 2]);
}

/// A sticker of `account` on `twin` addressed to `recipient`, put at `T0 + 100ms`, valid for
/// a second after `T0`.
fn sticker(twin: TwinId, account: AccountId, color: &str, recipient: UserId) -> Sticker {
    Sticker {
        twin,
        account,
        color: color.to_owned(),
        note: format!("{color} zażółć 🦀"),
        recipients: vec![recipient.as_uuid()],
        validity_ts: at(1_000),
        created_ts: at(100),
        publish: Some(json!({"on_put": ["put-topic"], "on_remove": "removed-topic"})),
    }
}

/// `event` is about `sticker`: its twin and account, `trigger` at `ts`, the sticker as body.
#[track_caller]
fn assert_sticker_event(event: &Event, trigger: &str, sticker: &Sticker, ts: Timestamp) {
    assert_eq!(event.trigger, trigger);
    assert_eq!(event.twin, sticker.twin);
    assert_eq!(event.account, sticker.account);
    assert_eq!(event.ts, ts);
    let body: Sticker = serde_json::from_value(event.body.clone()).expect("a sticker body");
    assert_eq!(&body, sticker);
}

/// Putting, removing and expiring stickers write `sticker.put` (at the sticker's creation),
/// `sticker.removed` and `sticker.expired` (at the time given) events with the sticker as
/// body; an expiry run that removes nothing writes nothing.
pub async fn sticker_changes_write_sticker_events(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let recipient = UserId::new_random();
    let red = sticker(twin, owner, "red", recipient);
    let blue = Sticker {
        created_ts: at(150),
        ..sticker(twin, owner, "blue", recipient)
    };
    store
        .put_stickers(owner, &[red.clone(), blue.clone()])
        .await
        .expect("put stickers");
    let events = all_events(store.as_ref()).await;
    assert_eq!(ids(&events), [1, 2]);
    assert_sticker_event(&events[0], STICKER_PUT, &red, red.created_ts);
    assert_sticker_event(&events[1], STICKER_PUT, &blue, blue.created_ts);
    let expected_first = Event {
        id: 1,
        ..Event::sticker(STICKER_PUT, &red, red.created_ts)
    };
    assert_eq!(events[0], expected_first);

    let removal_time = at(500);
    let removed = store
        .remove_sticker(twin, owner, "red", &[recipient.as_uuid()], removal_time)
        .await
        .expect("remove sticker");
    assert_eq!(removed, red);
    let events = all_events(store.as_ref()).await;
    assert_eq!(ids(&events), [1, 2, 3]);
    assert_sticker_event(&events[2], STICKER_REMOVED, &red, removal_time);

    let too_early = store
        .remove_expired_stickers(at(999), 10)
        .await
        .expect("expire nothing");
    assert!(too_early.is_empty());
    assert_eq!(last_id(store.as_ref()).await, 3);

    let expiry_time = at(2_000);
    let expired = store
        .remove_expired_stickers(expiry_time, 10)
        .await
        .expect("expire");
    assert_eq!(expired, std::slice::from_ref(&blue));
    let events = all_events(store.as_ref()).await;
    assert_eq!(ids(&events), [1, 2, 3, 4]);
    assert_sticker_event(&events[3], STICKER_EXPIRED, &blue, expiry_time);
}

/// A put on a missing twin and a removal of a missing sticker store no events.
pub async fn failed_sticker_writes_write_no_events(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let recipient = UserId::new_random();
    let missing_twin = TwinId::new_random();
    let on_existing = sticker(twin, owner, "red", recipient);
    let on_missing = sticker(missing_twin, owner, "red", recipient);
    assert_not_found(
        store
            .put_stickers(owner, &[on_existing.clone(), on_missing])
            .await,
        Entity::Twin,
    );
    assert_not_found(
        store
            .remove_sticker(twin, owner, "red", &[recipient.as_uuid()], at(200))
            .await,
        Entity::Sticker,
    );
    assert!(all_events(store.as_ref()).await.is_empty());
    assert_eq!(last_id(store.as_ref()).await, 0);

    store
        .put_stickers(owner, &[on_existing])
        .await
        .expect("put on the existing twin");
    assert_not_found(
        store
            .remove_sticker(
                twin,
                owner,
                "red",
                &[UserId::new_random().as_uuid()],
                at(200),
            )
            .await,
        Entity::Sticker,
    );
    assert_eq!(ids(&all_events(store.as_ref()).await), [1]);
}

/// Listing returns the events after `after` in id order, at most `limit`.
pub async fn events_page_by_after_and_limit(store: Arc<dyn Store>) {
    let written = write_events(store.as_ref(), 5).await;
    let page = |after, limit| {
        let store = Arc::clone(&store);
        async move {
            let events = store.list_events(after, limit).await.expect("list events");
            ids(&events)
        }
    };
    assert_eq!(page(0, 2).await, [1, 2]);
    assert_eq!(page(2, 2).await, [3, 4]);
    assert_eq!(page(4, 2).await, [5]);
    assert!(page(5, 2).await.is_empty());
    assert!(page(0, 0).await.is_empty());
    assert!(page(u64::MAX, 10).await.is_empty());
    assert_eq!(
        store.list_events(3, 1).await.expect("list"),
        numbered(&written[3..4], 4)
    );
}

/// The last id stays when every event is pruned, and the next event continues after it.
pub async fn last_event_id_survives_pruning_everything(store: Arc<dyn Store>) {
    write_events(store.as_ref(), 3).await;
    let pruned = store
        .prune_events(at(1_000_000), u64::MAX, 100)
        .await
        .expect("prune");
    assert_eq!(pruned, 3);
    assert!(all_events(store.as_ref()).await.is_empty());
    assert_eq!(last_id(store.as_ref()).await, 3);

    write_events(store.as_ref(), 1).await;
    assert_eq!(ids(&all_events(store.as_ref()).await), [4]);
    assert_eq!(last_id(store.as_ref()).await, 4);
}

/// Pruning deletes only events older than `before` and not after `up_to`, at most `limit` at a
/// time.
pub async fn pruning_honours_before_up_to_and_limit(store: Arc<dyn Store>) {
    // Ids 1..=6 at T0 + 0, 10, ..., 50 ms.
    write_events(store.as_ref(), 6).await;
    let prune = |before, up_to, limit| {
        let store = Arc::clone(&store);
        async move {
            store
                .prune_events(before, up_to, limit)
                .await
                .expect("prune")
        }
    };
    assert_eq!(
        prune(at(35), 2, 100).await,
        2,
        "up_to holds back ids 3 and 4"
    );
    assert_eq!(ids(&all_events(store.as_ref()).await), [3, 4, 5, 6]);
    assert_eq!(prune(at(20), 10, 100).await, 0, "ts 20 is not before 20");
    assert_eq!(prune(at(35), 10, 1).await, 1, "the limit holds");
    assert_eq!(prune(at(35), 10, 1).await, 1);
    assert_eq!(prune(at(35), 10, 1).await, 0, "ids 5 and 6 are too new");
    assert_eq!(prune(at(35), 10, 0).await, 0);
    assert_eq!(ids(&all_events(store.as_ref()).await), [5, 6]);
    assert_eq!(last_id(store.as_ref()).await, 6);
}

/// A subscriber account with a confirmed subscription to a topic of a fresh publisher, with
/// its confirmation message already delivered (empty outbox).
async fn subscription(store: &dyn Store) -> Subscription {
    let publisher = new_account(store, "publisher").await;
    let subscriber: AccountBootstrap = new_account(store, "subscriber").await;
    let subscription = Subscription {
        id: AccountId::new_random().as_uuid(),
        topic_account: publisher.account.id,
        topic: "sticker-put".to_owned(),
        subscriber_account: subscriber.account.id,
        subscriber_user: subscriber.admin_user.id,
        callback_url: "https://b.example/hook".to_owned(),
        client_secret: None,
        server_secret: None,
        token_hash: fixtures::random_hash(),
        expires_seconds: 3_600,
        validity_ts: at(3_600_000),
        confirmed: true,
        created_ts: at(0),
        updated_ts: at(0),
    };
    let confirmation = delivery(&subscription);
    store
        .create_subscription(&subscription, &confirmation)
        .await
        .expect("create subscription");
    store
        .finish_delivery(confirmation.message, None)
        .await
        .expect("finish confirmation");
    subscription
}

/// A fresh message for `subscription`, due at `T0`.
fn delivery(subscription: &Subscription) -> Delivery {
    let message = AccountId::new_random().as_uuid();
    Delivery {
        message,
        subscription: subscription.id,
        body: format!("{{\"type\": \"Notification\", \"message\": \"{message}\"}}"),
        attempts: 0,
        next_attempt_ts: at(0),
        created_ts: at(0),
    }
}

/// The messages claimable at `T0 + 1s`, in the order handed out, each finished right away.
async fn claim_and_finish(store: &dyn Store) -> Vec<Delivery> {
    let mut messages = Vec::new();
    loop {
        let claimed = store
            .claim_deliveries(at(1_000), at(61_000), 100)
            .await
            .expect("claim");
        if claimed.is_empty() {
            return messages;
        }
        for claim in claimed {
            store
                .finish_delivery(claim.delivery.message, None)
                .await
                .expect("finish");
            messages.push(claim.delivery);
        }
    }
}

/// A cursor moves only from where it is (a missing cursor is at 0), and its deliveries are
/// queued exactly when it moves.
pub async fn event_cursor_moves_by_compare_and_set_with_its_deliveries(store: Arc<dyn Store>) {
    let subscription = subscription(store.as_ref()).await;
    let cursor = |name: &'static str| {
        let store = Arc::clone(&store);
        async move { store.get_event_cursor(name).await.expect("get cursor") }
    };
    assert_eq!(cursor("fan-out").await, 0);

    let first = [delivery(&subscription), delivery(&subscription)];
    assert!(store
        .advance_event_cursor("fan-out", 0, 3, &first)
        .await
        .expect("advance"));
    assert_eq!(cursor("fan-out").await, 3);
    assert_eq!(claim_and_finish(store.as_ref()).await, first);

    let late = [delivery(&subscription)];
    assert!(!store
        .advance_event_cursor("fan-out", 0, 5, &late)
        .await
        .expect("advance from a stale position"));
    assert_eq!(cursor("fan-out").await, 3);
    assert!(claim_and_finish(store.as_ref()).await.is_empty());

    assert!(store
        .advance_event_cursor("fan-out", 3, 7, &late)
        .await
        .expect("advance from the current position"));
    assert_eq!(cursor("fan-out").await, 7);
    assert_eq!(claim_and_finish(store.as_ref()).await, late);
    assert!(store
        .advance_event_cursor("fan-out", 7, 8, &[])
        .await
        .expect("advance without deliveries"));
    assert_eq!(cursor("fan-out").await, 8);

    // Cursors are independent; a missing one does not move from anywhere but 0.
    assert_eq!(cursor("other").await, 0);
    assert!(!store
        .advance_event_cursor("other", 2, 4, &[])
        .await
        .expect("advance a missing cursor from 2"));
    assert_eq!(cursor("other").await, 0);
    assert_eq!(cursor("fan-out").await, 8);

    // A move whose deliveries cannot be queued does not happen.
    let taken = [delivery(&subscription)];
    store.enqueue_deliveries(&taken).await.expect("enqueue");
    assert_already_exists(
        store.advance_event_cursor("fan-out", 8, 9, &taken).await,
        Entity::Delivery,
    );
    assert_eq!(cursor("fan-out").await, 8);
}

/// Of several nodes moving one cursor from the same position at once, exactly one succeeds and
/// only its deliveries are queued.
pub async fn concurrent_cursor_advances_succeed_exactly_once(store: Arc<dyn Store>) {
    let subscription = subscription(store.as_ref()).await;
    let mut racers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let mine = delivery(&subscription);
        racers.push(tokio::spawn(async move {
            let moved = store
                .advance_event_cursor("race", 0, 10, std::slice::from_ref(&mine))
                .await
                .expect("advance");
            (moved, mine)
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        let (moved, mine) = racer.await.expect("racer task");
        if moved {
            winners.push(mine);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one advance wins");
    assert_eq!(store.get_event_cursor("race").await.expect("get"), 10);
    assert_eq!(claim_and_finish(store.as_ref()).await, winners);
}

/// Concurrent writers on distinct twins get ids 1..=n with no gaps or duplicates, each twin's
/// events in the order of its saves.
pub async fn concurrent_saves_get_ids_without_gaps_or_duplicates(store: Arc<dyn Store>) {
    const WRITERS: u64 = 4;
    const SAVES: u64 = 10;
    let mut twins = Vec::new();
    for _ in 0..WRITERS {
        twins.push(new_twin(store.as_ref()).await);
    }
    let mut writers = Vec::new();
    for (twin, owner) in twins.clone() {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            for version in 1..=SAVES {
                let ledger = Ledger {
                    version,
                    ..fixtures::ledger(twin, owner, BTreeMap::new())
                };
                let expected = (version > 1).then(|| version - 1);
                let events = [entry_event(twin, owner, 100, version)];
                save_with_events(store.as_ref(), &ledger, expected, &events)
                    .await
                    .expect("save");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer task");
    }
    let events = all_events(store.as_ref()).await;
    assert_eq!(ids(&events), (1..=WRITERS * SAVES).collect::<Vec<_>>());
    assert_eq!(last_id(store.as_ref()).await, WRITERS * SAVES);
    for (twin, _) in twins {
        let order: Vec<Value> = events
            .iter()
            .filter(|event| event.twin == twin)
            .map(|event| event.body["n"].clone())
            .collect();
        let expected: Vec<Value> = (1..=SAVES).map(|n| json!(n)).collect();
        assert_eq!(order, expected);
    }
}

/// Pruning deletes only a prefix of the log: an old event behind a younger one (its `ts` was
/// taken before a later commit) waits, so no hole opens that a resuming reader could cross.
pub async fn pruning_never_leaves_a_hole(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    // Ids 1..=4 at T0 + 0, 50, 10, 60 ms.
    let events: Vec<Event> = [0, 50, 10, 60]
        .into_iter()
        .enumerate()
        .map(|(n, millis)| entry_event(twin, owner, millis, n as u64))
        .collect();
    let ledger = fixtures::ledger(twin, owner, BTreeMap::new());
    save_with_events(store.as_ref(), &ledger, None, &events)
        .await
        .expect("saving a ledger with events");
    assert_eq!(
        store.prune_events(at(20), 10, 100).await.expect("prune"),
        1,
        "id 3 is old enough, but id 2 before it is not"
    );
    assert_eq!(ids(&all_events(store.as_ref()).await), [2, 3, 4]);
    assert_eq!(store.prune_events(at(55), 10, 100).await.expect("prune"), 2);
    assert_eq!(ids(&all_events(store.as_ref()).await), [4]);
}
