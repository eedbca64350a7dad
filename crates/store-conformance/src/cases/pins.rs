//! Secret PINs: issuing, single-use redemption into a replacement secret, expiry, tenant
//! isolation, cascade with the user, housekeeping and concurrent redemption.

use std::sync::Arc;

use steward_domain::{AccountBootstrap, Secret, SecretPin, User, UserId};
use steward_store::{Entity, Store, StoreError};

use super::{assert_already_exists, assert_not_found, new_account};
use crate::fixtures::{self, at, PIN_EXPIRES_AFTER_MILLIS};

/// A moment at which fixture PINs can still be redeemed.
const BEFORE_EXPIRY: i64 = PIN_EXPIRES_AFTER_MILLIS / 2;

/// A fresh account with a user "Alice" who already has a secret.
async fn account_with_user_and_secret(store: &dyn Store) -> (AccountBootstrap, User, Secret) {
    let bootstrap = new_account(store, "Acme").await;
    let account = bootstrap.account.id;
    let user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    store.create_user(account, &user).await.expect("user");
    let secret = fixtures::secret(account, user.id, &fixtures::random_hash());
    store.put_secret(account, &secret).await.expect("secret");
    (bootstrap, user, secret)
}

/// Stores `pin`, panicking on failure.
async fn issue(store: &dyn Store, pin: &SecretPin) {
    store
        .create_secret_pin(pin.account, pin)
        .await
        .expect("issuing a pin for an existing user should succeed");
}

/// Asserts that `secret` is still the user's one working secret.
async fn assert_secret_unchanged(store: &dyn Store, secret: &Secret) {
    assert_eq!(
        &store
            .get_secret(secret.account, secret.user)
            .await
            .expect("get secret"),
        secret
    );
    assert_eq!(
        store
            .find_secret_by_hash(&secret.hash)
            .await
            .expect("find")
            .as_ref(),
        Some(secret)
    );
}

