//! The store conformance suite on PostgreSQL.
//!
//! With `STEWARD_TEST_POSTGRES_URL` set, every case runs against a fresh database created on
//! that server and dropped afterwards, also when the case panics; an unreachable server fails
//! the test. Without the variable the tests say they were skipped and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use steward_store::Store;
use steward_store_conformance::Case;
use steward_store_postgres::testing::run_in_temporary_database;
use steward_store_postgres::PostgresStore;

async fn run_case(case: Case) {
    run_in_temporary_database(|database_url| async move {
        let store = PostgresStore::connect_with_max_connections(&database_url, 4)
            .await
            .expect("fresh postgres store should connect and migrate");
        let store: Arc<dyn Store> = Arc::new(store);
        case(Arc::clone(&store)).await;
        store.close().await;
    })
    .await;
}

steward_store_conformance::conformance_tests!(postgres, run_case);
