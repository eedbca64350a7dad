//! The shop/courier story the read benchmarks share.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use steward_core::{EntryInput, LedgerSelector, Principal, Steward, UserPatch, WriteOptions};
use steward_domain::{AccountId, RoleRules, TwinId};

/// Seeds a shop twin whose ledger has 20 entries, 5 of them visible to the courier, and a
/// courier role that sees the twin; returns the courier as reader, the twin and the shop.
pub async fn shop_and_courier(steward: &Steward) -> (Principal, TwinId, AccountId) {
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
    let rules = RoleRules {
        twin_rule: Some("TWIN.kind == 'order'".to_owned()),
        entry_rule: Some("true".to_owned()),
        identity_rule: None,
    };
    let role = steward
        .create_role(
            &courier_admin,
            Some("Partner".to_owned()),
            None,
            Some(rules),
        )
        .await
        .unwrap();
    let patch = UserPatch {
        role: Some(role.id),
        ..UserPatch::default()
    };
    steward
        .update_user(&courier_admin, courier_admin.user.id, patch)
        .await
        .unwrap();
    let reader = steward
        .authenticate(Some(&courier.secret), None)
        .await
        .unwrap();
    let twin = steward
        .create_twin(&shop_admin, json!({"kind": "order"}).as_object().cloned())
        .await
        .unwrap();
    let courier_account = courier.bootstrap.account.id;
    let entries: BTreeMap<String, EntryInput> = (0..20)
        .map(|index| {
            let visibility = (index % 4 == 0)
                .then(|| format!("account == '{courier_account}' and twin_status == 'alive'"));
            let input = EntryInput {
                value: Some(json!({"index": index, "note": "payload of a typical entry"})),
                visibility: Some(visibility),
                ..EntryInput::default()
            };
            (format!("entry_{index}"), input)
        })
        .collect();
    steward
        .add_ledger_entries(
            &shop_admin,
            twin.id,
            LedgerSelector::Personal,
            entries,
            WriteOptions::default(),
        )
        .await
        .unwrap();
    (reader, twin.id, shop.bootstrap.account.id)
}