/// Redeeming a PIN returns the new secret, with the PIN's user and validity and the new
/// secret's issue time, and it replaces (revokes) the user's previous secret.
pub async fn pin_redeem_replaces_secret_with_the_pins_validity(store: Arc<dyn Store>) {
    let (bootstrap, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;

    let new_secret = fixtures::new_secret(at(BEFORE_EXPIRY));
    let redeemed = store
        .redeem_secret_pin(account, &pin.pin_hash, at(BEFORE_EXPIRY), &new_secret)
        .await
        .expect("redeem");
    let expected = Secret {
        account,
        user: user.id,
        hash: new_secret.hash.clone(),
        fingerprint: new_secret.fingerprint.clone(),
        validity_ts: pin.secret_validity_ts,
        created_ts: new_secret.created_ts,
        updated_ts: new_secret.created_ts,
    };
    assert_eq!(redeemed, expected);
    assert_secret_unchanged(store.as_ref(), &expected).await;
    assert_eq!(
        store
            .find_secret_by_hash(&old_secret.hash)
            .await
            .expect("find"),
        None
    );

    // A PIN without a secret validity creates a secret that never expires, also for a user who
    // had no secret yet.
    let newcomer = fixtures::user(account, bootstrap.admin_role.id, "Bob");
    store.create_user(account, &newcomer).await.expect("user");
    let open_ended = SecretPin {
        secret_validity_ts: None,
        ..fixtures::pin(account, newcomer.id)
    };
    issue(store.as_ref(), &open_ended).await;
    let redeemed = store
        .redeem_secret_pin(
            account,
            &open_ended.pin_hash,
            at(BEFORE_EXPIRY),
            &fixtures::new_secret(at(BEFORE_EXPIRY)),
        )
        .await
        .expect("redeem");
    assert_eq!(redeemed.user, newcomer.id);
    assert_eq!(redeemed.validity_ts, None);
    assert_secret_unchanged(store.as_ref(), &redeemed).await;

    // Other users' secrets are untouched.
    assert_secret_unchanged(store.as_ref(), &expected).await;
    assert_secret_unchanged(store.as_ref(), &bootstrap.admin_secret).await;
}

/// A PIN works once: the second redeem is `NotFound(Pin)` and keeps the first one's secret.
pub async fn pin_is_single_use(store: Arc<dyn Store>) {
    let (bootstrap, user, _) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;

    let first = store
        .redeem_secret_pin(
            account,
            &pin.pin_hash,
            at(BEFORE_EXPIRY),
            &fixtures::new_secret(at(BEFORE_EXPIRY)),
        )
        .await
        .expect("first redeem");
    let second_secret = fixtures::new_secret(at(BEFORE_EXPIRY + 1));
    assert_not_found(
        store
            .redeem_secret_pin(
                account,
                &pin.pin_hash,
                at(BEFORE_EXPIRY + 1),
                &second_secret,
            )
            .await,
        Entity::Pin,
    );
    assert_secret_unchanged(store.as_ref(), &first).await;
    assert_eq!(
        store
            .find_secret_by_hash(&second_secret.hash)
            .await
            .expect("find"),
        None
    );
}

/// From its expiry on (`now >= expires_ts`) a PIN is `NotFound(Pin)` and the old secret stays.
pub async fn expired_pin_is_refused_and_keeps_the_old_secret(store: Arc<dyn Store>) {
    let (bootstrap, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;

    for now in [
        pin.expires_ts,
        pin.expires_ts.plus_millis(1),
        at(86_400_000),
    ] {
        let new_secret = fixtures::new_secret(now);
        assert_not_found(
            store
                .redeem_secret_pin(account, &pin.pin_hash, now, &new_secret)
                .await,
            Entity::Pin,
        );
        assert_eq!(
            store
                .find_secret_by_hash(&new_secret.hash)
                .await
                .expect("find"),
            None
        );
    }
    assert_secret_unchanged(store.as_ref(), &old_secret).await;
    // A missing PIN reads the same as an expired one.
    assert_not_found(
        store
            .redeem_secret_pin(
                account,
                "no such pin",
                at(BEFORE_EXPIRY),
                &fixtures::new_secret(at(BEFORE_EXPIRY)),
            )
            .await,
        Entity::Pin,
    );
}

/// Another account cannot redeem a PIN of account A: `NotFound(Pin)`, no secret changes, and
/// A can still redeem it afterwards.
pub async fn pin_of_another_account_cannot_be_redeemed(store: Arc<dyn Store>) {
    let (acme, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let other = new_account(store.as_ref(), "Globex").await;
    let pin = fixtures::pin(acme.account.id, user.id);
    issue(store.as_ref(), &pin).await;

    let intruder_secret = fixtures::new_secret(at(BEFORE_EXPIRY));
    assert_not_found(
        store
            .redeem_secret_pin(
                other.account.id,
                &pin.pin_hash,
                at(BEFORE_EXPIRY),
                &intruder_secret,
            )
            .await,
        Entity::Pin,
    );
    assert_eq!(
        store
            .find_secret_by_hash(&intruder_secret.hash)
            .await
            .expect("find"),
        None
    );
    assert_secret_unchanged(store.as_ref(), &old_secret).await;
    assert_secret_unchanged(store.as_ref(), &other.admin_secret).await;

    let redeemed = store
        .redeem_secret_pin(
            acme.account.id,
            &pin.pin_hash,
            at(BEFORE_EXPIRY),
            &fixtures::new_secret(at(BEFORE_EXPIRY)),
        )
        .await
        .expect("the owning account can still redeem its pin");
    assert_eq!(redeemed.account, acme.account.id);
    assert_eq!(redeemed.user, user.id);
}

/// A PIN for a user that does not exist in the account (missing, or of another account) is
/// `NotFound(User)`; a PIN hash the account already has is `AlreadyExists(Pin)`.
pub async fn pin_for_missing_user_or_with_taken_hash_is_refused(store: Arc<dyn Store>) {
    let (acme, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = acme.account.id;
    let other = new_account(store.as_ref(), "Globex").await;

    let orphan = fixtures::pin(account, UserId::new_random());
    assert_not_found(
        store.create_secret_pin(account, &orphan).await,
        Entity::User,
    );
    let foreign_user = fixtures::pin(account, other.admin_user.id);
    assert_not_found(
        store.create_secret_pin(account, &foreign_user).await,
        Entity::User,
    );
    // A PIN claiming another account is refused whatever account it names.
    let mismatched = fixtures::pin(other.account.id, other.admin_user.id);
    assert_not_found(
        store.create_secret_pin(account, &mismatched).await,
        Entity::User,
    );
    for refused in [&orphan, &foreign_user, &mismatched] {
        for redeemer in [account, other.account.id] {
            assert_not_found(
                store
                    .redeem_secret_pin(
                        redeemer,
                        &refused.pin_hash,
                        at(BEFORE_EXPIRY),
                        &fixtures::new_secret(at(BEFORE_EXPIRY)),
                    )
                    .await,
                Entity::Pin,
            );
        }
    }
    assert_secret_unchanged(store.as_ref(), &other.admin_secret).await;

    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;
    let duplicate = SecretPin {
        user: acme.admin_user.id,
        expires_ts: at(2 * PIN_EXPIRES_AFTER_MILLIS),
        ..pin.clone()
    };
    assert_already_exists(
        store.create_secret_pin(account, &duplicate).await,
        Entity::Pin,
    );
    // The first PIN is unchanged: it still creates a secret for its own user.
    assert_secret_unchanged(store.as_ref(), &old_secret).await;
    let redeemed = store
        .redeem_secret_pin(
            account,
            &pin.pin_hash,
            at(BEFORE_EXPIRY),
            &fixtures::new_secret(at(BEFORE_EXPIRY)),
        )
        .await
        .expect("redeem");
    assert_eq!(redeemed.user, user.id);
    assert_secret_unchanged(store.as_ref(), &acme.admin_secret).await;
}

/// Redeeming with a secret hash that is already taken is `AlreadyExists(Secret)` and changes
/// nothing: the old secret works and the PIN can be redeemed again with another hash.
pub async fn redeem_with_colliding_secret_hash_keeps_pin_and_old_secret(store: Arc<dyn Store>) {
    let (bootstrap, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;

    let colliding = steward_domain::NewSecret {
        hash: bootstrap.admin_secret.hash.clone(),
        ..fixtures::new_secret(at(BEFORE_EXPIRY))
    };
    assert_already_exists(
        store
            .redeem_secret_pin(account, &pin.pin_hash, at(BEFORE_EXPIRY), &colliding)
            .await,
        Entity::Secret,
    );
    assert_secret_unchanged(store.as_ref(), &old_secret).await;
    assert_secret_unchanged(store.as_ref(), &bootstrap.admin_secret).await;

    let redeemed = store
        .redeem_secret_pin(
            account,
            &pin.pin_hash,
            at(BEFORE_EXPIRY),
            &fixtures::new_secret(at(BEFORE_EXPIRY)),
        )
        .await
        .expect("the pin survives a failed redeem");
    assert_eq!(redeemed.user, user.id);
}

/// Deleting a user deletes its PINs.
pub async fn deleting_a_user_deletes_its_pins(store: Arc<dyn Store>) {
    let (bootstrap, user, _) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;
    let admin_pin = fixtures::pin(account, bootstrap.admin_user.id);
    issue(store.as_ref(), &admin_pin).await;

    store.delete_user(account, user.id).await.expect("delete");
    assert_not_found(
        store
            .redeem_secret_pin(
                account,
                &pin.pin_hash,
                at(BEFORE_EXPIRY),
                &fixtures::new_secret(at(BEFORE_EXPIRY)),
            )
            .await,
        Entity::Pin,
    );
    // Only the other user's PIN is left for housekeeping to find.
    assert_eq!(
        store
            .delete_expired_secret_pins(at(100 * PIN_EXPIRES_AFTER_MILLIS))
            .await
            .expect("housekeeping"),
        1
    );
}

/// Housekeeping deletes exactly the PINs that can no longer be redeemed (`expires_ts <= now`),
/// in every account, and reports how many.
pub async fn delete_expired_secret_pins_removes_only_expired_ones(store: Arc<dyn Store>) {
    let (acme, user, _) = account_with_user_and_secret(store.as_ref()).await;
    let other = new_account(store.as_ref(), "Globex").await;
    let pin_expiring_at = |account, user, expires| SecretPin {
        expires_ts: at(expires),
        ..fixtures::pin(account, user)
    };
    let expired_long_ago = pin_expiring_at(acme.account.id, user.id, 100);
    let expiring_now = pin_expiring_at(acme.account.id, acme.admin_user.id, 200);
    let expired_elsewhere = pin_expiring_at(other.account.id, other.admin_user.id, 150);
    let still_valid = pin_expiring_at(acme.account.id, user.id, 201);
    let still_valid_elsewhere = pin_expiring_at(other.account.id, other.admin_user.id, 10_000);
    for pin in [
        &expired_long_ago,
        &expiring_now,
        &expired_elsewhere,
        &still_valid,
        &still_valid_elsewhere,
    ] {
        issue(store.as_ref(), pin).await;
    }

    assert_eq!(
        store
            .delete_expired_secret_pins(at(200))
            .await
            .expect("housekeeping"),
        3
    );
    assert_eq!(
        store
            .delete_expired_secret_pins(at(200))
            .await
            .expect("housekeeping again"),
        0
    );
    for (account, pin) in [
        (acme.account.id, &still_valid),
        (other.account.id, &still_valid_elsewhere),
    ] {
        store
            .redeem_secret_pin(
                account,
                &pin.pin_hash,
                at(200),
                &fixtures::new_secret(at(200)),
            )
            .await
            .expect("a pin that has not expired survives housekeeping");
    }
}

/// Eight concurrent redeems of one PIN: exactly one succeeds, the others are `NotFound(Pin)`,
/// and the stored secret is the winner's.
pub async fn concurrent_redeems_of_one_pin_succeed_exactly_once(store: Arc<dyn Store>) {
    let (bootstrap, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let pin = fixtures::pin(account, user.id);
    issue(store.as_ref(), &pin).await;

    let mut racers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let pin_hash = pin.pin_hash.clone();
        racers.push(tokio::spawn(async move {
            let new_secret = fixtures::new_secret(at(BEFORE_EXPIRY));
            store
                .redeem_secret_pin(account, &pin_hash, at(BEFORE_EXPIRY), &new_secret)
                .await
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.expect("racer should not panic") {
            Ok(secret) => winners.push(secret),
            Err(StoreError::NotFound(Entity::Pin)) => {}
            Err(other) => panic!("a losing redeem should be pin not found, got {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one redeem should win: {winners:?}"
    );
    assert_secret_unchanged(store.as_ref(), &winners[0]).await;
    assert_eq!(
        store
            .find_secret_by_hash(&old_secret.hash)
            .await
            .expect("find"),
        None
    );
}

/// Eight different PINs of one user redeemed concurrently all succeed; the user ends with
/// exactly one of the new secrets.
pub async fn concurrent_redeems_of_one_users_pins_all_succeed(store: Arc<dyn Store>) {
    let (bootstrap, user, old_secret) = account_with_user_and_secret(store.as_ref()).await;
    let account = bootstrap.account.id;
    let mut racers = Vec::new();
    for _ in 0..8 {
        let pin = fixtures::pin(account, user.id);
        issue(store.as_ref(), &pin).await;
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            let new_secret = fixtures::new_secret(at(BEFORE_EXPIRY));
            store
                .redeem_secret_pin(account, &pin.pin_hash, at(BEFORE_EXPIRY), &new_secret)
                .await
        }));
    }
    let mut issued = Vec::new();
    for racer in racers {
        issued.push(
            racer
                .await
                .expect("racer should not panic")
                .expect("every pin should redeem"),
        );
    }
    let stored = store.get_secret(account, user.id).await.expect("get");
    assert!(issued.contains(&stored), "{stored:?} is none of {issued:?}");
    let mut still_working = 0;
    for secret in issued.iter().chain([&old_secret]) {
        if store
            .find_secret_by_hash(&secret.hash)
            .await
            .expect("find")
            .is_some()
        {
            still_working += 1;
        }
    }
    assert_eq!(still_working, 1, "only the last secret should still work");
}
