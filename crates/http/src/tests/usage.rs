//! Usage, the account log and traces over the Trusted Twin routes: exact counts for a fresh
//! account, isolation between users and accounts, log paging by fragment, dead letters and
//! trace stages in the log, role actions and malformed fragments.

use axum::body::Body;
use axum::http::{header, Method, Request};
use serde_json::{json, Value};
use steward_domain::{usage_bucket, Clock as _, Timestamp};

use super::{TestAccount, TestApp};

/// A callback the default policy accepts (no delivery happens in these tests).
const CALLBACK: &str = "http://93.184.216.34:8080/hook";

async fn usage_of(app: &TestApp, who: &TestAccount, user: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/usage/{user}"),
            Some(&who.secret),
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    reply.json()["usage"].clone()
}

async fn new_twin(app: &TestApp, who: &TestAccount) -> String {
    let reply = app
        .call(Method::POST, "/twins", Some(&who.secret), Some(json!({})))
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    reply.json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One page of `GET /log` (with `fragment`, when given): (fragment, messages).
async fn log_page(
    app: &TestApp,
    who: &TestAccount,
    fragment: Option<&str>,
) -> (String, Vec<String>) {
    let path = match fragment {
        Some(fragment) => format!("/log?fragment={fragment}"),
        None => "/log".to_owned(),
    };
    let reply = app.call(Method::GET, &path, Some(&who.secret), None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    let body = reply.json();
    let messages = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message.as_str().unwrap().to_owned())
        .collect();
    (body["fragment"].as_str().unwrap().to_owned(), messages)
}

/// Every message of the log, following fragments to the end.
async fn whole_log(app: &TestApp, who: &TestAccount) -> Vec<String> {
    let mut all = Vec::new();
    let mut fragment: Option<String> = None;
    loop {
        let (next, messages) = log_page(app, who, fragment.as_deref()).await;
        if messages.is_empty() {
            return all;
        }
        all.extend(messages);
        fragment = Some(next);
    }
}

api_tests! {
    async fn user_usage_counts_requests_and_operations_exactly(app) {
        let shop = app.create_account("Shop").await;
        let bucket = usage_bucket(app.clock.now());
        // Nothing yet: the current hour is always shown, empty.
        assert_eq!(usage_of(&app, &shop, &shop.user).await, json!({ bucket.clone(): {} }));

        let twin = new_twin(&app, &shop).await;
        let read = app.call(Method::GET, &format!("/twins/{twin}"), Some(&shop.secret), None).await;
        assert_eq!(read.status.as_u16(), 200, "{}", read.text());
        let identities = app
            .call(
                Method::POST,
                &format!("/twins/{twin}/identities"),
                Some(&shop.secret),
                Some(json!({"identities": {"RFID#1": {}, "RFID#2": {}}})),
            )
            .await;
        assert_eq!(identities.status.as_u16(), 201, "{}", identities.text());
        let again = app
            .call(
                Method::POST,
                &format!("/twins/{twin}/identities"),
                Some(&shop.secret),
                Some(json!({"identities": {"RFID#2": {}, "RFID#3": {}}})),
            )
            .await;
        assert_eq!(again.status.as_u16(), 201, "{}", again.text());
        let terminated = app.call(Method::DELETE, &format!("/twins/{twin}"), Some(&shop.secret), None).await;
        assert_eq!(terminated.status.as_u16(), 200, "{}", terminated.text());
        let refused = app.call(Method::DELETE, &format!("/twins/{twin}"), Some(&shop.secret), None).await;
        assert_eq!(refused.status.as_u16(), 400, "{}", refused.text());
        // Unauthenticated requests count for nobody.
        assert_eq!(app.call(Method::GET, "/account", Some("wrong"), None).await.status.as_u16(), 401);

        // 1 usage read + 1 twin read = 2 reads; create, 2 identity posts, 2 deletes = 5 writes.
        let counters = json!({
            "request_count": 7, "rest_count": 7, "db_read_cost": 2, "db_write_cost": 5,
            "twins_created": 1, "twins_terminated": 1, "identities_added": 3,
        });
        assert_eq!(usage_of(&app, &shop, &shop.user).await, json!({ bucket.clone(): counters }));

        // An hour later the previous hour is shown with the current one; two hours later only
        // the current (empty) one, as the previous hour had no usage.
        app.clock.advance_millis(3_600_000);
        let next_bucket = usage_bucket(app.clock.now());
        let later = usage_of(&app, &shop, &shop.user).await;
        assert_eq!(later[&bucket]["request_count"], 8, "{later}");
        assert_eq!(later[&next_bucket], json!({}), "{later}");
        app.clock.advance_millis(7_200_000);
        let much_later = usage_of(&app, &shop, &shop.user).await;
        assert_eq!(much_later, json!({ usage_bucket(app.clock.now()): {} }));

        // Account-level usage holds what no user caused: webhook deliveries.
        let account = app.call(Method::GET, "/usage", Some(&shop.secret), None).await;
        assert_eq!(account.status.as_u16(), 200, "{}", account.text());
        assert_eq!(account.json(), json!({"usage": { usage_bucket(app.clock.now()): {} }}));
        let shop_id: steward_domain::AccountId = shop.account.parse().unwrap();
        app.steward.record_webhook_delivered(shop_id);
        app.steward.record_webhook_delivered(shop_id);
        let account = app.call(Method::GET, "/usage", Some(&shop.secret), None).await;
        assert_eq!(
            account.json(),
            json!({"usage": { usage_bucket(app.clock.now()): {"task_publish_topic_count": 2} }})
        );
    }

    async fn usage_is_isolated_between_users_and_accounts(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let (_, clerk, clerk_secret) = app
            .user_with_statement(&shop, json!({"effect": "allow", "actions": ["get_user_usage", "get_twin"]}))
            .await;
        let clerk_account = TestAccount { secret: clerk_secret, ..shop.clone() };
        let bucket = usage_bucket(app.clock.now());
        for _ in 0..3 {
            app.call(Method::GET, "/account", Some(&courier.secret), None).await;
        }
        // The clerk reads its own usage and its admin's; the courier's user is not found.
        assert_eq!(usage_of(&app, &clerk_account, &clerk).await, json!({ bucket.clone(): {} }));
        let foreign = app
            .call(Method::GET, &format!("/usage/{}", courier.user), Some(&clerk_account.secret), None)
            .await;
        foreign.assert_tt_error(404, 404_653);
        let missing = app
            .call(Method::GET, "/usage/7b75d119-2d82-435b-9957-25c30cfee101", Some(&shop.secret), None)
            .await;
        missing.assert_tt_error(404, 404_653);
        let malformed = app.call(Method::GET, "/usage/not-a-uuid", Some(&shop.secret), None).await;
        malformed.assert_tt_error(400, 400_589);
        // clerk: 1 read of its own usage (answered before it was counted), 1 refused read.
        assert_eq!(
            usage_of(&app, &shop, &clerk).await,
            json!({ bucket.clone(): {"request_count": 2, "rest_count": 2, "db_read_cost": 2} })
        );
        assert_eq!(
            usage_of(&app, &courier, &courier.user).await,
            json!({ bucket.clone(): {"request_count": 3, "rest_count": 3, "db_read_cost": 3} })
        );
        let courier_account = app.call(Method::GET, "/usage", Some(&courier.secret), None).await;
        assert_eq!(courier_account.json(), json!({"usage": { bucket.clone(): {} }}));
    }

    async fn usage_log_and_trace_need_their_actions(app) {
        let shop = app.create_account("Shop").await;
        let (_, user, secret) = app
            .user_with_statement(&shop, json!({"effect": "allow", "actions": ["get_twin"]}))
            .await;
        for (method, path) in [
            (Method::GET, "/usage".to_owned()),
            (Method::GET, format!("/usage/{user}")),
            (Method::GET, "/log".to_owned()),
            (Method::POST, "/trace".to_owned()),
        ] {
            let reply = app.call(method, &path, Some(&secret), None).await;
            reply.assert_tt_error(403, 403_535);
        }
        for (method, path) in [(Method::GET, "/usage"), (Method::GET, "/log"), (Method::POST, "/trace")] {
            app.call(method, path, None, None).await.assert_tt_error(401, 401_000);
        }
        // A refused trace logs nothing.
        assert!(whole_log(&app, &shop).await.is_empty());
    }

    async fn log_pages_by_fragment_oldest_first(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let shop_id: steward_domain::AccountId = shop.account.parse().unwrap();
        let now = app.clock.now();
        let texts: Vec<String> = (0..250).map(|index| format!("message {index:03}")).collect();
        for chunk in texts.chunks(60) {
            let batch: Vec<(Timestamp, String)> = chunk.iter().map(|text| (now, text.clone())).collect();
            app.steward.store().append_account_log(shop_id, &batch).await.unwrap();
        }
        let (first, page) = log_page(&app, &shop, None).await;
        assert_eq!(page, texts[..100].to_vec());
        let (second, page) = log_page(&app, &shop, Some(&first)).await;
        assert_eq!(page, texts[100..200].to_vec());
        // A fragment is stable: asking again gives the same page.
        assert_eq!(log_page(&app, &shop, Some(&first)).await, (second.clone(), texts[100..200].to_vec()));
        let (third, page) = log_page(&app, &shop, Some(&second)).await;
        assert_eq!(page, texts[200..].to_vec());
        let (end, page) = log_page(&app, &shop, Some(&third)).await;
        assert!(page.is_empty());
        assert_eq!(end, third, "an empty page keeps the fragment");
        // New messages appear after the fragment, none lost.
        app.steward.store().append_account_log(shop_id, &[(now, "late".to_owned())]).await.unwrap();
        assert_eq!(log_page(&app, &shop, Some(&end)).await.1, vec!["late".to_owned()]);
        // Another account's log is its own.
        assert_eq!(log_page(&app, &courier, None).await.1, Vec::<String>::new());

        for bad in ["nonsense!", "MTIz", "%20"] {
            let reply = app.call(Method::GET, &format!("/log?fragment={bad}"), Some(&shop.secret), None).await;
            reply.assert_tt_error(400, 400_589);
        }
        let unknown = app.call(Method::GET, "/log?cursor=x", Some(&shop.secret), None).await;
        unknown.assert_tt_error(400, 400_589);

        // Housekeeping forgets messages after 7 days.
        app.clock.advance_millis((7 * 24 * 3_600 + 1) * 1000);
        app.steward.housekeeping().await.unwrap();
        assert!(whole_log(&app, &shop).await.is_empty());
    }

    async fn dead_lettered_webhook_messages_are_logged_for_the_subscriber(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let subscribed = app
            .call(
                Method::POST,
                "/notifications/webhooks",
                Some(&shop.secret),
                Some(json!({"callback_url": CALLBACK, "topic": "orders"})),
            )
            .await;
        assert_eq!(subscribed.status.as_u16(), 201, "{}", subscribed.text());
        let now = app.clock.now();
        let store = app.steward.store();
        let claimed = store.claim_deliveries(now, now.plus_millis(30_000), 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].topic_account.to_string(), shop.account);
        let message = claimed[0].delivery.message;
        store
            .dead_letter_delivery(message, Some(claimed[0].lease_until), "given up after 15 attempts: the receiver answered 500", now)
            .await
            .unwrap();
        let expected = format!(
            "{} Webhook message {message} for topic 'orders' dead-lettered: given up after 15 attempts: the receiver answered 500.",
            steward_domain::iso8601_utc(now)
        );
        assert_eq!(whole_log(&app, &shop).await, vec![expected]);
        assert!(whole_log(&app, &courier).await.is_empty());
    }

    async fn trace_answers_at_once_and_logs_its_stages(app) {
        let shop = app.create_account("Shop").await;
        let request = Request::builder()
            .method(Method::POST)
            .uri("/trace")
            .header(header::AUTHORIZATION, &shop.secret)
            .header("x-request-id", "5f0c1c1e-5d7b-4f7e-9d43-1c2b3a4d5e6f")
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        assert_eq!(reply.json(), json!({}));

        // The task runs on its own; wait (bounded) until its last stage is logged.
        let mut messages = Vec::new();
        for _ in 0..500 {
            messages = whole_log(&app, &shop).await;
            if messages.iter().any(|message| message.contains(" completed: ")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let stages: Vec<&str> = messages
            .iter()
            .map(|message| {
                let rest = message
                    .split_once(" INFO trace 5f0c1c1e-5d7b-4f7e-9d43-1c2b3a4d5e6f ")
                    .unwrap_or_else(|| panic!("not a trace message: {message}"))
                    .1;
                rest.split_once(": ").unwrap().0
            })
            .collect();
        assert_eq!(stages, ["received", "store", "webhooks", "audit", "completed"], "{messages:?}");
        assert!(messages[0].starts_with(&steward_domain::iso8601_utc(app.clock.now())[..11]), "{messages:?}");
        assert!(messages[1].contains("reachable, round trip"), "{messages:?}");
        assert!(messages[2].contains("0 webhook message(s) waiting"), "{messages:?}");
    }
}
