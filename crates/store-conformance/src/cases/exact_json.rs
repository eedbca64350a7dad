//! Opaque user JSON (user descriptions and activity settings, role statements and rules,
//! account Resource Access Log settings) reads back exactly as written, on every path that
//! writes or reads it: creation alone and inside an account bootstrap, update, get, listing
//! and the row an update returns. A normalising store rewrites `1e18` as an integer and
//! refuses `\u0000` inside strings; neither is acceptable for user input.

use std::sync::Arc;

use serde_json::{json, Value};
use steward_domain::{Account, RoleRules, RoleStatement, StatementEffect};
use steward_store::{PageRequest, Store};

use super::new_account;
use crate::fixtures::{self, at};

/// JSON that is not an object, with the same awkward numbers and strings as
/// [`fixtures::exact_json_object`], for the columns that hold any JSON value.
fn exact_json_value() -> Value {
    json!([
        1e18,
        1.5,
        u64::MAX,
        i64::MIN,
        "a\u{0}b",
        "zażółć ß 数据 🦀",
        Value::Object(fixtures::exact_json_object()),
    ])
}

/// Equality of two [`Value`]s already tells a float from an integer; say it outright for the
/// number a JSONB column turns into `1000000000000000000`.
#[track_caller]
fn assert_float(value: &Value, what: &str) {
    assert!(value.is_f64(), "{what} should stay a float: {value}");
}

/// A user whose description and activity hold numbers and strings a normalising store would
/// change reads back unchanged after create and after update, by get and by listing.
pub async fn user_json_round_trips_exactly(store: Arc<dyn Store>) {
    let bootstrap = new_account(store.as_ref(), "Acme").await;
    let account = bootstrap.account.id;
    let mut user = fixtures::user(account, bootstrap.admin_role.id, "Alice");
    user.description = fixtures::exact_json_object();
    user.activity = Some(Value::Object(fixtures::exact_json_object()));
    store.create_user(account, &user).await.expect("create");

    let stored = store.get_user(account, user.id).await.expect("get");
    assert_eq!(stored, user);
    assert_float(&stored.description["big_float"], "description 1e18");
    let listed = store
        .list_users(
            account,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert!(
        listed.contains(&user),
        "listing should show the user as written"
    );

    // An update writes the same columns by another statement; activity now holds a non-object.
    let mut changed = user.clone();
    changed.description = fixtures::object(json!({"ratio": 1.5, "nul": "\u{0}", "big": 1e18}));
    changed.activity = Some(exact_json_value());
    changed.updated_ts = at(700);
    store.update_user(account, &changed).await.expect("update");
    let stored = store.get_user(account, user.id).await.expect("get");
    assert_eq!(stored, changed);
    assert_float(
        &stored.activity.as_ref().expect("activity")[0],
        "activity 1e18",
    );
}

/// A role whose actions and rules contain NUL, non-ASCII and astral-plane characters reads
/// back unchanged after create and after update, by get and by listing.
pub async fn role_strings_round_trip_exactly(store: Arc<dyn Store>) {
    let account = new_account(store.as_ref(), "Acme").await.account.id;
    let mut role = fixtures::role(account, "Operator");
    role.statement = RoleStatement {
        effect: StatementEffect::Allow,
        actions: Some(fixtures::exact_json_strings()),
    };
    role.rules = RoleRules {
        twin_rule: Some("TWIN.name == \"a\u{0}b\"".to_owned()),
        entry_rule: Some("ENTRY.label == \"zażółć 🦀\"".to_owned()),
        identity_rule: Some(String::new()),
    };
    store.create_role(account, &role).await.expect("create");
    assert_eq!(store.get_role(account, role.id).await.expect("get"), role);
    let listed = store
        .list_roles(
            account,
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert!(
        listed.contains(&role),
        "listing should show the role as written"
    );

    let mut changed = role.clone();
    changed.statement = RoleStatement {
        effect: StatementEffect::Deny,
        actions: Some(vec!["\u{0}".to_owned(), "🦀".to_owned()]),
    };
    changed.rules = RoleRules {
        twin_rule: None,
        entry_rule: Some("\u{0}".to_owned()),
        identity_rule: Some("USER.name == \"数据\"".to_owned()),
    };
    changed.updated_ts = at(500);
    store.update_role(account, &changed).await.expect("update");
    assert_eq!(
        store.get_role(account, role.id).await.expect("get"),
        changed
    );
}

/// The Resource Access Log configuration, and the bootstrap's admin role and user written in
/// the same transaction, read back unchanged; so does a replaced configuration, both in the
/// row the update returns and when read again.
pub async fn account_resource_access_log_round_trips_exactly(store: Arc<dyn Store>) {
    let mut bootstrap = fixtures::bootstrap("Acme");
    bootstrap.account.resource_access_log = Some(Value::Object(fixtures::exact_json_object()));
    bootstrap.admin_role.statement.actions = Some(fixtures::exact_json_strings());
    bootstrap.admin_user.description = fixtures::exact_json_object();
    bootstrap.admin_user.activity = Some(exact_json_value());
    store.create_account(&bootstrap).await.expect("create");
    let account = bootstrap.account.id;

    let stored = store.get_account(account).await.expect("get");
    assert_eq!(stored, bootstrap.account);
    assert_float(
        &stored.resource_access_log.as_ref().expect("access log")["big_float"],
        "access log 1e18",
    );
    let listed = store
        .list_accounts(PageRequest {
            after: None,
            limit: 10,
        })
        .await
        .expect("list");
    assert_eq!(listed, vec![bootstrap.account.clone()]);
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

    let configuration = exact_json_value();
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
}
