//! The operator API: authentication, account creation, listing, suspension.

use axum::body::Body;
use axum::http::{header, Method, Request};

api_tests! {
    async fn operator_routes_refuse_missing_and_wrong_tokens(app) {
        app.get("/operator/accounts")
            .await
            .assert_tt_error(401, 401_000);
        let wrong = Request::post("/operator/accounts")
            .header(header::AUTHORIZATION, "Bearer not-the-operator-token")
            .body(Body::from("{\"name\": \"x\"}"))
            .unwrap();
        app.send(wrong).await.assert_tt_error(401, 401_000);
        assert!(app
            .steward
            .list_accounts(None, 10)
            .await
            .unwrap()
            .accounts
            .is_empty());
    }

    async fn created_account_is_shown_once_with_its_secret_and_then_listed(app) {
        let created = app
            .operator(
                Method::POST,
                "/operator/accounts",
                Some("{\"name\": \"Acme\"}"),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text());
        let body = created.json();
        let account = body["account"].as_str().unwrap().to_owned();
        assert_eq!(body["secret"].as_str().unwrap().len(), 64);
        for key in ["user", "role"] {
            assert!(uuid::Uuid::parse_str(body[key].as_str().unwrap()).is_ok());
        }

        let shown = app
            .operator(Method::GET, &format!("/operator/accounts/{account}"), None)
            .await;
        assert_eq!(shown.status.as_u16(), 200);
        let shown = shown.json();
        assert_eq!(shown["name"], "Acme");
        assert_eq!(shown["status"], "active");
        assert!(
            shown.get("secret").is_none(),
            "the secret is never shown again"
        );

        let listed = app
            .operator(Method::GET, "/operator/accounts?count=10", None)
            .await
            .json();
        assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(listed["next_cursor"], serde_json::Value::Null);
    }

    async fn bearer_prefix_is_accepted_and_paging_follows_the_cursor(app) {
        for index in 0..3 {
            let request = Request::post("/operator/accounts")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", crate::tests::OPERATOR_TOKEN),
                )
                .body(Body::from(format!("{{\"name\": \"P{index}\"}}")))
                .unwrap();
            assert_eq!(app.send(request).await.status.as_u16(), 201);
        }
        let first = app
            .operator(Method::GET, "/operator/accounts?count=2", None)
            .await
            .json();
        assert_eq!(first["accounts"].as_array().unwrap().len(), 2);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app
            .operator(
                Method::GET,
                &format!("/operator/accounts?count=2&cursor={cursor}"),
                None,
            )
            .await
            .json();
        assert_eq!(second["accounts"].as_array().unwrap().len(), 1);
        assert_ne!(second["accounts"][0]["uuid"], first["accounts"][0]["uuid"]);
        assert_ne!(second["accounts"][0]["uuid"], first["accounts"][1]["uuid"]);
        app.operator(Method::GET, "/operator/accounts?count=0", None)
            .await
            .assert_tt_error(400, 400_589);
    }

    async fn suspend_and_resume_change_the_status(app) {
        let account = app
            .operator(
                Method::POST,
                "/operator/accounts",
                Some("{\"name\": \"Lab\"}"),
            )
            .await
            .json()["account"]
            .as_str()
            .unwrap()
            .to_owned();
        let suspended = app
            .operator(
                Method::POST,
                &format!("/operator/accounts/{account}/suspend"),
                None,
            )
            .await;
        assert_eq!(suspended.status.as_u16(), 200);
        assert_eq!(suspended.json()["status"], "suspended");
        let resumed = app
            .operator(
                Method::POST,
                &format!("/operator/accounts/{account}/resume"),
                None,
            )
            .await;
        assert_eq!(resumed.json()["status"], "active");
    }
}
