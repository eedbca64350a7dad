//! Builders of valid entities with fresh random ids, so every case starts from distinct data.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use steward_domain::{
    Account, AccountBootstrap, AccountId, AccountStatus, Entry, EntryContent, Ledger, NewSecret,
    Role, RoleId, RoleRules, RoleStatement, Secret, SecretPin, StatementEffect, Timestamp, Twin,
    TwinId, TwinStatus, User, UserId,
};

/// A fixed point in time with a non-zero millisecond part, so truncation to seconds shows.
pub const T0: Timestamp = Timestamp::from_millis(1_707_997_392_123);

/// `T0` moved by `millis`.
pub const fn at(millis: i64) -> Timestamp {
    T0.plus_millis(millis)
}

/// A fresh random string, usable as a secret hash.
pub fn random_hash() -> String {
    // Two UUIDs' worth of hex: the shape of a real digest, unique per call.
    format!(
        "{}{}",
        AccountId::new_random().as_uuid().simple(),
        AccountId::new_random().as_uuid().simple()
    )
}

/// A complete bootstrap for a new active account named `name`.
pub fn bootstrap(name: &str) -> AccountBootstrap {
    let account = Account {
        id: AccountId::new_random(),
        name: name.to_owned(),
        status: AccountStatus::Active,
        resource_access_log: Some(json!({"enabled": true, "retention_days": 30})),
        created_ts: T0,
        updated_ts: at(1),
    };
    let admin_role = Role {
        name: "Super Admin".to_owned(),
        statement: RoleStatement::default(),
        rules: RoleRules {
            twin_rule: Some("True".to_owned()),
            entry_rule: None,
            identity_rule: None,
        },
        ..role(account.id, "unused")
    };
    let admin_user = User {
        name: format!("{name} admin"),
        ..user(account.id, admin_role.id, "unused")
    };
    let admin_secret = secret(account.id, admin_user.id, &random_hash());
    AccountBootstrap {
        account,
        admin_role,
        admin_user,
        admin_secret,
    }
}

/// A role of `account` with an allow statement and all three rules set.
pub fn role(account: AccountId, name: &str) -> Role {
    Role {
        id: RoleId::new_random(),
        account,
        name: name.to_owned(),
        statement: RoleStatement {
            effect: StatementEffect::Allow,
            actions: Some(vec!["get_twin".to_owned(), "create_twin".to_owned()]),
        },
        rules: RoleRules {
            twin_rule: Some("TWIN.owner == USER.account".to_owned()),
            entry_rule: Some("ENTRY.value > 10".to_owned()),
            identity_rule: Some("True".to_owned()),
        },
        created_ts: at(10),
        updated_ts: at(11),
    }
}

/// A user of `account` holding `role`, with a nested description and an activity setting.
pub fn user(account: AccountId, role: RoleId, name: &str) -> User {
    User {
        id: UserId::new_random(),
        account,
        role,
        name: name.to_owned(),
        description: description(),
        activity: Some(json!({"log": ["read", "write"]})),
        created_ts: at(20),
        updated_ts: at(21),
    }
}

/// A secret of `user` in `account` with the given hash, expiring a day after `T0`.
pub fn secret(account: AccountId, user: UserId, hash: &str) -> Secret {
    Secret {
        account,
        user,
        hash: hash.to_owned(),
        fingerprint: hash.chars().rev().take(4).collect(),
        validity_ts: Some(at(86_400_000)),
        created_ts: at(30),
        updated_ts: at(31),
    }
}

/// How long a fixture PIN can be redeemed: ten minutes after `T0`.
pub const PIN_EXPIRES_AFTER_MILLIS: i64 = 600_000;

/// A PIN of `user` in `account` with a fresh hash, issued at `T0`, expiring
/// [`PIN_EXPIRES_AFTER_MILLIS`] later, creating a secret valid for a week after `T0`.
pub fn pin(account: AccountId, user: UserId) -> SecretPin {
    SecretPin {
        account,
        user,
        pin_hash: random_hash(),
        secret_validity_ts: Some(at(7 * 86_400_000)),
        expires_ts: at(PIN_EXPIRES_AFTER_MILLIS),
        created_ts: T0,
    }
}

