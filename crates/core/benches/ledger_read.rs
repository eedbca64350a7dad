//! A foreign reader's ledger read: 20 entries, 5 visible to the reader through their
//! `visibility` rules, with the reader's role rules evaluated too; with the object cache (the
//! default) and without it, compared with one SQLite lookup of the same ledger, measured in the
//! same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use steward_core::{EntryInput, LedgerSelector, ServiceSettings, Steward, UserPatch, WriteOptions};
use steward_domain::{RoleRules, SystemClock};
use steward_store_sqlite::SqliteStore;

fn foreign_ledger_read(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (steward, uncached, reader, twin, shop_account) = runtime.block_on(async {
        let store: Arc<dyn steward_store::Store> =
            Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let steward = Steward::start(store.clone(), Arc::new(SystemClock), Default::default())
            .await
            .unwrap();
        let without_cache = ServiceSettings {
            object_cache_ttl_millis: 0,
            ..ServiceSettings::default()
        };
        let uncached = Steward::start(store, Arc::new(SystemClock), without_cache)
            .await
            .unwrap();
        let shop = steward.create_account("Shop").await.unwrap();
        let courier = steward.create_account("Courier").await.unwrap();
        let shop_admin = steward
            .authenticate(Some(&shop.secret), None)
            .await
            .unwrap();
        let courier_admin = steward
            .authenticate(Some(&courier.secret), None)
            .await
            .unwrap();
        let rules = RoleRules {
            twin_rule: Some("TWIN.kind == 'order'".to_owned()),
            entry_rule: Some("true".to_owned()),
            identity_rule: None,
        };
        let role = steward
            .create_role(
                &courier_admin,
                Some("Partner".to_owned()),
                None,
                Some(rules),
            )
            .await
            .unwrap();
        let patch = UserPatch {
            role: Some(role.id),
            ..UserPatch::default()
        };
        steward
            .update_user(&courier_admin, courier_admin.user.id, patch)
            .await
            .unwrap();
        let reader = steward
            .authenticate(Some(&courier.secret), None)
            .await
            .unwrap();
        let twin = steward
            .create_twin(&shop_admin, json!({"kind": "order"}).as_object().cloned())
            .await
            .unwrap();
        let courier_account = courier.bootstrap.account.id;
        let entries: BTreeMap<String, EntryInput> = (0..20)
            .map(|index| {
                let visibility = (index % 4 == 0)
                    .then(|| format!("account == '{courier_account}' and twin_status == 'alive'"));
                let input = EntryInput {
                    value: Some(json!({"index": index, "note": "payload of a typical entry"})),
                    visibility: Some(visibility),
                    ..EntryInput::default()
                };
                (format!("entry_{index}"), input)
            })
            .collect();
        steward
            .add_ledger_entries(
                &shop_admin,
                twin.id,
                LedgerSelector::Personal,
                entries,
                WriteOptions::default(),
            )
            .await
            .unwrap();
        (
            steward,
            uncached,
            reader,
            twin.id,
            shop.bootstrap.account.id,
        )
    });
    let visible = runtime
        .block_on(steward.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
        .unwrap();
    assert_eq!(
        visible.entries.len(),
        5,
        "the benchmark reads what it claims to"
    );

    let mut group = criterion.benchmark_group("ledger_read");
    group.bench_function("foreign_reader_20_entries_5_visible", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(steward.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
                .unwrap()
        });
    });
    group.bench_function("foreign_reader_without_object_cache", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(uncached.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
                .unwrap()
        });
    });
    group.bench_function("baseline_one_sqlite_ledger_lookup", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(steward.store().get_ledger(twin, shop_account))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, foreign_ledger_read);
criterion_main!(benches);
