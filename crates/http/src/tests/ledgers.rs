//! Ledgers over the Trusted Twin routes: the shop/courier story (the courier sees
//! `delivery_address` and never `invoice`), writes, conditions, limits and validation.

use axum::http::Method;
use serde_json::{json, Value};

use super::{TestAccount, TestApp};

pub(super) struct Story {
    pub(super) shop: TestAccount,
    pub(super) courier: TestAccount,
    pub(super) order: String,
}

/// A shop with an order twin; the courier's role sees orders and lets entry visibility decide.
pub(super) async fn story(app: &TestApp) -> Story {
    let shop = app.create_account("Shop").await;
    let courier = app.create_account("Courier").await;
    let order = app
        .call(
            Method::POST,
            "/twins",
            Some(&shop.secret),
            Some(json!({"description": {"kind": "order"}})),
        )
        .await
        .json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    for account in [&shop, &courier] {
        let role = app
            .call(
                Method::POST,
                "/roles",
                Some(&account.secret),
                Some(json!({"name": "Partner", "rules": {"twin_rule": "TWIN.kind == 'order'", "entry_rule": "true"}})),
            )
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(
            Method::PATCH,
            &format!("/users/{}", account.user),
            Some(&account.secret),
            Some(json!({"role": role})),
        )
        .await;
    }
    let added = app
        .call(
            Method::POST,
            &format!("/twins/{order}/ledgers/personal"),
            Some(&shop.secret),
            Some(json!({"entries": {
                "delivery_address": {"value": {"street": "Main 1", "city": "Gdansk"}, "visibility": format!("account == '{}'", courier.account)},
                "invoice": {"value": {"total": 120.5}, "history": "3M"},
            }})),
        )
        .await;
    assert_eq!(added.status.as_u16(), 201, "{}", added.text());
    Story {
        shop,
        courier,
        order,
    }
}

