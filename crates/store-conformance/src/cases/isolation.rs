//! Tenant isolation: through every account-first method, account B can neither see nor change
//! account A's roles, users or secrets, and A's rows are unchanged afterwards.

use std::sync::Arc;

use steward_domain::AccountBootstrap;
use steward_store::{Entity, PageRequest, Store, StoreError};

use super::{assert_not_found, new_account};
use crate::fixtures::{self, at};

/// Two accounts, each with its bootstrap rows plus one extra role and user with a secret.
struct Tenants {
    a: AccountBootstrap,
    b: AccountBootstrap,
    a_role: steward_domain::Role,
    a_user: steward_domain::User,
    a_secret: steward_domain::Secret,
}

async fn two_tenants(store: &dyn Store) -> Tenants {
    let a = new_account(store, "A").await;
    let b = new_account(store, "B").await;
    let account = a.account.id;
    let a_role = fixtures::role(account, "A role");
    store.create_role(account, &a_role).await.expect("role");
    let a_user = fixtures::user(account, a_role.id, "A user");
    store.create_user(account, &a_user).await.expect("user");
    let a_secret = fixtures::secret(account, a_user.id, &fixtures::random_hash());
    store.put_secret(account, &a_secret).await.expect("secret");
    Tenants {
        a,
        b,
        a_role,
        a_user,
        a_secret,
    }
}

/// A's rows, read through A, are exactly what was stored.
async fn assert_a_unchanged(store: &dyn Store, tenants: &Tenants) {
    let account = tenants.a.account.id;
    assert_eq!(
        store.get_account(account).await.expect("account"),
        tenants.a.account
    );
    let mut roles = vec![tenants.a.admin_role.clone(), tenants.a_role.clone()];
    roles.sort_by_key(|role| role.id);
    let listed_roles = store
        .list_roles(
            account,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("roles");
    assert_eq!(listed_roles, roles);
    let mut users = vec![tenants.a.admin_user.clone(), tenants.a_user.clone()];
    users.sort_by_key(|user| user.id);
    let listed_users = store
        .list_users(
            account,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("users");
    assert_eq!(listed_users, users);
    assert_eq!(
        store
            .get_secret(account, tenants.a_user.id)
            .await
            .expect("secret"),
        tenants.a_secret
    );
    assert_eq!(
        store
            .find_secret_by_hash(&tenants.a_secret.hash)
            .await
            .expect("find"),
        Some(tenants.a_secret.clone())
    );
}

/// B cannot get, list, update or delete A's roles.
pub async fn roles_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let tenants = two_tenants(store.as_ref()).await;
    let b = tenants.b.account.id;
    let target = tenants.a_role.id;

    assert_not_found(store.get_role(b, target).await, Entity::Role);
    let b_roles = store
        .list_roles(
            b,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(b_roles, vec![tenants.b.admin_role.clone()]);

    // Updating A's role as it is, and as if it were B's, both miss.
    let mut hijacked = tenants.a_role.clone();
    hijacked.name = "hijacked".to_owned();
    hijacked.updated_ts = at(9_000);
    assert_not_found(store.update_role(b, &hijacked).await, Entity::Role);
    hijacked.account = b;
    assert_not_found(store.update_role(b, &hijacked).await, Entity::Role);

    assert_not_found(store.delete_role(b, target).await, Entity::Role);
    // A role A's users hold must not even be reported "in use" to B.
    assert_not_found(
        store.delete_role(b, tenants.a.admin_role.id).await,
        Entity::Role,
    );

    assert_a_unchanged(store.as_ref(), &tenants).await;
}

/// B cannot get, list, update or delete A's users.
pub async fn users_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let tenants = two_tenants(store.as_ref()).await;
    let b = tenants.b.account.id;
    let target = tenants.a_user.id;

    assert_not_found(store.get_user(b, target).await, Entity::User);
    let b_users = store
        .list_users(
            b,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(b_users, vec![tenants.b.admin_user.clone()]);

    let mut hijacked = tenants.a_user.clone();
    hijacked.name = "hijacked".to_owned();
    hijacked.updated_ts = at(9_000);
    assert_not_found(store.update_user(b, &hijacked).await, Entity::User);
    hijacked.account = b;
    hijacked.role = tenants.b.admin_role.id;
    assert_not_found(store.update_user(b, &hijacked).await, Entity::User);

    assert_not_found(store.delete_user(b, target).await, Entity::User);

    assert_a_unchanged(store.as_ref(), &tenants).await;
}

/// B cannot get, replace or delete the secret of A's user.
pub async fn secrets_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let tenants = two_tenants(store.as_ref()).await;
    let b = tenants.b.account.id;
    let target = tenants.a_user.id;

    assert_not_found(store.get_secret(b, target).await, Entity::Secret);
    assert_not_found(store.delete_secret(b, target).await, Entity::Secret);

    // Replacing A's user's secret, named as A's and as B's, both miss the user.
    let replacement = fixtures::secret(tenants.a.account.id, target, &fixtures::random_hash());
    assert_not_found(store.put_secret(b, &replacement).await, Entity::User);
    let mut as_b = replacement.clone();
    as_b.account = b;
    let result = store.put_secret(b, &as_b).await;
    assert!(
        matches!(result, Err(StoreError::NotFound(Entity::User))),
        "expected user not found, got {result:?}"
    );
    assert_eq!(
        store
            .find_secret_by_hash(&replacement.hash)
            .await
            .expect("find"),
        None
    );

    assert_a_unchanged(store.as_ref(), &tenants).await;
}
