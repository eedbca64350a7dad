//! Conformance cases for the audit log: records get consecutive seqs from 0 in commit order
//! (also under concurrent writers, and when written by ledger saves, only if the save
//! succeeds), are stored as their exact leaf text, are listed only to the accounts whose data
//! they are about or who acted, newest first with every filter and a seq cursor, and are sealed
//! by compare-and-set together with their Merkle hashes and a signed checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;
use steward_domain::{
    AccountId, AuditCheckpoint, AuditRecord, Event, Ledger, LedgerTransaction, RoleId,
    StoredAuditRecord, Timestamp, TwinId, UserId,
};
use steward_store::{AuditHash, AuditQuery, Entity, LedgerEffects, Store, StoreError};

use super::ledgers::new_twin;
use super::{assert_already_exists, assert_conflict, assert_not_found};
use crate::fixtures::{self, at};

/// Entry names a careless encoding would change: quotes, backslashes, control characters
/// (NUL included: JSON escapes it), non-ASCII letters, CJK and emoji.
fn awkward_names() -> Vec<String> {
    vec![
        "zażółć \"gęślą\" jaźń".to_owned(),
        "数据 🦀".to_owned(),
        "back\\slash/and\ttab\nnewline".to_owned(),
        "nul\u{0}inside".to_owned(),
        "\u{2028}line separator\u{7f}".to_owned(),
    ]
}

/// A full record of `operation` at `T0 + millis`: `actor` acted on `owner`'s data on `twin`.
fn record(
    operation: &str,
    outcome: &str,
    owner: Option<AccountId>,
    actor: Option<AccountId>,
    twin: Option<TwinId>,
    millis: i64,
) -> AuditRecord {
    AuditRecord {
        actor_account: actor,
        actor_role: actor.map(|_| RoleId::new_random()),
        actor_user: actor.map(|_| UserId::new_random()),
        auth: actor.map(|_| "secret".to_owned()),
        basis: Some(format!(
            "role \"{operation}\" → allow; rule «TWIN.owner == USER.account»"
        )),
        client: Some("203.0.113.7".to_owned()),
        fingerprint: Some("fp-ÿ".to_owned()),
        outcome: outcome.to_owned(),
        owner,
        returned: awkward_names(),
        status: if outcome == "denied" { 403 } else { 200 },
        twin,
        withheld: vec!["withheld \"secret\" 🔒".to_owned()],
        ..AuditRecord::new(operation, format!("req-{millis}"), at(millis))
    }
}

/// `n` records, record `i` at `T0 + i ms`, each with its number in its request id.
fn records(n: u64, owner: Option<AccountId>, actor: Option<AccountId>) -> Vec<AuditRecord> {
    (0..n)
        .map(|i| {
            let millis = i64::try_from(i).unwrap_or(i64::MAX);
            record("get_twin", "allowed", owner, actor, None, millis)
        })
        .collect()
}

/// Every stored record, in seq order.
async fn all_records(store: &dyn Store) -> Vec<StoredAuditRecord> {
    store
        .read_audit_records(0, 10_000)
        .await
        .expect("read audit records")
}

async fn count(store: &dyn Store) -> u64 {
    store
        .audit_record_count()
        .await
        .expect("audit record count")
}

async fn tree_size(store: &dyn Store) -> u64 {
    store.audit_tree_size().await.expect("audit tree size")
}

/// The seqs of `records`.
fn seqs(records: &[StoredAuditRecord]) -> Vec<u64> {
    records.iter().map(|record| record.seq).collect()
}

/// `records` as the store keeps them: consecutive seqs from `first`, their exact leaf text.
fn stored(records: &[AuditRecord], first: u64) -> Vec<StoredAuditRecord> {
    (first..)
        .zip(records)
        .map(|(seq, record)| StoredAuditRecord {
            seq,
            text: record.leaf_text(),
        })
        .collect()
}

/// Asserts that `result` failed with a backend error.
#[track_caller]
fn assert_backend<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Backend(_)) => {}
        other => panic!("expected a backend error, got {other:?}"),
    }
}

