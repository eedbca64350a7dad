//! Secrets: put, replace, lookup by hash, delete, and their error mapping.

use std::sync::Arc;

use steward_domain::UserId;
use steward_store::{Entity, Store};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A secret is found by hash; a replacement revokes the old hash; a delete revokes it all.
pub async fn secret_put_replace_find_and_delete(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    store.create_user(account, &user).await.expect("user");
    assert_not_found(store.get_secret(account, user.id).await, Entity::Secret);

    let first = fixtures::secret(account, user.id, &fixtures::random_hash());
    store.put_secret(account, &first).await.expect("put");
    assert_eq!(
        store.get_secret(account, user.id).await.expect("get"),
        first
    );
    assert_eq!(
        store.find_secret_by_hash(&first.hash).await.expect("find"),
        Some(first.clone())
    );

    let mut second = fixtures::secret(account, user.id, &fixtures::random_hash());
    second.validity_ts = None;
    second.created_ts = at(5_000);
    second.updated_ts = at(5_000);
    store.put_secret(account, &second).await.expect("replace");
    assert_eq!(
        store.get_secret(account, user.id).await.expect("get"),
        second
    );
    assert_eq!(
        store.find_secret_by_hash(&first.hash).await.expect("find"),
        None
    );
    assert_eq!(
        store.find_secret_by_hash(&second.hash).await.expect("find"),
        Some(second.clone())
    );

    // Putting the same secret again is a replacement, not a conflict.
    store.put_secret(account, &second).await.expect("put again");

    store.delete_secret(account, user.id).await.expect("delete");
    assert_not_found(store.get_secret(account, user.id).await, Entity::Secret);
    assert_eq!(
        store.find_secret_by_hash(&second.hash).await.expect("find"),
        None
    );
    assert_not_found(store.delete_secret(account, user.id).await, Entity::Secret);

    // Other users' secrets are untouched.
    assert_eq!(
        store
            .find_secret_by_hash(&bootstrap.admin_secret.hash)
            .await
            .expect("find"),
        Some(bootstrap.admin_secret)
    );
}

/// A secret for a user that does not exist is refused with `NotFound(User)`.
pub async fn secret_for_missing_user_is_refused(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    let orphan = fixtures::secret(account, UserId::new_random(), &fixtures::random_hash());
    assert_not_found(store.put_secret(account, &orphan).await, Entity::User);
    assert_eq!(
        store.find_secret_by_hash(&orphan.hash).await.expect("find"),
        None
    );
}

/// A hash another user's secret already has fails with `AlreadyExists(Secret)`, and the
/// replacement is not half-done: the user's previous secret still works.
pub async fn duplicate_secret_hash_is_refused_and_keeps_previous_secret(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    store.create_user(account, &user).await.expect("user");
    let previous = fixtures::secret(account, user.id, &fixtures::random_hash());
    store.put_secret(account, &previous).await.expect("put");

    let stolen = fixtures::secret(account, user.id, &bootstrap.admin_secret.hash);
    assert_already_exists(store.put_secret(account, &stolen).await, Entity::Secret);

    assert_eq!(
        store.get_secret(account, user.id).await.expect("get"),
        previous
    );
    assert_eq!(
        store
            .find_secret_by_hash(&previous.hash)
            .await
            .expect("find"),
        Some(previous.clone())
    );
    assert_eq!(
        store
            .find_secret_by_hash(&bootstrap.admin_secret.hash)
            .await
            .expect("find"),
        Some(bootstrap.admin_secret)
    );
}

/// Deleting a user deletes its secret in the same transaction.
pub async fn deleting_a_user_deletes_its_secret(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    store
        .delete_user(account, bootstrap.admin_user.id)
        .await
        .expect("delete");
    assert_not_found(
        store.get_secret(account, bootstrap.admin_user.id).await,
        Entity::Secret,
    );
    assert_eq!(
        store
            .find_secret_by_hash(&bootstrap.admin_secret.hash)
            .await
            .expect("find"),
        None
    );
}

/// Eight concurrent replacements of one user's secret all succeed and exactly the stored one
/// still works: a replacement never collides with another one's new secret.
pub async fn concurrent_secret_replacements_all_succeed(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    store.create_user(account, &user).await.expect("user");
    let mut racers = Vec::new();
    let mut secrets = Vec::new();
    for _ in 0..8 {
        let secret = fixtures::secret(account, user.id, &fixtures::random_hash());
        secrets.push(secret.clone());
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            store.put_secret(account, &secret).await
        }));
    }
    for racer in racers {
        racer
            .await
            .expect("racer should not panic")
            .expect("every replacement should succeed");
    }
    let stored = store.get_secret(account, user.id).await.expect("get");
    assert!(
        secrets.contains(&stored),
        "{stored:?} is none of {secrets:?}"
    );
    for secret in &secrets {
        let found = store.find_secret_by_hash(&secret.hash).await.expect("find");
        assert_eq!(found.is_some(), *secret == stored, "{secret:?}");
    }
}
