//! Conformance cases for usage counters and the account log: additive upserts from several
//! nodes, bucket ranges, log paging by `seq` (consecutive, commit-ordered, isolated per
//! account), the dead letter's log message in the dead letter's transaction, and pruning.

use std::collections::BTreeSet;
use std::sync::Arc;

use steward_domain::{
    dead_letter_log_text, AccountId, AccountLogMessage, Timestamp, UsageIncrement, NO_USER,
};
use steward_store::{Entity, Store, UsageReport};

use super::notifications::{delivery, publisher_and_subscription};
use super::{assert_not_found, new_account};
use crate::fixtures::at;

/// An increment (a macro, so the user uuid's type need not be named: this crate does not
/// depend on `uuid`).
macro_rules! increment {
    ($account:expr, $user:expr, $bucket:expr, $counter:expr, $value:expr $(,)?) => {
        UsageIncrement {
            account: $account,
            user: $user,
            bucket: ($bucket).to_owned(),
            counter: ($counter).to_owned(),
            value: $value,
        }
    };
}

/// The usage of one user (or `NO_USER`) of an account in a bucket range.
macro_rules! usage {
    ($store:expr, $account:expr, $user:expr, $from:expr, $to:expr $(,)?) => {
        $store
            .get_usage($account, $user, $from, $to)
            .await
            .expect("reading usage should succeed")
    };
}

fn report(rows: &[(&str, &str, u64)]) -> UsageReport {
    let mut report = UsageReport::new();
    for (bucket, counter, value) in rows {
        report
            .entry((*bucket).to_owned())
            .or_default()
            .insert((*counter).to_owned(), *value);
    }
    report
}

async fn log(
    store: &dyn Store,
    account: AccountId,
    after: u64,
    limit: u32,
) -> Vec<AccountLogMessage> {
    store
        .list_account_log(account, after, limit)
        .await
        .expect("listing the log should succeed")
}

/// Two "nodes" flushing the same counters at once add up; repeated keys in one flush add up;
/// users, accounts and buckets are kept apart; a range reads only its buckets.
pub async fn usage_increments_of_concurrent_nodes_add_up(store: Arc<dyn Store>) {
    let shop = new_account(store.as_ref(), "shop").await.account.id;
    let courier = new_account(store.as_ref(), "courier").await.account.id;
    let user = AccountId::new_random().as_uuid();
    let mut nodes = Vec::new();
    for node in 0..2_u64 {
        let store = Arc::clone(&store);
        nodes.push(tokio::spawn(async move {
            for round in 0..10_u64 {
                let flush = vec![
                    increment!(shop, user, "2026-11-23-01", "request_count", 1),
                    increment!(shop, user, "2026-11-23-01", "request_count", 2),
                    increment!(shop, user, "2026-11-23-01", "db_read_cost", node + round),
                    increment!(
                        shop,
                        NO_USER,
                        "2026-11-23-01",
                        "task_publish_topic_count",
                        1,
                    ),
                    increment!(courier, user, "2026-11-23-01", "request_count", 5),
                    increment!(shop, user, "2026-11-23-00", "request_count", 7),
                    increment!(shop, user, "2026-11-22-23", "request_count", 1),
                ];
                store
                    .add_usage(&flush)
                    .await
                    .expect("adding usage should succeed");
            }
        }));
    }
    for node in nodes {
        node.await.expect("node task should not panic");
    }
    store.add_usage(&[]).await.expect("an empty flush is fine");
    let read_cost: u64 = (0..2)
        .flat_map(|node| (0..10).map(move |round| node + round))
        .sum();
    assert_eq!(
        usage!(store, shop, user, "2026-11-23-00", "2026-11-23-01"),
        report(&[
            ("2026-11-23-00", "request_count", 140),
            ("2026-11-23-01", "db_read_cost", read_cost),
            ("2026-11-23-01", "request_count", 60),
        ])
    );
    assert_eq!(
        usage!(store, shop, NO_USER, "2026-11-23-00", "2026-11-23-01"),
        report(&[("2026-11-23-01", "task_publish_topic_count", 20)])
    );
    assert_eq!(
        usage!(store, courier, user, "2026-11-23-01", "2026-11-23-01"),
        report(&[("2026-11-23-01", "request_count", 100)])
    );
    assert_eq!(
        usage!(store, courier, NO_USER, "2026-11-23-00", "2026-11-23-01"),
        UsageReport::new(),
        "no usage, no buckets"
    );
}

