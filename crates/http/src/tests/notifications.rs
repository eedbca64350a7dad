//! Webhook subscriptions over the Trusted Twin routes: validation (internal callbacks refused),
//! the confirmation message in the outbox, confirm / refresh / unsubscribe by token without
//! credentials, expiry, and topic access grants between accounts.

use axum::http::Method;
use serde_json::{json, Value};
use steward_domain::Clock as _;

use super::TestApp;

/// A callback the default policy accepts (no delivery happens in these tests).
const CALLBACK: &str = "http://93.184.216.34:8080/hook";

/// Takes the due outbox messages and marks them delivered (as a dispatcher would whose
/// receiver accepts everything); returns their bodies.
async fn outbox(app: &TestApp) -> Vec<Value> {
    let now = app.clock.now();
    let claimed = app
        .steward
        .store()
        .claim_deliveries(now, now.plus_millis(30_000), 100)
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for claim in &claimed {
        // Delivered: the subscription's next message becomes due.
        app.steward
            .store()
            .finish_delivery(claim.delivery.message, None)
            .await
            .unwrap();
        bodies.push(serde_json::from_str(&claim.delivery.body).unwrap());
    }
    bodies
}

/// The path and query of a confirmation message's URL.
fn management_path(message: &Value) -> String {
    let url = message["confirmation_url"].as_str().unwrap();
    let path = &url[url.find("/notifications/").unwrap()..];
    path.to_owned()
}

