//! Conformance cases for notifications: subscriptions, access grants and the outbox.
//!
//! The outbox cases pin down what dispatchers rely on: a subscription's messages are handed out
//! one at a time in (created, queued) order, a claimed message is held by one dispatcher until
//! its lease runs out, concurrent claimers never share a message, and a message leaves the
//! outbox exactly once (delivered, dead-lettered, or with its subscription).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use steward_domain::{
    AccountBootstrap, AccountId, ClaimedDelivery, Delivery, Subscription, Timestamp, UserId,
};
use steward_store::{DeadLetter, Entity, Store, StoreError};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// How long fixture subscriptions are valid after `T0`: a week, as the API's maximum.
const VALID_FOR_MILLIS: i64 = 604_800_000;

/// A moment after every fixture message is due and before any fixture subscription expires.
const NOW: Timestamp = at(1_000_000);

/// How long fixture claims hold.
const LEASE_MILLIS: i64 = 60_000;

/// The lease of a claim made at `now`.
const fn lease_from(now: Timestamp) -> Timestamp {
    now.plus_millis(LEASE_MILLIS)
}

/// An unconfirmed subscription of `subscriber`'s admin user to `topic` of `topic_account`,
/// with a signing key and strings that a careless encoding would mangle.
fn subscription(
    topic_account: AccountId,
    subscriber: &AccountBootstrap,
    topic: &str,
) -> Subscription {
    Subscription {
        id: AccountId::new_random().as_uuid(),
        topic_account,
        topic: topic.to_owned(),
        subscriber_account: subscriber.account.id,
        subscriber_user: subscriber.admin_user.id,
        callback_url: "https://b.example/hook?q=zażółć&x=数据#🦀".to_owned(),
        client_secret: Some("AbCdEfGh12345678".to_owned()),
        server_secret: Some("zY-xW_vU98765432".to_owned()),
        token_hash: fixtures::random_hash(),
        expires_seconds: 604_800,
        validity_ts: at(VALID_FOR_MILLIS),
        confirmed: false,
        created_ts: at(100),
        updated_ts: at(100),
    }
}

/// A fresh message for `subscription`, queued and due at `T0 + created_millis`, with an exact
/// JSON body (key order, spacing and escapes are the signed bytes).
pub(super) fn delivery(subscription: &Subscription, created_millis: i64) -> Delivery {
    let message = AccountId::new_random().as_uuid();
    Delivery {
        message,
        subscription: subscription.id,
        body: format!(
            "{{\"type\": \"Notification\", \"message\": \"{message}\", \
             \"event\": {{\"note\": \"zażółć \\u00df \\ud83e\\udd80\"}}, \"sent_ts\": 1707997392.456}}"
        ),
        attempts: 0,
        next_attempt_ts: at(created_millis),
        created_ts: at(created_millis),
    }
}

/// What a claim of `delivery` made at `now` hands out.
fn claimed(subscription: &Subscription, delivery: &Delivery, now: Timestamp) -> ClaimedDelivery {
    ClaimedDelivery {
        delivery: delivery.clone(),
        callback_url: subscription.callback_url.clone(),
        topic_account: subscription.topic_account,
        validity_ts: subscription.validity_ts,
        lease_until: lease_from(now),
    }
}

/// Stores `subscription` with a confirmation message and delivers the confirmation, leaving an
/// empty outbox for the subscription.
async fn subscribe(store: &dyn Store, subscription: &Subscription) {
    let confirmation = delivery(subscription, 0);
    store
        .create_subscription(subscription, &confirmation)
        .await
        .expect("creating a subscription should succeed");
    store
        .finish_delivery(confirmation.message, None)
        .await
        .expect("finishing the confirmation should succeed");
}

/// A publisher and a subscriber account with one subscription of the subscriber to
/// `topic` of the publisher, outbox empty.
pub(super) async fn publisher_and_subscription(
    store: &dyn Store,
    topic: &str,
) -> (AccountBootstrap, AccountBootstrap, Subscription) {
    let publisher = new_account(store, "publisher").await;
    let subscriber = new_account(store, "subscriber").await;
    let subscription = subscription(publisher.account.id, &subscriber, topic);
    subscribe(store, &subscription).await;
    (publisher, subscriber, subscription)
}

async fn enqueue(store: &dyn Store, deliveries: &[Delivery]) {
    store
        .enqueue_deliveries(deliveries)
        .await
        .expect("enqueueing should succeed");
}

