//! Change signals between nodes: a [`ChangeListener`] on one store receives what another store
//! on the same database commits, nothing of what it rolls back, and `Resync` after its
//! connection was lost.
//!
//! Like the conformance suite, this runs only with `STEWARD_TEST_POSTGRES_URL` set, in a fresh
//! database dropped afterwards; an unreachable server fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use steward_domain::{AccountBootstrap, AccountId, Sticker, TwinId, UserId};
use steward_store::{ChangeSignal, Entity, LedgerEffects, Store, StoreError};
use steward_store_conformance::fixtures::{self, at};
use steward_store_postgres::testing::run_in_temporary_database;
use steward_store_postgres::{ChangeListener, PostgresStore};

/// Only a guard against a hanging test: signals normally arrive within milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// Two stores on one database, as two nodes would have.
async fn two_nodes(database_url: &str) -> (PostgresStore, PostgresStore) {
    let listening = PostgresStore::connect_with_max_connections(database_url, 2)
        .await
        .expect("first node should connect");
    let writing = PostgresStore::connect_with_max_connections(database_url, 2)
        .await
        .expect("second node should connect");
    (listening, writing)
}

async fn next_signal(listener: &mut ChangeListener) -> ChangeSignal {
    tokio::time::timeout(PATIENCE, listener.next())
        .await
        .expect("a signal should arrive")
}

/// A fresh account with a twin it owns.
async fn account_with_twin(store: &PostgresStore) -> (AccountBootstrap, TwinId) {
    let bootstrap = fixtures::bootstrap("Acme");
    store.create_account(&bootstrap).await.expect("account");
    let twin = fixtures::twin(bootstrap.account.id);
    store
        .create_twin(bootstrap.account.id, &twin)
        .await
        .expect("twin");
    (bootstrap, twin.id)
}

async fn create_ledger(store: &PostgresStore, twin: TwinId, account: AccountId) {
    let ledger = fixtures::ledger(twin, account, BTreeMap::new());
    store
        .save_ledger(account, &ledger, None, &LedgerEffects::default())
        .await
        .expect("save ledger");
}

/// A ledger saved through one node signals its twin to a listener of the other; deleting a
/// secret signals an access change.
#[tokio::test]
async fn listener_receives_twin_and_access_signals_committed_by_another_node() {
    run_in_temporary_database(|database_url| async move {
        let (listening, writing) = two_nodes(&database_url).await;
        let (bootstrap, twin) = account_with_twin(&writing).await;
        let account = bootstrap.account.id;
        let mut listener = listening.listen_changes().await.expect("listen");

        create_ledger(&writing, twin, account).await;
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Twin(twin));

        writing
            .delete_secret(account, bootstrap.admin_user.id)
            .await
            .expect("delete secret");
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Access);

        let description = fixtures::object(serde_json::json!({"site": "north"}));
        writing
            .update_twin_description(account, twin, Some(&description), at(1_000))
            .await
            .expect("update description");
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Twin(twin));

        drop(listener);
        listening.close().await;
        writing.close().await;
    })
    .await;
}

/// Changes that fail (a conflicting save, a put on a missing twin, a removal of a missing
/// sticker, a role update of a missing role) signal nothing: the next signal is the next
/// successful change's.
#[tokio::test]
async fn failed_changes_signal_nothing() {
    run_in_temporary_database(|database_url| async move {
        let (listening, writing) = two_nodes(&database_url).await;
        let (bootstrap, refused_twin) = account_with_twin(&writing).await;
        let account = bootstrap.account.id;
        let saved_twin = fixtures::twin(account);
        writing
            .create_twin(account, &saved_twin)
            .await
            .expect("twin");
        let mut listener = listening.listen_changes().await.expect("listen");

        let stale = fixtures::ledger(refused_twin, account, BTreeMap::new());
        let refused = writing
            .save_ledger(account, &stale, Some(3), &LedgerEffects::default())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(Entity::Ledger))),
            "{refused:?}"
        );
        let on_missing_twin = Sticker {
            twin: TwinId::new_random(),
            account,
            color: "red".to_owned(),
            note: String::new(),
            recipients: vec![UserId::new_random().as_uuid()],
            validity_ts: at(10_000),
            created_ts: at(100),
            publish: None,
        };
        assert!(writing
            .put_stickers(account, &[on_missing_twin])
            .await
            .is_err());
        assert!(writing
            .remove_sticker(
                refused_twin,
                account,
                "red",
                &[UserId::new_random().as_uuid()],
                at(200)
            )
            .await
            .is_err());
        let missing_role = fixtures::role(account, "missing");
        assert!(writing.update_role(account, &missing_role).await.is_err());

        create_ledger(&writing, saved_twin.id, account).await;
        assert_eq!(
            next_signal(&mut listener).await,
            ChangeSignal::Twin(saved_twin.id)
        );

        drop(listener);
        listening.close().await;
        writing.close().await;
    })
    .await;
}

/// Sticker puts and removals signal their twin; expiry signals new events.
#[tokio::test]
async fn sticker_changes_signal_their_twin_and_expiry_signals_events() {
    run_in_temporary_database(|database_url| async move {
        let (listening, writing) = two_nodes(&database_url).await;
        let (bootstrap, twin) = account_with_twin(&writing).await;
        let account = bootstrap.account.id;
        let mut listener = listening.listen_changes().await.expect("listen");
        let recipient = UserId::new_random().as_uuid();
        let sticker = |color: &str| Sticker {
            twin,
            account,
            color: color.to_owned(),
            note: "check".to_owned(),
            recipients: vec![recipient],
            validity_ts: at(1_000),
            created_ts: at(100),
            publish: None,
        };

        writing
            .put_stickers(account, &[sticker("red"), sticker("blue")])
            .await
            .expect("put");
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Twin(twin));
        writing
            .remove_sticker(twin, account, "red", &[recipient], at(500))
            .await
            .expect("remove");
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Twin(twin));
        let expired = writing
            .remove_expired_stickers(at(2_000), 10)
            .await
            .expect("expire");
        assert_eq!(expired.len(), 1);
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Events);

        drop(listener);
        listening.close().await;
        writing.close().await;
    })
    .await;
}

/// When the listening connection is killed, the listener reconnects by itself, says `Resync`
/// (signals may have been lost meanwhile), and then receives signals again.
#[tokio::test]
async fn listener_resyncs_after_losing_its_connection() {
    run_in_temporary_database(|database_url| async move {
        let (listening, writing) = two_nodes(&database_url).await;
        let (bootstrap, twin) = account_with_twin(&writing).await;
        let mut listener = listening.listen_changes().await.expect("listen");

        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&database_url)
            .await
            .expect("admin connection");
        let terminated: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_all(&admin)
        .await
        .expect("terminate the listening backend");
        assert_eq!(terminated, [true], "one listening backend");
        admin.close().await;

        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Resync);
        create_ledger(&writing, twin, bootstrap.account.id).await;
        assert_eq!(next_signal(&mut listener).await, ChangeSignal::Twin(twin));

        drop(listener);
        listening.close().await;
        writing.close().await;
    })
    .await;
}
