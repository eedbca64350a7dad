//! Accounts: round trip, listing, suspension, the Resource Access Log configuration and the
//! atomicity of account creation.

use std::sync::Arc;

use serde_json::json;
use steward_domain::{Account, AccountId, AccountStatus};
use steward_store::{Entity, PageRequest, Store};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// Every field of the bootstrap (account, role, user, secret) reads back unchanged.
pub async fn account_round_trip(store: Arc<dyn Store>) {
    let mut bootstrap = fixtures::bootstrap("Acme");
    bootstrap.account.status = AccountStatus::Suspended;
    store.create_account(&bootstrap).await.expect("create");
    let account = bootstrap.account.id;

    assert_eq!(
        store.get_account(account).await.expect("get"),
        bootstrap.account
    );
    assert_eq!(
        store
            .get_role(account, bootstrap.admin_role.id)
            .await
            .expect("role"),
        bootstrap.admin_role
    );
    assert_eq!(
        store
            .get_user(account, bootstrap.admin_user.id)
            .await
            .expect("user"),
        bootstrap.admin_user
    );
    assert_eq!(
        store
            .get_secret(account, bootstrap.admin_user.id)
            .await
            .expect("secret"),
        bootstrap.admin_secret
    );
    assert_eq!(
        store
            .find_secret_by_hash(&bootstrap.admin_secret.hash)
            .await
            .expect("find"),
        Some(bootstrap.admin_secret.clone())
    );

    // An account without an access log keeps SQL NULL apart from a JSON value.
    let mut plain = fixtures::bootstrap("Plain");
    plain.account.resource_access_log = None;
    store.create_account(&plain).await.expect("create plain");
    assert_eq!(
        store
            .get_account(plain.account.id)
            .await
            .expect("get plain"),
        plain.account
    );
}

/// Pages follow id order, `after` is exclusive, `limit` is respected.
pub async fn list_accounts_pages_in_id_order(store: Arc<dyn Store>) {
    let mut expected = Vec::new();
    for index in 0..5 {
        expected.push(
            new_account(store.as_ref(), &format!("account {index}"))
                .await
                .account,
        );
    }
    expected.sort_by_key(|account| account.id);

    let mut listed = Vec::new();
    let mut after: Option<AccountId> = None;
    loop {
        let page = store
            .list_accounts(PageRequest { after, limit: 2 })
            .await
            .expect("list");
        assert!(page.len() <= 2, "page longer than its limit");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        listed.extend(page);
    }
    assert_eq!(listed, expected);

    let everything = store
        .list_accounts(PageRequest {
            after: None,
            limit: 100,
        })
        .await
        .expect("list all");
    assert_eq!(everything, expected);
    let none = store
        .list_accounts(PageRequest {
            after: None,
            limit: 0,
        })
        .await
        .expect("list none");
    assert!(none.is_empty());
}

/// Suspending and resuming changes status and `updated_ts` and nothing else.
pub async fn suspend_and_resume_account(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;

    let suspended = store
        .set_account_status(account, AccountStatus::Suspended, at(1_000))
        .await
        .expect("suspend");
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(suspended.updated_ts, at(1_000));
    assert_eq!(suspended.created_ts, bootstrap.account.created_ts);
    assert_eq!(suspended.name, bootstrap.account.name);
    assert_eq!(store.get_account(account).await.expect("get"), suspended);

    let resumed = store
        .set_account_status(account, AccountStatus::Active, at(2_000))
        .await
        .expect("resume");
    assert_eq!(resumed.status, AccountStatus::Active);
    assert_eq!(resumed.updated_ts, at(2_000));
    assert_eq!(store.get_account(account).await.expect("get"), resumed);

    assert_not_found(
        store
            .set_account_status(AccountId::new_random(), AccountStatus::Suspended, at(3_000))
            .await,
        Entity::Account,
    );
}

/// Replacing the Resource Access Log configuration changes it and `updated_ts` and nothing
/// else; `None` turns it off again.
pub async fn account_resource_access_log_update_round_trip(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let configuration = json!({
        "enabled": true,
        "retention_days": 90,
        "operations": ["get_twin", "update_entry"],
        "filter": {"nested": {"deep": null, "ß": 1.5}},
    });

    let updated = store
        .update_account_resource_access_log(account, Some(&configuration), at(1_000))
        .await
        .expect("update");
    let expected = Account {
        resource_access_log: Some(configuration),
        updated_ts: at(1_000),
        ..bootstrap.account.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(store.get_account(account).await.expect("get"), expected);

    let turned_off = store
        .update_account_resource_access_log(account, None, at(2_000))
        .await
        .expect("turn off");
    let expected = Account {
        resource_access_log: None,
        updated_ts: at(2_000),
        ..bootstrap.account.clone()
    };
    assert_eq!(turned_off, expected);
    assert_eq!(store.get_account(account).await.expect("get"), expected);

    assert_not_found(
        store
            .update_account_resource_access_log(AccountId::new_random(), None, at(3_000))
            .await,
        Entity::Account,
    );
}

/// A bootstrap whose secret hash is taken fails and stores no account, role or user.
pub async fn create_account_with_colliding_secret_leaves_nothing_behind(store: Arc<dyn Store>) {
    let existing = new_account(store.as_ref(), "First").await;
    let mut colliding = fixtures::bootstrap("Second");
    colliding.admin_secret.hash = existing.admin_secret.hash.clone();

    assert_already_exists(store.create_account(&colliding).await, Entity::Secret);

    let account = colliding.account.id;
    assert_not_found(store.get_account(account).await, Entity::Account);
    assert_not_found(
        store.get_role(account, colliding.admin_role.id).await,
        Entity::Role,
    );
    assert_not_found(
        store.get_user(account, colliding.admin_user.id).await,
        Entity::User,
    );
    let accounts = store
        .list_accounts(PageRequest {
            after: None,
            limit: 10,
        })
        .await
        .expect("list");
    assert_eq!(accounts, vec![existing.account.clone()]);
    // The existing secret still authenticates its own user.
    let found = store
        .find_secret_by_hash(&existing.admin_secret.hash)
        .await
        .expect("find");
    assert_eq!(found, Some(existing.admin_secret));
}

/// Reusing an account id fails with `AlreadyExists(Account)` and leaves the first intact.
pub async fn duplicate_account_is_refused_and_leaves_nothing_behind(store: Arc<dyn Store>) {
    let existing = new_account(store.as_ref(), "First").await;
    let mut duplicate = fixtures::bootstrap("Second");
    let account = existing.account.id;
    duplicate.account.id = account;
    duplicate.admin_role.account = account;
    duplicate.admin_user.account = account;
    duplicate.admin_secret.account = account;

    assert_already_exists(store.create_account(&duplicate).await, Entity::Account);

    assert_eq!(
        store.get_account(account).await.expect("get"),
        existing.account
    );
    assert_not_found(
        store.get_role(account, duplicate.admin_role.id).await,
        Entity::Role,
    );
    assert_not_found(
        store.get_user(account, duplicate.admin_user.id).await,
        Entity::User,
    );
    let hash_lookup = store
        .find_secret_by_hash(&duplicate.admin_secret.hash)
        .await
        .expect("find");
    assert_eq!(hash_lookup, None);
}
