//! Conformance cases for entry history: records written with their ledger, read newest first,
//! trimmed to the newest 1000 per entry, re-expired, purged and pruned.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use steward_domain::{
    AccountId, HistoryAppend, HistoryRecord, HistoryWrite, Ledger, RetentionPeriod, Timestamp,
    TwinId, MAX_HISTORY_RECORDS,
};
use steward_store::{HistoryQuery, LedgerEffects, Store};

use super::ledgers::new_twin;
use super::new_account;
use crate::fixtures::{self, at};

fn append(
    entry: &str,
    ts: Timestamp,
    value: Value,
    expires_ts: Option<Timestamp>,
) -> HistoryAppend {
    HistoryAppend {
        entry: entry.to_owned(),
        record: HistoryRecord { ts, value },
        expires_ts,
    }
}

fn query(entries: &[&str], now: Timestamp) -> HistoryQuery {
    HistoryQuery {
        entries: entries.iter().map(|name| (*name).to_owned()).collect(),
        ge: None,
        le: None,
        limit: 100,
        now,
    }
}

/// Saves `ledger` at the next version with `history`, returning the saved ledger.
async fn save_with(store: &dyn Store, ledger: &Ledger, history: HistoryWrite) -> Ledger {
    let expected = (ledger.version > 0).then_some(ledger.version);
    let next = Ledger {
        version: ledger.version + 1,
        ..ledger.clone()
    };
    store
        .save_ledger(
            ledger.account,
            &next,
            expected,
            &LedgerEffects::with_history(history),
        )
        .await
        .expect("save ledger with history");
    next
}

fn empty_ledger(twin: TwinId, account: AccountId) -> Ledger {
    Ledger {
        version: 0,
        ..fixtures::ledger(twin, account, BTreeMap::new())
    }
}

fn timestamps(records: &[HistoryRecord]) -> Vec<i64> {
    records.iter().map(|record| record.ts.as_millis()).collect()
}

/// Records come back per entry, newest first (equal timestamps: the later write first), within
/// `ge`/`le`, at most `limit` per entry, values exactly as written; unknown entries are absent.
pub async fn history_reads_newest_first_within_bounds(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let mut ledger = empty_ledger(twin, owner);
    let awkward = json!({"big": 1e18, "nul": "a\u{0}b", "list": [1, "two", null]});
    for (step, value) in [json!(1), json!("two"), awkward.clone(), json!(null)]
        .into_iter()
        .enumerate()
    {
        let ts = at(1_000 * step as i64);
        let history = HistoryWrite {
            appends: vec![
                append("temp", ts, value.clone(), None),
                append("other", at(5), json!(step), None),
            ],
            ..HistoryWrite::default()
        };
        ledger = save_with(store.as_ref(), &ledger, history).await;
    }
    let now = at(10_000);
    let all = store
        .get_history(twin, owner, &query(&["temp", "other", "missing"], now))
        .await
        .expect("read history");
    assert_eq!(all.keys().collect::<Vec<_>>(), ["other", "temp"]);
    assert_eq!(
        timestamps(&all["temp"]),
        [at(3_000), at(2_000), at(1_000), at(0)].map(|t| t.as_millis())
    );
    assert_eq!(all["temp"][1].value, awkward);
    assert!(all["temp"][1].value["big"].is_f64(), "1e18 stays a float");
    assert_eq!(all["temp"][0].value, Value::Null);
    // Four records with the same timestamp: the later write first.
    let others: Vec<&Value> = all["other"].iter().map(|record| &record.value).collect();
    assert_eq!(others, [&json!(3), &json!(2), &json!(1), &json!(0)]);

    let bounded = HistoryQuery {
        ge: Some(at(1_000)),
        le: Some(at(2_000)),
        ..query(&["temp"], now)
    };
    let read = store
        .get_history(twin, owner, &bounded)
        .await
        .expect("bounded read");
    assert_eq!(
        timestamps(&read["temp"]),
        [at(2_000).as_millis(), at(1_000).as_millis()]
    );
    let limited = HistoryQuery {
        limit: 1,
        ..query(&["temp", "other"], now)
    };
    let read = store
        .get_history(twin, owner, &limited)
        .await
        .expect("limited read");
    assert_eq!(timestamps(&read["temp"]), [at(3_000).as_millis()]);
    assert_eq!(read["other"].len(), 1);
    let nothing = store
        .get_history(twin, owner, &query(&[], now))
        .await
        .expect("no entries");
    assert!(nothing.is_empty());
}

/// Only the newest 1000 records of an entry are kept.
pub async fn history_keeps_the_newest_thousand_records(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let mut ledger = empty_ledger(twin, owner);
    let total = MAX_HISTORY_RECORDS + 5;
    for step in 0..total {
        let history = HistoryWrite {
            appends: vec![append("count", at(step as i64), json!(step), None)],
            ..HistoryWrite::default()
        };
        ledger = save_with(store.as_ref(), &ledger, history).await;
    }
    let read = store
        .get_history(
            twin,
            owner,
            &HistoryQuery {
                limit: 5_000,
                ..query(&["count"], at(1_000_000))
            },
        )
        .await
        .expect("read history");
    let records = &read["count"];
    assert_eq!(records.len(), MAX_HISTORY_RECORDS);
    assert_eq!(records[0].value, json!(total - 1));
    assert_eq!(records[MAX_HISTORY_RECORDS - 1].value, json!(5));
}

