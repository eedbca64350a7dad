//! Conformance cases for stickers: exact round trips, replacement of a colour, listing by
//! recipient with every filter, order and paging, single-winner removal, expiry handed out
//! exactly once, and isolation between accounts.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use steward_domain::{AccountId, RoleId, Sticker, Timestamp, TwinId, UserId};
use steward_store::{Entity, StickerQuery, Store, StoreError};

use super::{assert_not_found, new_account};
use crate::fixtures::{self, at};

/// A sticker is valid for an hour after `T0` unless a case says otherwise.
const VALID_FOR_MILLIS: i64 = 3_600_000;

/// A moment at which fixture stickers are still valid.
fn before_expiry() -> Timestamp {
    at(VALID_FOR_MILLIS / 2)
}

/// Someone stickers can be addressed to: a user, its role and its account (ids that need not
/// exist in the store: recipients are never checked).
#[derive(Debug, Clone, Copy)]
struct Reader {
    user: UserId,
    role: RoleId,
    account: AccountId,
}

impl Reader {
    fn new() -> Self {
        Self {
            user: UserId::new_random(),
            role: RoleId::new_random(),
            account: AccountId::new_random(),
        }
    }

    /// Everything addressed to this reader and valid at `now`, newest first, one page of 100.
    fn query(&self, now: Timestamp) -> StickerQuery {
        StickerQuery {
            recipients: vec![
                self.user.as_uuid(),
                self.role.as_uuid(),
                self.account.as_uuid(),
            ],
            creators: None,
            twin: None,
            color: None,
            ge: None,
            le: None,
            now,
            offset: 0,
            limit: 100,
        }
    }
}

/// A sticker of `account` on `twin` addressed to `reader`'s user, put at `T0 + 100ms`.
fn sticker(twin: TwinId, account: AccountId, color: &str, reader: &Reader) -> Sticker {
    Sticker {
        twin,
        account,
        color: color.to_owned(),
        note: format!("{color} note"),
        recipients: vec![reader.user.as_uuid()],
        validity_ts: at(VALID_FOR_MILLIS),
        created_ts: at(100),
        publish: Some(json!({"on_put": ["sticker-put"], "on_remove": "sticker-removed"})),
    }
}

/// A fresh account with one twin it owns.
async fn account_with_twin(store: &dyn Store, name: &str) -> (AccountId, TwinId) {
    let account = new_account(store, name).await.account.id;
    let twin = fixtures::twin(account);
    store
        .create_twin(account, &twin)
        .await
        .expect("creating a twin should succeed");
    (account, twin.id)
}

/// Puts `sticker` for its account, panicking on failure; returns the replaced sticker.
async fn put(store: &dyn Store, sticker: &Sticker) -> Option<Sticker> {
    store
        .put_stickers(sticker.account, std::slice::from_ref(sticker))
        .await
        .expect("putting a sticker on an existing twin should succeed")
        .pop()
        .flatten()
}

async fn list(store: &dyn Store, query: &StickerQuery) -> Vec<Sticker> {
    store
        .list_stickers(query)
        .await
        .expect("listing stickers should succeed")
}

/// The (twin, account, colour) keys of `stickers`, in order.
fn keys(stickers: &[Sticker]) -> Vec<(TwinId, AccountId, String)> {
    stickers
        .iter()
        .map(|sticker| (sticker.twin, sticker.account, sticker.color.clone()))
        .collect()
}