/// Appended records get consecutive seqs from 0 (the first is returned) and are stored as
/// their exact leaf text, which decodes to the record; appending nothing writes nothing and
/// returns the count; a record a backend cannot store is refused whole.
pub async fn audit_appends_get_consecutive_seqs_and_exact_text(store: Arc<dyn Store>) {
    assert_eq!(count(store.as_ref()).await, 0);
    assert_eq!(tree_size(store.as_ref()).await, 0);
    assert!(all_records(store.as_ref()).await.is_empty());
    assert_eq!(
        store.append_audit_records(&[]).await.expect("append none"),
        0
    );
    assert_eq!(count(store.as_ref()).await, 0, "nothing appended");

    let owner = AccountId::new_random();
    let actor = AccountId::new_random();
    let first = records(3, Some(owner), Some(actor));
    assert_eq!(store.append_audit_records(&first).await.expect("append"), 0);
    let second = vec![
        record("list_twins", "denied", None, None, None, 50),
        record(
            "get_twin",
            "allowed",
            Some(owner),
            None,
            Some(TwinId::new_random()),
            60,
        ),
    ];
    assert_eq!(
        store.append_audit_records(&second).await.expect("append"),
        3
    );
    assert_eq!(count(store.as_ref()).await, 5);
    assert_eq!(
        store.append_audit_records(&[]).await.expect("append none"),
        5
    );

    let all = all_records(store.as_ref()).await;
    let expected: Vec<AuditRecord> = first.iter().chain(&second).cloned().collect();
    assert_eq!(all, stored(&expected, 0));
    for (stored, record) in all.iter().zip(&expected) {
        assert_eq!(stored.text.as_bytes(), record.leaf_text().as_bytes());
        let decoded: AuditRecord = serde_json::from_str(&stored.text).expect("leaf text decodes");
        assert_eq!(&decoded, record);
    }
    assert!(all[0].text.contains("\\u0000"), "NUL stays escaped");

    assert_eq!(
        store.read_audit_records(3, 1).await.expect("read"),
        stored(&second[..1], 3)
    );
    assert_eq!(
        seqs(&store.read_audit_records(1, 2).await.expect("read")),
        [1, 2]
    );
    assert!(store
        .read_audit_records(5, 10)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .read_audit_records(u64::MAX, 10)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .read_audit_records(0, 0)
        .await
        .expect("read")
        .is_empty());

    // PostgreSQL text cannot hold NUL: a filter copy with one is refused on every backend,
    // and with it the whole batch.
    let unstorable = vec![
        record("get_twin", "allowed", None, None, None, 70),
        record("get\u{0}twin", "allowed", None, None, None, 71),
    ];
    assert_backend(store.append_audit_records(&unstorable).await);
    assert_eq!(count(store.as_ref()).await, 5);
    assert_eq!(seqs(&all_records(store.as_ref()).await), [0, 1, 2, 3, 4]);
}

/// Saves `ledger` over `expected_version` with `audit` (and an event) as its effects.
async fn save_with_audit(
    store: &dyn Store,
    ledger: &Ledger,
    expected_version: Option<u64>,
    transaction: Option<LedgerTransaction>,
    audit: &[AuditRecord],
) -> Result<(), StoreError> {
    let effects = LedgerEffects {
        transaction,
        events: vec![Event {
            id: 0,
            ts: at(5),
            twin: ledger.twin,
            account: ledger.account,
            trigger: "ledger.entry.updated".to_owned(),
            body: json!({"version": ledger.version}),
        }],
        audit: audit.to_vec(),
        ..LedgerEffects::default()
    };
    store
        .save_ledger(ledger.account, ledger, expected_version, &effects)
        .await
}