/// Pruning deletes the counters of buckets before the given one, at most `limit` per call.
pub async fn usage_pruning_deletes_only_older_buckets(store: Arc<dyn Store>) {
    let shop = new_account(store.as_ref(), "shop").await.account.id;
    let user = AccountId::new_random().as_uuid();
    let flush = vec![
        increment!(shop, user, "2026-11-21-00", "request_count", 1),
        increment!(shop, user, "2026-11-21-00", "rest_count", 1),
        increment!(
            shop,
            NO_USER,
            "2026-11-21-05",
            "task_publish_topic_count",
            1,
        ),
        increment!(shop, user, "2026-11-23-00", "request_count", 3),
    ];
    store.add_usage(&flush).await.expect("adding usage");
    assert_eq!(
        store.prune_usage("2026-11-23-00", 2).await.expect("prune"),
        2
    );
    assert_eq!(
        store.prune_usage("2026-11-23-00", 2).await.expect("prune"),
        1
    );
    assert_eq!(
        store.prune_usage("2026-11-23-00", 2).await.expect("prune"),
        0
    );
    assert_eq!(
        usage!(store, shop, user, "0000", "9999"),
        report(&[("2026-11-23-00", "request_count", 3)])
    );
}

/// Messages get consecutive seqs from 1 per account in append order; pages continue after a
/// seq; accounts' logs are apart; a missing account is refused.
pub async fn account_log_appends_and_pages_in_seq_order(store: Arc<dyn Store>) {
    let shop = new_account(store.as_ref(), "shop").await.account.id;
    let courier = new_account(store.as_ref(), "courier").await.account.id;
    let texts = ["first «é» 🦀", "second", "third"];
    let batch: Vec<(Timestamp, String)> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| (at(index as i64), (*text).to_owned()))
        .collect();
    assert_eq!(
        store
            .append_account_log(shop, &batch)
            .await
            .expect("append"),
        3
    );
    assert_eq!(
        store
            .append_account_log(courier, &[(at(9), "courier's".to_owned())])
            .await
            .expect("append"),
        1
    );
    assert_eq!(
        store
            .append_account_log(shop, &[(at(10), "fourth".to_owned())])
            .await
            .expect("append"),
        4
    );
    assert_eq!(
        store.append_account_log(shop, &[]).await.expect("append"),
        0
    );

    let all = log(store.as_ref(), shop, 0, 100).await;
    let expected: Vec<AccountLogMessage> = texts
        .iter()
        .chain(["fourth"].iter())
        .enumerate()
        .map(|(index, text)| AccountLogMessage {
            seq: index as u64 + 1,
            ts: if index < 3 { at(index as i64) } else { at(10) },
            text: (*text).to_owned(),
        })
        .collect();
    assert_eq!(all, expected);
    assert_eq!(
        log(store.as_ref(), shop, 0, 2).await,
        expected[..2].to_vec()
    );
    assert_eq!(
        log(store.as_ref(), shop, 2, 2).await,
        expected[2..].to_vec()
    );
    assert_eq!(log(store.as_ref(), shop, 4, 2).await, Vec::new());
    assert_eq!(log(store.as_ref(), shop, u64::MAX, 2).await, Vec::new());
    assert_eq!(
        log(store.as_ref(), courier, 0, 100)
            .await
            .into_iter()
            .map(|message| message.text)
            .collect::<Vec<_>>(),
        vec!["courier's".to_owned()]
    );
    assert_not_found(
        store
            .append_account_log(AccountId::new_random(), &[(at(0), "x".to_owned())])
            .await,
        Entity::Account,
    );
}