fn entry_names(body: &Value) -> Vec<String> {
    body["entries"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

api_tests! {
    async fn courier_sees_delivery_address_and_never_invoice(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_courier = Some(courier.secret.as_str());
        let owner_ledger = app.call(Method::GET, &format!("/twins/{order}/ledgers/owner"), as_courier, None).await;
        assert_eq!(owner_ledger.status.as_u16(), 200, "{}", owner_ledger.text());
        let owner_ledger = owner_ledger.json();
        assert_eq!(entry_names(&owner_ledger), ["delivery_address"]);
        let address = &owner_ledger["entries"]["delivery_address"];
        assert_eq!(address["value"]["city"], "Gdansk");
        assert!(address.get("visibility").is_none(), "foreign readers see no configuration");
        assert!(!owner_ledger.to_string().contains("120.5"));

        for path in [
            format!("/twins/{order}/ledgers/{}", shop.account),
            format!("/twins/{order}/ledgers/owner?entries=invoice"),
            format!("/twins/{order}/ledgers/owner?entries=invoice,delivery_address"),
            format!("/twins/{order}/ledgers/owner/value"),
            format!("/twins/{order}/ledgers/owner/value?entries=invoice"),
        ] {
            let reply = app.call(Method::GET, &path, as_courier, None).await;
            assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text());
            assert!(!reply.text().contains("invoice"), "{path} leaked the invoice");
            assert!(!reply.text().contains("120.5"), "{path} leaked the invoice total");
        }
        let values = app.call(Method::GET, &format!("/twins/{order}/ledgers/owner/value"), as_courier, None).await.json();
        assert_eq!(values["entries"]["delivery_address"]["value"]["street"], "Main 1");

        // The shop sees its own ledger whole, with configuration.
        let own = app.call(Method::GET, &format!("/twins/{order}/ledgers/personal"), Some(&shop.secret), None).await.json();
        assert_eq!(entry_names(&own), ["delivery_address", "invoice"]);
        assert_eq!(own["entries"]["invoice"]["visibility"], Value::Null);
        assert_eq!(own["entries"]["invoice"]["history"], "3M");
        let private_only = app
            .call(Method::GET, &format!("/twins/{order}/ledgers/personal?show_public=false"), Some(&shop.secret), None)
            .await
            .json();
        assert_eq!(entry_names(&private_only), ["invoice"]);
    }

    async fn courier_writes_its_own_ledger_and_the_shop_reads_what_it_may(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_courier = Some(courier.secret.as_str());
        let written = app
            .call(
                Method::POST,
                &format!("/twins/{order}/ledgers/personal"),
                as_courier,
                Some(json!({"entries": {
                    "delivery_status": {"value": "picked_up", "visibility": format!("account == '{}'", shop.account)},
                    "driver_phone": {"value": "+48 600"},
                }})),
            )
            .await;
        assert_eq!(written.status.as_u16(), 201, "{}", written.text());
        let seen = app
            .call(Method::GET, &format!("/twins/{order}/ledgers/{}", courier.account), Some(&shop.secret), None)
            .await
            .json();
        assert_eq!(entry_names(&seen), ["delivery_status"]);
        assert_eq!(seen["entries"]["delivery_status"]["value"], "picked_up");

        // Nobody writes into another account's ledger.
        for ledger in ["owner", "creator", shop.account.as_str()] {
            app.call(
                Method::POST,
                &format!("/twins/{order}/ledgers/{ledger}"),
                as_courier,
                Some(json!({"entries": {"forged": {"value": 1}}})),
            )
            .await
            .assert_tt_error(403, 403_535);
        }
        let shop_ledger = app.call(Method::GET, &format!("/twins/{order}/ledgers/personal"), Some(&shop.secret), None).await.json();
        assert!(shop_ledger["entries"].get("forged").is_none());
    }

    async fn without_an_entry_rule_foreign_entries_stay_hidden_even_when_visible(app) {
        let Story { courier, order, .. } = story(&app).await;
        let role = app
            .call(Method::POST, "/roles", Some(&courier.secret), Some(json!({"name": "Twins Only", "rules": {"twin_rule": "true"}})))
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::PATCH, &format!("/users/{}", courier.user), Some(&courier.secret), Some(json!({"role": role})))
            .await;
        let reply = app.call(Method::GET, &format!("/twins/{order}/ledgers/owner"), Some(&courier.secret), None).await;
        assert_eq!(reply.status.as_u16(), 200);
        assert_eq!(reply.json()["entries"], json!({}));
    }

    async fn updates_move_the_right_timestamps_and_conditions_guard_writes(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let as_shop = Some(shop.secret.as_str());
        let before = app.call(Method::GET, &path, as_shop, None).await.json()["entries"]["invoice"].clone();
        let changed_ts = before["value_changed_ts"].as_f64().unwrap();

        app.clock.advance_millis(1_500);
        let config_only = app
            .call(Method::PATCH, &path, as_shop, Some(json!({"entries": {"invoice": {"visibility": "false"}}})))
            .await;
        assert_eq!(config_only.status.as_u16(), 200, "{}", config_only.text());
        let invoice = &config_only.json()["entries"]["invoice"];
        assert_eq!(invoice["value_changed_ts"].as_f64(), Some(changed_ts));
        assert!(invoice["entry_updated_ts"].as_f64().unwrap() > changed_ts);
        assert_eq!(invoice["visibility"], "false");

        // A stale condition changes nothing; the current one lets the write through.
        let stale = json!({"entries": {"invoice": {"value": {"total": 99}}}, "conditions": {"invoice": "value_changed_ts == 1.5"}});
        app.call(Method::PATCH, &format!("{path}/value"), as_shop, Some(stale)).await.assert_tt_error(400, 400_592);
        let unchanged = app.call(Method::GET, &format!("{path}/value"), as_shop, None).await.json();
        assert_eq!(unchanged["entries"]["invoice"]["value"]["total"], 120.5);
        let current = json!({"entries": {"invoice": {"value": {"total": 99}}}, "conditions": {"invoice": format!("value_changed_ts == {changed_ts}")}});
        let updated = app.call(Method::PATCH, &format!("{path}/value"), as_shop, Some(current)).await;
        assert_eq!(updated.status.as_u16(), 200, "{}", updated.text());
        assert_eq!(updated.json()["entries"]["invoice"]["value"]["total"], 99);
        assert!(updated.json()["entries"]["invoice"]["value_changed_ts"].as_f64().unwrap() > changed_ts);

        let deleted = app.call(Method::DELETE, &format!("{path}?entries=invoice"), as_shop, None).await;
        assert_eq!(deleted.status.as_u16(), 200);
        assert_eq!(entry_names(&deleted.json()), ["invoice"]);
        let remaining = app.call(Method::GET, &path, as_shop, None).await.json();
        assert_eq!(entry_names(&remaining), ["delivery_address"]);
    }

    async fn bad_entry_writes_are_refused_with_their_subcodes_and_change_nothing(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let as_shop = Some(shop.secret.as_str());
        let cases = [
            (json!({"entries": {"Bad Name": {"value": 1}}}), 400, 400_589),
            (json!({"entries": {"e": {"value": 1, "ref": {"source": "twin://a/b/c"}}}}), 400, 400_589),
            (json!({"entries": {"e": {"value": 1, "visibility": "account =="}}}), 400, 400_589),
            (json!({"entries": {"e": {"value": 1, "history": "7X"}}}), 400, 400_589),
            (json!({"entries": {"e": {"value": 1, "colour": "red"}}}), 400, 400_589),
            (json!({"entries": {"invoice": {"value": 1}}}), 400, 400_358),
            (json!({"entries": {"e": {"value": "x".repeat(70_000)}}}), 400, 400_141),
            (json!({"entries": {"e": {"value": 1}}, "conditions": {"e": "entry_value != null"}}), 400, 400_592),
        ];
        let before = app.call(Method::GET, &path, as_shop, None).await.json();
        for (body, status, subcode) in cases {
            let reply = app.call(Method::POST, &path, as_shop, Some(body.clone())).await;
            reply.assert_tt_error(status, subcode);
        }
        // Near the 64 kB ledger limit: one entry fits, the next one would not.
        let big = "y".repeat(40_000);
        let first = app.call(Method::POST, &path, as_shop, Some(json!({"entries": {"big_one": {"value": big}}}))).await;
        assert_eq!(first.status.as_u16(), 201);
        app.call(Method::POST, &path, as_shop, Some(json!({"entries": {"big_two": {"value": "z".repeat(30_000)}}})))
            .await
            .assert_tt_error(400, 400_141);
        app.call(Method::PATCH, &path, as_shop, Some(json!({"entries": {"missing": {"value": 1}}})))
            .await
            .assert_tt_error(404, 404_653);
        app.call(Method::DELETE, &path, as_shop, None).await.assert_tt_error(400, 400_589);
        app.call(Method::GET, &format!("/twins/{order}/ledgers/somebody"), as_shop, None)
            .await
            .assert_tt_error(400, 400_589);
        let after = app.call(Method::GET, &path, as_shop, None).await.json();
        assert_eq!(after["entries"]["invoice"], before["entries"]["invoice"]);
        assert!(after["entries"].get("e").is_none());
        assert!(after["entries"].get("big_two").is_none());
    }

    async fn terminated_twins_still_accept_entries_and_hidden_twins_refuse_them(app) {
        let Story { shop, courier, order } = story(&app).await;
        app.call(Method::DELETE, &format!("/twins/{order}"), Some(&shop.secret), None).await;
        let added = app
            .call(Method::POST, &format!("/twins/{order}/ledgers/personal"), Some(&courier.secret), Some(json!({"entries": {"delivered": {"value": true}}})))
            .await;
        assert_eq!(added.status.as_u16(), 201, "{}", added.text());
        let secret_twin = app
            .call(Method::POST, "/twins", Some(&shop.secret), Some(json!({"description": {"kind": "internal"}})))
            .await
            .json()["creation_certificate"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::POST, &format!("/twins/{secret_twin}/ledgers/personal"), Some(&courier.secret), Some(json!({"entries": {"x": {"value": 1}}})))
            .await
            .assert_tt_error(403, 403_535);
        app.call(Method::GET, &format!("/twins/{secret_twin}/ledgers/owner"), Some(&courier.secret), None)
            .await
            .assert_tt_error(403, 403_535);
    }
}