/// The audit records of a ledger save are appended with it; a save that conflicts or repeats
/// a transaction id appends none and uses no seq.
pub async fn ledger_save_audit_records_are_stored_only_when_the_save_succeeds(
    store: Arc<dyn Store>,
) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let ledger = fixtures::ledger(twin, owner, BTreeMap::new());
    let audit = |millis| {
        vec![
            record(
                "update_twin_ledger_entry",
                "allowed",
                Some(owner),
                Some(owner),
                Some(twin),
                millis,
            ),
            record(
                "get_twin",
                "allowed",
                Some(owner),
                Some(owner),
                Some(twin),
                millis + 1,
            ),
        ]
    };
    let remembered = LedgerTransaction {
        account: owner,
        id: "once".to_owned(),
        twin,
        request_hash: "hash".to_owned(),
        response: json!({}),
        created_ts: at(1),
    };
    let created = audit(100);
    save_with_audit(
        store.as_ref(),
        &ledger,
        None,
        Some(remembered.clone()),
        &created,
    )
    .await
    .expect("create with audit records");
    assert_eq!(all_records(store.as_ref()).await, stored(&created, 0));
    assert_eq!(store.last_event_id().await.expect("last event id"), 1);

    let stale = Ledger {
        version: 9,
        ..ledger.clone()
    };
    assert_conflict(
        save_with_audit(store.as_ref(), &stale, Some(8), None, &audit(200)).await,
        Entity::Ledger,
    );
    let next = Ledger {
        version: 2,
        ..ledger.clone()
    };
    assert_already_exists(
        save_with_audit(
            store.as_ref(),
            &next,
            Some(1),
            Some(remembered),
            &audit(300),
        )
        .await,
        Entity::Transaction,
    );
    assert_eq!(
        count(store.as_ref()).await,
        2,
        "refused saves append nothing"
    );
    assert_eq!(seqs(&all_records(store.as_ref()).await), [0, 1]);

    save_with_audit(store.as_ref(), &next, Some(1), None, &[])
        .await
        .expect("a save without audit records");
    assert_eq!(count(store.as_ref()).await, 2);
    let updated = audit(400);
    let third = Ledger {
        version: 3,
        ..ledger.clone()
    };
    save_with_audit(store.as_ref(), &third, Some(2), None, &updated)
        .await
        .expect("update with audit records");
    let all = all_records(store.as_ref()).await;
    assert_eq!(all[2..], stored(&updated, 2));
    assert_eq!(count(store.as_ref()).await, 4);
}

/// A query of `viewer` with no filters.
fn query(viewer: AccountId) -> AuditQuery {
    AuditQuery {
        viewer,
        twin: None,
        actor: None,
        operation: None,
        outcome: None,
        ge: None,
        le: None,
        before: None,
        limit: 100,
    }
}

/// The seqs `query` lists, checking each listed record is the one stored at its seq.
async fn listed(store: &dyn Store, query: &AuditQuery, written: &[AuditRecord]) -> Vec<u64> {
    let found = store
        .list_audit_records(query)
        .await
        .expect("list audit records");
    for (seq, record) in &found {
        let index = usize::try_from(*seq).expect("seq fits");
        assert_eq!(record, &written[index], "record {seq}");
    }
    found.into_iter().map(|(seq, _)| seq).collect()
}