async fn claim(store: &dyn Store, now: Timestamp, limit: u32) -> Vec<ClaimedDelivery> {
    store
        .claim_deliveries(now, lease_from(now), limit)
        .await
        .expect("claiming should succeed")
}

async fn finish(store: &dyn Store, delivery: &Delivery) {
    store
        .finish_delivery(delivery.message, None)
        .await
        .expect("finishing a queued message should succeed");
}

/// The subscription with `token_hash` under `topic_account`.
async fn find(store: &dyn Store, subscription: &Subscription) -> Subscription {
    store
        .find_subscription(subscription.topic_account, &subscription.token_hash)
        .await
        .expect("the subscription should be found by its token")
}

pub async fn subscription_round_trip_keeps_every_field_and_queues_the_confirmation(
    store: Arc<dyn Store>,
) {
    let publisher = new_account(store.as_ref(), "publisher").await;
    let subscriber = new_account(store.as_ref(), "subscriber").await;
    let signed = subscription(publisher.account.id, &subscriber, "orders ß 数据");
    let unsigned = Subscription {
        client_secret: None,
        server_secret: None,
        confirmed: true,
        ..subscription(publisher.account.id, &publisher, "orders")
    };
    let signed_confirmation = delivery(&signed, 10);
    let unsigned_confirmation = delivery(&unsigned, 20);
    store
        .create_subscription(&signed, &signed_confirmation)
        .await
        .expect("create signed");
    store
        .create_subscription(&unsigned, &unsigned_confirmation)
        .await
        .expect("create unsigned");

    assert_eq!(find(store.as_ref(), &signed).await, signed);
    assert_eq!(find(store.as_ref(), &unsigned).await, unsigned);
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![
            claimed(&signed, &signed_confirmation, NOW),
            claimed(&unsigned, &unsigned_confirmation, NOW),
        ],
        "the confirmations are queued with their subscriptions, exactly"
    );
}

pub async fn subscription_token_lookup_is_scoped_to_the_topic_account(store: Arc<dyn Store>) {
    let (publisher, subscriber, subscription) =
        publisher_and_subscription(store.as_ref(), "orders").await;
    assert_not_found(
        store
            .find_subscription(subscriber.account.id, &subscription.token_hash)
            .await,
        Entity::Subscription,
    );
    assert_not_found(
        store
            .find_subscription(publisher.account.id, &fixtures::random_hash())
            .await,
        Entity::Subscription,
    );
    assert_eq!(find(store.as_ref(), &subscription).await, subscription);
}