/// A sticker reads back exactly: note with non-ASCII, quotes and newlines, recipients in their
/// order (users, roles and accounts of any account, repeated ones kept), publish JSON a
/// normalising store would rewrite, and no publish at all (not the same as `{}`).
pub async fn sticker_round_trip_keeps_note_and_publish_exactly(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let tricky = Sticker {
        note: "zażółć ß 数据 🦀 \"quoted\"\nsecond line\t\\".to_owned(),
        recipients: vec![
            reader.role.as_uuid(),
            reader.user.as_uuid(),
            reader.account.as_uuid(),
            reader.user.as_uuid(),
        ],
        publish: Some(json!({
            "on_put": ["a-topic", "b-topic"],
            "on_expire": "expired-topic",
            "extra": fixtures::exact_json_object(),
        })),
        ..sticker(twin, account, "Dark-Grey-42", &reader)
    };
    let without_publish = Sticker {
        publish: None,
        note: String::new(),
        ..sticker(twin, account, "red", &reader)
    };
    let with_empty_publish = Sticker {
        publish: Some(json!({})),
        ..sticker(twin, account, "blue", &reader)
    };
    for sticker in [&tricky, &without_publish, &with_empty_publish] {
        assert_eq!(put(store.as_ref(), sticker).await, None);
        let stored = store
            .get_sticker(twin, account, &sticker.color)
            .await
            .expect("get");
        assert_eq!(&stored, sticker);
    }
    let stored = store
        .get_sticker(twin, account, "Dark-Grey-42")
        .await
        .expect("get");
    let big_float = &stored.publish.as_ref().expect("publish")["extra"]["big_float"];
    assert!(big_float.is_f64(), "1e18 should stay a float: {big_float}");

    // The tricky sticker names the reader three ways (one twice): it is listed once.
    let listed = list(store.as_ref(), &reader.query(before_expiry())).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        listed
            .iter()
            .filter(|listed| listed.color == "Dark-Grey-42")
            .collect::<Vec<_>>(),
        [&tricky]
    );
    // Colours are case-sensitive.
    assert_not_found(
        store.get_sticker(twin, account, "dark-grey-42").await,
        Entity::Sticker,
    );
}

/// Putting a colour again replaces the sticker and returns the replaced one; the replaced
/// sticker's recipients no longer find it, the new ones do.
pub async fn putting_a_colour_again_replaces_the_sticker_and_returns_the_previous(
    store: Arc<dyn Store>,
) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let first_reader = Reader::new();
    let second_reader = Reader::new();
    let first = sticker(twin, account, "ready-for-pickup", &first_reader);
    assert_eq!(put(store.as_ref(), &first).await, None);

    let second = Sticker {
        note: "changed".to_owned(),
        recipients: vec![second_reader.account.as_uuid()],
        validity_ts: at(2 * VALID_FOR_MILLIS),
        created_ts: at(200),
        publish: None,
        ..first.clone()
    };
    assert_eq!(put(store.as_ref(), &second).await, Some(first.clone()));
    assert_eq!(
        store
            .get_sticker(twin, account, "ready-for-pickup")
            .await
            .expect("get"),
        second
    );
    assert_eq!(
        list(store.as_ref(), &first_reader.query(before_expiry())).await,
        []
    );
    assert_eq!(
        list(store.as_ref(), &second_reader.query(before_expiry())).await,
        std::slice::from_ref(&second)
    );
    // The replaced sticker's recipient cannot remove the new one.
    assert_not_found(
        store
            .remove_sticker(
                twin,
                account,
                "ready-for-pickup",
                &first_reader.query(before_expiry()).recipients,
                before_expiry(),
            )
            .await,
        Entity::Sticker,
    );
}

/// A sticker on a missing twin is `NotFound(Twin)` and stores nothing; a missing sticker is
/// `NotFound(Sticker)`; a sticker of another account than the one putting it is refused.
pub async fn sticker_on_missing_twin_or_for_another_account_is_refused(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let other = new_account(store.as_ref(), "Other").await.account.id;
    let reader = Reader::new();
    let missing_twin = TwinId::new_random();
    let on_missing = sticker(missing_twin, account, "red", &reader);
    assert_not_found(
        store
            .put_stickers(account, std::slice::from_ref(&on_missing))
            .await,
        Entity::Twin,
    );
    assert_not_found(
        store.get_sticker(missing_twin, account, "red").await,
        Entity::Sticker,
    );
    assert_not_found(
        store.get_sticker(twin, account, "red").await,
        Entity::Sticker,
    );

    let foreign = sticker(twin, other, "red", &reader);
    assert!(
        store
            .put_stickers(account, std::slice::from_ref(&foreign))
            .await
            .is_err(),
        "a sticker of another account should be refused"
    );
    assert_not_found(store.get_sticker(twin, other, "red").await, Entity::Sticker);
    assert_eq!(
        list(store.as_ref(), &reader.query(before_expiry())).await,
        []
    );
}