/// A viewer sees exactly the records about its data or of its own actions, newest first and
/// each once, never a third party's; every filter narrows that, alone and combined.
pub async fn audit_listing_shows_the_viewers_records_with_every_filter(store: Arc<dyn Store>) {
    let a = AccountId::new_random();
    let b = AccountId::new_random();
    let c = AccountId::new_random();
    let t1 = TwinId::new_random();
    let t2 = TwinId::new_random();
    let written = vec![
        // 0: A's own access to its data.
        record("get_twin", "allowed", Some(a), Some(a), Some(t1), 0),
        // 1: B accessed A's data.
        record(
            "get_twin_ledger_entry",
            "denied",
            Some(a),
            Some(b),
            Some(t1),
            10,
        ),
        // 2: A accessed B's data.
        record("get_twin", "allowed", Some(b), Some(a), Some(t2), 20),
        // 3: C accessed B's data: none of A's business.
        record("get_twin", "allowed", Some(b), Some(c), Some(t2), 30),
        // 4: A acted on no account's data.
        record("list_twins", "allowed", None, Some(a), None, 40),
        // 5: an unauthenticated caller was refused A's data.
        record("get_twin", "denied", Some(a), None, Some(t1), 50),
        // 6: C's data, nobody known acting.
        record("get_twin", "denied", Some(c), None, None, 60),
    ];
    store.append_audit_records(&written).await.expect("append");
    let list = |query: AuditQuery| {
        let store = Arc::clone(&store);
        let written = written.clone();
        async move { listed(store.as_ref(), &query, &written).await }
    };

    assert_eq!(list(query(a)).await, [5, 4, 2, 1, 0]);
    assert_eq!(list(query(b)).await, [3, 2, 1]);
    assert_eq!(list(query(c)).await, [6, 3]);
    assert!(list(query(AccountId::new_random())).await.is_empty());

    let of_a = || query(a);
    assert_eq!(
        list(AuditQuery {
            twin: Some(t1),
            ..of_a()
        })
        .await,
        [5, 1, 0]
    );
    assert_eq!(
        list(AuditQuery {
            twin: Some(t2),
            ..of_a()
        })
        .await,
        [2]
    );
    assert_eq!(
        list(AuditQuery {
            actor: Some(a),
            ..of_a()
        })
        .await,
        [4, 2, 0]
    );
    assert_eq!(
        list(AuditQuery {
            actor: Some(b),
            ..of_a()
        })
        .await,
        [1]
    );
    assert!(
        list(AuditQuery {
            actor: Some(c),
            ..of_a()
        })
        .await
        .is_empty(),
        "C's accesses to B's data stay hidden from A"
    );
    assert_eq!(
        list(AuditQuery {
            operation: Some("get_twin".to_owned()),
            ..of_a()
        })
        .await,
        [5, 2, 0]
    );
    assert!(list(AuditQuery {
        operation: Some("get\u{0}twin".to_owned()),
        ..of_a()
    })
    .await
    .is_empty());
    assert_eq!(
        list(AuditQuery {
            outcome: Some("denied".to_owned()),
            ..of_a()
        })
        .await,
        [5, 1]
    );
    assert_eq!(
        list(AuditQuery {
            ge: Some(at(20)),
            ..of_a()
        })
        .await,
        [5, 4, 2]
    );
    assert_eq!(
        list(AuditQuery {
            le: Some(at(20)),
            ..of_a()
        })
        .await,
        [2, 1, 0]
    );
    assert_eq!(
        list(AuditQuery {
            ge: Some(at(10)),
            le: Some(at(40)),
            ..of_a()
        })
        .await,
        [4, 2, 1]
    );
    assert_eq!(
        list(AuditQuery {
            before: Some(4),
            ..of_a()
        })
        .await,
        [2, 1, 0]
    );
    assert!(list(AuditQuery {
        before: Some(0),
        ..of_a()
    })
    .await
    .is_empty());
    assert_eq!(
        list(AuditQuery {
            before: Some(u64::MAX),
            ..of_a()
        })
        .await,
        [5, 4, 2, 1, 0]
    );
    assert_eq!(list(AuditQuery { limit: 2, ..of_a() }).await, [5, 4]);
    assert!(list(AuditQuery { limit: 0, ..of_a() }).await.is_empty());
    assert_eq!(
        list(AuditQuery {
            twin: Some(t1),
            outcome: Some("denied".to_owned()),
            actor: Some(b),
            ..of_a()
        })
        .await,
        [1]
    );
    assert_eq!(
        list(AuditQuery {
            operation: Some("get_twin".to_owned()),
            le: Some(at(20)),
            before: Some(2),
            limit: 1,
            ..of_a()
        })
        .await,
        [0]
    );
}

