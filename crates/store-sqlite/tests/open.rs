//! Opening the SQLite store: directory creation, connection settings, idempotent migrations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use steward_store::{PageRequest, Store};
use steward_store_conformance::fixtures;
use steward_store_sqlite::{SqliteStore, DATABASE_FILE_NAME};

#[tokio::test]
async fn open_creates_missing_directories_and_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("steward-data");
    let store = SqliteStore::open(&data_dir).await.unwrap();
    assert!(data_dir.join(DATABASE_FILE_NAME).is_file());
    assert_eq!(store.path(), data_dir.join(DATABASE_FILE_NAME));
    store.close().await;
}

#[tokio::test]
async fn connections_use_wal_foreign_keys_full_sync_and_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let diagnostics = store.diagnostics().await.unwrap();
    assert_eq!(diagnostics.journal_mode, "wal");
    assert!(diagnostics.foreign_keys);
    assert_eq!(diagnostics.synchronous, 2, "synchronous should be FULL");
    assert_eq!(diagnostics.busy_timeout_millis, 5_000);
    assert_eq!(diagnostics.integrity_check, "ok");
    store.close().await;
}

#[tokio::test]
async fn reopening_reruns_migrations_as_a_no_op_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = fixtures::bootstrap("Durable");
    {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.create_account(&bootstrap).await.unwrap();
        store.put_setting_if_absent("key", "value").await.unwrap();
        store.close().await;
    }
    for _ in 0..2 {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(
            store.get_account(bootstrap.account.id).await.unwrap(),
            bootstrap.account
        );
        assert_eq!(
            store
                .find_secret_by_hash(&bootstrap.admin_secret.hash)
                .await
                .unwrap(),
            Some(bootstrap.admin_secret.clone())
        );
        assert_eq!(
            store.get_setting("key").await.unwrap().as_deref(),
            Some("value")
        );
        let accounts = store
            .list_accounts(PageRequest {
                after: None,
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(store.diagnostics().await.unwrap().integrity_check, "ok");
        store.close().await;
    }
}

#[tokio::test]
async fn a_closed_store_reports_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store.close().await;
    let result = store.ping().await;
    assert!(
        matches!(result, Err(steward_store::StoreError::Unavailable(_))),
        "expected unavailable, got {result:?}"
    );
}
