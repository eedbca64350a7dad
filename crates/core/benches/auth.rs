//! Authentication cost: a request with a cached secret versus one database round trip
//! (looking the secret up by hash in SQLite), measured in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use steward_core::credentials::hash_credential;
use steward_core::Steward;
use steward_domain::SystemClock;
use steward_store_sqlite::SqliteStore;

fn authentication(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (steward, secret) = runtime.block_on(async {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let steward = Steward::start(Arc::new(store), Arc::new(SystemClock), Default::default())
            .await
            .unwrap();
        let created = steward.create_account("Bench").await.unwrap();
        (steward, created.secret)
    });
    let hash = hash_credential(&secret);
    let mut group = criterion.benchmark_group("authenticate");
    group.bench_function("cached_secret", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(steward.authenticate(Some(&secret), None))
                .unwrap()
        });
    });
    group.bench_function("baseline_one_sqlite_lookup_by_hash", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(steward.store().find_secret_by_hash(&hash))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, authentication);
criterion_main!(benches);
