//! Entry history over the Trusted Twin routes: one record per value change, newest first,
//! bounds, retention driven by the clock, purges, and what a foreign reader is told.

use axum::http::Method;
use serde_json::{json, Value};

use super::ledgers::{story, Story};
use super::TestApp;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Writes `value` to the caller's entry `name` on `twin` through the value route.
async fn set_value(app: &TestApp, secret: &str, twin: &str, name: &str, value: Value) {
    let reply = app
        .call(
            Method::PATCH,
            &format!("/twins/{twin}/ledgers/personal/value"),
            Some(secret),
            Some(json!({"entries": {name: {"value": value}}})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
}

async fn history(app: &TestApp, secret: &str, path: &str) -> Value {
    let reply = app.call(Method::GET, path, Some(secret), None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    reply.json()
}

/// The values of one entry's history, in the order the body lists them.
fn values_in_order(text: &str, entry: &str) -> Vec<Value> {
    // The body keeps newest-first order, which a parsed map would lose; read it in order.
    let body: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
    let records = body["entries"][entry].as_object().unwrap().clone();
    let mut keyed: Vec<(usize, Value)> = records
        .iter()
        .map(|(key, value)| (text.find(&format!("\"{key}\"")).unwrap(), value.clone()))
        .collect();
    keyed.sort_by_key(|(position, _)| *position);
    keyed.into_iter().map(|(_, value)| value).collect()
}

api_tests! {
    async fn value_changes_are_recorded_newest_first_and_foreign_readers_see_only_visible_entries(app) {
        let Story { shop, courier, order } = story(&app).await;
        // `invoice` keeps 3M of history; it was created with {"total": 120.5}.
        app.clock.advance_millis(1_000);
        set_value(&app, &shop.secret, &order, "invoice", json!({"total": 99})).await;
        app.clock.advance_millis(1_000);
        set_value(&app, &shop.secret, &order, "invoice", json!({"total": 99})).await;
        app.clock.advance_millis(1_000);
        set_value(&app, &shop.secret, &order, "invoice", json!({"total": 80})).await;

        let path = format!("/twins/{order}/ledgers/personal/history?entries=invoice");
        let reply = app.call(Method::GET, &path, Some(&shop.secret), None).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
        assert_eq!(
            values_in_order(&reply.text(), "invoice"),
            [json!({"total": 80}), json!({"total": 99}), json!({"total": 120.5})],
            "one record per change, an identical write records nothing, newest first"
        );
        let keys: Vec<f64> = reply.json()["entries"]["invoice"].as_object().unwrap().keys()
            .map(|key| key.parse().unwrap()).collect();
        assert_eq!(keys.len(), 3, "timestamps are the keys: {keys:?}");
        assert_eq!(reply.text().matches("{\"total\"").count(), 3, "{}", reply.text());

        // Without `entries`, every visible entry that keeps history.
        let all = history(&app, &shop.secret, &format!("/twins/{order}/ledgers/personal/history")).await;
        assert_eq!(all["entries"].as_object().unwrap().keys().collect::<Vec<_>>(), ["invoice"]);

        // The courier: invoice is private, `nope` does not exist: both "Entry not accessible.";
        // delivery_address is visible but keeps no history.
        let foreign = history(
            &app,
            &courier.secret,
            &format!("/twins/{order}/ledgers/owner/history?entries=invoice,nope,delivery_address"),
        ).await;
        assert_eq!(foreign, json!({"entries": {
            "invoice": "Entry not accessible.",
            "nope": "Entry not accessible.",
            "delivery_address": {},
        }}));
        let foreign_all = history(&app, &courier.secret, &format!("/twins/{order}/ledgers/owner/history")).await;
        assert_eq!(foreign_all, json!({"entries": {}}), "no invisible entry is listed");
        assert!(!foreign_all.to_string().contains("120.5"));
    }

    async fn history_bounds_limit_and_bad_queries(app) {
        let Story { shop, order, .. } = story(&app).await;
        let start = steward_domain::Clock::now(app.clock.as_ref()).as_millis();
        for total in 1..=4 {
            app.clock.advance_millis(1_000);
            set_value(&app, &shop.secret, &order, "invoice", json!(total)).await;
        }
        let seconds = |millis: i64| (start + millis) as f64 / 1000.0;
        let bounded = format!(
            "/twins/{order}/ledgers/personal/history?entries=invoice&ge={}&le={}",
            seconds(2_000), seconds(3_000)
        );
        let body = history(&app, &shop.secret, &bounded).await;
        let mut values: Vec<Value> = body["entries"]["invoice"].as_object().unwrap().values().cloned().collect();
        values.sort_by_key(|value| value.as_i64());
        assert_eq!(values, [json!(2), json!(3)]);
        let limited = app.call(
            Method::GET,
            &format!("/twins/{order}/ledgers/personal/history?entries=invoice&limit=2"),
            Some(&shop.secret),
            None,
        ).await;
        assert_eq!(values_in_order(&limited.text(), "invoice"), [json!(4), json!(3)]);

        for bad in ["limit=0", "limit=1001", "limit=x", "ge=yesterday", "le=", "since=1"] {
            let reply = app.call(
                Method::GET,
                &format!("/twins/{order}/ledgers/personal/history?{bad}"),
                Some(&shop.secret),
                None,
            ).await;
            reply.assert_tt_error(400, 400_589);
        }
    }

    async fn retention_follows_the_clock_and_housekeeping_prunes(app) {
        let Story { shop, order, .. } = story(&app).await;
        let added = app.call(
            Method::POST,
            &format!("/twins/{order}/ledgers/personal"),
            Some(&shop.secret),
            Some(json!({"entries": {"gps": {"value": 1, "history": "1D"}}})),
        ).await;
        assert_eq!(added.status.as_u16(), 201, "{}", added.text());
        app.clock.advance_millis(HOUR);
        set_value(&app, &shop.secret, &order, "gps", json!(2)).await;
        app.clock.advance_millis(HOUR);
        set_value(&app, &shop.secret, &order, "gps", json!(3)).await;
        let path = format!("/twins/{order}/ledgers/personal/history?entries=gps");
        let values = |body: Value| -> Vec<Value> {
            let mut values: Vec<Value> = body["entries"]["gps"].as_object().unwrap().values().cloned().collect();
            values.sort_by_key(|value| value.as_i64());
            values
        };
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(1), json!(2), json!(3)]);

        // A day after the first record, it has expired; before housekeeping runs it is already
        // hidden, and housekeeping then deletes exactly it.
        app.clock.advance_millis(DAY - 2 * HOUR + 1);
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(2), json!(3)]);
        let report = app.steward.housekeeping().await.unwrap();
        assert_eq!(report.history_records, 1);
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(2), json!(3)]);

        // A longer retention re-computes expiry of the stored records.
        let patched = app.call(
            Method::PATCH,
            &format!("/twins/{order}/ledgers/personal"),
            Some(&shop.secret),
            Some(json!({"entries": {"gps": {"history": "1W"}}})),
        ).await;
        assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
        app.clock.advance_millis(2 * DAY);
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(2), json!(3)]);

        // Turning history off drops the records; turning it on starts afresh.
        for setting in [Value::Null, json!("INF")] {
            let patched = app.call(
                Method::PATCH,
                &format!("/twins/{order}/ledgers/personal"),
                Some(&shop.secret),
                Some(json!({"entries": {"gps": {"history": setting}}})),
            ).await;
            assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
        }
        assert_eq!(history(&app, &shop.secret, &path).await, json!({"entries": {"gps": {}}}));
        set_value(&app, &shop.secret, &order, "gps", json!(4)).await;
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(4)]);

        // Deleting the entry deletes its history; re-adding it does not bring it back.
        let deleted = app.call(
            Method::DELETE,
            &format!("/twins/{order}/ledgers/personal?entries=gps"),
            Some(&shop.secret),
            None,
        ).await;
        assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
        assert_eq!(
            history(&app, &shop.secret, &path).await,
            json!({"entries": {"gps": "Entry not accessible."}})
        );
        app.call(
            Method::POST,
            &format!("/twins/{order}/ledgers/personal"),
            Some(&shop.secret),
            Some(json!({"entries": {"gps": {"value": 5, "history": "INF"}}})),
        ).await;
        assert_eq!(values(history(&app, &shop.secret, &path).await), [json!(5)]);
    }
}