/// Subscribes `who` to `topic` (of `account`, default its own) and confirms; returns nothing
/// but leaves the confirmation message claimed.
async fn confirmed_subscription(
    app: &TestApp,
    who: &super::TestAccount,
    topic: &str,
    account: Option<&str>,
) {
    let mut body = json!({"callback_url": CALLBACK, "topic": topic});
    if let Some(account) = account {
        body["account"] = json!(account);
    }
    let reply = app
        .call(
            Method::POST,
            "/notifications/webhooks",
            Some(&who.secret),
            Some(body),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    let messages = outbox(app).await;
    assert_eq!(messages.len(), 1, "one confirmation: {messages:?}");
    let confirmed = app
        .call(Method::GET, &management_path(&messages[0]), None, None)
        .await;
    assert_eq!(confirmed.status.as_u16(), 200, "{}", confirmed.text());
}

/// Notification messages now in the outbox, by the subscription's account... as (trigger,
/// topic, event) triples sorted for comparison.
async fn notifications(app: &TestApp) -> Vec<Value> {
    let mut messages = outbox(app).await;
    for message in &mut messages {
        assert_eq!(message["type"], "Notification", "{message}");
        let object = message.as_object_mut().unwrap();
        for volatile in ["message", "sent_ts", "twin"] {
            object.remove(volatile);
        }
        object["subscription"]
            .as_object_mut()
            .unwrap()
            .remove("validity_ts");
        // Entry events: `{name: {..., "changed_ts"}}`; sticker events hold plain fields.
        for event in object["event"].as_object_mut().unwrap().values_mut() {
            if let Some(event) = event.as_object_mut() {
                event.remove("changed_ts");
            }
        }
    }
    messages.sort_by_key(|message| message.to_string());
    messages
}

api_tests! {
    async fn subscribe_confirm_refresh_and_unsubscribe_by_token(app) {
        let shop = app.create_account("Shop").await;
        let reply = app
            .call(
                Method::POST,
                "/notifications/webhooks",
                Some(&shop.secret),
                Some(json!({"callback_url": CALLBACK, "topic": "orders", "expires": 3600})),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let subscribed = reply.json();
        assert_eq!(subscribed["subscription"]["topic"], "orders");
        assert_eq!(subscribed["subscription"]["account"], shop.account);
        assert_eq!(subscribed["callback_url"], CALLBACK);
        assert!(subscribed.get("server_secret").is_none(), "no client secret, no server secret");

        let messages = outbox(&app).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        let confirmation = &messages[0];
        assert_eq!(confirmation["type"], "SubscriptionConfirmation");
        assert!(confirmation.get("hash").is_none(), "unsigned without a client secret");
        assert_eq!(confirmation["subscription"], subscribed["subscription"]);
        let path = management_path(confirmation);
        assert!(path.starts_with(&format!("/notifications/webhooks/{}?token=", shop.account)), "{path}");

        // Refreshing before confirming is refused; confirming needs no credentials.
        app.call(Method::PATCH, &path, None, None).await.assert_tt_error(400, 400_897);
        let confirmed = app.call(Method::GET, &path, None, None).await;
        assert_eq!(confirmed.status.as_u16(), 200, "{}", confirmed.text());
        let confirmed = confirmed.json();
        assert!(confirmed["subscription"]["refresh_url"].as_str().unwrap().ends_with(&path));
        assert!(confirmed["subscription"]["unsubscribe_url"].as_str().unwrap().ends_with(&path));

        app.clock.advance_millis(1_800_000);
        let refreshed = app.call(Method::PATCH, &path, None, None).await;
        assert_eq!(refreshed.status.as_u16(), 200, "{}", refreshed.text());
        let before = subscribed["subscription"]["validity_ts"].as_f64().unwrap();
        let after = refreshed.json()["subscription"]["validity_ts"].as_f64().unwrap();
        assert!((after - before - 1_800.0).abs() < 0.01, "extended by its lifetime from now: {before} → {after}");

        // Wrong tokens, other accounts' paths and malformed input.
        let wrong = format!("/notifications/webhooks/{}?token={}", shop.account, "0".repeat(64));
        app.call(Method::GET, &wrong, None, None).await.assert_tt_error(404, 404_653);
        let other_account = path.replace(&shop.account, "00000000-0000-4000-8000-000000000000");
        app.call(Method::GET, &other_account, None, None).await.assert_tt_error(404, 404_653);
        let no_token = format!("/notifications/webhooks/{}", shop.account);
        app.call(Method::GET, &no_token, None, None).await.assert_tt_error(400, 400_589);
        app.call(Method::GET, "/notifications/webhooks/not-a-uuid?token=x", None, None)
            .await
            .assert_tt_error(400, 400_589);

        let ended = app.call(Method::DELETE, &path, None, None).await;
        assert_eq!(ended.status.as_u16(), 200, "{}", ended.text());
        assert_eq!(ended.json()["topic"], "orders");
        app.call(Method::DELETE, &path, None, None).await.assert_tt_error(404, 404_653);
        app.call(Method::GET, &path, None, None).await.assert_tt_error(404, 404_653);
    }

    async fn expired_subscriptions_cannot_be_confirmed_and_signed_ones_carry_a_hash(app) {
        let shop = app.create_account("Shop").await;
        let reply = app
            .call(
                Method::POST,
                "/notifications/webhooks",
                Some(&shop.secret),
                Some(json!({"callback_url": CALLBACK, "topic": "orders", "expires": 60,
                            "client_secret": "AbCdEfGh12345678"})),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let server_secret = reply.json()["server_secret"].as_str().unwrap().to_owned();
        assert_eq!(server_secret.len(), 16);
        let messages = outbox(&app).await;
        let hash = messages[0]["hash"].as_str().unwrap();
        assert_eq!(hash.len(), 44, "base64 of 32 bytes: {hash}");
        app.clock.advance_millis(61_000);
        let path = management_path(&messages[0]);
        app.call(Method::GET, &path, None, None).await.assert_tt_error(404, 404_653);
        // An hour after expiry, housekeeping deletes the subscription.
        assert_eq!(app.steward.housekeeping().await.unwrap().subscriptions, 0);
        app.clock.advance_millis(3_600_000);
        assert_eq!(app.steward.housekeeping().await.unwrap().subscriptions, 1);
    }

    async fn bad_subscriptions_are_refused_and_foreign_topics_need_a_grant(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let subscribe = |secret: String, body: Value| {
            let app = &app;
            async move { app.call(Method::POST, "/notifications/webhooks", Some(&secret), Some(body)).await }
        };
        for body in [
            json!({"callback_url": "http://127.0.0.1:9000/hook", "topic": "orders"}),
            json!({"callback_url": "http://localhost/hook", "topic": "orders"}),
            json!({"callback_url": "http://169.254.169.254/latest", "topic": "orders"}),
            json!({"callback_url": "http://192.168.0.10/hook", "topic": "orders"}),
            json!({"callback_url": "http://[::1]/hook", "topic": "orders"}),
            json!({"callback_url": "file:///etc/passwd", "topic": "orders"}),
            json!({"callback_url": "http://93.184.216.34/a\u{0}b", "topic": "orders"}),
            json!({"callback_url": "\u{0}http://93.184.216.34/", "topic": "orders"}),
            json!({"callback_url": " http://93.184.216.34/", "topic": "orders"}),
            json!({"callback_url": "http://[64:ff9b::a9fe:a9fe]/", "topic": "orders"}),
            json!({"callback_url": format!("https://example.com/{}", "a".repeat(512)), "topic": "orders"}),
            json!({"callback_url": CALLBACK, "topic": "o"}),
            json!({"callback_url": CALLBACK, "topic": "orders", "client_secret": "has spaces here!"}),
            json!({"callback_url": CALLBACK, "topic": "orders", "expires": 0}),
            json!({"callback_url": CALLBACK, "topic": "orders", "expires": 604_801}),
            json!({"callback_url": CALLBACK, "topic": "orders", "account": "nobody"}),
            json!({"callback_url": CALLBACK}),
            json!({"callback_url": CALLBACK, "topic": "orders", "colour": "red"}),
        ] {
            subscribe(shop.secret.clone(), body).await.assert_tt_error(400, 400_589);
        }
        assert!(outbox(&app).await.is_empty(), "nothing stored or queued");

        let foreign = json!({"callback_url": CALLBACK, "topic": "orders", "account": shop.account});
        subscribe(courier.secret.clone(), foreign.clone()).await.assert_tt_error(403, 403_535);
        let grant = |topics: Value| {
            let app = &app;
            let path = format!("/notifications/webhooks/access/accounts/{}", courier.account);
            let secret = shop.secret.clone();
            async move { app.call(Method::PATCH, &path, Some(&secret), Some(json!({"topics": topics}))).await }
        };
        let granted = grant(json!(["stickers", "orders", "orders"])).await;
        assert_eq!(granted.status.as_u16(), 200, "{}", granted.text());
        assert_eq!(granted.json(), json!({"topics": ["orders", "stickers"]}));
        let access = app.call(Method::GET, "/notifications/webhooks/access", Some(&shop.secret), None).await;
        assert_eq!(access.json(), json!({"accounts": {courier.account.clone(): {"topics": ["orders", "stickers"]}}}));
        let mine = app.call(Method::GET, "/notifications/webhooks/access", Some(&courier.secret), None).await;
        assert_eq!(mine.json(), json!({"accounts": {}}), "grants are the granting account's");
        let reply = subscribe(courier.secret.clone(), foreign.clone()).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let other_topic = json!({"callback_url": CALLBACK, "topic": "invoices", "account": shop.account});
        subscribe(courier.secret.clone(), other_topic).await.assert_tt_error(403, 403_535);
        assert_eq!(grant(json!([])).await.json(), json!({"topics": []}));
        subscribe(courier.secret.clone(), foreign).await.assert_tt_error(403, 403_535);

        grant(json!(["a b"])).await.assert_tt_error(400, 400_589);
        let unknown = app
            .call(
                Method::PATCH,
                "/notifications/webhooks/access/accounts/00000000-0000-4000-8000-000000000000",
                Some(&shop.secret),
                Some(json!({"topics": ["orders"]})),
            )
            .await;
        unknown.assert_tt_error(404, 404_653);
        let (_, _, limited) = app.user_with_statement(&shop, json!({"effect": "deny", "actions": ["webhook_subscribe", "update_notifications_account_access"]})).await;
        subscribe(limited.clone(), json!({"callback_url": CALLBACK, "topic": "orders"})).await.assert_tt_error(403, 403_535);
        app.call(Method::PATCH, &format!("/notifications/webhooks/access/accounts/{}", courier.account), Some(&limited), Some(json!({"topics": []})))
            .await
            .assert_tt_error(403, 403_535);
    }

    async fn ledger_changes_are_published_to_each_subscriber_as_far_as_it_may_read(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        confirmed_subscription(&app, &shop, "orders", None).await;
        let path = format!("/notifications/webhooks/access/accounts/{}", courier.account);
        app.call(Method::PATCH, &path, Some(&shop.secret), Some(json!({"topics": ["orders"]}))).await;
        confirmed_subscription(&app, &courier, "orders", Some(&shop.account)).await;
        let role = app
            .call(Method::POST, "/roles", Some(&courier.secret),
                  Some(json!({"name": "Partner", "rules": {"twin_rule": "true", "entry_rule": "true"}})))
            .await
            .json()["uuid"].as_str().unwrap().to_owned();
        app.call(Method::PATCH, &format!("/users/{}", courier.user), Some(&courier.secret), Some(json!({"role": role}))).await;

        let order = app
            .call(Method::POST, "/twins", Some(&shop.secret), Some(json!({"description": {"number": 7}})))
            .await
            .json()["creation_certificate"]["uuid"].as_str().unwrap().to_owned();
        let ledger = format!("/twins/{order}/ledgers/personal");
        let added = app
            .call(Method::POST, &ledger, Some(&shop.secret), Some(json!({"entries": {
                "delivery_address": {"value": "Main 1", "visibility": format!("account == '{}'", courier.account),
                                     "publish": {"orders": "true"}},
                "invoice": {"value": 120.5, "publish": {"on_added": ["orders"]}},
                "note": {"value": "quiet"},
            }})))
            .await;
        assert_eq!(added.status.as_u16(), 201, "{}", added.text());
        let shop_view = json!({"type": "Notification", "trigger": "ledger.entry.added",
            "event": {"delivery_address": {"new_value": "Main 1", "old_value": null},
                      "invoice": {"new_value": 120.5, "old_value": null}},
            "subscription": {"topic": "orders", "account": shop.account}});
        let courier_view = json!({"type": "Notification", "trigger": "ledger.entry.added",
            "event": {"delivery_address": {"new_value": "Main 1", "old_value": null}},
            "subscription": {"topic": "orders", "account": shop.account}});
        let mut expected = vec![shop_view, courier_view];
        expected.sort_by_key(|message| message.to_string());
        assert_eq!(notifications(&app).await, expected, "one message per subscription; the courier never gets the invoice");

        // Writing the same value publishes nothing; a change carries old and new values.
        app.call(Method::PATCH, &format!("{ledger}/value"), Some(&shop.secret),
                 Some(json!({"entries": {"invoice": {"value": 120.5}}}))).await;
        assert_eq!(notifications(&app).await, Vec::<Value>::new());
        app.call(Method::PATCH, &format!("{ledger}/value"), Some(&shop.secret),
                 Some(json!({"entries": {"invoice": {"value": 99}, "delivery_address": {"value": "Main 2"}}}))).await;
        // `invoice` publishes on adds only: the update of both entries goes out for the
        // address alone, to both subscribers.
        let updated = notifications(&app).await;
        assert_eq!(updated.len(), 2, "{updated:?}");
        for message in &updated {
            assert_eq!(message["trigger"], "ledger.entry.updated");
            assert_eq!(message["event"], json!({"delivery_address": {"new_value": "Main 2", "old_value": "Main 1"}}));
        }

        // Deleting publishes through rules (the invoice's `on_added` does not fire).
        app.call(Method::DELETE, &format!("{ledger}?entries=delivery_address,invoice"), Some(&shop.secret), None).await;
        let deleted = notifications(&app).await;
        assert_eq!(deleted.len(), 2, "{deleted:?}");
        for message in &deleted {
            assert_eq!(message["trigger"], "ledger.entry.deleted");
            assert_eq!(message["event"], json!({"delivery_address": {"new_value": null, "old_value": "Main 2"}}));
        }
    }

    async fn publish_rules_templates_and_validation(app) {
        let shop = app.create_account("Shop").await;
        confirmed_subscription(&app, &shop, "order-7", None).await;
        let order = app
            .call(Method::POST, "/twins", Some(&shop.secret), Some(json!({"description": {"number": 7}})))
            .await
            .json()["creation_certificate"]["uuid"].as_str().unwrap().to_owned();
        let ledger = format!("/twins/{order}/ledgers/personal");
        let added = app
            .call(Method::POST, &ledger, Some(&shop.secret), Some(json!({"entries": {
                "temperature": {"value": 3, "publish": {"order-{TWIN.number}": "new_value > 5 and trigger == 'ledger.entry.updated'"}},
            }})))
            .await;
        assert_eq!(added.status.as_u16(), 201, "{}", added.text());
        assert!(notifications(&app).await.is_empty(), "the rule is false for the add");
        for (value, published) in [(4, false), (9, true)] {
            app.call(Method::PATCH, &format!("{ledger}/value"), Some(&shop.secret),
                     Some(json!({"entries": {"temperature": {"value": value}}}))).await;
            let sent = notifications(&app).await;
            assert_eq!(!sent.is_empty(), published, "value {value}: {sent:?}");
            if published {
                assert_eq!(sent[0]["subscription"]["topic"], "order-7");
                assert_eq!(sent[0]["event"]["temperature"]["new_value"], 9);
            }
        }
        for publish in [
            json!("orders"),
            json!(["orders"]),
            json!({"on_changed": "orders"}),
            json!({"on_added": 5}),
            json!({"or ders": "true"}),
            json!({"ab": "true"}),
            json!({"order-{foo}": "true"}),
            json!({"order-{TWIN.number": "true"}),
            json!({"orders": "1 +"}),
            json!({"orders": true}),
            Value::Object((0..11).map(|index| (format!("topic-{index}"), json!("true"))).collect()),
        ] {
            let reply = app
                .call(Method::POST, &ledger, Some(&shop.secret),
                      Some(json!({"entries": {"bad": {"value": 1, "publish": publish}}})))
                .await;
            reply.assert_tt_error(400, 400_589);
        }
    }

    async fn old_values_need_earlier_visibility_and_revoked_grants_stop_messages(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let grant = format!("/notifications/webhooks/access/accounts/{}", courier.account);
        app.call(Method::PATCH, &grant, Some(&shop.secret), Some(json!({"topics": ["orders"]}))).await;
        let reply = app
            .call(Method::POST, "/notifications/webhooks", Some(&courier.secret),
                  Some(json!({"callback_url": CALLBACK, "topic": "orders", "account": shop.account})))
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let confirmation = outbox(&app).await;
        let path = management_path(&confirmation[0]);
        app.call(Method::GET, &path, None, None).await;
        let role = app
            .call(Method::POST, "/roles", Some(&courier.secret),
                  Some(json!({"name": "Partner", "rules": {"twin_rule": "true", "entry_rule": "true"}})))
            .await
            .json()["uuid"].as_str().unwrap().to_owned();
        app.call(Method::PATCH, &format!("/users/{}", courier.user), Some(&courier.secret), Some(json!({"role": role}))).await;
        let order = app
            .call(Method::POST, "/twins", Some(&shop.secret), None)
            .await
            .json()["creation_certificate"]["uuid"].as_str().unwrap().to_owned();
        let ledger = format!("/twins/{order}/ledgers/personal");
        // The address becomes visible to the courier only once the order has shipped.
        app.call(Method::POST, &ledger, Some(&shop.secret), Some(json!({"entries": {
            "shipped": {"value": false},
            "address": {"value": "SECRET-OLD-ADDRESS", "visibility": "LEDGER.shipped == true",
                        "publish": {"orders": "true"}},
        }}))).await;
        assert!(notifications(&app).await.is_empty(), "nothing the courier may read yet");
        app.call(Method::PATCH, &format!("{ledger}/value"), Some(&shop.secret), Some(json!({"entries": {
            "shipped": {"value": true}, "address": {"value": "Main 1"},
        }}))).await;
        let sent = notifications(&app).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["event"], json!({"address": {"new_value": "Main 1", "old_value": null}}));
        assert!(!serde_json::to_string(&sent).unwrap().contains("SECRET-OLD-ADDRESS"));

        // Revoking the grant stops messages at once and refreshing is refused.
        app.call(Method::PATCH, &grant, Some(&shop.secret), Some(json!({"topics": []}))).await;
        app.call(Method::PATCH, &format!("{ledger}/value"), Some(&shop.secret),
                 Some(json!({"entries": {"address": {"value": "Main 2"}}}))).await;
        assert!(notifications(&app).await.is_empty(), "no messages after the grant is revoked");
        app.call(Method::PATCH, &path, None, None).await.assert_tt_error(403, 403_535);
    }

    async fn sticker_events_go_to_subscribers_among_the_recipients(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let stranger = app.create_account("Stranger").await;
        for partner in [&courier, &stranger] {
            let grant = format!("/notifications/webhooks/access/accounts/{}", partner.account);
            app.call(Method::PATCH, &grant, Some(&shop.secret), Some(json!({"topics": ["pickups"]}))).await;
            confirmed_subscription(&app, partner, "pickups", Some(&shop.account)).await;
            let role = app
                .call(Method::POST, "/roles", Some(&partner.secret),
                      Some(json!({"name": "Partner", "rules": {"twin_rule": "true"}})))
                .await
                .json()["uuid"].as_str().unwrap().to_owned();
            app.call(Method::PATCH, &format!("/users/{}", partner.user), Some(&partner.secret), Some(json!({"role": role}))).await;
        }
        let twin = app
            .call(Method::POST, "/twins", Some(&shop.secret), None)
            .await
            .json()["creation_certificate"]["uuid"].as_str().unwrap().to_owned();
        let validity = app.clock.now().plus_millis(60_000).as_tt_seconds();
        let put = app
            .call(Method::POST, &format!("/twins/{twin}/stickers"), Some(&shop.secret),
                  Some(json!({"stickers": {"red": {
                      "note": "parcel 7 ready", "recipients": [courier.account], "validity_ts": validity,
                      "publish": {"on_put": "pickups", "on_remove": ["pickups"], "on_expire": "pickups"},
                  }}})))
            .await;
        assert_eq!(put.status.as_u16(), 201, "{}", put.text());
        // Nothing is queued until the fan-out goes through the event log.
        assert!(notifications(&app).await.is_empty());
        assert_eq!(app.steward.fan_out_sticker_events().await.unwrap(), 1);
        let sent = notifications(&app).await;
        assert_eq!(sent.len(), 1, "the stranger is no recipient: {sent:?}");
        assert_eq!(sent[0]["trigger"], "sticker.put");
        assert_eq!(sent[0]["subscription"]["topic"], "pickups");
        assert_eq!(sent[0]["event"]["color"], "red");
        assert_eq!(sent[0]["event"]["note"], "parcel 7 ready");
        assert_eq!(sent[0]["event"]["account"], shop.account.as_str());
        assert!(sent[0]["event"].get("recipients").is_none(), "who else a sticker addresses is the creator's business");
        // Going through the same events again queues nothing twice.
        assert_eq!(app.steward.fan_out_sticker_events().await.unwrap(), 0);
        assert!(notifications(&app).await.is_empty());

        let removed = app
            .call(Method::DELETE, &format!("/twins/{twin}/stickers/red?context={}", shop.account), Some(&courier.secret), None)
            .await;
        assert_eq!(removed.status.as_u16(), 200, "{}", removed.text());
        app.steward.fan_out_sticker_events().await.unwrap();
        let sent = notifications(&app).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["trigger"], "sticker.removed");

        // Expiry fires `on_expire` through the same path.
        let put = app
            .call(Method::POST, &format!("/twins/{twin}/stickers"), Some(&shop.secret),
                  Some(json!({"stickers": {"red": {
                      "recipients": [courier.account], "validity_ts": app.clock.now().plus_millis(1_000).as_tt_seconds(),
                      "publish": {"on_expire": "pickups"},
                  }}})))
            .await;
        assert_eq!(put.status.as_u16(), 201, "{}", put.text());
        app.clock.advance_millis(2_000);
        assert_eq!(app.steward.housekeeping().await.unwrap().stickers, 1);
        app.steward.fan_out_sticker_events().await.unwrap();
        let sent = notifications(&app).await;
        assert_eq!(sent.len(), 1, "no `on_put` this time, one `on_expire`: {sent:?}");
        assert_eq!(sent[0]["trigger"], "sticker.expired");
    }
}
