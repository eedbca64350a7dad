//! Server settings, not-found mapping of every getter and mutation, and liveness.

use std::sync::Arc;

use steward_domain::{AccountId, RoleId, UserId};
use steward_store::{Entity, Store};

use super::{assert_not_found, new_account};
use crate::fixtures::{self, at};

/// The second `put_setting_if_absent` returns the first value and does not overwrite it.
pub async fn setting_put_if_absent_keeps_first_value(store: Arc<dyn Store>) {
    assert_eq!(store.get_setting("signing_key").await.expect("get"), None);
    let first = store
        .put_setting_if_absent("signing_key", "first")
        .await
        .expect("put");
    assert_eq!(first, "first");
    let second = store
        .put_setting_if_absent("signing_key", "second")
        .await
        .expect("put again");
    assert_eq!(second, "first");
    assert_eq!(
        store.get_setting("signing_key").await.expect("get"),
        Some("first".to_owned())
    );
    assert_eq!(store.get_setting("other").await.expect("get"), None);
}

/// Several writers racing on one key all get back the one value that was stored.
pub async fn concurrent_setting_puts_agree_on_one_value(store: Arc<dyn Store>) {
    let mut racers = Vec::new();
    for index in 0..8 {
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            store
                .put_setting_if_absent("operator_token_hash", &format!("value {index}"))
                .await
                .expect("put")
        }));
    }
    let mut seen = Vec::new();
    for racer in racers {
        seen.push(racer.await.expect("racer should not panic"));
    }
    let stored = store
        .get_setting("operator_token_hash")
        .await
        .expect("get")
        .expect("a value should be stored");
    assert!(
        seen.iter().all(|value| *value == stored),
        "{seen:?} vs {stored}"
    );
}

/// Every getter reports `NotFound` of its own entity for a missing row.
pub async fn getters_report_not_found(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    assert_not_found(
        store.get_account(AccountId::new_random()).await,
        Entity::Account,
    );
    assert_not_found(
        store.get_role(account, RoleId::new_random()).await,
        Entity::Role,
    );
    assert_not_found(
        store.get_user(account, UserId::new_random()).await,
        Entity::User,
    );
    assert_not_found(
        store.get_secret(account, UserId::new_random()).await,
        Entity::Secret,
    );
    assert_eq!(
        store
            .find_secret_by_hash("no such hash")
            .await
            .expect("find"),
        None
    );
    assert_eq!(store.get_setting("no such key").await.expect("get"), None);
}

/// Updates and deletes of rows that do not exist report `NotFound` and store nothing.
pub async fn mutations_of_missing_rows_report_not_found(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;

    let ghost_role = fixtures::role(account, "Ghost");
    assert_not_found(store.update_role(account, &ghost_role).await, Entity::Role);
    assert_not_found(store.get_role(account, ghost_role.id).await, Entity::Role);
    assert_not_found(
        store.delete_role(account, ghost_role.id).await,
        Entity::Role,
    );

    let mut ghost_user = fixtures::user(account, bootstrap.admin_role.id, "Ghost");
    ghost_user.updated_ts = at(100);
    assert_not_found(store.update_user(account, &ghost_user).await, Entity::User);
    assert_not_found(store.get_user(account, ghost_user.id).await, Entity::User);
    assert_not_found(
        store.delete_user(account, ghost_user.id).await,
        Entity::User,
    );
    assert_not_found(
        store.delete_secret(account, ghost_user.id).await,
        Entity::Secret,
    );
}

/// The store answers a ping and names its backend.
pub async fn ping_answers_and_backend_is_named(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    assert!(
        !store.backend_name().is_empty(),
        "backend name should not be empty"
    );
}
