//! Per-account limits: the operator's overrides round-trip and clear, the twin quota is
//! checked atomically with the creation (also under concurrency), and an account's ledger
//! bytes add up over its ledgers on every twin.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use steward_domain::{AccountId, AccountLimits, Twin, TwinStatus};
use steward_store::{Entity, LedgerEffects, PageRequest, Store};

use super::{assert_not_found, new_account};
use crate::fixtures::{self, at};

/// Limits round-trip per account, replace each other, and clear with every field `None`; an
/// account without limits reads all `None`.
pub async fn account_limits_round_trip_and_clear(store: Arc<dyn Store>) {
    let (a, b) = (AccountId::new_random(), AccountId::new_random());
    assert_eq!(
        store.get_account_limits(a).await.expect("get"),
        AccountLimits::default()
    );
    let full = AccountLimits {
        rate_limit_per_second: Some(50),
        rate_limit_burst: Some(0),
        max_twins: Some(10_000_000_000),
        max_ledger_entries: Some(u32::MAX),
        max_stored_bytes: Some(0),
    };
    store.set_account_limits(a, &full).await.expect("set a");
    let partial = AccountLimits {
        max_twins: Some(3),
        ..AccountLimits::default()
    };
    store.set_account_limits(b, &partial).await.expect("set b");
    assert_eq!(store.get_account_limits(a).await.expect("get a"), full);
    assert_eq!(store.get_account_limits(b).await.expect("get b"), partial);

    // A new document replaces the old one whole.
    let replaced = AccountLimits {
        rate_limit_per_second: Some(7),
        ..AccountLimits::default()
    };
    store
        .set_account_limits(a, &replaced)
        .await
        .expect("replace");
    assert_eq!(store.get_account_limits(a).await.expect("get a"), replaced);

    store
        .set_account_limits(a, &AccountLimits::default())
        .await
        .expect("clear");
    assert_eq!(
        store.get_account_limits(a).await.expect("get a"),
        AccountLimits::default()
    );
    assert_eq!(store.get_account_limits(b).await.expect("get b"), partial);
}

/// The twin quota counts only the account's alive twins: at the quota nothing is stored and
/// the answer is `false`; terminating a twin frees a place; other accounts are not counted.
pub async fn twin_creation_within_quota_stops_at_the_quota(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let other = new_account(store.as_ref(), "Other").await.account.id;
    for _ in 0..3 {
        let twin = fixtures::twin(other);
        store.create_twin(other, &twin).await.expect("other's twin");
    }
    let mut created = Vec::new();
    for _ in 0..2 {
        let twin = fixtures::twin(owner);
        assert!(store
            .create_twin_within_quota(owner, &twin, 2)
            .await
            .expect("within quota"));
        created.push(twin);
    }
    let refused = fixtures::twin(owner);
    assert!(!store
        .create_twin_within_quota(owner, &refused, 2)
        .await
        .expect("at quota"));
    assert_not_found(store.get_twin(refused.id).await, Entity::Twin);

    store
        .terminate_twin(owner, created[0].id, at(1_000))
        .await
        .expect("terminate");
    assert!(store
        .create_twin_within_quota(owner, &refused, 2)
        .await
        .expect("a terminated twin frees a place"));
    let stored = store.get_twin(refused.id).await.expect("stored");
    assert_eq!(stored, refused);
    assert_eq!(stored.status, TwinStatus::Alive);

    // A missing account is refused as for `create_twin`.
    let missing = AccountId::new_random();
    assert_not_found(
        store
            .create_twin_within_quota(missing, &fixtures::twin(missing), 5)
            .await,
        Entity::Account,
    );
}

/// Concurrent creations under a quota never overshoot it.
pub async fn concurrent_twin_creations_never_exceed_the_quota(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twins: Vec<Twin> = (0..12).map(|_| fixtures::twin(owner)).collect();
    let mut tasks = Vec::new();
    for twin in twins {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.create_twin_within_quota(owner, &twin, 5).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.expect("task").expect("create") {
            created += 1;
        }
    }
    assert_eq!(created, 5);
    let listed = store
        .list_owned_twins(
            owner,
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 5);
}

/// An account's ledger bytes are the byte lengths of its ledgers' stored entries JSON, on
/// every twin (its own and others'), and not those of other accounts' ledgers.
pub async fn account_ledger_bytes_add_up_over_its_ledgers(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let other = new_account(store.as_ref(), "Other").await.account.id;
    assert_eq!(store.account_ledger_bytes(owner).await.expect("none"), 0);
    let own_twin = fixtures::twin(owner);
    let foreign_twin = fixtures::twin(other);
    store.create_twin(owner, &own_twin).await.expect("twin");
    store.create_twin(other, &foreign_twin).await.expect("twin");

    let entries =
        |value: serde_json::Value| BTreeMap::from([("temp".to_owned(), fixtures::entry(value))]);
    let first = fixtures::ledger(own_twin.id, owner, entries(json!("żółw 🐢")));
    let second = fixtures::ledger(foreign_twin.id, owner, entries(json!(21.5)));
    let others = fixtures::ledger(foreign_twin.id, other, entries(json!([1, 2, 3])));
    for ledger in [&first, &second, &others] {
        store
            .save_ledger(ledger.account, ledger, None, &LedgerEffects::default())
            .await
            .expect("save");
    }
    let size = |ledger: &steward_domain::Ledger| {
        serde_json::to_string(&ledger.entries).expect("json").len() as u64
    };
    assert_eq!(
        store.account_ledger_bytes(owner).await.expect("owner"),
        size(&first) + size(&second)
    );
    assert_eq!(
        store.account_ledger_bytes(other).await.expect("other"),
        size(&others)
    );
}