/// Paging with `before` set to the last seq of the previous page lists every visible record
/// exactly once, in order, with or without a filter.
pub async fn audit_listing_pages_by_the_before_cursor(store: Arc<dyn Store>) {
    let viewer = AccountId::new_random();
    let other = AccountId::new_random();
    let stranger = AccountId::new_random();
    let written: Vec<AuditRecord> = (0..30_i64)
        .map(|i| {
            let outcome = if i % 3 == 0 { "denied" } else { "allowed" };
            let (owner, actor) = match i % 4 {
                0 => (Some(viewer), Some(other)),
                1 => (Some(other), Some(viewer)),
                2 => (Some(other), Some(stranger)),
                _ => (Some(viewer), Some(viewer)),
            };
            record("get_twin", outcome, owner, actor, None, i)
        })
        .collect();
    // In several appends, so the seqs come from several transactions.
    for chunk in written.chunks(7) {
        store.append_audit_records(chunk).await.expect("append");
    }
    for outcome in [None, Some("denied")] {
        let expected: Vec<u64> = (0..30_u64)
            .rev()
            .filter(|i| i % 4 != 2)
            .filter(|i| outcome.is_none() || i % 3 == 0)
            .collect();
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let page = listed(
                store.as_ref(),
                &AuditQuery {
                    outcome: outcome.map(str::to_owned),
                    before,
                    limit: 4,
                    ..query(viewer)
                },
                &written,
            )
            .await;
            let Some(&last) = page.last() else {
                break;
            };
            assert!(page.len() <= 4);
            pages.extend(page);
            before = Some(last);
        }
        assert_eq!(pages, expected, "outcome filter {outcome:?}");
    }
}

/// A recognisable hash for index `idx`.
fn hash(idx: u64, salt: u8) -> AuditHash {
    let mut hash = [salt; 32];
    hash[..8].copy_from_slice(&idx.to_be_bytes());
    hash
}

fn checkpoint(size: u64, millis: i64) -> AuditCheckpoint {
    AuditCheckpoint {
        size,
        ts: at(millis),
        note: format!("steward.example/audit\n{size}\nroot=\n\n— steward sig+\"é\"\n"),
    }
}

/// Sealing moves the sealed size by compare-and-set, storing its hashes and checkpoint only if
/// it moved; hashes read back in the order asked, a missing one is not found, and a seal that
/// is inconsistent (checkpoint size, beyond the appended records, an index stored already)
/// fails and stores nothing.
pub async fn audit_seal_is_a_compare_and_set_with_its_hashes_and_checkpoint(store: Arc<dyn Store>) {
    store
        .append_audit_records(&records(3, None, None))
        .await
        .expect("append");
    assert_eq!(tree_size(store.as_ref()).await, 0);
    assert_eq!(store.latest_audit_checkpoint().await.expect("latest"), None);
    assert!(store
        .list_audit_checkpoints(0, 10)
        .await
        .expect("list")
        .is_empty());
    assert!(store
        .read_audit_hashes(&[])
        .await
        .expect("no hashes")
        .is_empty());
    assert_not_found(store.read_audit_hashes(&[0]).await, Entity::Setting);

    let first_hashes: Vec<(u64, AuditHash)> = (0..4).map(|idx| (idx, hash(idx, 1))).collect();
    let first = checkpoint(3, 100);
    assert!(store
        .seal_audit(0, 3, &first_hashes, &first)
        .await
        .expect("seal 0 to 3"));
    assert_eq!(tree_size(store.as_ref()).await, 3);
    assert_eq!(
        store
            .read_audit_hashes(&[3, 0, 2, 0])
            .await
            .expect("read hashes"),
        [hash(3, 1), hash(0, 1), hash(2, 1), hash(0, 1)]
    );
    assert_not_found(store.read_audit_hashes(&[1, 4]).await, Entity::Setting);
    assert_not_found(store.read_audit_hashes(&[u64::MAX]).await, Entity::Setting);

    // Another node sealing from 0 lost: nothing of its seal is stored.
    let late_hashes = vec![(0, hash(0, 2)), (10, hash(10, 2))];
    assert!(!store
        .seal_audit(0, 3, &late_hashes, &checkpoint(3, 200))
        .await
        .expect("stale seal"));
    assert_eq!(tree_size(store.as_ref()).await, 3);
    assert_eq!(
        store.read_audit_hashes(&[0]).await.expect("read"),
        [hash(0, 1)]
    );
    assert_not_found(store.read_audit_hashes(&[10]).await, Entity::Setting);
    assert_eq!(
        store.latest_audit_checkpoint().await.expect("latest"),
        Some(first.clone())
    );

    // Inconsistent seals fail and store nothing.
    store
        .append_audit_records(&records(2, None, None))
        .await
        .expect("append more");
    let next_hashes: Vec<(u64, AuditHash)> = (4..7).map(|idx| (idx, hash(idx, 3))).collect();
    assert_backend(
        store
            .seal_audit(3, 5, &next_hashes, &checkpoint(4, 300))
            .await,
    );
    assert_backend(
        store
            .seal_audit(3, 6, &next_hashes, &checkpoint(6, 300))
            .await,
    );
    assert_backend(store.seal_audit(3, 3, &[], &checkpoint(3, 300)).await);
    let overlapping: Vec<(u64, AuditHash)> = next_hashes
        .iter()
        .copied()
        .chain([(2, hash(2, 3))])
        .collect();
    assert!(store
        .seal_audit(3, 5, &overlapping, &checkpoint(5, 300))
        .await
        .is_err());
    assert_eq!(tree_size(store.as_ref()).await, 3);
    assert_not_found(store.read_audit_hashes(&[4]).await, Entity::Setting);
    assert_eq!(
        store.read_audit_hashes(&[2]).await.expect("read"),
        [hash(2, 1)]
    );
    assert_eq!(
        store.latest_audit_checkpoint().await.expect("latest"),
        Some(first.clone())
    );

    let second = checkpoint(5, 400);
    assert!(store
        .seal_audit(3, 5, &next_hashes, &second)
        .await
        .expect("seal 3 to 5"));
    assert_eq!(tree_size(store.as_ref()).await, 5);
    assert_eq!(
        store.read_audit_hashes(&[6, 1]).await.expect("read"),
        [hash(6, 3), hash(1, 1)]
    );
    assert_eq!(
        store.latest_audit_checkpoint().await.expect("latest"),
        Some(second.clone())
    );
    let list = |after, limit| {
        let store = Arc::clone(&store);
        async move {
            store
                .list_audit_checkpoints(after, limit)
                .await
                .expect("list checkpoints")
        }
    };
    assert_eq!(list(0, 10).await, [first.clone(), second.clone()]);
    assert_eq!(list(0, 1).await, std::slice::from_ref(&first));
    assert_eq!(list(3, 10).await, std::slice::from_ref(&second));
    assert!(list(5, 10).await.is_empty());
    assert!(list(u64::MAX, 10).await.is_empty());
    assert!(list(0, 0).await.is_empty());
}

