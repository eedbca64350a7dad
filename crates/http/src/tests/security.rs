//! Regressions for holes found in review: a reader's own role rule must not probe another
//! account's private entries through `LEDGER`; tokens cannot hand on more than they hold; weaker
//! users cannot take over or lock out stronger ones; concurrent PIN guesses stay within the
//! limit.

use axum::http::Method;
use serde_json::json;

use super::TestApp;

impl TestApp {
    fn now_seconds(&self) -> f64 {
        use steward_domain::Clock as _;
        self.clock.now().as_tt_seconds()
    }
}

api_tests! {
    async fn a_readers_entry_rule_cannot_probe_private_entries_through_ledger(app) {
        let shop = app.create_account("Shop").await;
        let spy = app.create_account("Spy").await;
        let twin = app
            .call(Method::POST, "/twins", Some(&shop.secret), Some(json!({"description": {"kind": "order"}})))
            .await
            .json()["creation_certificate"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let added = app
            .call(
                Method::POST,
                &format!("/twins/{twin}/ledgers/personal"),
                Some(&shop.secret),
                Some(json!({"entries": {"status": {"value": "open", "visibility": "true"}, "price": {"value": 1234}}})),
            )
            .await;
        assert_eq!(added.status.as_u16(), 201);
        let role = app
            .call(Method::POST, "/roles", Some(&spy.secret), Some(json!({"name": "Spy", "rules": {"twin_rule": "true"}})))
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::PATCH, &format!("/users/{}", spy.user), Some(&spy.secret), Some(json!({"role": role})))
            .await;
        let mut visible_with = Vec::new();
        for rule in ["LEDGER.price > 1000", "LEDGER.price > 2000", "LEDGER.price == 1234", "LEDGER.price == null", "LEDGER.status == 'open'"] {
            app.call(
                Method::PATCH,
                &format!("/roles/{role}"),
                Some(&spy.secret),
                Some(json!({"rules": {"twin_rule": "true", "entry_rule": rule}})),
            )
            .await;
            let read = app
                .call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&spy.secret), None)
                .await
                .json();
            visible_with.push(read["entries"].as_object().unwrap().len());
        }
        // The private price is simply absent from what the spy's rule sees; shared entries are there.
        assert_eq!(visible_with, [0, 0, 0, 1, 1]);
    }

    async fn tokens_cannot_hand_on_more_than_they_hold(app) {
        let admin = app.create_account("Acme").await;
        let now = app.now_seconds();
        let parent = app
            .call(
                Method::POST,
                "/token",
                Some(&admin.secret),
                Some(json!({"options": ["create"], "validity_ts": now + 60.0, "secret_dict": {"serial": "s1"}})),
            )
            .await
            .json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for body in [json!({"options": ["create", "refresh"]}), json!({"secret_dict": {"serial": "s2"}})] {
            app.call(Method::POST, "/token", Some(&parent), Some(body)).await.assert_tt_error(403, 403_535);
        }
        let child = app.call(Method::POST, "/token", Some(&parent), Some(json!({"options": ["create"]}))).await;
        assert_eq!(child.status.as_u16(), 201, "{}", child.text());
        let child = child.json();
        assert_eq!(child["validity_ts"].as_f64(), Some(now + 60.0), "bounded by the parent");
        let child = child["token"].as_str().unwrap().to_owned();

        let refreshable = app
            .call(Method::POST, "/token", Some(&admin.secret), Some(json!({"options": ["refresh"], "validity_ts": now + 60.0})))
            .await
            .json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::POST, "/token/refresh", Some(&refreshable), None)
            .await
            .assert_tt_error(400, 400_589);

        app.clock.advance_millis(61_000);
        app.call(Method::GET, "/whoami", Some(&child), None).await.assert_tt_error(401, 401_000);
    }

    async fn weaker_users_cannot_take_over_or_lock_out_stronger_ones(app) {
        let admin = app.create_account("Acme").await;
        let (role, _user, pin_maker) = app
            .user_with_statement(&admin, json!({"effect": "allow", "actions": ["create_user_secret_pin"]}))
            .await;
        app.call(Method::POST, &format!("/users/{}/secrets", admin.user), Some(&pin_maker), None)
            .await
            .assert_tt_error(403, 403_535);
        let (_, _, manager) = app
            .user_with_statement(&admin, json!({"effect": "allow", "actions": ["update_user", "delete_user", "update_user_secret", "delete_user_secret"]}))
            .await;
        let admin_user = format!("/users/{}", admin.user);
        let admin_secret = format!("/users/{}/secrets", admin.user);
        app.call(Method::PATCH, &admin_user, Some(&manager), Some(json!({"role": role})))
            .await
            .assert_tt_error(403, 403_535);
        app.call(Method::PATCH, &admin_user, Some(&manager), Some(json!({"name": "Renamed"})))
            .await
            .assert_tt_error(403, 403_535);
        app.call(Method::DELETE, &admin_user, Some(&manager), None).await.assert_tt_error(403, 403_535);
        app.call(Method::PATCH, &admin_secret, Some(&manager), Some(json!({"validity_ts": null})))
            .await
            .assert_tt_error(403, 403_535);
        app.call(Method::DELETE, &admin_secret, Some(&manager), None).await.assert_tt_error(403, 403_535);
        let me = app.call(Method::GET, "/whoami", Some(&admin.secret), None).await;
        assert_eq!(me.status.as_u16(), 200, "the admin is untouched");
        assert_eq!(me.json()["role"], admin.role.as_str());
    }

    async fn concurrent_pin_guesses_stay_within_the_limit(app) {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt as _;
        let admin = app.create_account("Acme").await;
        let mut guesses = tokio::task::JoinSet::new();
        for index in 0..100 {
            let router = app.router.clone();
            let uri = format!("/secrets/{}/ZZ{index:04}", admin.account);
            guesses.spawn(async move {
                let request = Request::post(uri).body(Body::empty()).unwrap();
                router.oneshot(request).await.unwrap().status().as_u16()
            });
        }
        let mut evaluated = 0;
        let mut limited = 0;
        while let Some(status) = guesses.join_next().await {
            match status.unwrap() {
                404 => evaluated += 1,
                429 => limited += 1,
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(evaluated, 10, "exactly the allowed number of guesses were tried");
        assert_eq!(limited, 90);
    }
}
