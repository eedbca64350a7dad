//! Roles: round trip, listing, update, delete and their error mapping.

use std::sync::Arc;

use steward_domain::{AccountId, RoleId, RoleRules, RoleStatement, StatementEffect};
use steward_store::{Entity, PageRequest, Store, StoreError};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A role with statement and rules reads back unchanged; an update replaces name, statement,
/// rules and `updated_ts` but not `created_ts`; a delete removes it.
pub async fn role_crud_round_trip(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    let role = fixtures::role(account, "Operator");
    store.create_role(account, &role).await.expect("create");
    assert_eq!(store.get_role(account, role.id).await.expect("get"), role);

    let mut changed = role.clone();
    changed.name = "Viewer".to_owned();
    changed.statement = RoleStatement {
        effect: StatementEffect::Deny,
        actions: Some(vec!["delete_twin".to_owned()]),
    };
    changed.rules = RoleRules {
        twin_rule: None,
        entry_rule: Some("ENTRY.visible".to_owned()),
        identity_rule: None,
    };
    changed.updated_ts = at(500);
    // `created_ts` is not part of an update: a changed value must be ignored.
    let mut submitted = changed.clone();
    submitted.created_ts = at(999_999);
    store
        .update_role(account, &submitted)
        .await
        .expect("update");
    assert_eq!(
        store.get_role(account, role.id).await.expect("get"),
        changed
    );

    // A statement with an empty action list is stored as given, not as the default.
    let mut empty_actions = changed.clone();
    empty_actions.statement.actions = None;
    store
        .update_role(account, &empty_actions)
        .await
        .expect("update");
    assert_eq!(
        store.get_role(account, role.id).await.expect("get"),
        empty_actions
    );

    store.delete_role(account, role.id).await.expect("delete");
    assert_not_found(store.get_role(account, role.id).await, Entity::Role);
    assert_not_found(store.delete_role(account, role.id).await, Entity::Role);
}

/// Roles list in id order with exclusive `after` and a limit; the admin role is included.
pub async fn list_roles_pages_in_id_order(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let mut expected = vec![bootstrap.admin_role.clone()];
    for index in 0..4 {
        let role = fixtures::role(account, &format!("role {index}"));
        store.create_role(account, &role).await.expect("create");
        expected.push(role);
    }
    expected.sort_by_key(|role| role.id);

    let mut listed = Vec::new();
    let mut after: Option<RoleId> = None;
    loop {
        let page = store
            .list_roles(account, PageRequest { after, limit: 2 })
            .await
            .expect("list");
        assert!(page.len() <= 2, "page longer than its limit");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        listed.extend(page);
    }
    assert_eq!(listed, expected);
}

/// A role for an account that does not exist is refused with `NotFound(Account)`.
pub async fn role_for_missing_account_is_refused(store: Arc<dyn Store>) {
    let missing = AccountId::new_random();
    let role = fixtures::role(missing, "Orphan");
    assert_not_found(store.create_role(missing, &role).await, Entity::Account);
}

/// Reusing a role id within the account fails with `AlreadyExists(Role)`, first role intact.
pub async fn duplicate_role_is_refused(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    let role = fixtures::role(account, "Operator");
    store.create_role(account, &role).await.expect("create");
    let mut duplicate = fixtures::role(account, "Impostor");
    duplicate.id = role.id;
    assert_already_exists(store.create_role(account, &duplicate).await, Entity::Role);
    assert_eq!(store.get_role(account, role.id).await.expect("get"), role);
}

/// Deleting a role a user holds fails with `InUse` and the role stays.
pub async fn deleting_a_role_in_use_is_refused(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let result = store.delete_role(account, bootstrap.admin_role.id).await;
    assert!(
        matches!(
            result,
            Err(StoreError::InUse {
                entity: Entity::Role,
                ..
            })
        ),
        "expected role in use, got {result:?}"
    );
    assert_eq!(
        store
            .get_role(account, bootstrap.admin_role.id)
            .await
            .expect("get"),
        bootstrap.admin_role
    );

    // Once no user holds it, the delete goes through.
    store
        .delete_user(account, bootstrap.admin_user.id)
        .await
        .expect("delete user");
    store
        .delete_role(account, bootstrap.admin_role.id)
        .await
        .expect("delete role");
}
