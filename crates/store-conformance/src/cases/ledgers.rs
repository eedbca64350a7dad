//! Ledgers: exact round trips of every entry shape, creation and update under optimistic
//! concurrency (exactly one of several writers of one version wins), and separation of the
//! ledgers several accounts keep on one twin.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use steward_domain::{AccountId, Entry, EntryContent, Ledger, LedgerTransaction, TwinId};
use steward_store::{Entity, LedgerEffects, LedgerOf, Store, StoreError};

use super::{assert_conflict, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A stored twin owned by a fresh account; returns (twin, owner).
pub(super) async fn new_twin(store: &dyn Store) -> (TwinId, AccountId) {
    let owner = new_account(store, "Acme").await.account.id;
    let twin = fixtures::twin(owner);
    store
        .create_twin(owner, &twin)
        .await
        .expect("creating a twin for an existing account should succeed");
    (twin.id, owner)
}

/// Entries of every kind and configuration, with values a normalising store would rewrite.
fn every_kind_of_entry(twin: TwinId, account: AccountId) -> BTreeMap<String, Entry> {
    let mut entries = BTreeMap::new();
    entries.insert(
        "configured".to_owned(),
        fixtures::configured_entry(json!(21.5)),
    );
    entries.insert("plain".to_owned(), fixtures::entry(json!("on")));
    entries.insert(
        "awkward".to_owned(),
        fixtures::configured_entry(Value::Object(fixtures::exact_json_object())),
    );
    entries.insert("null_value".to_owned(), fixtures::entry(Value::Null));
    entries.insert(
        "zażółć 数据 🦀".to_owned(),
        fixtures::entry(json!([1e18, "a\u{0}b"])),
    );
    entries.insert(
        "reference".to_owned(),
        Entry {
            content: EntryContent::Reference {
                source: format!("twin://{twin}/{account}/plain"),
            },
            visibility: Some("True".to_owned()),
            ..fixtures::entry(Value::Null)
        },
    );
    entries.insert(
        "include".to_owned(),
        Entry {
            content: EntryContent::Include {
                source: format!("twin://{twin}/configured"),
            },
            history: Some("INF".to_owned()),
            entry_created_ts: at(1_001),
            entry_updated_ts: at(2_002),
            value_changed_ts: at(3_003),
            ..fixtures::entry(Value::Null)
        },
    );
    entries
}

/// Reads the ledger of `account` on `twin`, which must exist.
async fn stored_ledger(store: &dyn Store, twin: TwinId, account: AccountId) -> Ledger {
    store
        .get_ledger(twin, account)
        .await
        .expect("get ledger")
        .expect("the ledger should exist")
}

/// A ledger with entries of every kind reads back unchanged: contents, settings set and unset,
/// awkward JSON and every timestamp to the millisecond. An empty ledger stays empty.
pub async fn ledger_round_trip_keeps_entries_exactly(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let ledger = Ledger {
        version: 7,
        created_ts: at(100),
        updated_ts: at(200),
        ..fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner))
    };
    store
        .save_ledger(owner, &ledger, None, &LedgerEffects::default())
        .await
        .expect("create ledger");

    let stored = stored_ledger(store.as_ref(), twin, owner).await;
    assert_eq!(stored, ledger);
    let EntryContent::Value(awkward) = &stored.entries["awkward"].content else {
        panic!("the awkward entry should hold a value");
    };
    // Equality already tells a float from an integer; say it outright for the number a JSONB
    // column would turn into `1000000000000000000`.
    assert!(
        awkward["big_float"].is_f64(),
        "1e18 should stay a float: {awkward}"
    );
    assert_eq!(awkward["nul"], json!("a\u{0}b"));
    assert_eq!(stored.created_ts.as_millis(), at(100).as_millis());
    assert_eq!(
        stored.entries["include"].value_changed_ts.as_millis(),
        at(3_003).as_millis()
    );

    let reader = new_account(store.as_ref(), "Globex").await.account.id;
    let empty = fixtures::ledger(twin, reader, BTreeMap::new());
    store
        .save_ledger(reader, &empty, None, &LedgerEffects::default())
        .await
        .expect("create empty ledger");
    assert_eq!(stored_ledger(store.as_ref(), twin, reader).await, empty);
}