/// Only stickers one of whose recipients is asked for are listed: by user, by role or by
/// account id, never those of other readers, and nothing for an empty recipient list.
pub async fn sticker_listing_shows_only_stickers_addressed_to_the_recipients(
    store: Arc<dyn Store>,
) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let stranger = Reader::new();
    let to_user = sticker(twin, account, "to-user", &reader);
    let to_role = Sticker {
        recipients: vec![reader.role.as_uuid()],
        created_ts: at(101),
        ..sticker(twin, account, "to-role", &reader)
    };
    let to_account = Sticker {
        recipients: vec![stranger.user.as_uuid(), reader.account.as_uuid()],
        created_ts: at(102),
        ..sticker(twin, account, "to-account", &reader)
    };
    let to_stranger = Sticker {
        created_ts: at(103),
        ..sticker(twin, account, "to-stranger", &stranger)
    };
    for sticker in [&to_user, &to_role, &to_account, &to_stranger] {
        put(store.as_ref(), sticker).await;
    }
    assert_eq!(
        list(store.as_ref(), &reader.query(before_expiry())).await,
        [to_account.clone(), to_role.clone(), to_user.clone()]
    );
    assert_eq!(
        list(store.as_ref(), &stranger.query(before_expiry())).await,
        [to_stranger.clone(), to_account.clone()]
    );
    let only_role = StickerQuery {
        recipients: vec![reader.role.as_uuid()],
        ..reader.query(before_expiry())
    };
    assert_eq!(list(store.as_ref(), &only_role).await, [to_role]);
    let nobody = StickerQuery {
        recipients: Vec::new(),
        ..reader.query(before_expiry())
    };
    assert_eq!(list(store.as_ref(), &nobody).await, []);
}

/// The creators, twin, colour and created-time filters each narrow the listing, and combine.
pub async fn sticker_listing_filters_by_creators_twin_color_and_created_range(
    store: Arc<dyn Store>,
) {
    let (shop, first_twin) = account_with_twin(store.as_ref(), "Shop").await;
    let (courier, second_twin) = account_with_twin(store.as_ref(), "Courier").await;
    let reader = Reader::new();
    let mut all = Vec::new();
    let mut created = 100;
    for twin in [first_twin, second_twin] {
        for account in [shop, courier] {
            for color in ["red", "blue"] {
                created += 10;
                let sticker = Sticker {
                    created_ts: at(created),
                    ..sticker(twin, account, color, &reader)
                };
                put(store.as_ref(), &sticker).await;
                all.push(sticker);
            }
        }
    }
    let base = reader.query(before_expiry());
    let expect = |keep: &dyn Fn(&Sticker) -> bool| -> Vec<Sticker> {
        let mut kept: Vec<Sticker> = all.iter().filter(|s| keep(s)).cloned().collect();
        kept.reverse();
        kept
    };
    assert_eq!(list(store.as_ref(), &base).await, expect(&|_| true));

    let by_shop = StickerQuery {
        creators: Some(vec![shop]),
        ..base.clone()
    };
    assert_eq!(
        list(store.as_ref(), &by_shop).await,
        expect(&|s| s.account == shop)
    );
    let by_both = StickerQuery {
        creators: Some(vec![courier, shop]),
        ..base.clone()
    };
    assert_eq!(list(store.as_ref(), &by_both).await, expect(&|_| true));
    let by_nobody = StickerQuery {
        creators: Some(Vec::new()),
        ..base.clone()
    };
    assert_eq!(list(store.as_ref(), &by_nobody).await, []);
    let on_second_twin = StickerQuery {
        twin: Some(second_twin),
        ..base.clone()
    };
    assert_eq!(
        list(store.as_ref(), &on_second_twin).await,
        expect(&|s| s.twin == second_twin)
    );
    let blue = StickerQuery {
        color: Some("blue".to_owned()),
        ..base.clone()
    };
    assert_eq!(
        list(store.as_ref(), &blue).await,
        expect(&|s| s.color == "blue")
    );
    // ge and le are inclusive.
    let range = StickerQuery {
        ge: Some(at(130)),
        le: Some(at(160)),
        ..base.clone()
    };
    assert_eq!(
        list(store.as_ref(), &range).await,
        expect(&|s| (at(130)..=at(160)).contains(&s.created_ts))
    );
    let combined = StickerQuery {
        creators: Some(vec![courier]),
        twin: Some(first_twin),
        color: Some("red".to_owned()),
        ge: Some(at(100)),
        le: Some(at(1_000)),
        ..base.clone()
    };
    assert_eq!(
        list(store.as_ref(), &combined).await,
        expect(&|s| s.account == courier && s.twin == first_twin && s.color == "red")
    );
    let empty_range = StickerQuery {
        ge: Some(at(160)),
        le: Some(at(130)),
        ..base
    };
    assert_eq!(list(store.as_ref(), &empty_range).await, []);
}