pub async fn duplicate_subscription_is_refused_and_leaves_nothing_behind(store: Arc<dyn Store>) {
    let (publisher, subscriber, first) = publisher_and_subscription(store.as_ref(), "orders").await;
    let same_id = Subscription {
        id: first.id,
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    let same_token = Subscription {
        token_hash: first.token_hash.clone(),
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    for duplicate in [&same_id, &same_token] {
        assert_already_exists(
            store
                .create_subscription(duplicate, &delivery(duplicate, 10))
                .await,
            Entity::Subscription,
        );
    }
    assert_eq!(find(store.as_ref(), &first).await, first);
    assert_not_found(
        store
            .find_subscription(publisher.account.id, &same_id.token_hash)
            .await,
        Entity::Subscription,
    );
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        Vec::new(),
        "no confirmation of a refused subscription is queued"
    );
}

pub async fn subscription_for_a_missing_publisher_or_subscriber_is_refused(store: Arc<dyn Store>) {
    let publisher = new_account(store.as_ref(), "publisher").await;
    let subscriber = new_account(store.as_ref(), "subscriber").await;
    let missing_publisher = subscription(AccountId::new_random(), &subscriber, "orders");
    assert_not_found(
        store
            .create_subscription(&missing_publisher, &delivery(&missing_publisher, 10))
            .await,
        Entity::Account,
    );
    let missing_user = Subscription {
        subscriber_user: UserId::new_random(),
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    assert_not_found(
        store
            .create_subscription(&missing_user, &delivery(&missing_user, 10))
            .await,
        Entity::User,
    );
    let missing_subscriber_account = Subscription {
        subscriber_account: AccountId::new_random(),
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    assert_not_found(
        store
            .create_subscription(
                &missing_subscriber_account,
                &delivery(&missing_subscriber_account, 10),
            )
            .await,
        Entity::User,
    );
    assert_eq!(claim(store.as_ref(), NOW, 10).await, Vec::new());
}

pub async fn update_subscription_replaces_confirmation_validity_and_update_time_only(
    store: Arc<dyn Store>,
) {
    let (publisher, subscriber, stored) =
        publisher_and_subscription(store.as_ref(), "orders").await;
    let changed = Subscription {
        confirmed: true,
        validity_ts: at(2 * VALID_FOR_MILLIS),
        updated_ts: at(5_000),
        // Not the update's business: these stay as stored.
        topic: "other".to_owned(),
        callback_url: "https://elsewhere.example/".to_owned(),
        client_secret: None,
        server_secret: None,
        expires_seconds: 60,
        created_ts: at(4_000),
        ..stored.clone()
    };
    store
        .update_subscription(&changed)
        .await
        .expect("update should succeed");
    assert_eq!(
        find(store.as_ref(), &stored).await,
        Subscription {
            confirmed: true,
            validity_ts: at(2 * VALID_FOR_MILLIS),
            updated_ts: at(5_000),
            ..stored.clone()
        }
    );

    let under_another_account = Subscription {
        topic_account: subscriber.account.id,
        confirmed: false,
        ..stored.clone()
    };
    assert_not_found(
        store.update_subscription(&under_another_account).await,
        Entity::Subscription,
    );
    let missing = subscription(publisher.account.id, &subscriber, "orders");
    assert_not_found(
        store.update_subscription(&missing).await,
        Entity::Subscription,
    );
    assert!(find(store.as_ref(), &stored).await.confirmed);
}

pub async fn deleting_a_subscription_returns_it_and_drops_its_pending_deliveries(
    store: Arc<dyn Store>,
) {
    let (publisher, subscriber, doomed) =
        publisher_and_subscription(store.as_ref(), "orders").await;
    let kept = subscription(publisher.account.id, &subscriber, "orders");
    subscribe(store.as_ref(), &kept).await;
    let doomed_first = delivery(&doomed, 100);
    let doomed_second = delivery(&doomed, 200);
    let kept_message = delivery(&kept, 300);
    enqueue(
        store.as_ref(),
        &[
            doomed_first.clone(),
            doomed_second.clone(),
            kept_message.clone(),
        ],
    )
    .await;
    // One of its messages is in flight when the subscription goes.
    assert_eq!(
        claim(store.as_ref(), NOW, 1).await,
        vec![claimed(&doomed, &doomed_first, NOW)]
    );

    assert_not_found(
        store
            .delete_subscription(subscriber.account.id, doomed.id)
            .await,
        Entity::Subscription,
    );
    let deleted = store
        .delete_subscription(publisher.account.id, doomed.id)
        .await
        .expect("delete should succeed");
    assert_eq!(deleted, doomed);
    assert_not_found(
        store
            .find_subscription(publisher.account.id, &doomed.token_hash)
            .await,
        Entity::Subscription,
    );
    assert_not_found(
        store
            .delete_subscription(publisher.account.id, doomed.id)
            .await,
        Entity::Subscription,
    );
    for gone in [&doomed_first, &doomed_second] {
        assert_not_found(
            store.finish_delivery(gone.message, None).await,
            Entity::Delivery,
        );
    }
    let far_later = lease_from(NOW).plus_millis(1);
    assert_eq!(
        claim(store.as_ref(), far_later, 10).await,
        vec![claimed(&kept, &kept_message, far_later)],
        "only the other subscription's message is left"
    );
}

pub async fn of_concurrent_subscription_deletes_exactly_one_wins(store: Arc<dyn Store>) {
    let (publisher, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    enqueue(store.as_ref(), &[delivery(&subscription, 100)]).await;
    let mut racers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let (account, id) = (publisher.account.id, subscription.id);
        racers.push(tokio::spawn(async move {
            store.delete_subscription(account, id).await
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.expect("racer should not panic") {
            Ok(deleted) => winners.push(deleted),
            Err(StoreError::NotFound(Entity::Subscription)) => {}
            Err(other) => panic!("a losing delete should be subscription not found, got {other:?}"),
        }
    }
    assert_eq!(winners, vec![subscription], "exactly one delete should win");
    assert_eq!(claim(store.as_ref(), NOW, 10).await, Vec::new());
}

pub async fn deleting_a_user_deletes_its_subscriptions_and_their_deliveries(store: Arc<dyn Store>) {
    let publisher = new_account(store.as_ref(), "publisher").await;
    let subscriber = new_account(store.as_ref(), "subscriber").await;
    let user = fixtures::user(
        subscriber.account.id,
        subscriber.admin_role.id,
        "hook owner",
    );
    store
        .create_user(subscriber.account.id, &user)
        .await
        .expect("create user");
    let owned = Subscription {
        subscriber_user: user.id,
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    subscribe(store.as_ref(), &owned).await;
    let other = subscription(publisher.account.id, &subscriber, "orders");
    subscribe(store.as_ref(), &other).await;
    let other_message = delivery(&other, 200);
    enqueue(
        store.as_ref(),
        &[delivery(&owned, 100), other_message.clone()],
    )
    .await;

    store
        .delete_user(subscriber.account.id, user.id)
        .await
        .expect("deleting a user with subscriptions should succeed");
    assert_not_found(
        store
            .find_subscription(publisher.account.id, &owned.token_hash)
            .await,
        Entity::Subscription,
    );
    assert_eq!(find(store.as_ref(), &other).await, other);
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&other, &other_message, NOW)]
    );
}

pub async fn active_subscriptions_are_the_confirmed_unexpired_ones_in_id_order(
    store: Arc<dyn Store>,
) {
    let publisher = new_account(store.as_ref(), "publisher").await;
    let subscriber = new_account(store.as_ref(), "subscriber").await;
    let publisher_id = publisher.account.id;
    let confirmed = |validity_millis: i64| Subscription {
        confirmed: true,
        validity_ts: at(validity_millis),
        ..subscription(publisher_id, &subscriber, "orders")
    };
    let mut active = vec![
        confirmed(VALID_FOR_MILLIS),
        confirmed(VALID_FOR_MILLIS),
        confirmed(2_001),
        Subscription {
            client_secret: None,
            server_secret: None,
            ..confirmed(VALID_FOR_MILLIS)
        },
    ];
    let inactive = vec![
        // Not confirmed.
        subscription(publisher_id, &subscriber, "orders"),
        // Expired: valid until exactly now, or before.
        confirmed(2_000),
        confirmed(1_000),
        // Another topic, and the same topic of another account.
        Subscription {
            topic: "Orders".to_owned(),
            ..confirmed(VALID_FOR_MILLIS)
        },
        Subscription {
            topic_account: subscriber.account.id,
            ..confirmed(VALID_FOR_MILLIS)
        },
    ];
    for subscription in active.iter().chain(&inactive) {
        store
            .create_subscription(subscription, &delivery(subscription, 10))
            .await
            .expect("create");
    }
    active.sort_by_key(|subscription| subscription.id);
    let listed = store
        .list_active_subscriptions(publisher_id, "orders", at(2_000))
        .await
        .expect("list");
    assert_eq!(listed, active);
    assert_eq!(
        store
            .list_active_subscriptions(publisher_id, "nobody", at(2_000))
            .await
            .expect("list"),
        Vec::new()
    );
}

pub async fn notification_access_grants_are_replaced_and_revoked_with_an_empty_list(
    store: Arc<dyn Store>,
) {
    let granter = new_account(store.as_ref(), "granter").await.account.id;
    let first = new_account(store.as_ref(), "first").await.account.id;
    let second = new_account(store.as_ref(), "second").await.account.id;
    let topics =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| (*n).to_owned()).collect() };

    assert_eq!(
        store.get_notification_access(granter).await.expect("get"),
        BTreeMap::new()
    );
    store
        .put_notification_access(
            granter,
            first,
            &topics(&["green", "blue", "green", "ß 数据"]),
        )
        .await
        .expect("grant first");
    store
        .put_notification_access(granter, second, &topics(&["orders"]))
        .await
        .expect("grant second");
    assert_eq!(
        store.get_notification_access(granter).await.expect("get"),
        BTreeMap::from([
            (first, topics(&["blue", "green", "ß 数据"])),
            (second, topics(&["orders"])),
        ]),
        "topics come back distinct and sorted"
    );

    store
        .put_notification_access(granter, first, &topics(&["red"]))
        .await
        .expect("replace");
    store
        .put_notification_access(granter, second, &[])
        .await
        .expect("revoke");
    store
        .put_notification_access(granter, second, &[])
        .await
        .expect("revoking what is not granted is a no-op");
    assert_eq!(
        store.get_notification_access(granter).await.expect("get"),
        BTreeMap::from([(first, topics(&["red"]))])
    );
    assert_eq!(
        store.get_notification_access(first).await.expect("get"),
        BTreeMap::new(),
        "a grant belongs to the granting account only"
    );
}

pub async fn notification_access_for_a_missing_grantee_is_refused(store: Arc<dyn Store>) {
    let granter = new_account(store.as_ref(), "granter").await.account.id;
    let missing = AccountId::new_random();
    assert_not_found(
        store
            .put_notification_access(granter, missing, &["orders".to_owned()])
            .await,
        Entity::Account,
    );
    assert_not_found(
        store.put_notification_access(granter, missing, &[]).await,
        Entity::Account,
    );
    assert_eq!(
        store.get_notification_access(granter).await.expect("get"),
        BTreeMap::new()
    );
}

pub async fn enqueue_is_all_or_nothing(store: Arc<dyn Store>) {
    let (_, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let queued = delivery(&subscription, 100);
    enqueue(store.as_ref(), std::slice::from_ref(&queued)).await;

    let fresh = delivery(&subscription, 200);
    assert_already_exists(
        store
            .enqueue_deliveries(&[fresh.clone(), queued.clone()])
            .await,
        Entity::Delivery,
    );
    let orphan = Delivery {
        subscription: AccountId::new_random().as_uuid(),
        ..delivery(&subscription, 300)
    };
    assert_not_found(
        store.enqueue_deliveries(&[fresh.clone(), orphan]).await,
        Entity::Subscription,
    );
    store
        .enqueue_deliveries(&[])
        .await
        .expect("enqueueing nothing is a no-op");

    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&subscription, &queued, NOW)]
    );
    finish(store.as_ref(), &queued).await;
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        Vec::new(),
        "nothing of the refused batches was queued"
    );
}

