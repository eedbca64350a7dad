//! Twins: exact description round trips, owner-only changes, final and race-free termination,
//! and the owner's listing.

use std::sync::Arc;

use serde_json::{json, Map};
use steward_domain::{AccountId, Termination, Twin, TwinId, TwinStatus};
use steward_store::{Entity, PageRequest, Store, StoreError, TerminationOutcome};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// Stores `twin` for its owner, panicking on failure.
async fn create(store: &dyn Store, twin: &Twin) {
    store
        .create_twin(twin.owner, twin)
        .await
        .expect("creating a twin for an existing account should succeed");
}

/// Every twin shape reads back unchanged, by the owner and by any other account: no
/// description (SQL NULL), an empty object, and JSON a normalising store would rewrite.
pub async fn twin_round_trip_keeps_descriptions_exactly(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;

    let without_description = Twin {
        description: None,
        ..fixtures::twin(owner)
    };
    let with_empty_description = Twin {
        description: Some(Map::new()),
        ..fixtures::twin(owner)
    };
    let with_tricky_description = Twin {
        description: Some(fixtures::exact_json_object()),
        ..fixtures::twin(owner)
    };
    let with_fixture_description = fixtures::twin(owner);
    for twin in [
        &without_description,
        &with_empty_description,
        &with_tricky_description,
        &with_fixture_description,
    ] {
        create(store.as_ref(), twin).await;
        assert_eq!(&store.get_twin(twin.id).await.expect("get"), twin);
    }

    // Equality above already tells a float from an integer; say it outright for the number a
    // JSONB column would turn into `1000000000000000000`.
    let stored = store
        .get_twin(with_tricky_description.id)
        .await
        .expect("get");
    let big_float = &stored.description.as_ref().expect("description")["big_float"];
    assert!(big_float.is_f64(), "1e18 should stay a float: {big_float}");
    assert_eq!(
        store
            .get_twin(with_empty_description.id)
            .await
            .expect("get")
            .description,
        Some(Map::new()),
        "an empty description is not a missing one"
    );
}

/// Reusing a twin id fails with `AlreadyExists(Twin)` and keeps the first twin.
pub async fn duplicate_twin_is_refused(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let original = fixtures::twin(owner);
    create(store.as_ref(), &original).await;

    let duplicate = Twin {
        description: None,
        ..original.clone()
    };
    assert_already_exists(store.create_twin(owner, &duplicate).await, Entity::Twin);

    // The same id under another owner is refused too: twin ids are global.
    let other = new_account(store.as_ref(), "Globex").await.account.id;
    let elsewhere = Twin {
        owner: other,
        creator: other,
        ..original.clone()
    };
    assert_already_exists(store.create_twin(other, &elsewhere).await, Entity::Twin);

    assert_eq!(store.get_twin(original.id).await.expect("get"), original);
}

/// A twin for a missing account is `NotFound(Account)`; a twin whose owner or creator is not
/// the calling account is a caller bug. Neither stores anything.
pub async fn twin_for_missing_or_other_account_is_refused(store: Arc<dyn Store>) {
    let missing = AccountId::new_random();
    let orphan = fixtures::twin(missing);
    assert_not_found(store.create_twin(missing, &orphan).await, Entity::Account);
    assert_not_found(store.get_twin(orphan.id).await, Entity::Twin);

    let caller = new_account(store.as_ref(), "Acme").await.account.id;
    let other = new_account(store.as_ref(), "Globex").await.account.id;
    let owned_by_other = fixtures::twin(other);
    let created_by_other = Twin {
        creator: other,
        ..fixtures::twin(caller)
    };
    for twin in [&owned_by_other, &created_by_other] {
        let result = store.create_twin(caller, twin).await;
        assert!(
            matches!(result, Err(StoreError::Backend(_))),
            "a twin of another account should be refused as a caller bug, got {result:?}"
        );
        assert_not_found(store.get_twin(twin.id).await, Entity::Twin);
    }
}

/// Reading, changing or terminating a twin that does not exist is `NotFound(Twin)`.
pub async fn missing_twin_reports_not_found(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    let missing = TwinId::new_random();
    assert_not_found(store.get_twin(missing).await, Entity::Twin);
    assert_not_found(
        store
            .update_twin_description(account, missing, None, at(1_000))
            .await,
        Entity::Twin,
    );
    assert_not_found(
        store.terminate_twin(account, missing, at(1_000)).await,
        Entity::Twin,
    );
}

