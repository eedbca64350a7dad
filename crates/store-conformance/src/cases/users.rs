//! Users: round trip, listing, the same-account role rule and duplicates.

use std::sync::Arc;

use serde_json::{json, Map};
use steward_domain::UserId;
use steward_store::{Entity, PageRequest, Store};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A user with a nested description reads back unchanged; an update replaces role, name,
/// description, activity and `updated_ts` but not `created_ts`; a delete removes it.
pub async fn user_crud_round_trip(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    store.create_user(account, &user).await.expect("create");
    assert_eq!(store.get_user(account, user.id).await.expect("get"), user);

    let other_role = fixtures::role(account, "Viewer");
    store.create_role(account, &other_role).await.expect("role");
    let mut changed = user.clone();
    changed.role = other_role.id;
    changed.name = "Alice B.".to_owned();
    changed.description = Map::new();
    changed
        .description
        .insert("team".to_owned(), json!(["x", 1, 2.5]));
    changed.activity = None;
    changed.updated_ts = at(700);
    let mut submitted = changed.clone();
    submitted.created_ts = at(999_999);
    store
        .update_user(account, &submitted)
        .await
        .expect("update");
    assert_eq!(
        store.get_user(account, user.id).await.expect("get"),
        changed
    );

    // An empty description and a JSON null activity survive as such.
    let mut sparse = changed.clone();
    sparse.description = Map::new();
    sparse.activity = Some(serde_json::Value::Null);
    store.update_user(account, &sparse).await.expect("update");
    assert_eq!(store.get_user(account, user.id).await.expect("get"), sparse);

    store.delete_user(account, user.id).await.expect("delete");
    assert_not_found(store.get_user(account, user.id).await, Entity::User);
    assert_not_found(store.delete_user(account, user.id).await, Entity::User);
}

/// Users list in id order with exclusive `after` and a limit; the admin user is included.
pub async fn list_users_pages_in_id_order(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let mut expected = vec![bootstrap.admin_user.clone()];
    for index in 0..4 {
        let user = fixtures::user(account, bootstrap.admin_role.id, &format!("user {index}"));
        store.create_user(account, &user).await.expect("create");
        expected.push(user);
    }
    expected.sort_by_key(|user| user.id);

    let mut listed = Vec::new();
    let mut after: Option<UserId> = None;
    loop {
        let page = store
            .list_users(account, PageRequest { after, limit: 2 })
            .await
            .expect("list");
        assert!(page.len() <= 2, "page longer than its limit");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        listed.extend(page);
    }
    assert_eq!(listed, expected);
}

/// A user whose role belongs to another account (or to none) is refused with
/// `NotFound(Role)` and nothing is stored.
pub async fn user_with_role_of_another_account_is_refused(store: Arc<dyn Store>) {
    let a = new_account(store.as_ref(), "A").await;
    let b = new_account(store.as_ref(), "B").await;
    let account = a.account.id;

    let borrowing = fixtures::user(account, b.admin_role.id, "Borrower");
    assert_not_found(store.create_user(account, &borrowing).await, Entity::Role);
    assert_not_found(store.get_user(account, borrowing.id).await, Entity::User);

    let dangling = fixtures::user(account, steward_domain::RoleId::new_random(), "Dangling");
    assert_not_found(store.create_user(account, &dangling).await, Entity::Role);

    let users = store
        .list_users(
            account,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(users, vec![a.admin_user]);
}

/// Moving a user to a role of another account is refused with `NotFound(Role)`, unchanged.
pub async fn user_update_to_role_of_another_account_is_refused(store: Arc<dyn Store>) {
    let a = new_account(store.as_ref(), "A").await;
    let b = new_account(store.as_ref(), "B").await;
    let account = a.account.id;
    let mut moved = a.admin_user.clone();
    moved.role = b.admin_role.id;
    moved.updated_ts = at(900);
    assert_not_found(store.update_user(account, &moved).await, Entity::Role);
    assert_eq!(
        store.get_user(account, a.admin_user.id).await.expect("get"),
        a.admin_user
    );
}

/// Reusing a user id within the account fails with `AlreadyExists(User)`, first user intact.
pub async fn duplicate_user_is_refused(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let mut duplicate = fixtures::user(account, bootstrap.admin_role.id, "Impostor");
    duplicate.id = bootstrap.admin_user.id;
    assert_already_exists(store.create_user(account, &duplicate).await, Entity::User);
    assert_eq!(
        store
            .get_user(account, bootstrap.admin_user.id)
            .await
            .expect("get"),
        bootstrap.admin_user
    );
}