pub async fn outbox_hands_out_a_subscriptions_messages_one_at_a_time_in_order(
    store: Arc<dyn Store>,
) {
    let (publisher, subscriber, first) = publisher_and_subscription(store.as_ref(), "orders").await;
    let second = subscription(publisher.account.id, &subscriber, "orders");
    subscribe(store.as_ref(), &second).await;

    // Queued in this order; handed out by creation time, then queue order for equal times.
    let first_tied_a = delivery(&first, 200);
    let first_tied_b = delivery(&first, 200);
    let first_earliest = delivery(&first, 150);
    let second_only = delivery(&second, 180);
    enqueue(
        store.as_ref(),
        &[first_tied_a.clone(), first_tied_b.clone()],
    )
    .await;
    enqueue(
        store.as_ref(),
        &[first_earliest.clone(), second_only.clone()],
    )
    .await;

    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![
            claimed(&first, &first_earliest, NOW),
            claimed(&second, &second_only, NOW),
        ],
        "each subscription's oldest message, oldest first"
    );
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        Vec::new(),
        "a later message waits while the one before it is leased"
    );

    finish(store.as_ref(), &first_earliest).await;
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&first, &first_tied_a, NOW)]
    );
    finish(store.as_ref(), &first_tied_a).await;
    assert_not_found(
        store.finish_delivery(first_tied_a.message, None).await,
        Entity::Delivery,
    );
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&first, &first_tied_b, NOW)]
    );
}

