//! Conformance cases for identities: round trips, duplicates kept as first stored, missing
//! twins, separation between accounts, and resolution through `find_identities`.

use std::sync::Arc;

use steward_domain::{AccountId, Identity, TwinId};
use steward_store::{Entity, IdentityScope, Store, StoreError};

use super::{assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A stored twin owned by `owner`.
async fn new_twin_of(store: &dyn Store, owner: AccountId) -> TwinId {
    let twin = fixtures::twin(owner);
    store
        .create_twin(owner, &twin)
        .await
        .expect("creating a twin for an existing account should succeed");
    twin.id
}

/// An identity of `account` on `twin`, valid until `at(1_000_000)`, public.
fn identity(twin: TwinId, account: AccountId, name: &str) -> Identity {
    Identity {
        twin,
        account,
        identity: name.to_owned(),
        validity_ts: Some(at(1_000_000)),
        visibility: Some("USER.company == 'ACME'".to_owned()),
        created_ts: at(100),
        updated_ts: at(101),
    }
}

/// Stores `identities` and asserts every one of them was new.
async fn store_all(store: &dyn Store, account: AccountId, twin: TwinId, identities: &[Identity]) {
    let stored = store
        .create_identities(account, twin, identities)
        .await
        .expect("create identities");
    assert_eq!(stored, vec![true; identities.len()]);
}

/// Identities read back exactly, with and without validity and visibility, and are deleted
/// once, returning what was stored.
pub async fn identity_round_trip(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = new_twin_of(store.as_ref(), owner).await;
    let full = identity(twin, owner, "RFID#be744bdc-0f6d");
    let bare = Identity {
        validity_ts: None,
        visibility: None,
        ..identity(twin, owner, "NFC#1")
    };
    store_all(store.as_ref(), owner, twin, &[full.clone(), bare.clone()]).await;

    assert_eq!(
        store
            .get_identity(owner, twin, &full.identity)
            .await
            .expect("the identity store call should succeed"),
        full
    );
    assert_eq!(
        store
            .get_identity(owner, twin, &bare.identity)
            .await
            .expect("the identity store call should succeed"),
        bare
    );
    assert_eq!(
        store
            .list_twin_identities(twin, None, 10_000)
            .await
            .expect("the identity store call should succeed"),
        vec![bare.clone(), full.clone()],
        "ordered by identity within one account"
    );

    let changed = Identity {
        validity_ts: None,
        visibility: Some("true".to_owned()),
        updated_ts: at(500),
        // created_ts is the store's: an update never rewrites it.
        created_ts: at(999),
        ..full.clone()
    };
    store
        .update_identity(owner, &changed)
        .await
        .expect("the identity store call should succeed");
    let expected = Identity {
        created_ts: full.created_ts,
        ..changed.clone()
    };
    assert_eq!(
        store
            .get_identity(owner, twin, &full.identity)
            .await
            .expect("the identity store call should succeed"),
        expected
    );

    assert_eq!(
        store
            .delete_identity(owner, twin, &full.identity)
            .await
            .expect("the identity store call should succeed"),
        expected
    );
    assert_not_found(
        store.get_identity(owner, twin, &full.identity).await,
        Entity::Identity,
    );
    assert_not_found(
        store.delete_identity(owner, twin, &full.identity).await,
        Entity::Identity,
    );
    assert_not_found(
        store.update_identity(owner, &changed).await,
        Entity::Identity,
    );
    assert_eq!(
        store
            .list_twin_identities(twin, None, 10_000)
            .await
            .expect("the identity store call should succeed"),
        vec![bare]
    );
}

/// Creating an identity the account already has on the twin reports `false` for that item and
/// keeps the stored one; the others of the request are stored. A repeat inside one request is
/// stored once, as its first occurrence.
pub async fn duplicate_identities_are_reported_and_keep_the_stored_one(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = new_twin_of(store.as_ref(), owner).await;
    let first = identity(twin, owner, "RFID#1");
    store_all(store.as_ref(), owner, twin, std::slice::from_ref(&first)).await;

    let again = Identity {
        validity_ts: None,
        visibility: None,
        created_ts: at(7_000),
        updated_ts: at(7_000),
        ..first.clone()
    };
    let fresh = identity(twin, owner, "RFID#2");
    let fresh_repeat = Identity {
        visibility: None,
        ..fresh.clone()
    };
    let stored = store
        .create_identities(owner, twin, &[again, fresh.clone(), fresh_repeat])
        .await
        .expect("the identity store call should succeed");
    assert_eq!(stored, vec![false, true, false]);
    assert_eq!(
        store
            .list_twin_identities(twin, None, 10_000)
            .await
            .expect("the identity store call should succeed"),
        vec![first, fresh]
    );
}

/// Identities for a missing twin are refused with `NotFound(Twin)` and nothing is stored.
pub async fn identities_for_a_missing_twin_are_refused(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let missing = TwinId::new_random();
    assert_not_found(
        store
            .create_identities(owner, missing, &[identity(missing, owner, "RFID#1")])
            .await,
        Entity::Twin,
    );
    assert!(store
        .list_twin_identities(missing, None, 10_000)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert!(store
        .find_identities("RFID#1", None, None, None, 10)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert_not_found(
        store.get_identity(owner, missing, "RFID#1").await,
        Entity::Identity,
    );
}

/// Several accounts may attach the same string to one twin; each reads, changes and deletes
/// only its own, and another account's identity is `NotFound` for them.
pub async fn identities_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let partner = new_account(store.as_ref(), "Globex").await.account.id;
    let twin = new_twin_of(store.as_ref(), owner).await;
    let owners = identity(twin, owner, "RFID#shared");
    let partners = Identity {
        visibility: None,
        ..identity(twin, partner, "RFID#shared")
    };
    store_all(store.as_ref(), owner, twin, std::slice::from_ref(&owners)).await;
    store_all(
        store.as_ref(),
        partner,
        twin,
        std::slice::from_ref(&partners),
    )
    .await;
    let only_owner = identity(twin, owner, "RFID#owner-only");
    store_all(
        store.as_ref(),
        owner,
        twin,
        std::slice::from_ref(&only_owner),
    )
    .await;

    assert_eq!(
        store
            .get_identity(partner, twin, "RFID#shared")
            .await
            .expect("the identity store call should succeed"),
        partners
    );
    assert_not_found(
        store.get_identity(partner, twin, "RFID#owner-only").await,
        Entity::Identity,
    );
    // The partner names the owner's identity: nothing changes, nothing is deleted.
    let forged = Identity {
        visibility: Some("true".to_owned()),
        ..only_owner.clone()
    };
    assert_not_found(
        store.update_identity(partner, &forged).await,
        Entity::Identity,
    );
    assert_not_found(
        store
            .delete_identity(partner, twin, "RFID#owner-only")
            .await,
        Entity::Identity,
    );
    assert_eq!(
        store
            .get_identity(owner, twin, "RFID#owner-only")
            .await
            .expect("the identity store call should succeed"),
        only_owner
    );

    assert_eq!(
        store
            .delete_identity(partner, twin, "RFID#shared")
            .await
            .expect("the identity store call should succeed"),
        partners
    );
    assert_eq!(
        store
            .get_identity(owner, twin, "RFID#shared")
            .await
            .expect("the identity store call should succeed"),
        owners
    );
    let mut listed = store
        .list_twin_identities(twin, None, 10_000)
        .await
        .expect("the identity store call should succeed");
    listed.sort_by(|a, b| a.identity.cmp(&b.identity));
    assert_eq!(listed, vec![only_owner, owners]);
}

/// Storing an identity under an account or twin other than the call's is refused.
pub async fn identities_of_another_account_cannot_be_stored(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let partner = new_account(store.as_ref(), "Globex").await.account.id;
    let twin = new_twin_of(store.as_ref(), owner).await;
    let other_twin = new_twin_of(store.as_ref(), owner).await;
    let result = store
        .create_identities(partner, twin, &[identity(twin, owner, "RFID#1")])
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    let result = store
        .create_identities(owner, twin, &[identity(other_twin, owner, "RFID#1")])
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    let stored = store
        .update_identity(partner, &identity(twin, owner, "RFID#1"))
        .await;
    assert!(stored.is_err(), "{stored:?}");
    assert!(store
        .list_twin_identities(twin, None, 10_000)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert!(store
        .list_twin_identities(other_twin, None, 10_000)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
}

/// `find_identities` finds exactly the string, for given accounts or all, ordered by
/// (account, twin), at most `limit`.
pub async fn find_identities_by_accounts_in_order_with_limit(store: Arc<dyn Store>) {
    let first = new_account(store.as_ref(), "Acme").await.account.id;
    let second = new_account(store.as_ref(), "Globex").await.account.id;
    let third = new_account(store.as_ref(), "Initech").await.account.id;
    let mut expected = Vec::new();
    for account in [first, second, third] {
        for _ in 0..3 {
            let twin = new_twin_of(store.as_ref(), account).await;
            let found = identity(twin, account, "HID#abc");
            store_all(
                store.as_ref(),
                account,
                twin,
                &[found.clone(), identity(twin, account, "HID#abd")],
            )
            .await;
            expected.push(found);
        }
    }
    expected.sort_by(|a, b| {
        (a.account.to_string(), a.twin.to_string())
            .cmp(&(b.account.to_string(), b.twin.to_string()))
    });

    let all = store
        .find_identities("HID#abc", None, None, None, 100)
        .await
        .expect("the identity store call should succeed");
    assert_eq!(all, expected);
    assert_eq!(
        store
            .find_identities("HID#abc", None, None, None, 4)
            .await
            .expect("the identity store call should succeed"),
        expected[..4].to_vec()
    );
    let some = store
        .find_identities("HID#abc", Some(&[third, first]), None, None, 100)
        .await
        .expect("the identity store call should succeed");
    let wanted: Vec<Identity> = expected
        .iter()
        .filter(|found| found.account == first || found.account == third)
        .cloned()
        .collect();
    assert_eq!(some, wanted);
    assert_eq!(
        store
            .find_identities("HID#abc", Some(&[second]), None, None, 2)
            .await
            .expect("the identity store call should succeed")
            .len(),
        2
    );
    assert!(store
        .find_identities("HID#abc", Some(&[]), None, None, 100)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    let stranger = AccountId::new_random();
    assert!(store
        .find_identities("HID#abc", Some(&[stranger]), None, None, 100)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert!(store
        .find_identities("HID#ab", None, None, None, 100)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert!(store
        .find_identities("HID#abc", None, None, None, 0)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
}

/// Identity strings are compared and returned byte for byte: case, unicode, `%`, `_` and
/// quotes are not special, and listing orders by the bytes of the string on every backend.
pub async fn identity_strings_are_exact(store: Arc<dyn Store>) {
    let owner = new_account(store.as_ref(), "Acme").await.account.id;
    let twin = new_twin_of(store.as_ref(), owner).await;
    let names = [
        "RFID#a",
        "RFID#A",
        "rfid#a",
        "ID#zażółć 数据 🦀",
        "ID#100%",
        "ID#_",
        "ID#'; DROP TABLE identities; --",
        "ID#e\u{301}",
        "ID#\u{e9}",
    ];
    let identities: Vec<Identity> = names
        .iter()
        .map(|name| Identity {
            visibility: Some(format!("identity == \"{name}\" and '🦀' != 'x'")),
            ..identity(twin, owner, name)
        })
        .collect();
    store_all(store.as_ref(), owner, twin, &identities).await;
    for stored in &identities {
        assert_eq!(
            store
                .get_identity(owner, twin, &stored.identity)
                .await
                .expect("the identity store call should succeed"),
            *stored
        );
        assert_eq!(
            store
                .find_identities(&stored.identity, None, None, None, 10)
                .await
                .expect("the identity store call should succeed"),
            vec![stored.clone()]
        );
    }
    assert!(store
        .find_identities("ID#100_", None, None, None, 10)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    assert!(store
        .find_identities("RFID#%", None, None, None, 10)
        .await
        .expect("the identity store call should succeed")
        .is_empty());
    let mut by_bytes = identities.clone();
    by_bytes.sort_by(|a, b| a.identity.as_bytes().cmp(b.identity.as_bytes()));
    assert_eq!(
        store
            .list_twin_identities(twin, None, 10_000)
            .await
            .expect("the identity store call should succeed"),
        by_bytes
    );
}

/// A scope admits the caller's own identities (expired or private too) and, with `foreign`,
/// only other accounts' identities that have a visibility rule and have not expired; `after`
/// pages through `find_identities` by (account, twin).
pub async fn identity_scopes_and_keyset_paging(store: Arc<dyn Store>) {
    let caller = new_account(store.as_ref(), "Caller").await.account.id;
    let other = new_account(store.as_ref(), "Other").await.account.id;
    let twin = new_twin_of(store.as_ref(), other).await;
    let name = "ORD#7";
    let own_private = Identity {
        visibility: None,
        validity_ts: Some(at(10)),
        ..identity(twin, caller, name)
    };
    store_all(
        store.as_ref(),
        caller,
        twin,
        std::slice::from_ref(&own_private),
    )
    .await;
    let shared = identity(twin, other, name);
    let private = Identity {
        visibility: None,
        ..identity(twin, other, "ORD#8")
    };
    let expired = Identity {
        validity_ts: Some(at(10)),
        ..identity(twin, other, "ORD#9")
    };
    store_all(
        store.as_ref(),
        other,
        twin,
        &[shared.clone(), private, expired],
    )
    .await;

    let now = at(10);
    let own_only = IdentityScope {
        caller,
        foreign: false,
        now,
    };
    let with_foreign = IdentityScope {
        foreign: true,
        ..own_only
    };
    let listed = |scope| {
        let store = store.clone();
        async move {
            let found = store
                .list_twin_identities(twin, Some(&scope), 100)
                .await
                .expect("list identities");
            found
                .into_iter()
                .map(|found| found.identity)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(own_only).await, [name]);
    let mut both = listed(with_foreign).await;
    both.sort();
    assert_eq!(
        both,
        [name, name],
        "own private/expired one and the shared one only"
    );
    assert_eq!(
        store
            .list_twin_identities(twin, None, 100)
            .await
            .expect("all")
            .len(),
        4
    );
    assert_eq!(
        store
            .list_twin_identities(twin, None, 2)
            .await
            .expect("limited")
            .len(),
        2
    );
    let found = store
        .find_identities(name, None, Some(&with_foreign), None, 100)
        .await
        .expect("find");
    assert_eq!(found.len(), 2);
    let found = store
        .find_identities("ORD#9", None, Some(&with_foreign), None, 100)
        .await
        .expect("find expired");
    assert!(found.is_empty(), "expired foreign identities are not read");

    // Keyset paging: many twins of one account, read two at a time in (account, twin) order.
    let mut twins = Vec::new();
    for _ in 0..5 {
        let twin = new_twin_of(store.as_ref(), other).await;
        store_all(
            store.as_ref(),
            other,
            twin,
            &[identity(twin, other, "PAGE#1")],
        )
        .await;
        twins.push(twin);
    }
    twins.sort_by_key(ToString::to_string);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .find_identities("PAGE#1", None, None, after, 2)
            .await
            .expect("page");
        let Some(last) = page.last() else {
            break;
        };
        after = Some((last.account, last.twin));
        paged.extend(page.iter().map(|found| found.twin));
    }
    assert_eq!(paged, twins);
}
