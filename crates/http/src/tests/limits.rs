//! Fair sharing between tenants (issue 9): per-account token-bucket rate limits (429 / 429000
//! with `Retry-After`), quotas (400 / 400141, nothing written) and the operator's
//! `/operator/accounts/{account}/limits`. The test clock is manual, so buckets refill only
//! when a test moves it; nothing here depends on timing.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::twins::create_twin;
use super::{TestAccount, TestApp};

async fn set_limits(app: &TestApp, account: &TestAccount, limits: Value) -> Value {
    let reply = app
        .operator(
            Method::PUT,
            &format!("/operator/accounts/{}/limits", account.account),
            Some(&limits.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

async fn whoami(app: &TestApp, account: &TestAccount) -> super::Reply {
    app.call(Method::GET, "/whoami", Some(&account.secret), None)
        .await
}

async fn twin_count(app: &TestApp, account: &TestAccount) -> usize {
    let page = app
        .call(
            Method::GET,
            "/twins?count=1000",
            Some(&account.secret),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.json()["twins"].as_array().unwrap().len()
}

api_tests! {
    async fn over_the_rate_is_429_with_retry_after_and_a_tt_body(app) {
        let acme = app.create_account("Acme").await;
        set_limits(&app, &acme, json!({"rate_limit_per_second": 1, "rate_limit_burst": 3})).await;
        for _ in 0..3 {
            let reply = whoami(&app, &acme).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
        let refused = whoami(&app, &acme).await;
        refused.assert_tt_error(429, 429_000);
        let retry_after: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .expect("Retry-After is whole seconds");
        assert!(retry_after >= 1, "{retry_after}");
        let description = refused.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("rate limit"), "{description}");
        // Every kind of request counts, writes too.
        let write = app
            .call(Method::POST, "/twins", Some(&acme.secret), Some(json!({})))
            .await;
        write.assert_tt_error(429, 429_000);
        assert!(write.headers.contains_key("retry-after"));

        // A second later one token is back, and only one.
        app.clock.advance_millis(1_000);
        assert_eq!(whoami(&app, &acme).await.status, StatusCode::OK);
        whoami(&app, &acme).await.assert_tt_error(429, 429_000);
    }

    async fn a_flooding_account_does_not_limit_another(app) {
        let flooder = app.create_account("Flooder").await;
        let neighbour = app.create_account("Neighbour").await;
        for account in [&flooder, &neighbour] {
            set_limits(&app, account, json!({"rate_limit_per_second": 1, "rate_limit_burst": 5})).await;
        }
        let mut refused = 0;
        for _ in 0..50 {
            if whoami(&app, &flooder).await.status == StatusCode::TOO_MANY_REQUESTS {
                refused += 1;
            }
        }
        assert_eq!(refused, 45, "the flooder gets its burst, then 429");
        // The neighbour's bucket is its own: its whole burst is there.
        for _ in 0..5 {
            let reply = whoami(&app, &neighbour).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
        // And an account without limits of its own (server default: unlimited) is not limited.
        let quiet = app.create_account("Quiet").await;
        for _ in 0..50 {
            assert_eq!(whoami(&app, &quiet).await.status, StatusCode::OK);
        }
    }

    async fn health_operator_and_failed_authentication_are_not_charged_to_the_account(app) {
        let acme = app.create_account("Acme").await;
        set_limits(&app, &acme, json!({"rate_limit_per_second": 1, "rate_limit_burst": 1})).await;
        for _ in 0..20 {
            assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
            assert_eq!(app.get("/openapi.json").await.status, StatusCode::OK);
            let operator = app
                .operator(Method::GET, &format!("/operator/accounts/{}/limits", acme.account), None)
                .await;
            assert_eq!(operator.status, StatusCode::OK);
            let wrong = app.call(Method::GET, "/whoami", Some("not-a-secret"), None).await;
            wrong.assert_tt_error(401, 401_000);
        }
        // The account's one token is still there.
        assert_eq!(whoami(&app, &acme).await.status, StatusCode::OK);
        whoami(&app, &acme).await.assert_tt_error(429, 429_000);
    }

    async fn operator_sets_shows_and_clears_an_accounts_limits(app) {
        let acme = app.create_account("Acme").await;
        let path = format!("/operator/accounts/{}/limits", acme.account);
        let shown = app.operator(Method::GET, &path, None).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
        assert_eq!(
            shown.json(),
            json!({
                "account": acme.account,
                "limits": {"rate_limit_per_second": null, "rate_limit_burst": null,
                           "max_twins": null, "max_ledger_entries": null, "max_stored_bytes": null},
                "effective": {"rate_limit_per_second": 0, "rate_limit_burst": 0,
                              "max_twins": 0, "max_ledger_entries": 0, "max_stored_bytes": 0},
            })
        );
        let set = set_limits(&app, &acme, json!({"rate_limit_per_second": 20, "max_twins": 7})).await;
        assert_eq!(set["limits"]["rate_limit_per_second"], 20);
        assert_eq!(set["limits"]["rate_limit_burst"], Value::Null);
        assert_eq!(set["effective"]["rate_limit_burst"], 20, "burst 0/unset: one second's worth");
        assert_eq!(set["effective"]["max_twins"], 7);
        assert_eq!(app.operator(Method::GET, &path, None).await.json(), set);

        // A new document replaces the whole setting; `{}` returns to the defaults.
        let replaced = set_limits(&app, &acme, json!({"max_ledger_entries": 3, "max_twins": null})).await;
        assert_eq!(replaced["limits"]["rate_limit_per_second"], Value::Null);
        assert_eq!(replaced["limits"]["max_twins"], Value::Null);
        assert_eq!(replaced["effective"]["max_ledger_entries"], 3);
        let cleared = set_limits(&app, &acme, json!({})).await;
        assert_eq!(cleared["effective"], shown.json()["effective"]);
        assert_eq!(cleared["limits"], shown.json()["limits"]);

        // Without the operator token: 401, and nothing changes.
        for method in [Method::GET, Method::PUT] {
            let body = (method == Method::PUT).then(|| json!({"max_twins": 1}));
            let refused = app.call(method.clone(), &path, None, body.clone()).await;
            refused.assert_tt_error(401, 401_000);
            let with_account_secret = app.call(method, &path, Some(&acme.secret), body).await;
            with_account_secret.assert_tt_error(401, 401_000);
        }
        assert_eq!(app.operator(Method::GET, &path, None).await.json()["limits"]["max_twins"], Value::Null);

        // Bad documents and unknown accounts.
        for bad in [json!({"max_twinz": 1}), json!({"rate_limit_per_second": -1}), json!({"rate_limit_per_second": 2_000_000})] {
            let reply = app.operator(Method::PUT, &path, Some(&bad.to_string())).await;
            reply.assert_tt_error(400, 400_589);
        }
        let missing = format!("/operator/accounts/{}/limits", uuid::Uuid::new_v4());
        app.operator(Method::GET, &missing, None).await.assert_tt_error(404, 404_653);
        app.operator(Method::PUT, &missing, Some("{}")).await.assert_tt_error(404, 404_653);
    }

    async fn twin_quota_refuses_with_400141_and_creates_nothing(app) {
        let acme = app.create_account("Acme").await;
        let other = app.create_account("Other").await;
        set_limits(&app, &acme, json!({"max_twins": 2})).await;
        let first = create_twin(&app, &acme, None).await;
        create_twin(&app, &acme, None).await;
        let refused = app
            .call(Method::POST, "/twins", Some(&acme.secret), Some(json!({"description": {"n": 3}})))
            .await;
        refused.assert_tt_error(400, 400_141);
        let description = refused.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("max_twins") && description.contains('2'), "{description}");
        assert_eq!(twin_count(&app, &acme).await, 2, "nothing half-written");
        // Other accounts have their own count; a terminated twin frees a place.
        create_twin(&app, &other, None).await;
        let terminated = app.call(Method::DELETE, &format!("/twins/{first}"), Some(&acme.secret), None).await;
        assert_eq!(terminated.status, StatusCode::OK, "{}", terminated.text());
        create_twin(&app, &acme, None).await;
    }

    async fn ledger_quotas_refuse_growth_with_400141_and_write_nothing(app) {
        let acme = app.create_account("Acme").await;
        let twin = create_twin(&app, &acme, None).await;
        let ledger = format!("/twins/{twin}/ledgers/personal");
        set_limits(&app, &acme, json!({"max_ledger_entries": 2})).await;
        let added = app
            .call(Method::POST, &ledger, Some(&acme.secret), Some(json!({"entries": {"a": {"value": 1}, "b": {"value": 2}}})))
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
        let refused = app
            .call(Method::POST, &ledger, Some(&acme.secret), Some(json!({"entries": {"c": {"value": 3}}})))
            .await;
        refused.assert_tt_error(400, 400_141);
        let description = refused.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("max_ledger_entries") && description.contains('2'), "{description}");
        let stored = app.call(Method::GET, &ledger, Some(&acme.secret), None).await.json();
        let mut names: Vec<&String> = stored["entries"].as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);

        // Bytes of all the account's ledgers: a write that would pass the quota is refused,
        // one that shrinks the data is not.
        set_limits(&app, &acme, json!({"max_stored_bytes": 2_000})).await;
        let big = "x".repeat(3_000);
        let refused = app
            .call(Method::PATCH, &format!("{ledger}/value"), Some(&acme.secret), Some(json!({"entries": {"a": {"value": big}}})))
            .await;
        refused.assert_tt_error(400, 400_141);
        let description = refused.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("max_stored_bytes") && description.contains("2000"), "{description}");
        let stored = app.call(Method::GET, &ledger, Some(&acme.secret), None).await.json();
        assert_eq!(stored["entries"]["a"]["value"], 1, "nothing half-written: {stored}");
        let deleted = app
            .call(Method::DELETE, &format!("{ledger}?entries=b"), Some(&acme.secret), None)
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    }
}