/// No ledger reads as `None`: on a missing twin, for a missing account, and for an account
/// that never wrote one on an existing twin.
pub async fn missing_ledger_reads_as_none(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let cases = [
        (twin, owner),
        (twin, AccountId::new_random()),
        (TwinId::new_random(), owner),
    ];
    for (twin, account) in cases {
        let found = store.get_ledger(twin, account).await.expect("get ledger");
        assert_eq!(found, None);
    }
}

/// Creating a ledger that exists is `Conflict(Ledger)` and keeps the first one.
pub async fn creating_an_existing_ledger_conflicts_and_keeps_the_first(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let first = fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner));
    store
        .save_ledger(owner, &first, None, &LedgerEffects::default())
        .await
        .expect("create ledger");

    let mut entries = BTreeMap::new();
    entries.insert("other".to_owned(), fixtures::entry(json!(1)));
    let second = Ledger {
        created_ts: at(5_000),
        updated_ts: at(5_000),
        ..fixtures::ledger(twin, owner, entries)
    };
    assert_conflict(
        store
            .save_ledger(owner, &second, None, &LedgerEffects::default())
            .await,
        Entity::Ledger,
    );
    assert_eq!(stored_ledger(store.as_ref(), twin, owner).await, first);
}

/// An update naming the stored version replaces the entries and advances the version and
/// `updated_ts`; `created_ts` stays as first written, whatever the ledger passed in says.
pub async fn ledger_update_with_current_version_is_stored(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let created = fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner));
    store
        .save_ledger(owner, &created, None, &LedgerEffects::default())
        .await
        .expect("create ledger");

    let mut changed = created.clone();
    changed.entries.remove("plain");
    changed.entries.insert(
        "added".to_owned(),
        fixtures::configured_entry(json!({"a": 1})),
    );
    if let Some(entry) = changed.entries.get_mut("configured") {
        entry.content = EntryContent::Value(json!(22.75));
        entry.visibility = None;
        entry.value_changed_ts = at(1_000);
        entry.entry_updated_ts = at(1_000);
    }
    changed.version = 2;
    changed.updated_ts = at(1_000);
    store
        .save_ledger(owner, &changed, Some(1), &LedgerEffects::default())
        .await
        .expect("update with the current version");
    assert_eq!(stored_ledger(store.as_ref(), twin, owner).await, changed);

    // created_ts is written once; a later save cannot move it.
    let rewritten = Ledger {
        version: 3,
        created_ts: at(9_999),
        updated_ts: at(2_000),
        ..changed.clone()
    };
    store
        .save_ledger(owner, &rewritten, Some(2), &LedgerEffects::default())
        .await
        .expect("update with the current version");
    let stored = stored_ledger(store.as_ref(), twin, owner).await;
    assert_eq!(stored.created_ts, created.created_ts);
    assert_eq!(
        stored,
        Ledger {
            created_ts: created.created_ts,
            ..rewritten
        }
    );
}

/// An update naming any other version than the stored one is `Conflict(Ledger)` and changes
/// nothing: an older version, a newer one, and the version being written.
pub async fn stale_ledger_version_conflicts_and_changes_nothing(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let created = fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner));
    store
        .save_ledger(owner, &created, None, &LedgerEffects::default())
        .await
        .expect("create ledger");
    let current = Ledger {
        version: 2,
        updated_ts: at(1_000),
        ..created.clone()
    };
    store
        .save_ledger(owner, &current, Some(1), &LedgerEffects::default())
        .await
        .expect("update with the current version");

    let stale = Ledger {
        entries: BTreeMap::new(),
        version: 3,
        updated_ts: at(2_000),
        ..created.clone()
    };
    for expected_version in [1, 0, 3, 4, u64::from(u32::MAX)] {
        assert_conflict(
            store
                .save_ledger(
                    owner,
                    &stale,
                    Some(expected_version),
                    &LedgerEffects::default(),
                )
                .await,
            Entity::Ledger,
        );
    }
    assert_eq!(stored_ledger(store.as_ref(), twin, owner).await, current);
}

/// Updating a ledger that was never created is `Conflict(Ledger)` (the caller read a version
/// that is not stored), also on a missing twin, and creates nothing.
pub async fn updating_a_missing_ledger_conflicts(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let ledger = fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner));
    assert_conflict(
        store
            .save_ledger(owner, &ledger, Some(1), &LedgerEffects::default())
            .await,
        Entity::Ledger,
    );
    assert_eq!(store.get_ledger(twin, owner).await.expect("get"), None);

    let nowhere = fixtures::ledger(TwinId::new_random(), owner, BTreeMap::new());
    assert_conflict(
        store
            .save_ledger(owner, &nowhere, Some(1), &LedgerEffects::default())
            .await,
        Entity::Ledger,
    );
}