/// Of several nodes sealing from the same size at once, exactly one succeeds and only its
/// hashes and checkpoint are stored.
pub async fn concurrent_audit_seals_succeed_exactly_once(store: Arc<dyn Store>) {
    store
        .append_audit_records(&records(2, None, None))
        .await
        .expect("append");
    let mut sealers = Vec::new();
    for salt in 0..8_u8 {
        let store = Arc::clone(&store);
        sealers.push(tokio::spawn(async move {
            let hashes = vec![(0, hash(0, salt)), (1, hash(1, salt)), (2, hash(2, salt))];
            let sealed = store
                .seal_audit(0, 2, &hashes, &checkpoint(2, i64::from(salt)))
                .await
                .expect("seal");
            (sealed, salt)
        }));
    }
    let mut winners = Vec::new();
    for sealer in sealers {
        let (sealed, salt) = sealer.await.expect("sealer task");
        if sealed {
            winners.push(salt);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one seal wins");
    let salt = winners[0];
    assert_eq!(tree_size(store.as_ref()).await, 2);
    assert_eq!(
        store.read_audit_hashes(&[0, 1, 2]).await.expect("read"),
        [hash(0, salt), hash(1, salt), hash(2, salt)]
    );
    assert_eq!(
        store.list_audit_checkpoints(0, 10).await.expect("list"),
        [checkpoint(2, i64::from(salt))]
    );
}

/// Concurrent writers (direct appends and ledger saves, which also write events) get seqs
/// exactly 0..40, each writer's records in the order it wrote them.
pub async fn concurrent_audit_appends_get_seqs_without_gaps_or_duplicates(store: Arc<dyn Store>) {
    const WRITERS: u64 = 4;
    const RECORDS: u64 = 10;
    let mut twins = Vec::new();
    for _ in 0..WRITERS {
        twins.push(new_twin(store.as_ref()).await);
    }
    let mut writers = Vec::new();
    for (writer, (twin, owner)) in (0..WRITERS).zip(twins.clone()) {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            let mut firsts = Vec::new();
            for n in 1..=RECORDS {
                let millis = i64::try_from(n).unwrap_or(i64::MAX);
                let mine = [record(
                    "get_twin",
                    "allowed",
                    Some(owner),
                    Some(owner),
                    Some(twin),
                    millis,
                )];
                if writer % 2 == 0 {
                    firsts.push(store.append_audit_records(&mine).await.expect("append"));
                } else {
                    let ledger = Ledger {
                        version: n,
                        ..fixtures::ledger(twin, owner, BTreeMap::new())
                    };
                    let expected = (n > 1).then(|| n - 1);
                    save_with_audit(store.as_ref(), &ledger, expected, None, &mine)
                        .await
                        .expect("save");
                }
            }
            firsts
        }));
    }
    let mut returned = BTreeSet::new();
    for writer in writers {
        for first in writer.await.expect("writer task") {
            assert!(returned.insert(first), "seq {first} returned twice");
        }
    }
    let all = all_records(store.as_ref()).await;
    assert_eq!(seqs(&all), (0..WRITERS * RECORDS).collect::<Vec<_>>());
    assert_eq!(count(store.as_ref()).await, WRITERS * RECORDS);
    assert!(returned.iter().all(|seq| *seq < WRITERS * RECORDS));
    for (twin, _) in twins {
        let order: Vec<Timestamp> = all
            .iter()
            .map(|stored| serde_json::from_str::<AuditRecord>(&stored.text).expect("decodes"))
            .filter(|record| record.twin == Some(twin))
            .map(|record| record.ts)
            .collect();
        let expected: Vec<Timestamp> = (1..=10).map(at).collect();
        assert_eq!(order, expected);
    }
}

