//! The store conformance suite on PostgreSQL.
//!
//! With `STEWARD_TEST_POSTGRES_URL` set, every case runs against a fresh database created on
//! that server and dropped afterwards, also when the case panics; an unreachable server fails
//! the test. Without the variable the tests say they were skipped and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sqlx::{Connection, PgConnection};
use steward_store::Store;
use steward_store_conformance::Case;
use steward_store_postgres::PostgresStore;

const URL_VARIABLE: &str = "STEWARD_TEST_POSTGRES_URL";

async fn run_case(case: Case) {
    let Ok(server_url) = std::env::var(URL_VARIABLE) else {
        eprintln!("skipped: {URL_VARIABLE} not set");
        return;
    };
    let database = format!("steward_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server_url)
        .await
        .unwrap_or_else(|error| panic!("{URL_VARIABLE} is set but unreachable: {error}"));
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");

    // The case runs in its own task so a panic comes back as a value: the database is dropped
    // first, then the panic resumes and fails the test.
    let database_url = with_database(&server_url, &database);
    let outcome = tokio::spawn(async move {
        let store = PostgresStore::connect_with_max_connections(&database_url, 4)
            .await
            .expect("fresh postgres store should connect and migrate");
        let store: Arc<dyn Store> = Arc::new(store);
        case(Arc::clone(&store)).await;
        store.close().await;
    })
    .await;

    sqlx::query(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    admin.close().await.expect("close admin connection");

    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(error) => panic!("case task failed: {error}"),
        }
    }
}

/// `url` with its database path replaced by `database`, keeping any query parameters.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut result = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

#[test]
fn database_is_swapped_in_urls_of_every_shape() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@host/db?sslmode=disable", "x"),
        "postgres://u:p@host/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://host:5432", "x"),
        "postgres://host:5432/x"
    );
}

steward_store_conformance::conformance_tests!(postgres, run_case);