/// Creating a ledger on a missing twin is `NotFound(Twin)`, for a missing account
/// `NotFound(Account)` (the twin is reported first when both are missing). A ledger of
/// another account or a version past what the store keeps is a caller bug. Nothing is stored.
pub async fn invalid_ledger_saves_are_refused(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let missing_twin = TwinId::new_random();
    let missing_account = AccountId::new_random();

    let on_missing_twin = fixtures::ledger(missing_twin, owner, BTreeMap::new());
    assert_not_found(
        store
            .save_ledger(owner, &on_missing_twin, None, &LedgerEffects::default())
            .await,
        Entity::Twin,
    );
    assert_eq!(
        store.get_ledger(missing_twin, owner).await.expect("get"),
        None
    );

    let of_missing_account = fixtures::ledger(twin, missing_account, BTreeMap::new());
    assert_not_found(
        store
            .save_ledger(
                missing_account,
                &of_missing_account,
                None,
                &LedgerEffects::default(),
            )
            .await,
        Entity::Account,
    );
    assert_eq!(
        store.get_ledger(twin, missing_account).await.expect("get"),
        None
    );

    let both_missing = fixtures::ledger(missing_twin, missing_account, BTreeMap::new());
    assert_not_found(
        store
            .save_ledger(
                missing_account,
                &both_missing,
                None,
                &LedgerEffects::default(),
            )
            .await,
        Entity::Twin,
    );

    let other = new_account(store.as_ref(), "Globex").await.account.id;
    let of_other = fixtures::ledger(twin, other, every_kind_of_entry(twin, other));
    for expected_version in [None, Some(1)] {
        let result = store
            .save_ledger(
                owner,
                &of_other,
                expected_version,
                &LedgerEffects::default(),
            )
            .await;
        assert!(
            matches!(result, Err(StoreError::Backend(_))),
            "a ledger of another account should be refused as a caller bug, got {result:?}"
        );
    }
    assert_eq!(store.get_ledger(twin, other).await.expect("get"), None);
    assert_eq!(store.get_ledger(twin, owner).await.expect("get"), None);

    let beyond = Ledger {
        version: u64::MAX,
        ..fixtures::ledger(twin, owner, BTreeMap::new())
    };
    let result = store
        .save_ledger(owner, &beyond, None, &LedgerEffects::default())
        .await;
    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "a version past i64::MAX should be refused, got {result:?}"
    );
    assert_eq!(store.get_ledger(twin, owner).await.expect("get"), None);

    let created = fixtures::ledger(twin, owner, BTreeMap::new());
    store
        .save_ledger(owner, &created, None, &LedgerEffects::default())
        .await
        .expect("create ledger");
    let result = store
        .save_ledger(
            owner,
            &Ledger {
                version: 2,
                ..created.clone()
            },
            Some(u64::MAX),
            &LedgerEffects::default(),
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "an expected version past i64::MAX should be refused, got {result:?}"
    );
    assert_eq!(stored_ledger(store.as_ref(), twin, owner).await, created);
}