/// Expired records are never read, and pruning deletes exactly them, in batches.
pub async fn expired_history_is_hidden_and_pruned(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let mut ledger = empty_ledger(twin, owner);
    for step in 0..3_i64 {
        let history = HistoryWrite {
            appends: vec![
                append("short", at(step), json!(step), Some(at(100 + step))),
                append("forever", at(step), json!(step), None),
            ],
            ..HistoryWrite::default()
        };
        ledger = save_with(store.as_ref(), &ledger, history).await;
    }
    let read = store
        .get_history(twin, owner, &query(&["short", "forever"], at(100)))
        .await
        .expect("read history");
    assert_eq!(
        timestamps(&read["short"]),
        [at(2).as_millis(), at(1).as_millis()],
        "at(100) expired"
    );
    assert_eq!(read["forever"].len(), 3);

    assert_eq!(store.prune_history(at(101), 100).await.expect("prune"), 2);
    assert_eq!(
        store
            .prune_history(at(101), 100)
            .await
            .expect("prune again"),
        0
    );
    assert_eq!(
        store.prune_history(at(1_000), 1).await.expect("prune one"),
        1
    );
    let read = store
        .get_history(twin, owner, &query(&["short", "forever"], at(0)))
        .await
        .expect("read history");
    assert!(
        !read.contains_key("short"),
        "pruned records are gone: {read:?}"
    );
    assert_eq!(
        read["forever"].len(),
        3,
        "records without expiry are never pruned"
    );
}

/// Purging drops all records of an entry; a retention change re-computes every record's expiry.
pub async fn history_purge_and_retention_change(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let mut ledger = empty_ledger(twin, owner);
    let day = 86_400_000;
    for step in 0..3_i64 {
        let history = HistoryWrite {
            appends: vec![
                append("a", at(step * day), json!(step), None),
                append("b", at(step * day), json!(step), None),
            ],
            ..HistoryWrite::default()
        };
        ledger = save_with(store.as_ref(), &ledger, history).await;
    }
    let history = HistoryWrite {
        purge: vec!["a".to_owned()],
        retention_changes: vec![("b".to_owned(), RetentionPeriod::Days(2))],
        ..HistoryWrite::default()
    };
    ledger = save_with(store.as_ref(), &ledger, history).await;
    // Records of b written at day 0, 1, 2 now expire at day 2, 3, 4.
    let read = store
        .get_history(twin, owner, &query(&["a", "b"], at(3 * day)))
        .await
        .expect("read history");
    assert!(!read.contains_key("a"), "purged: {read:?}");
    assert_eq!(timestamps(&read["b"]), [at(2 * day).as_millis()]);
    // Purge and append in one write: the new record survives the purge.
    let history = HistoryWrite {
        purge: vec!["b".to_owned()],
        appends: vec![append("b", at(5 * day), json!("fresh"), None)],
        ..HistoryWrite::default()
    };
    save_with(store.as_ref(), &ledger, history).await;
    let read = store
        .get_history(twin, owner, &query(&["b"], at(0)))
        .await
        .expect("read history");
    assert_eq!(
        read["b"].iter().map(|r| &r.value).collect::<Vec<_>>(),
        [&json!("fresh")]
    );
}

/// A refused ledger save (stale version) records no history; records belong to one ledger.
pub async fn history_is_written_with_its_ledger_only(store: Arc<dyn Store>) {
    let (twin, owner) = new_twin(store.as_ref()).await;
    let reader = new_account(store.as_ref(), "Globex").await.account.id;
    let ledger = save_with(
        store.as_ref(),
        &empty_ledger(twin, owner),
        HistoryWrite {
            appends: vec![append("x", at(1), json!("kept"), None)],
            ..HistoryWrite::default()
        },
    )
    .await;
    let stale = Ledger {
        version: 5,
        ..ledger.clone()
    };
    let refused = store
        .save_ledger(
            owner,
            &stale,
            Some(4),
            &LedgerEffects::with_history(HistoryWrite {
                appends: vec![append("x", at(2), json!("lost"), None)],
                ..HistoryWrite::default()
            }),
        )
        .await;
    assert!(refused.is_err(), "a stale version is refused");
    save_with(
        store.as_ref(),
        &empty_ledger(twin, reader),
        HistoryWrite {
            appends: vec![append("x", at(3), json!("reader's"), None)],
            ..HistoryWrite::default()
        },
    )
    .await;
    let owners = store
        .get_history(twin, owner, &query(&["x"], at(0)))
        .await
        .expect("read history");
    assert_eq!(
        owners["x"].iter().map(|r| &r.value).collect::<Vec<_>>(),
        [&json!("kept")]
    );
    let readers = store
        .get_history(twin, reader, &query(&["x"], at(0)))
        .await
        .expect("read history");
    assert_eq!(
        readers["x"].iter().map(|r| &r.value).collect::<Vec<_>>(),
        [&json!("reader's")]
    );
}