/// Concurrent appends to one account's log get every seq exactly once, and a reader that saw
/// seq n never finds a smaller one later (each committed prefix is complete).
pub async fn concurrent_account_log_appends_get_seqs_without_gaps(store: Arc<dyn Store>) {
    let shop = new_account(store.as_ref(), "shop").await.account.id;
    let mut writers = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            for message in 0..5 {
                store
                    .append_account_log(shop, &[(at(0), format!("{writer}/{message}"))])
                    .await
                    .expect("append");
            }
        }));
    }
    let mut seen = 0_u64;
    let mut texts = BTreeSet::new();
    while texts.len() < 40 {
        for message in log(store.as_ref(), shop, seen, 100).await {
            assert_eq!(message.seq, seen + 1, "no gap behind the cursor");
            seen = message.seq;
            assert!(texts.insert(message.text), "no message twice");
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.expect("writer should not panic");
    }
    assert_eq!(seen, 40);
}

/// A dead letter appends its message to the subscriber's log in its transaction; a dead letter
/// that does not happen (message gone) logs nothing.
pub async fn dead_letters_append_to_the_subscribers_log(store: Arc<dyn Store>) {
    let (publisher, subscriber, subscription) =
        publisher_and_subscription(store.as_ref(), "orders").await;
    let message = delivery(&subscription, 100);
    store
        .enqueue_deliveries(std::slice::from_ref(&message))
        .await
        .expect("enqueue");
    assert_eq!(
        store
            .count_pending_deliveries(subscriber.account.id)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count_pending_deliveries(publisher.account.id)
            .await
            .expect("count"),
        0,
        "counted for the subscriber"
    );
    let reason = "given up after 15 attempts: the receiver answered 500 «x»";
    store
        .dead_letter_delivery(message.message, None, reason, at(5_000))
        .await
        .expect("dead letter");
    assert_not_found(
        store
            .dead_letter_delivery(message.message, None, reason, at(6_000))
            .await,
        Entity::Delivery,
    );
    assert_eq!(
        log(store.as_ref(), subscriber.account.id, 0, 100).await,
        vec![AccountLogMessage {
            seq: 1,
            ts: at(5_000),
            text: dead_letter_log_text(at(5_000), message.message, "orders", reason),
        }]
    );
    assert_eq!(
        log(store.as_ref(), publisher.account.id, 0, 100).await,
        Vec::new()
    );
    assert_eq!(
        store
            .count_pending_deliveries(subscriber.account.id)
            .await
            .expect("count"),
        0
    );
}

/// Pruning deletes messages older than the given time, at most `limit` per call; seqs keep
/// increasing after everything was pruned.
pub async fn account_log_pruning_keeps_seqs_increasing(store: Arc<dyn Store>) {
    let shop = new_account(store.as_ref(), "shop").await.account.id;
    let batch: Vec<(Timestamp, String)> = (0..3)
        .map(|index| (at(index), format!("m{index}")))
        .collect();
    store
        .append_account_log(shop, &batch)
        .await
        .expect("append");
    assert_eq!(store.prune_account_log(at(2), 1).await.expect("prune"), 1);
    assert_eq!(store.prune_account_log(at(2), 10).await.expect("prune"), 1);
    assert_eq!(
        log(store.as_ref(), shop, 0, 100)
            .await
            .into_iter()
            .map(|message| message.seq)
            .collect::<Vec<_>>(),
        vec![3]
    );
    assert_eq!(
        store.prune_account_log(at(100), 10).await.expect("prune"),
        1
    );
    assert_eq!(
        store
            .append_account_log(shop, &[(at(200), "after".to_owned())])
            .await
            .expect("append"),
        4
    );
}
