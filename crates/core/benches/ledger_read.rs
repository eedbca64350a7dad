//! A foreign reader's ledger read: 20 entries, 5 visible to the reader through their
//! `visibility` rules, with the reader's role rules evaluated too; with the object cache (the
//! default) and without it, compared with one SQLite lookup of the same ledger, measured in the
//! same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use steward_core::{LedgerSelector, ServiceSettings, Steward};
use steward_domain::SystemClock;
use steward_store_sqlite::SqliteStore;

mod common;

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
        let (reader, twin, shop_account) = common::shop_and_courier(&steward).await;
        (steward, uncached, reader, twin, shop_account)
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