pub async fn claiming_respects_the_limit_in_order(store: Arc<dyn Store>) {
    let (publisher, subscriber, _) = publisher_and_subscription(store.as_ref(), "orders").await;
    let mut expected = Vec::new();
    for index in 0..5 {
        let subscription = subscription(publisher.account.id, &subscriber, "orders");
        subscribe(store.as_ref(), &subscription).await;
        let message = delivery(&subscription, 500 - index);
        enqueue(store.as_ref(), std::slice::from_ref(&message)).await;
        expected.push(claimed(&subscription, &message, NOW));
    }
    expected.reverse();
    assert_eq!(claim(store.as_ref(), NOW, 0).await, Vec::new());
    assert_eq!(claim(store.as_ref(), NOW, 2).await, expected[..2].to_vec());
    assert_eq!(claim(store.as_ref(), NOW, 10).await, expected[2..].to_vec());
}

pub async fn a_claimed_delivery_is_claimable_again_only_once_its_lease_expires(
    store: Arc<dyn Store>,
) {
    let (_, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let head = delivery(&subscription, 100);
    let next = delivery(&subscription, 200);
    enqueue(store.as_ref(), &[head.clone(), next.clone()]).await;

    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&subscription, &head, NOW)]
    );
    let lease_end = lease_from(NOW);
    assert_eq!(
        claim(store.as_ref(), lease_end.plus_millis(-1), 10).await,
        Vec::new(),
        "neither the leased message nor the one after it while the lease holds"
    );
    assert_eq!(
        claim(store.as_ref(), lease_end, 10).await,
        vec![claimed(&subscription, &head, lease_end)],
        "a dispatcher that died leaves the message to the next claimer, not its successor"
    );
}

