//! Accounts and access over the Trusted Twin routes: users, roles, the PIN flow, tokens,
//! revocation, `X-TrustedTwin` and non-escalation.

use axum::http::Method;
use serde_json::{json, Value};

use super::{TestAccount, TestApp};

/// Creates a role with an allow-list and a user holding it; returns (role, user, secret).
async fn user_with_allowed_actions(
    app: &TestApp,
    admin: &TestAccount,
    actions: &[&str],
) -> (String, String, String) {
    app.user_with_statement(admin, json!({"effect": "allow", "actions": actions}))
        .await
}

impl TestApp {
    fn steward_now_seconds(&self) -> f64 {
        use steward_domain::Clock as _;
        self.clock.now().as_tt_seconds()
    }
}

api_tests! {
    async fn who_am_i_answers_for_secret_and_bearer_and_refuses_missing_or_wrong_credentials(app) {
        let admin = app.create_account("Acme").await;
        let me = app
            .call(Method::GET, "/whoami", Some(&admin.secret), None)
            .await;
        assert_eq!(me.status.as_u16(), 200);
        assert_eq!(
            me.json(),
            json!({"account": admin.account, "user": admin.user, "role": admin.role})
        );
        let bearer = format!("Bearer {}", admin.secret);
        let me = app.call(Method::GET, "/whoami", Some(&bearer), None).await;
        assert_eq!(me.status.as_u16(), 200);
        app.call(Method::GET, "/whoami", None, None)
            .await
            .assert_tt_error(401, 401_000);
        let wrong = "x".repeat(64);
        app.call(Method::GET, "/whoami", Some(&wrong), None)
            .await
            .assert_tt_error(401, 401_000);
    }

    async fn user_and_role_crud_round_trip_with_trusted_twin_shapes(app) {
        let admin = app.create_account("Acme").await;
        let secret = Some(admin.secret.as_str());
        let role = app
            .call(
                Method::POST,
                "/roles",
                secret,
                Some(json!({
                    "name": "Reader",
                    "statement": {"effect": "allow", "actions": ["get_twin", "who_am_i"]},
                    "rules": {"twin": "TWIN.company == USER.company"}
                })),
            )
            .await;
        assert_eq!(role.status.as_u16(), 201, "{}", role.text());
        let role = role.json();
        assert_eq!(role["rules"]["twin_rule"], "TWIN.company == USER.company");
        assert_eq!(role["rules"]["entry_rule"], Value::Null);
        assert_eq!(role["account"], admin.account.as_str());
        let role_id = role["uuid"].as_str().unwrap();

        let listed = app.call(Method::GET, "/roles", secret, None).await.json();
        assert_eq!(listed["roles"][role_id]["name"], "Reader");
        assert!(listed["roles"][&admin.role].is_object());

        let patched = app
            .call(
                Method::PATCH,
                &format!("/roles/{role_id}"),
                secret,
                Some(json!({"name": "Reader 2", "rules": {"entry_rule": "true"}})),
            )
            .await
            .json();
        assert_eq!(patched["name"], "Reader 2");
        assert_eq!(
            patched["rules"]["twin_rule"],
            Value::Null,
            "rules replaced whole"
        );
        assert_eq!(patched["rules"]["entry_rule"], "true");
        assert_eq!(
            patched["statement"]["actions"],
            json!(["get_twin", "who_am_i"])
        );

        let user = app
            .call(
                Method::POST,
                "/users",
                secret,
                Some(json!({"name": "Anna", "role": role_id, "description": {"company": "acme"}})),
            )
            .await;
        assert_eq!(user.status.as_u16(), 201);
        let user = user.json();
        let user_id = user["uuid"].as_str().unwrap();
        assert_eq!(user["description"]["company"], "acme");
        assert_eq!(user["activity"], Value::Null);
        let users = app.call(Method::GET, "/users", secret, None).await.json();
        assert_eq!(users["users"][user_id]["role"], role_id);

        let updated = app
            .call(
                Method::PATCH,
                &format!("/users/{user_id}"),
                secret,
                Some(json!({"description": {"company": "beta"}})),
            )
            .await
            .json();
        assert_eq!(updated["name"], "Anna");
        assert_eq!(updated["description"]["company"], "beta");

        app.call(Method::DELETE, &format!("/roles/{role_id}"), secret, None)
            .await
            .assert_tt_error(400, 400_897);
        let deleted = app
            .call(Method::DELETE, &format!("/users/{user_id}"), secret, None)
            .await;
        assert_eq!(deleted.status.as_u16(), 200);
        assert_eq!(deleted.json()["uuid"], user_id);
        app.call(Method::GET, &format!("/users/{user_id}"), secret, None)
            .await
            .assert_tt_error(404, 404_653);
        let deleted = app
            .call(Method::DELETE, &format!("/roles/{role_id}"), secret, None)
            .await;
        assert_eq!(deleted.status.as_u16(), 200);
    }

    async fn invalid_roles_and_users_are_400589_naming_the_problem(app) {
        let admin = app.create_account("Acme").await;
        let secret = Some(admin.secret.as_str());
        let unknown_action = app
            .call(
                Method::POST,
                "/roles",
                secret,
                Some(json!({"statement": {"effect": "allow", "actions": ["get_twins"]}})),
            )
            .await;
        unknown_action.assert_tt_error(400, 400_589);
        assert!(unknown_action.text().contains("get_twins"));

        let bad_rule = app
            .call(
                Method::POST,
                "/roles",
                secret,
                Some(json!({"rules": {"entry_rule": "TWIN.kind == "}})),
            )
            .await;
        bad_rule.assert_tt_error(400, 400_589);
        let description = bad_rule.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("rules.entry_rule"), "{description}");
        assert!(description.contains("at character"), "{description}");

        for body in [
            json!({"name": "x", "role": admin.role}),
            json!({"name": "Valid", "role": "not-a-uuid"}),
            json!({"name": "Valid", "role": admin.role, "description": {"Bad-Key": 1}}),
            json!({"name": "Valid", "role": admin.role, "unknown": 1}),
        ] {
            app.call(Method::POST, "/users", secret, Some(body.clone()))
                .await
                .assert_tt_error(400, 400_589);
        }
        let missing_role = json!({"name": "Valid", "role": "00000000-0000-4000-8000-000000000000"});
        app.call(Method::POST, "/users", secret, Some(missing_role))
            .await
            .assert_tt_error(404, 404_653);
    }

    async fn pin_is_single_use_expires_and_issuing_a_new_secret_revokes_the_old_one(app) {
        let admin = app.create_account("Acme").await;
        let (_, user, first_secret) = user_with_allowed_actions(&app, &admin, &["who_am_i"]).await;
        let me = app
            .call(Method::GET, "/whoami", Some(&first_secret), None)
            .await;
        assert_eq!(me.json()["user"], user.as_str());

        let pin = app
            .call(
                Method::POST,
                &format!("/users/{user}/secrets"),
                Some(&admin.secret),
                Some(json!({"validity_ts": null})),
            )
            .await
            .json()["pin"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(pin.len(), 6);
        let redeem_path = format!("/secrets/{}/{pin}", admin.account);
        let issued = app.call(Method::POST, &redeem_path, None, None).await;
        assert_eq!(issued.status.as_u16(), 201);
        let issued = issued.json();
        assert_eq!(issued["user"], user.as_str());
        let second_secret = issued["secret"].as_str().unwrap().to_owned();
        assert_eq!(second_secret.len(), 64);

        app.call(Method::POST, &redeem_path, None, None)
            .await
            .assert_tt_error(404, 404_653);
        app.call(Method::GET, "/whoami", Some(&first_secret), None)
            .await
            .assert_tt_error(401, 401_000);
        let me = app
            .call(Method::GET, "/whoami", Some(&second_secret), None)
            .await;
        assert_eq!(me.status.as_u16(), 200);

        let expiring_pin = app
            .call(
                Method::POST,
                &format!("/users/{user}/secrets"),
                Some(&admin.secret),
                None,
            )
            .await
            .json()["pin"]
            .as_str()
            .unwrap()
            .to_owned();
        app.clock.advance_millis(24 * 60 * 60 * 1000 + 1);
        app.call(
            Method::POST,
            &format!("/secrets/{}/{expiring_pin}", admin.account),
            None,
            None,
        )
        .await
        .assert_tt_error(404, 404_653);
    }

    async fn pin_guessing_is_limited_per_account_with_429_and_retry_after(app) {
        let admin = app.create_account("Acme").await;
        let other = app.create_account("Other").await;
        let pin = app
            .call(
                Method::POST,
                &format!("/users/{}/secrets", admin.user),
                Some(&admin.secret),
                None,
            )
            .await
            .json()["pin"]
            .as_str()
            .unwrap()
            .to_owned();
        for guess in 0..10 {
            app.call(
                Method::POST,
                &format!("/secrets/{}/WRONG{guess}", admin.account),
                None,
                None,
            )
            .await
            .assert_tt_error(404, 404_653);
        }
        // Even the right PIN is refused while the account is locked out.
        let locked = app
            .call(
                Method::POST,
                &format!("/secrets/{}/{pin}", admin.account),
                None,
                None,
            )
            .await;
        locked.assert_tt_error(429, 429_000);
        let retry_after: u64 = locked.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after > 0 && retry_after <= 900);
        // Other accounts are unaffected.
        app.call(
            Method::POST,
            &format!("/secrets/{}/WRONG", other.account),
            None,
            None,
        )
        .await
        .assert_tt_error(404, 404_653);
        app.clock.advance_millis(15 * 60 * 1000);
        let redeemed = app
            .call(
                Method::POST,
                &format!("/secrets/{}/{pin}", admin.account),
                None,
                None,
            )
            .await;
        assert_eq!(redeemed.status.as_u16(), 201, "{}", redeemed.text());
    }

    async fn tokens_expire_by_the_clock_refresh_and_never_outlive_the_secret(app) {
        let admin = app.create_account("Acme").await;
        let now = app.steward_now_seconds();
        let created = app
            .call(
                Method::POST,
                "/token",
                Some(&admin.secret),
                Some(json!({"options": ["refresh"], "validity_ts": now + 60.0, "secret_dict": {"serial": "s1"}})),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text());
        let created = created.json();
        assert_eq!(created["options"], json!(["refresh"]));
        let token = created["token"].as_str().unwrap().to_owned();
        let me = app.call(Method::GET, "/whoami", Some(&token), None).await;
        assert_eq!(me.json()["user"], admin.user.as_str());

        // A token without `create` cannot mint tokens.
        app.call(Method::POST, "/token", Some(&token), None)
            .await
            .assert_tt_error(403, 403_535);
        // A secret cannot be refreshed.
        app.call(Method::POST, "/token/refresh", Some(&admin.secret), None)
            .await
            .assert_tt_error(403, 403_535);

        app.clock.advance_millis(30_000);
        let refreshed = app
            .call(
                Method::POST,
                "/token/refresh",
                Some(&token),
                Some(json!({"validity_ts": now + 600.0})),
            )
            .await;
        assert_eq!(refreshed.status.as_u16(), 201, "{}", refreshed.text());
        let refreshed_token = refreshed.json()["token"].as_str().unwrap().to_owned();

        app.clock.advance_millis(31_000);
        app.call(Method::GET, "/whoami", Some(&token), None)
            .await
            .assert_tt_error(401, 401_000);
        let me = app
            .call(Method::GET, "/whoami", Some(&refreshed_token), None)
            .await;
        assert_eq!(me.status.as_u16(), 200, "refreshed token still valid");

        // The secret expires in 100 s: a token asking for more is capped at the secret's validity.
        let secret_expiry = app.steward_now_seconds() + 100.0;
        app.call(
            Method::PATCH,
            &format!("/users/{}/secrets", admin.user),
            Some(&admin.secret),
            Some(json!({"validity_ts": secret_expiry})),
        )
        .await;
        let capped = app
            .call(
                Method::POST,
                "/token",
                Some(&admin.secret),
                Some(json!({"validity_ts": secret_expiry + 1000.0})),
            )
            .await
            .json();
        assert_eq!(capped["validity_ts"].as_f64(), Some(secret_expiry));
        let unbounded = app
            .call(Method::POST, "/token", Some(&admin.secret), None)
            .await
            .json();
        assert_eq!(unbounded["validity_ts"].as_f64(), Some(secret_expiry));
        app.clock.advance_millis(101_000);
        let capped_token = capped["token"].as_str().unwrap();
        app.call(Method::GET, "/whoami", Some(capped_token), None)
            .await
            .assert_tt_error(401, 401_000);
        app.call(Method::GET, "/whoami", Some(&admin.secret), None)
            .await
            .assert_tt_error(401, 401_000);
    }

    async fn refresh_needs_the_refresh_user_token_action_as_well_as_the_option(app) {
        let admin = app.create_account("Acme").await;
        let denied = app
            .call(
                Method::POST,
                "/roles",
                Some(&admin.secret),
                Some(json!({"name": "No Refresh", "statement": {"effect": "deny", "actions": ["refresh_user_token"]}})),
            )
            .await;
        let role = denied.json()["uuid"].as_str().unwrap().to_owned();
        app.call(
            Method::PATCH,
            &format!("/users/{}", admin.user),
            Some(&admin.secret),
            Some(json!({"role": role})),
        )
        .await;
        let token = app
            .call(
                Method::POST,
                "/token",
                Some(&admin.secret),
                Some(json!({"options": ["refresh"]})),
            )
            .await
            .json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::POST, "/token/refresh", Some(&token), None)
            .await
            .assert_tt_error(403, 403_535);
    }

    async fn deleting_a_secret_or_user_or_suspending_the_account_refuses_the_very_next_request(app) {
        let admin = app.create_account("Acme").await;
        let (_, user, secret) =
            user_with_allowed_actions(&app, &admin, &["who_am_i", "create_user_token"]).await;
        let token = app
            .call(Method::POST, "/token", Some(&secret), None)
            .await
            .json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        // Warm the cache, then revoke: the next request must already fail.
        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&secret), None)
                .await
                .status
                .as_u16(),
            200
        );
        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&token), None)
                .await
                .status
                .as_u16(),
            200
        );
        let revoked = app
            .call(
                Method::DELETE,
                &format!("/users/{user}/secrets"),
                Some(&admin.secret),
                None,
            )
            .await;
        assert_eq!(revoked.status.as_u16(), 200);
        assert_eq!(revoked.json()["fingerprint"], &secret[60..]);
        app.call(Method::GET, "/whoami", Some(&secret), None)
            .await
            .assert_tt_error(401, 401_000);
        app.call(Method::GET, "/whoami", Some(&token), None)
            .await
            .assert_tt_error(401, 401_000);

        let new_secret = app.issue_secret(&admin, &user).await;
        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&new_secret), None)
                .await
                .status
                .as_u16(),
            200
        );
        app.call(
            Method::DELETE,
            &format!("/users/{user}"),
            Some(&admin.secret),
            None,
        )
        .await;
        app.call(Method::GET, "/whoami", Some(&new_secret), None)
            .await
            .assert_tt_error(401, 401_000);

        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&admin.secret), None)
                .await
                .status
                .as_u16(),
            200
        );
        app.operator(
            Method::POST,
            &format!("/operator/accounts/{}/suspend", admin.account),
            None,
        )
        .await;
        app.call(Method::GET, "/whoami", Some(&admin.secret), None)
            .await
            .assert_tt_error(401, 401_000);
        app.operator(
            Method::POST,
            &format!("/operator/accounts/{}/resume", admin.account),
            None,
        )
        .await;
        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&admin.secret), None)
                .await
                .status
                .as_u16(),
            200
        );
    }

    async fn malformed_x_trustedtwin_header_is_400793_for_authenticated_callers_only(app) {
        let admin = app.create_account("Acme").await;
        for header in ["%%%", "WzEsIDJd"] {
            let request = axum::http::Request::get("/whoami")
                .header("Authorization", &admin.secret)
                .header("X-TrustedTwin", header)
                .body(axum::body::Body::empty())
                .unwrap();
            app.send(request).await.assert_tt_error(400, 400_793);
        }
        let request = axum::http::Request::get("/whoami")
            .header("Authorization", &admin.secret)
            .header(
                "X-TrustedTwin",
                "eyJzZXJpYWwiOiAiYjBmNTMxYzMtOTE0Yi00NDA4LTk4OTUtYjYxZjU5YzA2YjY2In0=",
            )
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.status.as_u16(), 200);
        let request = axum::http::Request::get("/whoami")
            .header("Authorization", "not-a-valid-secret")
            .header("X-TrustedTwin", "%%%")
            .body(axum::body::Body::empty())
            .unwrap();
        app.send(request).await.assert_tt_error(401, 401_000);
    }

    async fn nobody_grants_more_than_they_hold(app) {
        let admin = app.create_account("Acme").await;
        let manager_actions = [
            "create_user_role",
            "update_user_role",
            "get_user_roles",
            "create_user",
            "update_user",
            "who_am_i",
        ];
        let (manager_role, manager, manager_secret) =
            user_with_allowed_actions(&app, &admin, &manager_actions).await;
        let as_manager = Some(manager_secret.as_str());

        // A role allowing everything (the default statement) exceeds the manager's role.
        let everything = app
            .call(
                Method::POST,
                "/roles",
                as_manager,
                Some(json!({"name": "Everything"})),
            )
            .await;
        everything.assert_tt_error(403, 403_535);
        let deny_list = app
            .call(
                Method::POST,
                "/roles",
                as_manager,
                Some(json!({"statement": {"effect": "deny", "actions": ["delete_user"]}})),
            )
            .await;
        deny_list.assert_tt_error(403, 403_535);
        // A subset is fine.
        let subset = app
            .call(
                Method::POST,
                "/roles",
                as_manager,
                Some(json!({"name": "Subset", "statement": {"effect": "allow", "actions": ["who_am_i", "create_user"]}})),
            )
            .await;
        assert_eq!(subset.status.as_u16(), 201, "{}", subset.text());
        let subset = subset.json()["uuid"].as_str().unwrap().to_owned();
        // Widening an existing role beyond one's own is refused, and nothing changes.
        app.call(
            Method::PATCH,
            &format!("/roles/{subset}"),
            as_manager,
            Some(json!({"statement": {"effect": "allow", "actions": ["delete_user"]}})),
        )
        .await
        .assert_tt_error(403, 403_535);
        let stored = app
            .call(
                Method::GET,
                &format!("/roles/{subset}"),
                Some(&admin.secret),
                None,
            )
            .await
            .json();
        assert_eq!(
            stored["statement"]["actions"],
            json!(["who_am_i", "create_user"])
        );
        // Assigning the Super Admin role, to a new user or to oneself, is refused.
        app.call(
            Method::POST,
            "/users",
            as_manager,
            Some(json!({"name": "Sneaky", "role": admin.role})),
        )
        .await
        .assert_tt_error(403, 403_535);
        app.call(
            Method::PATCH,
            &format!("/users/{manager}"),
            as_manager,
            Some(json!({"role": admin.role})),
        )
        .await
        .assert_tt_error(403, 403_535);
        // A role that already allows more than the manager holds cannot be touched at all.
        app.call(
            Method::PATCH,
            &format!("/roles/{}", admin.role),
            as_manager,
            Some(json!({"rules": {"twin_rule": "true"}})),
        )
        .await
        .assert_tt_error(403, 403_535);
        let admin_role = app
            .call(
                Method::GET,
                &format!("/roles/{}", admin.role),
                Some(&admin.secret),
                None,
            )
            .await
            .json();
        assert_eq!(admin_role["rules"]["twin_rule"], Value::Null);
        let me = app
            .call(Method::GET, "/whoami", as_manager, None)
            .await
            .json();
        assert_eq!(me["role"], manager_role.as_str());
    }
}
