//! `ref` and `include` entries: resolved at read time as the reader, so nothing invisible
//! leaks through them; cycles and long chains are reported through `ref.status`.

use axum::http::Method;
use serde_json::{json, Value};

use super::ledgers::{story, Story};
use super::{TestAccount, TestApp};

async fn add(app: &TestApp, who: &TestAccount, twin: &str, entries: Value) {
    let reply = app
        .call(
            Method::POST,
            &format!("/twins/{twin}/ledgers/personal"),
            Some(&who.secret),
            Some(json!({ "entries": entries })),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
}

async fn read(app: &TestApp, who: &TestAccount, twin: &str, ledger: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/twins/{twin}/ledgers/{ledger}"),
            Some(&who.secret),
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    reply.json()
}

async fn new_twin(app: &TestApp, who: &TestAccount) -> String {
    app.call(
        Method::POST,
        "/twins",
        Some(&who.secret),
        Some(json!({"description": {"kind": "order"}})),
    )
    .await
    .json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

api_tests! {
    async fn references_resolve_as_the_reader_and_never_leak(app) {
        let Story { shop, courier, order } = story(&app).await;
        add(&app, &courier, &order, json!({
            "delivery_status": {"value": "picked up", "visibility": "true"},
        })).await;
        let courier_status = format!("twin://{order}/{}/delivery_status", courier.account);
        let own_invoice = format!("twin://{order}/{}/invoice", shop.account);
        add(&app, &shop, &order, json!({
            "courier_status": {"ref": {"source": courier_status}},
            // Visible to the courier, but it points at the shop's private invoice.
            "invoice_copy": {"ref": {"source": own_invoice}, "visibility": "true"},
        })).await;

        // The shop sees the courier's status through its reference, and its own invoice.
        let shops = read(&app, &shop, &order, "personal").await;
        let status = &shops["entries"]["courier_status"];
        assert_eq!(status["value"], "picked up");
        assert_eq!(status["ref"], json!({"source": courier_status, "status": "ok"}));
        assert_eq!(shops["entries"]["invoice_copy"]["value"]["total"], 120.5);

        // The courier sees the reference entry (its visibility is true) but not what it points
        // at: the shop's invoice is not visible to the courier.
        let courier_view = read(&app, &courier, &order, "owner").await;
        let copy = &courier_view["entries"]["invoice_copy"];
        assert_eq!(copy["value"], Value::Null);
        assert_eq!(copy["ref"]["status"], "no_access");
        assert!(!courier_view.to_string().contains("120.5"), "{courier_view}");
        let values = app.call(
            Method::GET,
            &format!("/twins/{order}/ledgers/owner/value?entries=invoice_copy"),
            Some(&courier.secret),
            None,
        ).await;
        assert_eq!(values.json()["entries"]["invoice_copy"], json!({
            "value": null,
            "entry_created_ts": copy["entry_created_ts"],
            "entry_updated_ts": copy["entry_updated_ts"],
            "value_changed_ts": copy["value_changed_ts"],
        }));

        // A reference of the courier's own pointing at the shop's entries: the visible address
        // resolves, the private invoice does not, and a missing foreign entry looks the same.
        add(&app, &courier, &order, json!({
            "address": {"ref": {"source": format!("twin://{order}/{}/delivery_address", shop.account)}},
            "peek": {"ref": {"source": own_invoice}},
            "ghost": {"ref": {"source": format!("twin://{order}/{}/no_such_entry", shop.account)}},
            "mine_missing": {"ref": {"source": format!("twin://{order}/{}/no_such_entry", courier.account)}},
            "no_twin": {"ref": {"source": format!("twin://{}/{}/x", uuid_like(), shop.account)}},
        })).await;
        let couriers = read(&app, &courier, &order, "personal").await;
        let status_of = |name: &str| couriers["entries"][name]["ref"]["status"].clone();
        assert_eq!(couriers["entries"]["address"]["value"]["city"], "Gdansk");
        assert_eq!(status_of("address"), "ok");
        assert_eq!(status_of("peek"), "no_access");
        assert_eq!(status_of("ghost"), "no_access");
        assert_eq!(status_of("mine_missing"), "not_found");
        assert_eq!(status_of("no_twin"), "not_found");
        assert!(!couriers.to_string().contains("120.5"), "{couriers}");
    }

    async fn value_changed_ts_follows_the_source_and_includes_read_the_own_account(app) {
        let Story { shop, order, .. } = story(&app).await;
        let settings = new_twin(&app, &shop).await;
        add(&app, &shop, &settings, json!({"rates": {"value": {"eur": 4.3}}})).await;
        app.clock.advance_millis(5_000);
        add(&app, &shop, &order, json!({
            "rates": {"include": {"source": format!("twin://{settings}/rates")}},
        })).await;
        let shops = read(&app, &shop, &order, "personal").await;
        let rates = &shops["entries"]["rates"];
        assert_eq!(rates["value"], json!({"eur": 4.3}));
        assert_eq!(rates["include"]["status"], "ok");
        let source = read(&app, &shop, &settings, "personal").await;
        assert_eq!(rates["value_changed_ts"], source["entries"]["rates"]["value_changed_ts"]);
        assert!(rates["entry_created_ts"].as_f64() > rates["value_changed_ts"].as_f64());
    }

    async fn cycles_and_chains_longer_than_eight_hops_are_reported(app) {
        let Story { shop, order, .. } = story(&app).await;
        let source = |name: &str| json!({"ref": {"source": format!("twin://{order}/{}/{name}", shop.account)}});
        // a → b → a
        add(&app, &shop, &order, json!({"a": source("b"), "b": source("a"), "selfish": source("selfish")})).await;
        // c0 → c1 → … → c8 (a value): 8 hops resolve; d0 → … → d9 (a value): 9 hops do not.
        let mut entries = serde_json::Map::new();
        for hop in 0..8 {
            entries.insert(format!("c{hop}"), source(&format!("c{}", hop + 1)));
        }
        entries.insert("c8".to_owned(), json!({"value": "end"}));
        for hop in 0..9 {
            entries.insert(format!("d{hop}"), source(&format!("d{}", hop + 1)));
        }
        entries.insert("d9".to_owned(), json!({"value": "end"}));
        add(&app, &shop, &order, Value::Object(entries)).await;

        let shops = read(&app, &shop, &order, "personal").await;
        let entry = |name: &str| shops["entries"][name].clone();
        for name in ["a", "b", "selfish"] {
            assert_eq!(entry(name)["ref"]["status"], "cycle", "{name}");
            assert_eq!(entry(name)["value"], Value::Null);
        }
        assert_eq!(entry("c0")["ref"]["status"], "ok");
        assert_eq!(entry("c0")["value"], "end");
        assert_eq!(entry("d0")["ref"]["status"], "too_deep");
        assert_eq!(entry("d0")["value"], Value::Null);
        assert_eq!(entry("d1")["ref"]["status"], "ok", "d1 is 8 hops from its value");
    }

    async fn bad_sources_and_type_changes_are_refused(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let good = format!("twin://{order}/{}/invoice", shop.account);
        add(&app, &shop, &order, json!({"link": {"ref": {"source": good}}})).await;
        let cases = [
            (Method::POST, json!({"x": {"ref": {"source": "http://example.com"}}}), 400, 400_589),
            (Method::POST, json!({"x": {"ref": {"source": format!("twin://{order}/invoice")}}}), 400, 400_589),
            (Method::POST, json!({"x": {"include": {"source": good.clone()}}}), 400, 400_589),
            (Method::POST, json!({"x": {"ref": {"source": good.clone()}, "value": 1}}), 400, 400_589),
            (Method::POST, json!({"x": {"ref": {}}}), 400, 400_589),
            (Method::PATCH, json!({"link": {"value": 1}}), 400, 400_897),
            (Method::PATCH, json!({"link": {"include": {"source": format!("twin://{order}/invoice")}}}), 400, 400_897),
            (Method::PATCH, json!({"invoice": {"ref": {"source": good.clone()}}}), 400, 400_897),
        ];
        for (method, entries, status, subcode) in cases {
            let reply = app.call(method.clone(), &path, Some(&shop.secret), Some(json!({"entries": entries}))).await;
            reply.assert_tt_error(status, subcode);
        }
        let values = app.call(
            Method::PATCH,
            &format!("{path}/value"),
            Some(&shop.secret),
            Some(json!({"entries": {"link": {"value": 1}}})),
        ).await;
        values.assert_tt_error(400, 400_897);
        // Nothing changed, and the reference can be re-pointed.
        let retarget = format!("twin://{order}/{}/delivery_address", shop.account);
        let patched = app.call(
            Method::PATCH,
            &path,
            Some(&shop.secret),
            Some(json!({"entries": {"link": {"ref": {"source": retarget}}}})),
        ).await;
        assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
        assert_eq!(patched.json()["entries"]["link"]["value"]["city"], "Gdansk");
        let hidden = app.call(
            Method::GET,
            &format!("{path}?show_references=false"),
            Some(&shop.secret),
            None,
        ).await;
        assert!(hidden.json()["entries"].get("link").is_none());
    }

    async fn a_write_answer_resolves_references_as_a_read_would(app) {
        let Story { shop, order, .. } = story(&app).await;
        // The shop's user gets a role whose entry rule hides `invoice` from itself.
        let role = app
            .call(
                Method::POST,
                "/roles",
                Some(&shop.secret),
                Some(json!({"name": "Clerk", "rules": {"twin_rule": "true", "entry_rule": "entry_name != 'invoice'"}})),
            )
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::PATCH, &format!("/users/{}", shop.user), Some(&shop.secret), Some(json!({"role": role}))).await;
        let peek = json!({"peek": {"ref": {"source": format!("twin://{order}/{}/invoice", shop.account)}}});
        let reply = app
            .call(Method::POST, &format!("/twins/{order}/ledgers/personal"), Some(&shop.secret), Some(json!({"entries": peek})))
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["entries"]["peek"]["ref"]["status"], "no_access", "{body}");
        assert!(!reply.text().contains("120.5"), "{body}");
    }

    async fn one_read_follows_references_into_at_most_64_other_ledgers(app) {
        let Story { shop, order, .. } = story(&app).await;
        let mut entries = serde_json::Map::new();
        for index in 0..70 {
            let twin = new_twin(&app, &shop).await;
            add(&app, &shop, &twin, json!({"n": {"value": index}})).await;
            entries.insert(format!("r{index:02}"), json!({"ref": {"source": format!("twin://{twin}/{}/n", shop.account)}}));
        }
        add(&app, &shop, &order, Value::Object(entries)).await;
        let shops = read(&app, &shop, &order, "personal").await;
        let statuses: Vec<String> = (0..70)
            .map(|index| shops["entries"][format!("r{index:02}")]["ref"]["status"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(statuses.iter().filter(|status| *status == "ok").count(), 64, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|status| *status == "too_many_sources").count(), 6);
        assert_eq!(shops["entries"]["r00"]["value"], 0);
    }

    async fn references_keep_no_history_and_rules_hold_no_nul(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let source = format!("twin://{order}/{}/invoice", shop.account);
        let with_history = json!({"entries": {"link": {"ref": {"source": source}, "history": "7D"}}});
        app.call(Method::POST, &path, Some(&shop.secret), Some(with_history)).await.assert_tt_error(400, 400_897);
        add(&app, &shop, &order, json!({"link": {"ref": {"source": source}}})).await;
        let patch = json!({"entries": {"link": {"history": "7D"}}});
        app.call(Method::PATCH, &path, Some(&shop.secret), Some(patch)).await.assert_tt_error(400, 400_897);

        // NUL inside a rule's string literal is refused everywhere rules are written.
        let nul_rule = "account == 'a\u{0}b'";
        let cases = [
            (Method::POST, path.clone(), json!({"entries": {"x": {"value": 1, "visibility": nul_rule}}})),
            (Method::POST, format!("/twins/{order}/identities"), json!({"identities": {"RFID#nul": {"visibility": nul_rule}}})),
            (Method::POST, "/roles".to_owned(), json!({"name": "Nul", "rules": {"twin_rule": nul_rule}})),
        ];
        for (method, target, body) in cases {
            app.call(method, &target, Some(&shop.secret), Some(body)).await.assert_tt_error(400, 400_589);
        }
        let identities = app.call(Method::GET, &format!("/twins/{order}/identities"), Some(&shop.secret), None).await;
        assert_eq!(identities.status.as_u16(), 200, "{}", identities.text());
        assert!(!identities.text().contains("RFID#nul"));
    }
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().to_string()
}