/// Listing orders by (`created_ts`, account, twin, colour), all descending, and pages with
/// offset and limit without gaps or repeats.
pub async fn sticker_listing_orders_newest_first_and_pages(store: Arc<dyn Store>) {
    let (first_account, first_twin) = account_with_twin(store.as_ref(), "Shop").await;
    let (second_account, second_twin) = account_with_twin(store.as_ref(), "Courier").await;
    let reader = Reader::new();
    let mut all = Vec::new();
    // Many stickers share a created_ts, so the tie-breakers decide.
    for (index, color) in ["a-1", "B-2", "c-3", "A-4", "b-5"].iter().enumerate() {
        for twin in [first_twin, second_twin] {
            for account in [first_account, second_account] {
                let sticker = Sticker {
                    created_ts: at(100 + (index as i64 % 2)),
                    ..sticker(twin, account, color, &reader)
                };
                put(store.as_ref(), &sticker).await;
                all.push(sticker);
            }
        }
    }
    all.sort_by(|left, right| {
        (right.created_ts, right.account, right.twin, &right.color).cmp(&(
            left.created_ts,
            left.account,
            left.twin,
            &left.color,
        ))
    });
    let everything = list(store.as_ref(), &reader.query(before_expiry())).await;
    assert_eq!(keys(&everything), keys(&all));

    let mut paged = Vec::new();
    for offset in (0..all.len() + 7).step_by(7) {
        let page = StickerQuery {
            offset: u32::try_from(offset).expect("small offset"),
            limit: 7,
            ..reader.query(before_expiry())
        };
        let page = list(store.as_ref(), &page).await;
        assert!(page.len() <= 7, "{page:?}");
        paged.extend(page);
    }
    assert_eq!(keys(&paged), keys(&all));
    let none = StickerQuery {
        limit: 0,
        ..reader.query(before_expiry())
    };
    assert_eq!(list(store.as_ref(), &none).await, []);
}

/// A sticker whose validity has passed is never listed and cannot be removed, even before the
/// expiry worker deleted it; reading it by key still finds it.
pub async fn expired_stickers_are_neither_listed_nor_removable(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let expiring = sticker(twin, account, "red", &reader);
    put(store.as_ref(), &expiring).await;
    let just_before = expiring.validity_ts.plus_millis(-1);
    let at_validity = expiring.validity_ts;
    assert_eq!(
        list(store.as_ref(), &reader.query(just_before)).await,
        std::slice::from_ref(&expiring)
    );
    assert_eq!(list(store.as_ref(), &reader.query(at_validity)).await, []);
    assert_not_found(
        store
            .remove_sticker(
                twin,
                account,
                "red",
                &reader.query(at_validity).recipients,
                at_validity,
            )
            .await,
        Entity::Sticker,
    );
    assert_eq!(
        store.get_sticker(twin, account, "red").await.expect("get"),
        expiring
    );
}

/// A non-recipient cannot remove a sticker (`NotFound(Sticker)`) and the sticker stays;
/// a recipient removes it and gets it back; a second removal is `NotFound(Sticker)`.
pub async fn sticker_removal_needs_a_recipient_and_happens_once(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let stranger = Reader::new();
    let addressed = Sticker {
        recipients: vec![reader.role.as_uuid()],
        ..sticker(twin, account, "red", &reader)
    };
    put(store.as_ref(), &addressed).await;
    let now = before_expiry();
    assert_not_found(
        store
            .remove_sticker(twin, account, "red", &stranger.query(now).recipients, now)
            .await,
        Entity::Sticker,
    );
    assert_not_found(
        store.remove_sticker(twin, account, "red", &[], now).await,
        Entity::Sticker,
    );
    assert_eq!(
        store.get_sticker(twin, account, "red").await.expect("get"),
        addressed
    );
    let removed = store
        .remove_sticker(twin, account, "red", &reader.query(now).recipients, now)
        .await
        .expect("a recipient removes the sticker");
    assert_eq!(removed, addressed);
    assert_not_found(
        store.get_sticker(twin, account, "red").await,
        Entity::Sticker,
    );
    assert_not_found(
        store
            .remove_sticker(twin, account, "red", &reader.query(now).recipients, now)
            .await,
        Entity::Sticker,
    );
    assert_eq!(list(store.as_ref(), &reader.query(now)).await, []);
    // The colour is free again.
    assert_eq!(put(store.as_ref(), &addressed).await, None);
}