/// The ledgers of two accounts on one twin are separate: each reads back its own entries,
/// writing one (create and update) never changes the other, and a version held by one says
/// nothing about the other's.
pub async fn ledgers_are_isolated_between_accounts_on_one_twin(store: Arc<dyn Store>) {
    let (twin, a) = new_twin(store.as_ref()).await;
    let b = new_account(store.as_ref(), "Globex").await.account.id;

    let mut entries_of_a = BTreeMap::new();
    entries_of_a.insert("shared_name".to_owned(), fixtures::entry(json!("from a")));
    entries_of_a.insert("only_a".to_owned(), fixtures::entry(json!(1)));
    let ledger_of_a = fixtures::ledger(twin, a, entries_of_a);
    store
        .save_ledger(a, &ledger_of_a, None, &LedgerEffects::default())
        .await
        .expect("create a's ledger");
    assert_eq!(store.get_ledger(twin, b).await.expect("get"), None);

    let mut entries_of_b = BTreeMap::new();
    entries_of_b.insert("shared_name".to_owned(), fixtures::entry(json!("from b")));
    entries_of_b.insert("only_b".to_owned(), fixtures::entry(json!(2)));
    let ledger_of_b = Ledger {
        created_ts: at(500),
        updated_ts: at(500),
        ..fixtures::ledger(twin, b, entries_of_b)
    };
    store
        .save_ledger(b, &ledger_of_b, None, &LedgerEffects::default())
        .await
        .expect("create b's ledger alongside a's");
    assert_eq!(stored_ledger(store.as_ref(), twin, a).await, ledger_of_a);
    assert_eq!(stored_ledger(store.as_ref(), twin, b).await, ledger_of_b);

    // Both hold version 1; updating b's moves only b's.
    let updated_b = Ledger {
        entries: BTreeMap::new(),
        version: 2,
        updated_ts: at(600),
        ..ledger_of_b.clone()
    };
    store
        .save_ledger(b, &updated_b, Some(1), &LedgerEffects::default())
        .await
        .expect("update b's ledger");
    assert_eq!(stored_ledger(store.as_ref(), twin, a).await, ledger_of_a);
    assert_eq!(stored_ledger(store.as_ref(), twin, b).await, updated_b);

    // a's version 1 is still current for a, though b has moved on.
    let updated_a = Ledger {
        version: 2,
        updated_ts: at(700),
        ..ledger_of_a.clone()
    };
    store
        .save_ledger(a, &updated_a, Some(1), &LedgerEffects::default())
        .await
        .expect("update a's ledger");
    assert_eq!(stored_ledger(store.as_ref(), twin, a).await, updated_a);
    assert_eq!(stored_ledger(store.as_ref(), twin, b).await, updated_b);

    // A ledger on another twin of the same account is separate too.
    let (other_twin, _) = new_twin(store.as_ref()).await;
    assert_eq!(store.get_ledger(other_twin, a).await.expect("get"), None);
}

/// Eight writers that read the same version save at once: exactly one succeeds, the others
/// get `Conflict(Ledger)`, and the winner's ledger is stored. The same holds for eight
/// concurrent creations of one ledger.
pub async fn concurrent_ledger_saves_of_one_version_succeed_exactly_once(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;

    let creations = race(&store, twin, owner, None).await;
    let created = only_winner(creations);
    assert_eq!(stored_ledger(store.as_ref(), twin, owner).await, created);

    let updates = race(&store, twin, owner, Some(created.version)).await;
    let updated = only_winner(updates);
    assert_eq!(updated.version, created.version + 1);
    let stored = stored_ledger(store.as_ref(), twin, owner).await;
    assert_eq!(
        stored,
        Ledger {
            created_ts: created.created_ts,
            ..updated
        }
    );
}

/// Spawns eight saves of distinct ledgers of `account` on `twin`, all expecting
/// `expected_version`, and returns each ledger with its outcome.
async fn race(
    store: &Arc<dyn Store>,
    twin: TwinId,
    account: AccountId,
    expected_version: Option<u64>,
) -> Vec<(Ledger, Result<(), StoreError>)> {
    let mut racers = Vec::new();
    for index in 0..8_i64 {
        let store = Arc::clone(store);
        let mut entries = BTreeMap::new();
        entries.insert("writer".to_owned(), fixtures::entry(json!(index)));
        let ledger = Ledger {
            version: expected_version.map_or(1, |version| version + 1),
            created_ts: at(1_000 + index),
            updated_ts: at(1_000 + index),
            ..fixtures::ledger(twin, account, entries)
        };
        racers.push(tokio::spawn(async move {
            let outcome = store
                .save_ledger(
                    account,
                    &ledger,
                    expected_version,
                    &LedgerEffects::default(),
                )
                .await;
            (ledger, outcome)
        }));
    }
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.expect("racer should not panic"));
    }
    outcomes
}

