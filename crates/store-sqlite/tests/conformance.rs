//! The store conformance suite on SQLite: every case gets a fresh data directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use steward_store::Store;
use steward_store_conformance::Case;
use steward_store_sqlite::SqliteStore;

async fn run_case(case: Case) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("data"))
        .await
        .expect("fresh sqlite store should open");
    let store: Arc<dyn Store> = Arc::new(store);
    case(Arc::clone(&store)).await;
    store.close().await;
}

steward_store_conformance::conformance_tests!(sqlite, run_case);
