//! Property: for random entry visibility rules, reader role rules and readers, what a reader
//! gets from the ledger read paths (entries, values and history) is exactly what an independent
//! model of the visibility function allows: never more, never less. References the reader
//! points at every entry resolve to a value only for entries the model allows, and a scan never
//! shows another account's twins.
//!
//! Each rule text in the menus below is paired with a Rust predicate that computes its result
//! directly, so the model does not use the rule engine. The same holds for identity resolution:
//! the reader resolves the owner's identity exactly when both identity rules allow it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use steward_core::{
    EntryHistory, EntryInput, HistoryBounds, IdentityInput, LedgerSelector, Principal,
    ReferenceStatus, ResolveContext, ResolvedTwins, RolePatch, Steward, TwinScan, UserPatch,
    WriteOptions,
};
use steward_domain::{RoleId, RoleRules, SystemClock, TwinId};
use steward_store_sqlite::SqliteStore;

/// What a rule can depend on, in the model.
#[derive(Debug, Clone, Copy)]
struct Facts<'a> {
    entry_name: &'a str,
    entry_number: i64,
    reader_level: i64,
    reader_is_courier: bool,
}

type Predicate = fn(&Facts<'_>) -> bool;

/// Role `entry_rule` menu: `None` is the null rule (no foreign entries).
fn entry_rule_menu() -> Vec<(Option<&'static str>, Predicate)> {
    vec![
        (None, |_| false),
        (Some("true"), |_| true),
        (Some("entry_name != 'e0'"), |f| f.entry_name != "e0"),
        (Some("entry_value.n >= 5"), |f| f.entry_number >= 5),
        (Some("USER.level > 1"), |f| f.reader_level > 1),
    ]
}

/// Entry `visibility` menu; `{courier}` is replaced by the reader's account id.
fn visibility_menu() -> Vec<(Option<&'static str>, Predicate)> {
    vec![
        (None, |_| false),
        (Some("true"), |_| true),
        (Some("false"), |_| false),
        (Some("account == '{courier}'"), |f| f.reader_is_courier),
        (
            Some("account == '00000000-0000-4000-8000-000000000000'"),
            |_| false,
        ),
        (Some("entry_value.n < 3"), |f| f.entry_number < 3),
        (Some("USER.level >= 2 and entry_name in LEDGER.keys"), |f| {
            f.reader_level >= 2
        }),
        (Some("DICT.k == 'x'"), |_| false),
        (Some("entry_value.n + 'text' == 1"), |_| false),
    ]
}

struct World {
    runtime: tokio::runtime::Runtime,
    steward: Steward,
    shop_admin: Principal,
    courier_admin: Principal,
    courier_secret: String,
    reader_role: RoleId,
    courier_account: String,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (steward, shop_admin, courier_admin, courier_secret, reader_role) =
        runtime.block_on(async {
            let store = SqliteStore::open(dir.path()).await.unwrap();
            let steward =
                Steward::start(Arc::new(store), Arc::new(SystemClock), Default::default())
                    .await
                    .unwrap();
            let shop = steward.create_account("Shop").await.unwrap();
            let courier = steward.create_account("Courier").await.unwrap();
            let shop_admin = steward
                .authenticate(Some(&shop.secret), None)
                .await
                .unwrap();
            let courier_admin = steward
                .authenticate(Some(&courier.secret), None)
                .await
                .unwrap();
            // The courier's admin keeps Super Admin to manage; its reading happens through a copy
            // of that role whose rules change per case (nothing escalates: same statement).
            let role = steward
                .create_role(&courier_admin, Some("Reader".to_owned()), None, None)
                .await
                .unwrap();
            (steward, shop_admin, courier_admin, courier.secret, role.id)
        });
    let courier_account = courier_admin.account.to_string();
    World {
        runtime,
        steward,
        shop_admin,
        courier_admin,
        courier_secret,
        reader_role,
        courier_account,
        _dir: dir,
    }
}

/// Role `identity_rule` menu.
/// Whether a rule allows a reader of this `USER.level`.
type LevelPredicate = fn(i64) -> bool;

fn identity_rule_menu() -> Vec<(Option<&'static str>, LevelPredicate)> {
    vec![
        (None, |_| false),
        (Some("true"), |_| true),
        (Some("USER.level > 1"), |level| level > 1),
        (Some("identity =~ 'ORD#.*'"), |_| true),
    ]
}

/// Identity `visibility` menu; `{courier}` is replaced by the reader's account id.
fn identity_visibility_menu() -> Vec<(Option<&'static str>, bool)> {
    vec![
        (None, false),
        (Some("true"), true),
        (Some("false"), false),
        (Some("account == '{courier}'"), true),
        (
            Some("account == '00000000-0000-4000-8000-000000000000'"),
            false,
        ),
    ]
}

type Case = ((usize, i64, Vec<(usize, i64)>), (usize, usize));

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        (
            0..entry_rule_menu().len(),
            0_i64..4,
            proptest::collection::vec((0..visibility_menu().len(), 0_i64..10), 1..12),
        ),
        (
            0..identity_rule_menu().len(),
            0..identity_visibility_menu().len(),
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn readers_get_exactly_the_entries_the_model_allows(
        ((entry_rule_choice, reader_level, entries), identity) in case_strategy()
    ) {
        thread_local! {
            static WORLD: World = world();
        }
        WORLD.with(|world| {
            check_case(world, entry_rule_choice, reader_level, &entries, identity)
        });
    }
}

fn check_case(
    world: &World,
    entry_rule_choice: usize,
    reader_level: i64,
    entries: &[(usize, i64)],
    (identity_rule_choice, identity_visibility_choice): (usize, usize),
) {
    let entry_rules = entry_rule_menu();
    let (identity_rule, identity_rule_allows) = identity_rule_menu()[identity_rule_choice];
    let (identity_visibility, identity_visible) =
        identity_visibility_menu()[identity_visibility_choice];
    let visibilities = visibility_menu();
    let (entry_rule, entry_predicate) = entry_rules[entry_rule_choice];
    let steward = &world.steward;
    world.runtime.block_on(async {
        // The reader: the courier's admin user holding the reader role with this case's rules.
        let rules = RoleRules {
            twin_rule: Some("true".to_owned()),
            entry_rule: entry_rule.map(str::to_owned),
            identity_rule: identity_rule.map(str::to_owned),
        };
        let patch = RolePatch {
            rules: Some(rules),
            ..RolePatch::default()
        };
        steward
            .update_role(&world.courier_admin, world.reader_role, patch)
            .await
            .unwrap();
        let user_patch = UserPatch {
            role: Some(world.reader_role),
            description: json!({"level": reader_level}).as_object().cloned(),
            ..UserPatch::default()
        };
        steward
            .update_user(
                &world.courier_admin,
                world.courier_admin.user.id,
                user_patch,
            )
            .await
            .unwrap();
        let reader = steward
            .authenticate(Some(&world.courier_secret), None)
            .await
            .unwrap();

        let twin = steward.create_twin(&world.shop_admin, None).await.unwrap();
        let inputs: BTreeMap<String, EntryInput> = entries
            .iter()
            .enumerate()
            .map(|(index, (visibility_choice, number))| {
                let visibility = visibilities[*visibility_choice]
                    .0
                    .map(|rule| rule.replace("{courier}", &world.courier_account));
                let input = EntryInput {
                    value: Some(json!({"n": number})),
                    visibility: Some(visibility),
                    history: Some(Some("INF".to_owned())),
                    ..EntryInput::default()
                };
                (format!("e{index}"), input)
            })
            .collect();
        steward
            .add_ledger_entries(
                &world.shop_admin,
                twin.id,
                LedgerSelector::Personal,
                inputs,
                WriteOptions::default(),
            )
            .await
            .unwrap();

        let expected: Vec<String> = entries
            .iter()
            .enumerate()
            .filter(|(index, (visibility_choice, number))| {
                let name = format!("e{index}");
                let facts = Facts {
                    entry_name: &name,
                    entry_number: *number,
                    reader_level,
                    reader_is_courier: true,
                };
                entry_predicate(&facts) && (visibilities[*visibility_choice].1)(&facts)
            })
            .map(|(index, _)| format!("e{index}"))
            .collect();
        assert_reads(steward, &reader, twin.id, &expected).await;
        assert_references(
            steward,
            &reader,
            twin.id,
            &world.shop_admin,
            entries.len(),
            &expected,
        )
        .await;
        assert_scan_shows_only_own_twins(steward, &reader, twin.id).await;

        // Resolve: the owner attaches an identity; the reader resolves the twin exactly when
        // the identity's visibility and the reader's identity rule both allow it.
        let identity = format!("ORD#{}", twin.id);
        let input = IdentityInput {
            validity_ts: None,
            visibility: identity_visibility
                .map(|rule| rule.replace("{courier}", &world.courier_account)),
        };
        steward
            .create_twin_identities(&world.shop_admin, twin.id, vec![(identity.clone(), input)])
            .await
            .unwrap();
        let expected = identity_visible && identity_rule_allows(reader_level);
        for context in [
            ResolveContext::System,
            ResolveContext::Accounts(vec![world.shop_admin.account]),
        ] {
            for details in [false, true] {
                let resolved = steward
                    .resolve_twin_identity(&reader, &identity, context.clone(), details)
                    .await
                    .unwrap();
                let found = match resolved {
                    ResolvedTwins::Ids(ids) => ids.contains(&twin.id),
                    ResolvedTwins::Twins(twins) => twins.iter().any(|found| found.id == twin.id),
                };
                assert_eq!(found, expected, "resolve {context:?} details={details}");
            }
        }
        let own = steward
            .resolve_twin_identity(
                &reader,
                &identity,
                ResolveContext::Accounts(vec![reader.account]),
                false,
            )
            .await
            .unwrap();
        assert_eq!(
            own,
            ResolvedTwins::Ids(Vec::new()),
            "the reader attached nothing"
        );
        // The owner sees everything on its own ledger (Super Admin, no entry rule).
        let all: Vec<String> = (0..entries.len())
            .map(|index| format!("e{index}"))
            .collect();
        assert_reads(steward, &world.shop_admin, twin.id, &all).await;
    });
}

async fn assert_reads(steward: &Steward, reader: &Principal, twin: TwinId, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    let got: Vec<String> = steward
        .get_ledger_entries(reader, twin, LedgerSelector::Owner, None)
        .await
        .unwrap()
        .entries
        .into_keys()
        .collect();
    assert_eq!(got, expected, "get_twin_ledger_entry");
    let values: Vec<String> = steward
        .get_ledger_values(reader, twin, LedgerSelector::Owner, None)
        .await
        .unwrap()
        .entries
        .into_keys()
        .collect();
    assert_eq!(values, expected, "get_twin_ledger_entry_value");
    // Asking by name never adds anything the reader may not see.
    let all_names: Vec<String> = (0..12).map(|index| format!("e{index}")).collect();
    let named: Vec<String> = steward
        .get_ledger_entries(reader, twin, LedgerSelector::Owner, Some(&all_names))
        .await
        .unwrap()
        .entries
        .into_keys()
        .collect();
    assert_eq!(named, expected, "get_twin_ledger_entry?entries=");
    // History: asked by name, visible entries answer with their one record, every other name
    // is "not accessible"; asked without names, only visible entries are listed.
    let bounds = HistoryBounds {
        ge: None,
        le: None,
        limit: 100,
    };
    let history = steward
        .get_ledger_history(
            reader,
            twin,
            LedgerSelector::Owner,
            Some(&all_names),
            bounds,
        )
        .await
        .unwrap();
    for (name, answer) in &history {
        match answer {
            EntryHistory::Records(records) => {
                assert!(expected.contains(name), "history of invisible {name}");
                assert_eq!(records.len(), 1, "{name}");
            }
            EntryHistory::NotAccessible => {
                assert!(
                    !expected.contains(name),
                    "visible {name} reported inaccessible"
                )
            }
        }
    }
    let listed: Vec<String> = steward
        .get_ledger_history(reader, twin, LedgerSelector::Owner, None, bounds)
        .await
        .unwrap()
        .into_keys()
        .collect();
    assert_eq!(listed, expected, "get_twin_ledger_entry_history");
}

/// The reader points a reference of its own at every entry of the owner's ledger: a reference
/// resolves to a value exactly when the model allows the source entry, and then to its value.
async fn assert_references(
    steward: &Steward,
    reader: &Principal,
    twin: TwinId,
    owner: &Principal,
    count: usize,
    expected: &[String],
) {
    let inputs: BTreeMap<String, EntryInput> = (0..count)
        .map(|index| {
            let input = EntryInput {
                reference: Some(format!("twin://{twin}/{}/e{index}", owner.account)),
                ..EntryInput::default()
            };
            (format!("r{index}"), input)
        })
        .collect();
    // The reader's own role rules may hide some of its own references (the rule sees no value
    // on a reference); only what it gets back is checked.
    steward
        .add_ledger_entries(
            reader,
            twin,
            LedgerSelector::Personal,
            inputs,
            WriteOptions::default(),
        )
        .await
        .unwrap();
    let own = steward
        .get_ledger_entries(reader, twin, LedgerSelector::Personal, None)
        .await
        .unwrap();
    for (name, resolved) in &own.sources {
        let source = name.replacen('r', "e", 1);
        let allowed = expected.contains(&source);
        assert_eq!(
            resolved.status == ReferenceStatus::Ok,
            allowed,
            "reference {name} → {source}: {resolved:?}"
        );
        if !allowed {
            assert_eq!(resolved.value, serde_json::Value::Null, "{name}");
        }
    }
}

/// A scan lists only the caller's own twins: never the owner's twin it reads.
async fn assert_scan_shows_only_own_twins(steward: &Steward, reader: &Principal, foreign: TwinId) {
    let scan = TwinScan {
        after: None,
        count: 1000,
        match_rule: Some("true".to_owned()),
        details: true,
    };
    let page = steward.scan_twins(reader, scan).await.unwrap();
    assert!(
        page.twins
            .iter()
            .all(|twin| twin.id != foreign && twin.owner == reader.account),
        "scan shows another account's twin"
    );
}