const DAY: i64 = 86_400_000;

/// A record of `owner`'s data read by `actor`, `days` after T0.
fn aged(owner: Option<AccountId>, actor: Option<AccountId>, days: i64) -> AuditRecord {
    record("get_twin", "allowed", owner, actor, None, days * DAY)
}

fn prune_record(millis: i64) -> AuditRecord {
    AuditRecord {
        auth: Some("system".to_owned()),
        outcome: "allowed".to_owned(),
        status: 200,
        ..AuditRecord::new(
            steward_domain::AUDIT_PRUNE_OPERATION,
            "prune-req",
            at(millis),
        )
    }
}

/// Retention deletes a sealed record only once it is older than the retention of both its
/// owner's and its actor's account (own retention, else the default; 0 days is forever), lowest
/// seqs first up to the limit, and appends one record listing the deleted seqs in the same
/// transaction; stored hashes stay; nothing expired, nothing appended.
pub async fn audit_retention_deletes_sealed_records_expired_for_both_parties(
    store: Arc<dyn Store>,
) {
    let (a, b, c) = (
        AccountId::new_random(),
        AccountId::new_random(),
        AccountId::new_random(),
    );
    assert_eq!(store.get_audit_retention(a).await.expect("get"), None);
    store.set_audit_retention(a, Some(1)).await.expect("set a");
    store.set_audit_retention(b, Some(7)).await.expect("set b");
    store.set_audit_retention(c, Some(3)).await.expect("set c");
    store.set_audit_retention(c, None).await.expect("unset c");
    assert_eq!(store.get_audit_retention(a).await.expect("get a"), Some(1));
    assert_eq!(store.get_audit_retention(b).await.expect("get b"), Some(7));
    assert_eq!(store.get_audit_retention(c).await.expect("get c"), None);
    store
        .set_audit_retention(b, Some(5))
        .await
        .expect("reset b");
    assert_eq!(store.get_audit_retention(b).await.expect("get b"), Some(5));

    let written = vec![
        aged(Some(a), Some(b), 0),  // 0: expired for a (1 d) and b (5 d)
        aged(Some(a), Some(a), 0),  // 1: expired for a
        aged(Some(c), Some(b), 0),  // 2: c has the default: forever
        aged(None, None, 0),        // 3: nobody's: the default
        aged(Some(a), Some(b), 18), // 4: expired for a, not for b
        aged(Some(a), Some(a), 0),  // 5: expired, but not sealed
    ];
    store.append_audit_records(&written).await.expect("append");
    let hashes: Vec<(u64, AuditHash)> = (0..8).map(|idx| (idx, hash(idx, 7))).collect();
    assert!(store
        .seal_audit(0, 5, &hashes, &checkpoint(5, 100))
        .await
        .expect("seal"));

    let now = at(20 * DAY);
    let retention = |default_days, limit| steward_domain::AuditRetention {
        default_days,
        now,
        limit,
    };
    assert_eq!(
        store
            .prune_audit_records(&retention(0, 0), prune_record(20 * DAY))
            .await
            .expect("limit 0"),
        0
    );
    assert_eq!(
        store
            .prune_audit_records(&retention(0, 1_000), prune_record(20 * DAY))
            .await
            .expect("prune"),
        2
    );
    let left = all_records(store.as_ref()).await;
    assert_eq!(seqs(&left), [2, 3, 4, 5, 6]);
    assert_eq!(count(store.as_ref()).await, 7);
    assert_eq!(tree_size(store.as_ref()).await, 5, "the sealed size stays");
    let pruning: AuditRecord = serde_json::from_str(&left[4].text).expect("prune record");
    assert_eq!(pruning.pruned, Some(vec![[0, 1]]));
    assert_eq!(pruning.operation, steward_domain::AUDIT_PRUNE_OPERATION);
    assert_eq!(
        store.read_audit_hashes(&[0, 1]).await.expect("hashes stay"),
        [hash(0, 7), hash(1, 7)]
    );
    // Nothing more expired: nothing deleted, nothing appended.
    assert_eq!(
        store
            .prune_audit_records(&retention(0, 1_000), prune_record(20 * DAY))
            .await
            .expect("again"),
        0
    );
    assert_eq!(count(store.as_ref()).await, 7);

    // A finite default reaches accounts without a retention and records of nobody, lowest
    // seqs first up to the limit.
    assert_eq!(
        store
            .prune_audit_records(&retention(2, 1), prune_record(20 * DAY))
            .await
            .expect("default, limit 1"),
        1
    );
    assert_eq!(seqs(&all_records(store.as_ref()).await), [3, 4, 5, 6, 7]);
    assert_eq!(
        store
            .prune_audit_records(&retention(2, 1_000), prune_record(20 * DAY))
            .await
            .expect("default"),
        1
    );
    let left = all_records(store.as_ref()).await;
    assert_eq!(seqs(&left), [4, 5, 6, 7, 8]);
    let pruning: AuditRecord = serde_json::from_str(&left[4].text).expect("prune record");
    assert_eq!(pruning.pruned, Some(vec![[3, 3]]));
}