pub async fn messages_not_yet_due_are_not_claimed_and_hold_back_later_ones(store: Arc<dyn Store>) {
    let (_, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let not_due = Delivery {
        next_attempt_ts: at(5_000),
        ..delivery(&subscription, 100)
    };
    let due = delivery(&subscription, 200);
    enqueue(store.as_ref(), &[not_due.clone(), due.clone()]).await;
    assert_eq!(claim(store.as_ref(), at(4_999), 10).await, Vec::new());
    assert_eq!(
        claim(store.as_ref(), at(5_000), 10).await,
        vec![claimed(&subscription, &not_due, at(5_000))]
    );
}

pub async fn retry_records_the_attempt_and_releases_the_lease(store: Arc<dyn Store>) {
    let (_, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let head = delivery(&subscription, 100);
    let next = delivery(&subscription, 200);
    enqueue(store.as_ref(), &[head.clone(), next.clone()]).await;
    assert_eq!(claim(store.as_ref(), NOW, 10).await.len(), 1);

    // Due again before the lease would have run out: the retry released it.
    let retry_at = NOW.plus_millis(1_000);
    store
        .retry_delivery(head.message, None, 3, retry_at)
        .await
        .expect("retry should succeed");
    assert_eq!(
        claim(store.as_ref(), retry_at.plus_millis(-1), 10).await,
        Vec::new(),
        "the retried message is not due yet and still holds back the next one"
    );
    let retried = Delivery {
        attempts: 3,
        next_attempt_ts: retry_at,
        ..head.clone()
    };
    assert_eq!(
        claim(store.as_ref(), retry_at, 10).await,
        vec![claimed(&subscription, &retried, retry_at)]
    );
}

pub async fn missing_messages_are_not_found_when_finished_retried_or_dead_lettered(
    store: Arc<dyn Store>,
) {
    let (_, _, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let missing = delivery(&subscription, 100).message;
    assert_not_found(store.finish_delivery(missing, None).await, Entity::Delivery);
    assert_not_found(
        store.retry_delivery(missing, None, 1, NOW).await,
        Entity::Delivery,
    );
    assert_not_found(
        store
            .dead_letter_delivery(missing, None, "gave up", NOW)
            .await,
        Entity::Delivery,
    );
}

pub async fn dead_lettered_messages_leave_the_outbox_for_the_subscribers_dead_letters(
    store: Arc<dyn Store>,
) {
    let (publisher, subscriber, subscription) =
        publisher_and_subscription(store.as_ref(), "orders").await;
    let messages: Vec<Delivery> = (0..4)
        .map(|index| delivery(&subscription, 100 + index))
        .collect();
    enqueue(store.as_ref(), &messages).await;
    assert_eq!(claim(store.as_ref(), NOW, 10).await.len(), 1);

    let reasons = [
        "gave up after 8 attempts",
        "callback said 410 «gone» 🦀",
        "expired",
    ];
    let dead_at = [at(3_000), at(4_000), at(4_000)];
    for ((message, reason), dead_ts) in messages.iter().zip(reasons).zip(dead_at) {
        store
            .dead_letter_delivery(message.message, None, reason, dead_ts)
            .await
            .expect("dead letter should succeed");
    }
    assert_not_found(
        store
            .dead_letter_delivery(messages[0].message, None, "again", at(5_000))
            .await,
        Entity::Delivery,
    );
    assert_not_found(
        store.finish_delivery(messages[1].message, None).await,
        Entity::Delivery,
    );
    assert_eq!(
        claim(store.as_ref(), NOW, 10).await,
        vec![claimed(&subscription, &messages[3], NOW)],
        "the message after the dead ones goes out"
    );

    let dead_letter = |index: usize| DeadLetter {
        message: messages[index].message,
        subscription: subscription.id,
        subscriber_account: subscriber.account.id,
        reason: reasons[index].to_owned(),
        dead_ts: dead_at[index],
    };
    let newest_first = vec![dead_letter(2), dead_letter(1), dead_letter(0)];
    let list = |account: AccountId, limit: u32| {
        let store = Arc::clone(&store);
        async move {
            store
                .list_dead_letters(account, limit)
                .await
                .expect("list dead letters")
        }
    };
    assert_eq!(list(subscriber.account.id, 10).await, newest_first);
    assert_eq!(
        list(subscriber.account.id, 2).await,
        newest_first[..2].to_vec()
    );
    assert_eq!(list(subscriber.account.id, 0).await, Vec::new());
    assert_eq!(
        list(publisher.account.id, 10).await,
        Vec::new(),
        "dead letters belong to the subscriber account"
    );

    store
        .delete_subscription(publisher.account.id, subscription.id)
        .await
        .expect("delete");
    assert_eq!(
        list(subscriber.account.id, 10).await,
        newest_first,
        "dead letters outlive their subscription"
    );
}

pub async fn concurrent_claimers_never_get_the_same_delivery(store: Arc<dyn Store>) {
    let (publisher, subscriber, _) = publisher_and_subscription(store.as_ref(), "orders").await;
    let mut heads = BTreeSet::new();
    let mut all = Vec::new();
    for index in 0..24 {
        let subscription = subscription(publisher.account.id, &subscriber, "orders");
        subscribe(store.as_ref(), &subscription).await;
        let head = delivery(&subscription, 100 + index);
        let next = delivery(&subscription, 1_000 + index);
        heads.insert(head.message);
        all.extend([head, next]);
    }
    enqueue(store.as_ref(), &all).await;

    let mut claimers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        claimers.push(tokio::spawn(
            async move { claim(store.as_ref(), NOW, 4).await },
        ));
    }
    let mut claimed_messages = Vec::new();
    for claimer in claimers {
        let batch = claimer.await.expect("claimer should not panic");
        claimed_messages.extend(batch.into_iter().map(|claim| claim.delivery.message));
    }
    // Whatever the concurrent claimers left (under SKIP LOCKED a claimer may come back short).
    claimed_messages.extend(
        claim(store.as_ref(), NOW, 100)
            .await
            .into_iter()
            .map(|claim| claim.delivery.message),
    );
    let distinct: BTreeSet<_> = claimed_messages.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        claimed_messages.len(),
        "a message was claimed twice: {claimed_messages:?}"
    );
    assert_eq!(
        distinct, heads,
        "exactly the head of every subscription is claimed, never a message behind it"
    );
}

pub async fn concurrent_dispatchers_deliver_each_message_once_and_in_order(store: Arc<dyn Store>) {
    let (publisher, subscriber, _) = publisher_and_subscription(store.as_ref(), "orders").await;
    let mut queued = Vec::new();
    for _ in 0..6 {
        let subscription = subscription(publisher.account.id, &subscriber, "orders");
        subscribe(store.as_ref(), &subscription).await;
        for index in 0..5 {
            // Several messages per subscription share a creation time: queue order decides.
            queued.push(delivery(&subscription, 100 + index / 2));
        }
    }
    enqueue(store.as_ref(), &queued).await;

    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut dispatchers = Vec::new();
    for _ in 0..6 {
        let store = Arc::clone(&store);
        let sent = Arc::clone(&sent);
        dispatchers.push(tokio::spawn(async move {
            loop {
                let batch = claim(store.as_ref(), NOW, 2).await;
                if batch.is_empty() {
                    break;
                }
                for claim in batch {
                    // Recorded before it is finished: the next message of its subscription
                    // cannot be claimed, so cannot be recorded, before this one.
                    sent.lock()
                        .expect("sent log should not be poisoned")
                        .push(claim.delivery.clone());
                    finish(store.as_ref(), &claim.delivery).await;
                }
            }
        }));
    }
    for dispatcher in dispatchers {
        dispatcher.await.expect("dispatcher should not panic");
    }
    assert_eq!(claim(store.as_ref(), NOW, 100).await, Vec::new());

    let sent = sent
        .lock()
        .expect("sent log should not be poisoned")
        .clone();
    assert_eq!(
        sent.len(),
        queued.len(),
        "every message is sent exactly once"
    );
    let sent_messages: BTreeSet<_> = sent.iter().map(|delivery| delivery.message).collect();
    let queued_messages: BTreeSet<_> = queued.iter().map(|delivery| delivery.message).collect();
    assert_eq!(sent_messages, queued_messages);
    let mut sent_by_subscription: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for delivery in &sent {
        sent_by_subscription
            .entry(delivery.subscription)
            .or_default()
            .push(delivery.message);
    }
    let mut queued_by_subscription: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for delivery in &queued {
        queued_by_subscription
            .entry(delivery.subscription)
            .or_default()
            .push(delivery.message);
    }
    assert_eq!(
        sent_by_subscription, queued_by_subscription,
        "each subscription's messages go out in queue order"
    );
}

/// Housekeeping deletes subscriptions that expired before the cut (with their queued messages)
/// and dead letters older than theirs, in batches, and nothing else.
pub async fn pruning_removes_expired_subscriptions_and_old_dead_letters(store: Arc<dyn Store>) {
    let (publisher, subscriber, live) = publisher_and_subscription(store.as_ref(), "orders").await;
    let expired = Subscription {
        validity_ts: at(500),
        ..subscription(publisher.account.id, &subscriber, "orders")
    };
    subscribe(store.as_ref(), &expired).await;
    let queued = delivery(&expired, 10);
    enqueue(store.as_ref(), std::slice::from_ref(&queued)).await;
    let old = delivery(&live, 20);
    let recent = delivery(&live, 30);
    enqueue(store.as_ref(), &[old.clone(), recent.clone()]).await;
    store
        .dead_letter_delivery(old.message, None, "gone", at(1_000))
        .await
        .expect("dead letter");
    store
        .dead_letter_delivery(recent.message, None, "gone later", at(5_000))
        .await
        .expect("dead letter");

    let (subscriptions, dead) = store
        .prune_notifications(at(600), at(2_000), 100)
        .await
        .expect("prune");
    assert_eq!((subscriptions, dead), (1, 1));
    assert_not_found(
        store
            .find_subscription(publisher.account.id, &expired.token_hash)
            .await,
        Entity::Subscription,
    );
    assert_eq!(
        find(store.as_ref(), &live).await.id,
        live.id,
        "the live one stays"
    );
    assert_not_found(
        store.finish_delivery(queued.message, None).await,
        Entity::Delivery,
    );
    let letters = store
        .list_dead_letters(subscriber.account.id, 10)
        .await
        .expect("dead letters");
    assert_eq!(
        letters
            .iter()
            .map(|letter| letter.message)
            .collect::<Vec<_>>(),
        [recent.message]
    );
    assert_eq!(
        store
            .prune_notifications(at(600), at(2_000), 100)
            .await
            .expect("prune again"),
        (0, 0)
    );
}

/// Outcomes are fenced by the claim's lease: a dispatcher whose lease ran out, and whose
/// message another dispatcher has claimed since, records nothing over the newer claim.
pub async fn an_expired_claim_cannot_record_over_a_newer_one(store: Arc<dyn Store>) {
    let (_, subscriber, subscription) = publisher_and_subscription(store.as_ref(), "orders").await;
    let message = delivery(&subscription, 10);
    enqueue(store.as_ref(), std::slice::from_ref(&message)).await;
    let first = claim(store.as_ref(), NOW, 10).await;
    assert_eq!(first.len(), 1);
    let later = lease_from(NOW).plus_millis(1);
    let second = claim(store.as_ref(), later, 10).await;
    assert_eq!(
        second.len(),
        1,
        "the first lease ran out, so it is claimed again"
    );
    let stale = Some(first[0].lease_until);
    assert_not_found(
        store.finish_delivery(message.message, stale).await,
        Entity::Delivery,
    );
    assert_not_found(
        store.retry_delivery(message.message, stale, 1, later).await,
        Entity::Delivery,
    );
    assert_not_found(
        store
            .dead_letter_delivery(message.message, stale, "late", later)
            .await,
        Entity::Delivery,
    );
    assert!(
        claim(store.as_ref(), later, 10).await.is_empty(),
        "still held by the second claim"
    );
    assert!(store
        .list_dead_letters(subscriber.account.id, 10)
        .await
        .expect("dead letters")
        .is_empty());
    store
        .finish_delivery(message.message, Some(second[0].lease_until))
        .await
        .expect("the current claim records its outcome");
    assert!(claim(store.as_ref(), lease_from(later).plus_millis(1), 10)
        .await
        .is_empty());
}
