//! Ledger writes with a client `transaction` id: a retry answers the first result and writes
//! nothing again, even when the retries race; the same id for another request is refused.

use axum::http::Method;
use serde_json::{json, Value};

use super::ledgers::{story, Story};

fn entry_names(body: &Value) -> Vec<String> {
    body["entries"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

api_tests! {
    async fn a_retried_write_with_a_transaction_id_answers_the_first_result(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let add = json!({"entries": {"parcel": {"value": {"kg": 2}}}, "transaction": "order-1-parcel"});
        let first = app.call(Method::POST, &path, Some(&shop.secret), Some(add.clone())).await;
        assert_eq!(first.status.as_u16(), 201, "{}", first.text());
        app.clock.advance_millis(1_000);
        let retry = app.call(Method::POST, &path, Some(&shop.secret), Some(add.clone())).await;
        assert_eq!(retry.status.as_u16(), 201, "a retry is not 'already exists': {}", retry.text());
        assert_eq!(retry.json(), first.json(), "the first answer, timestamps included");

        // The same id for a different request is refused and changes nothing.
        let other = json!({"entries": {"parcel2": {"value": 1}}, "transaction": "order-1-parcel"});
        app.call(Method::POST, &path, Some(&shop.secret), Some(other)).await.assert_tt_error(400, 400_358);
        let stored = app.call(Method::GET, &path, Some(&shop.secret), None).await.json();
        assert!(stored["entries"].get("parcel2").is_none());

        // Deletes too: the retry answers the entries the first call deleted.
        let delete = json!({"transaction": "order-1-delete"});
        let deleted = app.call(Method::DELETE, &format!("{path}?entries=parcel"), Some(&shop.secret), Some(delete.clone())).await;
        assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
        assert_eq!(entry_names(&deleted.json()), ["parcel"]);
        let again = app.call(Method::DELETE, &format!("{path}?entries=parcel"), Some(&shop.secret), Some(delete)).await;
        assert_eq!(again.json(), deleted.json());

        // Ids are remembered for 24 hours; then housekeeping forgets them.
        app.clock.advance_millis(24 * 3_600_000 + 1);
        let report = app.steward.housekeeping().await.unwrap();
        assert_eq!(report.transactions, 2);
        let reused = json!({"entries": {"parcel": {"value": 3}}, "transaction": "order-1-parcel"});
        let fresh = app.call(Method::POST, &path, Some(&shop.secret), Some(reused)).await;
        assert_eq!(fresh.status.as_u16(), 201, "{}", fresh.text());
        assert_eq!(fresh.json()["entries"]["parcel"]["value"], 3);

        for bad in [json!(7), json!({"id": "x"}), json!(""), json!("x".repeat(129))] {
            let body = json!({"entries": {"other": {"value": 1}}, "transaction": bad});
            app.call(Method::POST, &path, Some(&shop.secret), Some(body)).await.assert_tt_error(400, 400_589);
        }
    }

    async fn concurrent_writes_with_one_transaction_id_write_once(app) {
        let Story { shop, order, .. } = story(&app).await;
        let path = format!("/twins/{order}/ledgers/personal");
        let body = json!({"entries": {"counter": {"value": 1, "history": "INF"}}, "transaction": "once"});
        let calls = (0..6).map(|_| app.call(Method::POST, &path, Some(&shop.secret), Some(body.clone())));
        let replies = futures::future::join_all(calls).await;
        let first = replies[0].json();
        for reply in &replies {
            assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
            assert_eq!(reply.json(), first);
        }
        let history = app
            .call(Method::GET, &format!("{path}/history?entries=counter"), Some(&shop.secret), None)
            .await
            .json();
        assert_eq!(history["entries"]["counter"].as_object().unwrap().len(), 1, "written once: {history}");
    }
}