/// The owner replaces the description; only it and `updated_ts` change. `None` removes it and
/// `{}` stays an empty object, also on the update path.
pub async fn owner_updates_twin_description(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = fixtures::twin(owner);
    create(store.as_ref(), &twin).await;

    let replacement = fixtures::exact_json_object();
    let updated = store
        .update_twin_description(owner, twin.id, Some(&replacement), at(1_000))
        .await
        .expect("update");
    let expected = Twin {
        description: Some(replacement),
        updated_ts: at(1_000),
        ..twin.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(updated.created_ts, twin.created_ts);
    assert_eq!(store.get_twin(twin.id).await.expect("get"), expected);

    let removed = store
        .update_twin_description(owner, twin.id, None, at(2_000))
        .await
        .expect("remove");
    let expected = Twin {
        description: None,
        updated_ts: at(2_000),
        ..twin.clone()
    };
    assert_eq!(removed, expected);
    assert_eq!(store.get_twin(twin.id).await.expect("get"), expected);

    let emptied = store
        .update_twin_description(owner, twin.id, Some(&Map::new()), at(3_000))
        .await
        .expect("empty");
    let expected = Twin {
        description: Some(Map::new()),
        updated_ts: at(3_000),
        ..twin.clone()
    };
    assert_eq!(emptied, expected);
    assert_eq!(store.get_twin(twin.id).await.expect("get"), expected);
}

/// Another account cannot change a twin's description: `NotFound(Twin)`, nothing changes.
pub async fn foreign_description_update_is_refused_and_changes_nothing(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let intruder = new_account(store.as_ref(), "Globex").await.account.id;
    let twin = fixtures::twin(owner);
    create(store.as_ref(), &twin).await;

    let hijack = fixtures::object(json!({"owner": "Globex"}));
    assert_not_found(
        store
            .update_twin_description(intruder, twin.id, Some(&hijack), at(1_000))
            .await,
        Entity::Twin,
    );
    assert_not_found(
        store
            .update_twin_description(intruder, twin.id, None, at(1_000))
            .await,
        Entity::Twin,
    );
    assert_eq!(store.get_twin(twin.id).await.expect("get"), twin);
}

/// Terminating records who and when; terminating again reports the twin as it was terminated
/// and changes nothing. The description of a terminated twin can still be replaced by the
/// store (freezing it is the service's rule) without losing the termination.
pub async fn terminate_twin_then_already_terminated(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = fixtures::twin(owner);
    create(store.as_ref(), &twin).await;

    let outcome = store
        .terminate_twin(owner, twin.id, at(2_000))
        .await
        .expect("terminate");
    let terminated = Twin {
        status: TwinStatus::Terminated,
        termination: Some(Termination {
            issuer: owner,
            terminated_ts: at(2_000),
        }),
        updated_ts: at(2_000),
        ..twin.clone()
    };
    assert_eq!(outcome, TerminationOutcome::Terminated(terminated.clone()));
    assert_eq!(store.get_twin(twin.id).await.expect("get"), terminated);

    let again = store
        .terminate_twin(owner, twin.id, at(3_000))
        .await
        .expect("terminate again");
    assert_eq!(
        again,
        TerminationOutcome::AlreadyTerminated(terminated.clone())
    );
    assert_eq!(store.get_twin(twin.id).await.expect("get"), terminated);

    let updated = store
        .update_twin_description(owner, twin.id, None, at(4_000))
        .await
        .expect("update terminated");
    assert_eq!(
        updated,
        Twin {
            description: None,
            updated_ts: at(4_000),
            ..terminated
        }
    );
}

/// Another account cannot terminate a twin: `NotFound(Twin)`, and the twin stays alive.
pub async fn foreign_twin_termination_is_refused(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let intruder = new_account(store.as_ref(), "Globex").await.account.id;
    let twin = fixtures::twin(owner);
    create(store.as_ref(), &twin).await;

    assert_not_found(
        store.terminate_twin(intruder, twin.id, at(1_000)).await,
        Entity::Twin,
    );
    let stored = store.get_twin(twin.id).await.expect("get");
    assert_eq!(stored.status, TwinStatus::Alive);
    assert_eq!(stored, twin);

    // Once terminated by its owner, the intruder still learns nothing about it.
    store
        .terminate_twin(owner, twin.id, at(2_000))
        .await
        .expect("terminate");
    assert_not_found(
        store.terminate_twin(intruder, twin.id, at(3_000)).await,
        Entity::Twin,
    );
}

/// Eight concurrent terminations of one twin: exactly one terminates it, the others report it
/// already terminated as the winner left it.
pub async fn concurrent_terminations_of_one_twin_succeed_exactly_once(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = fixtures::twin(owner);
    create(store.as_ref(), &twin).await;

    let mut racers = Vec::new();
    for index in 0..8 {
        let store = Arc::clone(&store);
        let twin = twin.id;
        racers.push(tokio::spawn(async move {
            store.terminate_twin(owner, twin, at(1_000 + index)).await
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for racer in racers {
        match racer.await.expect("racer should not panic") {
            Ok(TerminationOutcome::Terminated(twin)) => winners.push(twin),
            Ok(TerminationOutcome::AlreadyTerminated(twin)) => losers.push(twin),
            Err(error) => panic!("a termination should not fail, got {error:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one termination should win: {winners:?}"
    );
    let winner = &winners[0];
    assert_eq!(winner.status, TwinStatus::Terminated);
    for loser in &losers {
        assert_eq!(loser, winner, "losers should see the winner's termination");
    }
    assert_eq!(&store.get_twin(twin.id).await.expect("get"), winner);
}

/// The owner's twins page in id order, alive and terminated alike; `after` is exclusive and
/// `limit` is respected.
pub async fn list_owned_twins_pages_in_id_order(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let mut expected = Vec::new();
    for _ in 0..5 {
        let twin = fixtures::twin(owner);
        create(store.as_ref(), &twin).await;
        expected.push(twin);
    }
    expected.sort_by_key(|twin| twin.id);
    let outcome = store
        .terminate_twin(owner, expected[2].id, at(1_000))
        .await
        .expect("terminate");
    let TerminationOutcome::Terminated(terminated) = outcome else {
        panic!("an alive twin should be terminated, got {outcome:?}");
    };
    expected[2] = terminated;

    let mut listed = Vec::new();
    let mut after: Option<TwinId> = None;
    loop {
        let page = store
            .list_owned_twins(owner, PageRequest { after, limit: 2 })
            .await
            .expect("list");
        assert!(page.len() <= 2, "page longer than its limit");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        listed.extend(page);
    }
    assert_eq!(listed, expected);

    let everything = store
        .list_owned_twins(
            owner,
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .expect("list all");
    assert_eq!(everything, expected);
    let none = store
        .list_owned_twins(
            owner,
            PageRequest {
                after: None,
                limit: 0,
            },
        )
        .await
        .expect("list none");
    assert!(none.is_empty());
}

/// Lists every twin `account` owns, page by page.
async fn all_owned_twins(store: &dyn Store, account: AccountId) -> Vec<Twin> {
    let mut listed = Vec::new();
    let mut after: Option<TwinId> = None;
    loop {
        let page = store
            .list_owned_twins(account, PageRequest { after, limit: 2 })
            .await
            .expect("list");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        listed.extend(page);
    }
    listed
}

/// One account's listing never contains another account's twins, also when paging from a
/// cursor that is another account's twin id.
pub async fn owned_twin_listings_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let a = new_account(store.as_ref(), "Acme").await.account.id;
    let b = new_account(store.as_ref(), "Globex").await.account.id;
    let mut twins_of_a = Vec::new();
    let mut twins_of_b = Vec::new();
    for index in 0..6 {
        let (owner, twins) = if index % 2 == 0 {
            (a, &mut twins_of_a)
        } else {
            (b, &mut twins_of_b)
        };
        let twin = fixtures::twin(owner);
        create(store.as_ref(), &twin).await;
        twins.push(twin);
    }
    twins_of_a.sort_by_key(|twin| twin.id);
    twins_of_b.sort_by_key(|twin| twin.id);

    assert_eq!(all_owned_twins(store.as_ref(), a).await, twins_of_a);
    assert_eq!(all_owned_twins(store.as_ref(), b).await, twins_of_b);

    for twin_of_a in &twins_of_a {
        let page = store
            .list_owned_twins(
                b,
                PageRequest {
                    after: Some(twin_of_a.id),
                    limit: 100,
                },
            )
            .await
            .expect("list after a foreign id");
        let expected: Vec<Twin> = twins_of_b
            .iter()
            .filter(|twin| twin.id > twin_of_a.id)
            .cloned()
            .collect();
        assert_eq!(page, expected);
    }

    let stranger = AccountId::new_random();
    assert!(all_owned_twins(store.as_ref(), stranger).await.is_empty());
}
