//! Upgrades of a populated database: rows written under an older schema read back through the
//! current store once it has applied the remaining migrations at connect.
//!
//! Like the conformance suite, this runs only with `STEWARD_TEST_POSTGRES_URL` set, in a fresh
//! database dropped afterwards; an unreachable server fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use serde_json::json;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::postgres::PgPoolOptions;
use steward_domain::{AccountId, RoleId, StatementEffect, UserId};
use steward_store::Store;
use steward_store_postgres::testing::run_in_temporary_database;
use steward_store_postgres::PostgresStore;

/// This crate's migrations older than `before`, read from its migration directory.
#[derive(Debug)]
struct MigrationsBefore {
    before: i64,
}

impl MigrationSource<'static> for MigrationsBefore {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move {
            let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
            let all = PathBuf::resolve(directory).await?;
            Ok(all
                .into_iter()
                .filter(|migration| migration.version < self.before)
                .collect())
        })
    }
}

/// JSON written while the user JSON columns were JSONB (before 0004) reads back as the same
/// values once 0004 has turned those columns into TEXT; SQL NULL stays apart from JSON null.
#[tokio::test]
async fn json_written_as_jsonb_reads_back_after_the_move_to_text() {
    run_in_temporary_database(upgrade_from_jsonb_columns).await;
}

async fn upgrade_from_jsonb_columns(database_url: String) {
    let account = AccountId::new_random();
    let role = RoleId::new_random();
    let user_with_activity = UserId::new_random();
    let user_without_activity = UserId::new_random();

    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url)
        .await
        .expect("connect");
    Migrator::new(MigrationsBefore { before: 4 })
        .await
        .expect("read migrations")
        .run(&pool)
        .await
        .expect("migrate to the JSONB schema");
    sqlx::raw_sql(&format!(
        "INSERT INTO accounts VALUES \
             ('{account}', 'Acme', 'active', '{{\"enabled\": true, \"retention_days\": 30}}', 1, 2); \
         INSERT INTO roles VALUES ('{account}', '{role}', 'Operator', \
             '{{\"effect\": \"allow\", \"actions\": [\"get_twin\", \"数据 🦀\"]}}', \
             '{{\"twin_rule\": \"True\", \"entry_rule\": null, \"identity_rule\": null}}', 3, 4); \
         INSERT INTO users VALUES \
             ('{account}', '{user_with_activity}', '{role}', 'Alice', \
              '{{\"score\": 4.25, \"tags\": [\"ß\"], \"n\": 1e3}}', 'null', 5, 6), \
             ('{account}', '{user_without_activity}', '{role}', 'Bob', '{{}}', NULL, 7, 8);"
    ))
    .execute(&pool)
    .await
    .expect("insert rows under the JSONB schema");
    pool.close().await;

    let store = PostgresStore::connect_with_max_connections(&database_url, 2)
        .await
        .expect("the store should apply the remaining migrations");

    let stored_account = store.get_account(account).await.expect("account");
    assert_eq!(
        stored_account.resource_access_log,
        Some(json!({"enabled": true, "retention_days": 30}))
    );
    let stored_role = store.get_role(account, role).await.expect("role");
    assert_eq!(stored_role.statement.effect, StatementEffect::Allow);
    assert_eq!(
        stored_role.statement.actions,
        Some(vec!["get_twin".to_owned(), "数据 🦀".to_owned()])
    );
    assert_eq!(stored_role.rules.twin_rule.as_deref(), Some("True"));
    assert_eq!(stored_role.rules.entry_rule, None);

    let alice = store
        .get_user(account, user_with_activity)
        .await
        .expect("user");
    // JSONB had already rewritten `1e3` as `1000`; the move to TEXT keeps what JSONB held.
    assert_eq!(
        serde_json::Value::Object(alice.description),
        json!({"score": 4.25, "tags": ["ß"], "n": 1000})
    );
    assert_eq!(alice.activity, Some(serde_json::Value::Null));
    let bob = store
        .get_user(account, user_without_activity)
        .await
        .expect("user");
    assert!(bob.description.is_empty());
    assert_eq!(bob.activity, None);

    store.close().await;
}