/// Two nodes pruning at once delete each record once, and each prune record lists exactly what
/// its own transaction deleted.
pub async fn concurrent_audit_pruning_deletes_each_record_once(store: Arc<dyn Store>) {
    let owner = AccountId::new_random();
    store
        .append_audit_records(&records(300, Some(owner), Some(owner)))
        .await
        .expect("append");
    let hashes: Vec<(u64, AuditHash)> = (0..600).map(|idx| (idx, hash(idx, 3))).collect();
    assert!(store
        .seal_audit(0, 300, &hashes, &checkpoint(300, 100))
        .await
        .expect("seal"));
    let retention = steward_domain::AuditRetention {
        default_days: 1,
        now: at(2 * DAY),
        limit: 50,
    };
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut total = 0;
            loop {
                let deleted = store
                    .prune_audit_records(&retention, prune_record(2 * DAY))
                    .await
                    .expect("prune");
                total += deleted;
                if deleted == 0 {
                    return total;
                }
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    assert_eq!(total, 300);
    let left = all_records(store.as_ref()).await;
    let mut listed: Vec<u64> = Vec::new();
    for stored in &left {
        let record: AuditRecord = serde_json::from_str(&stored.text).expect("record");
        assert!(
            stored.seq >= 300,
            "only prune records are left: {}",
            stored.seq
        );
        for [first, last] in record.pruned.expect("a prune record") {
            listed.extend(first..=last);
        }
    }
    listed.sort_unstable();
    assert_eq!(listed, (0..300).collect::<Vec<u64>>());
}