/// Eight concurrent removals of one sticker: exactly one gets it, the others
/// `NotFound(Sticker)`.
pub async fn concurrent_sticker_removals_succeed_exactly_once(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let addressed = sticker(twin, account, "ready-for-pickup", &reader);
    put(store.as_ref(), &addressed).await;

    let mut racers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let recipients = reader.query(before_expiry()).recipients;
        racers.push(tokio::spawn(async move {
            store
                .remove_sticker(
                    twin,
                    account,
                    "ready-for-pickup",
                    &recipients,
                    before_expiry(),
                )
                .await
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.expect("racer should not panic") {
            Ok(sticker) => winners.push(sticker),
            Err(StoreError::NotFound(Entity::Sticker)) => {}
            Err(error) => panic!("a removal should win or find nothing, got {error:?}"),
        }
    }
    assert_eq!(winners, [addressed], "exactly one removal should win");
    assert_not_found(
        store.get_sticker(twin, account, "ready-for-pickup").await,
        Entity::Sticker,
    );
}

/// Eight concurrent puts of one new colour all succeed; exactly one finds no previous sticker,
/// and one sticker remains, listed by its own recipient only.
pub async fn concurrent_puts_of_one_colour_leave_one_sticker(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let readers: Vec<Reader> = (0..8).map(|_| Reader::new()).collect();
    let mut racers = Vec::new();
    for (index, reader) in readers.iter().enumerate() {
        let store = Arc::clone(&store);
        let sticker = Sticker {
            created_ts: at(100 + index as i64),
            ..sticker(twin, account, "red", reader)
        };
        racers.push(tokio::spawn(async move {
            store
                .put_stickers(account, std::slice::from_ref(&sticker))
                .await
                .map(|mut replaced| replaced.pop().flatten())
        }));
    }
    let mut first_puts = 0;
    for racer in racers {
        match racer.await.expect("racer should not panic") {
            Ok(None) => first_puts += 1,
            Ok(Some(_)) => {}
            Err(error) => panic!("a concurrent put should succeed, got {error:?}"),
        }
    }
    assert_eq!(first_puts, 1, "exactly one put should find no previous");
    let stored = store.get_sticker(twin, account, "red").await.expect("get");
    let mut listing_readers = 0;
    for reader in &readers {
        let listed = list(store.as_ref(), &reader.query(before_expiry())).await;
        if !listed.is_empty() {
            assert_eq!(listed, std::slice::from_ref(&stored));
            assert_eq!(stored.recipients, [reader.user.as_uuid()]);
            listing_readers += 1;
        }
    }
    assert_eq!(listing_readers, 1, "only the last put's recipient lists it");
}

/// Expired stickers are removed in batches of at most `limit`, oldest validity first, each
/// returned by exactly one of several concurrent callers; valid stickers stay.
pub async fn expired_stickers_are_removed_once_even_with_concurrent_callers(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let reader = Reader::new();
    let now = at(10_000);
    let mut expired = BTreeSet::new();
    for index in 0..30 {
        let color = format!("expired-{index:02}");
        let sticker = Sticker {
            validity_ts: at(1_000 + index),
            ..sticker(twin, account, &color, &reader)
        };
        put(store.as_ref(), &sticker).await;
        expired.insert(color);
    }
    let at_now = Sticker {
        validity_ts: now,
        ..sticker(twin, account, "expires-exactly-now", &reader)
    };
    put(store.as_ref(), &at_now).await;
    expired.insert(at_now.color.clone());
    let valid = Sticker {
        validity_ts: now.plus_millis(1),
        ..sticker(twin, account, "still-valid", &reader)
    };
    put(store.as_ref(), &valid).await;

    // One small batch first: the oldest validities come first and the limit holds.
    let first_batch = store
        .remove_expired_stickers(now, 3)
        .await
        .expect("remove expired");
    let first_colors: Vec<&str> = first_batch.iter().map(|s| s.color.as_str()).collect();
    assert_eq!(first_colors, ["expired-00", "expired-01", "expired-02"]);
    assert_eq!(first_batch[0].recipients, [reader.user.as_uuid()]);
    assert_eq!(first_batch[0].note, "expired-00 note");

    let mut racers = Vec::new();
    for _ in 0..4 {
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .remove_expired_stickers(now, 4)
                    .await
                    .expect("remove expired");
                assert!(batch.len() <= 4, "{batch:?}");
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch);
            }
        }));
    }
    let mut returned: Vec<String> = first_batch.into_iter().map(|s| s.color).collect();
    for racer in racers {
        returned.extend(
            racer
                .await
                .expect("racer should not panic")
                .into_iter()
                .map(|s| s.color),
        );
    }
    let distinct: BTreeSet<String> = returned.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        returned.len(),
        "a sticker was returned twice"
    );
    assert_eq!(distinct, expired);
    assert_eq!(
        store
            .remove_expired_stickers(now, 100)
            .await
            .expect("nothing left"),
        []
    );
    assert_eq!(
        store
            .get_sticker(twin, account, "still-valid")
            .await
            .expect("get"),
        valid
    );
    assert_not_found(
        store.get_sticker(twin, account, "expired-17").await,
        Entity::Sticker,
    );
    assert_eq!(
        store
            .remove_expired_stickers(now, 0)
            .await
            .expect("limit 0"),
        []
    );
}