/// The service-chosen parts of a secret created by redeeming a PIN at `created_ts`.
pub fn new_secret(created_ts: Timestamp) -> NewSecret {
    let hash = random_hash();
    NewSecret {
        fingerprint: hash.chars().rev().take(4).collect(),
        hash,
        created_ts,
    }
}

/// An alive twin owned and created by `owner`, with the fixture [`description`].
pub fn twin(owner: AccountId) -> Twin {
    Twin {
        id: TwinId::new_random(),
        owner,
        creator: owner,
        status: TwinStatus::Alive,
        description: Some(description()),
        termination: None,
        created_ts: at(40),
        updated_ts: at(40),
    }
}

/// A value entry with every optional setting unset (private, no history, no notifications,
/// no timeseries), created at `T0 + 50ms` and changed since.
pub fn entry(value: Value) -> Entry {
    Entry {
        content: EntryContent::Value(value),
        visibility: None,
        history: None,
        publish: None,
        timeseries: None,
        entry_created_ts: at(50),
        entry_updated_ts: at(51),
        value_changed_ts: at(52),
    }
}

/// A value entry with every optional setting set.
pub fn configured_entry(value: Value) -> Entry {
    Entry {
        visibility: Some("USER.role == 'reader' and ENTRY.value > 10".to_owned()),
        history: Some("7D".to_owned()),
        publish: Some(json!({"topic": "temperature", "condition": "ENTRY.value > 20"})),
        timeseries: Some(json!({"table": "readings", "dimensions": ["site"], "scale": 1.5})),
        ..entry(value)
    }
}

/// The ledger of `account` on `twin`, version 1, created at `T0 + 60ms`, with `entries`.
pub fn ledger(twin: TwinId, account: AccountId, entries: BTreeMap<String, Entry>) -> Ledger {
    Ledger {
        twin,
        account,
        entries,
        version: 1,
        created_ts: at(60),
        updated_ts: at(60),
    }
}

/// A description with the JSON shapes rules read: nesting, arrays, numbers, unicode, null.
pub fn description() -> Map<String, Value> {
    let value = json!({
        "department": "logistics",
        "clearance": 3,
        "score": 4.25,
        "tags": ["a", "ß", "数据"],
        "nested": {"flag": true, "nothing": null, "deep": {"n": -7}},
        "quote": "she said \"hi\"\n",
    });
    match value {
        Value::Object(map) => map,
        // The literal above is an object; an empty map keeps this total without a panic.
        _ => Map::new(),
    }
}

/// `value` as a JSON object; the literals passed in are objects.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected a JSON object, got {other}"),
    }
}

/// A JSON object whose numbers and strings a normalising JSON store (PostgreSQL's JSONB) would
/// change or refuse: a float written with an exponent that is an integral value, integers at
/// the edges of i64/u64, and strings with non-ASCII, astral-plane and NUL characters.
pub fn exact_json_object() -> Map<String, Value> {
    object(json!({
        "ratio": 1.5,
        "big_float": 1e18,
        "tiny_float": 2.5e-7,
        "negative_float": -0.75,
        "max_u64": u64::MAX,
        "min_i64": i64::MIN,
        "zero": 0,
        "unicode": "zażółć ß 数据 🦀",
        "nul": "a\u{0}b",
        "empty": "",
        "nested": {"list": [1, 2.0, [], {}], "nothing": null, "deep": {"flag": false}},
    }))
}

/// Strings a normalising JSON store would refuse or a careless encoding would mangle: NUL
/// alone and inside text, non-ASCII, astral-plane characters, the empty string, JSON escapes.
pub fn exact_json_strings() -> Vec<String> {
    [
        "a\u{0}b",
        "\u{0}",
        "zażółć ß 数据 🦀",
        "",
        "quote \" back\\slash \n tab\t",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}