/// The one ledger whose save succeeded; every other save must have conflicted.
#[track_caller]
fn only_winner(outcomes: Vec<(Ledger, Result<(), StoreError>)>) -> Ledger {
    let mut winners = Vec::new();
    for (ledger, outcome) in outcomes {
        match outcome {
            Ok(()) => winners.push(ledger),
            Err(StoreError::Conflict(Entity::Ledger)) => {}
            Err(error) => panic!("a losing save should conflict, got {error:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one save should win: {winners:?}");
    winners.remove(0)
}

/// `get_twin_with_ledger` answers exactly what `get_twin` and `get_ledger` answer, for every
/// way of naming the ledger; a ledger never written is `None`, a missing twin `NotFound`.
pub async fn twin_with_ledger_matches_separate_reads(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let reader = new_account(store.as_ref(), "Globex").await.account.id;
    let ledger = Ledger {
        version: 1,
        ..fixtures::ledger(twin, owner, every_kind_of_entry(twin, owner))
    };
    store
        .save_ledger(owner, &ledger, None, &LedgerEffects::default())
        .await
        .expect("create ledger");
    let stored_twin = store.get_twin(twin).await.expect("get twin");
    for (of, expected) in [
        (LedgerOf::Owner, Some(&ledger)),
        (LedgerOf::Creator, Some(&ledger)),
        (LedgerOf::Account(owner), Some(&ledger)),
        (LedgerOf::Account(reader), None),
        (LedgerOf::Account(AccountId::new_random()), None),
    ] {
        let (found_twin, found_ledger) = store
            .get_twin_with_ledger(twin, of)
            .await
            .expect("get twin with ledger");
        assert_eq!(found_twin, stored_twin, "{of:?}");
        assert_eq!(found_ledger.as_ref(), expected, "{of:?}");
    }
    assert_not_found(
        store
            .get_twin_with_ledger(TwinId::new_random(), LedgerOf::Owner)
            .await,
        Entity::Twin,
    );
}

fn remembered(account: AccountId, twin: TwinId, id: &str, created: i64) -> LedgerTransaction {
    LedgerTransaction {
        account,
        id: id.to_owned(),
        twin,
        request_hash: "hash-of-the-request".to_owned(),
        response: json!({"entry": {"value": 1e18, "nul": "a\u{0}b"}}),
        created_ts: at(created),
    }
}

/// A transaction id is stored with its ledger write; a second write with the same id changes
/// nothing and says `AlreadyExists(Transaction)`; ids are per account; pruning forgets old ones.
pub async fn ledger_transactions_make_writes_idempotent(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let other = new_account(store.as_ref(), "Globex").await.account.id;
    let first = fixtures::ledger(twin, owner, BTreeMap::new());
    let once = remembered(owner, twin, "retry-me", 10);
    store
        .save_ledger(
            owner,
            &first,
            None,
            &LedgerEffects {
                transaction: Some(once.clone()),
                ..LedgerEffects::default()
            },
        )
        .await
        .expect("write with a transaction id");
    assert_eq!(
        store
            .get_ledger_transaction(owner, "retry-me")
            .await
            .expect("get"),
        Some(once.clone())
    );
    assert_eq!(
        store
            .get_ledger_transaction(other, "retry-me")
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .get_ledger_transaction(owner, "other")
            .await
            .expect("get"),
        None
    );

    let second = Ledger {
        version: first.version + 1,
        entries: every_kind_of_entry(twin, owner),
        ..first.clone()
    };
    let again = remembered(owner, twin, "retry-me", 20);
    let refused = store
        .save_ledger(
            owner,
            &second,
            Some(first.version),
            &LedgerEffects {
                transaction: Some(again.clone()),
                ..LedgerEffects::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::AlreadyExists(Entity::Transaction))),
        "{refused:?}"
    );
    assert_eq!(
        stored_ledger(store.as_ref(), twin, owner).await,
        first,
        "nothing changed"
    );
    assert_eq!(
        store
            .get_ledger_transaction(owner, "retry-me")
            .await
            .expect("get"),
        Some(once.clone()),
        "the first answer is kept"
    );

    // Another account may use the same id; a transaction of another account is refused.
    let theirs = fixtures::ledger(twin, other, BTreeMap::new());
    let foreign = remembered(owner, twin, "retry-me", 30);
    assert!(store
        .save_ledger(
            other,
            &theirs,
            None,
            &LedgerEffects {
                transaction: Some(foreign.clone()),
                ..LedgerEffects::default()
            }
        )
        .await
        .is_err());
    assert_eq!(
        store.get_ledger(twin, other).await.expect("get ledger"),
        None
    );
    store
        .save_ledger(
            other,
            &theirs,
            None,
            &LedgerEffects {
                transaction: Some(remembered(other, twin, "retry-me", 30)),
                ..LedgerEffects::default()
            },
        )
        .await
        .expect("same id, other account");

    assert_eq!(
        store
            .prune_ledger_transactions(at(30))
            .await
            .expect("prune"),
        1
    );
    assert_eq!(
        store
            .get_ledger_transaction(owner, "retry-me")
            .await
            .expect("get"),
        None
    );
    assert!(store
        .get_ledger_transaction(other, "retry-me")
        .await
        .expect("get")
        .is_some());
}