/// Two accounts keep stickers of the same colour on one twin apart: putting, removing and
/// listing by creator touch only the account's own.
pub async fn stickers_are_isolated_between_accounts(store: Arc<dyn Store>) {
    let (shop, twin) = account_with_twin(store.as_ref(), "Shop").await;
    let courier = new_account(store.as_ref(), "Courier").await.account.id;
    let reader = Reader::new();
    let shops = sticker(twin, shop, "red", &reader);
    let couriers = Sticker {
        note: "courier's".to_owned(),
        created_ts: at(101),
        ..sticker(twin, courier, "red", &reader)
    };
    assert_eq!(put(store.as_ref(), &shops).await, None);
    assert_eq!(put(store.as_ref(), &couriers).await, None);
    assert_eq!(
        store.get_sticker(twin, shop, "red").await.expect("get"),
        shops
    );
    assert_eq!(
        store.get_sticker(twin, courier, "red").await.expect("get"),
        couriers
    );
    let by_courier = StickerQuery {
        creators: Some(vec![courier]),
        ..reader.query(before_expiry())
    };
    assert_eq!(
        list(store.as_ref(), &by_courier).await,
        std::slice::from_ref(&couriers)
    );
    let removed = store
        .remove_sticker(
            twin,
            courier,
            "red",
            &reader.query(before_expiry()).recipients,
            before_expiry(),
        )
        .await
        .expect("remove the courier's");
    assert_eq!(removed, couriers);
    assert_eq!(
        store.get_sticker(twin, shop, "red").await.expect("get"),
        shops
    );
    assert_eq!(
        list(store.as_ref(), &reader.query(before_expiry())).await,
        [shops]
    );
}

/// Several stickers put together are stored together or not at all: one on a missing twin
/// leaves the others unstored, and a successful put returns each replaced sticker in order.
pub async fn stickers_put_together_are_stored_together_or_not_at_all(store: Arc<dyn Store>) {
    let (account, twin) = account_with_twin(store.as_ref(), "Acme").await;
    let reader = Reader::new();
    let red = sticker(twin, account, "red", &reader);
    let blue = sticker(twin, account, "blue", &reader);
    let lost = sticker(TwinId::new_random(), account, "green", &reader);
    assert_not_found(
        store
            .put_stickers(account, &[red.clone(), lost, blue.clone()])
            .await,
        Entity::Twin,
    );
    assert!(
        list(store.as_ref(), &reader.query(at(0))).await.is_empty(),
        "nothing stored"
    );

    let replaced = store
        .put_stickers(account, &[red.clone(), blue.clone()])
        .await
        .expect("put two");
    assert_eq!(replaced, [None, None]);
    let newer = Sticker {
        note: "newer".to_owned(),
        created_ts: at(200),
        ..red.clone()
    };
    let replaced = store
        .put_stickers(account, &[newer.clone(), blue.clone()])
        .await
        .expect("replace two");
    assert_eq!(replaced, [Some(red), Some(blue)]);
    assert_eq!(
        store.get_sticker(twin, account, "red").await.expect("get"),
        newer
    );
}
