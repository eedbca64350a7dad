//! Tenant isolation for accounts and access: a super-admin of account B gets 404 for every
//! user, role and secret endpoint of account A, and A's data is unchanged afterwards.

use axum::http::Method;
use serde_json::json;

api_tests! {
    async fn super_admin_of_another_account_gets_404_for_every_user_role_and_secret_route(app) {
        let a = app.create_account("Account A").await;
        let b = app.create_account("Account B").await;
        let as_a = Some(a.secret.as_str());
        let spare_role = app
            .call(
                Method::POST,
                "/roles",
                as_a,
                Some(json!({"name": "Spare A"})),
            )
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = (
            app.call(Method::GET, "/users", as_a, None).await.json(),
            app.call(Method::GET, "/roles", as_a, None).await.json(),
            app.call(
                Method::GET,
                &format!("/users/{}/secrets", a.user),
                as_a,
                None,
            )
            .await
            .json(),
        );

        let user = format!("/users/{}", a.user);
        let secret = format!("/users/{}/secrets", a.user);
        let mut calls: Vec<(Method, String, Option<serde_json::Value>)> = vec![
            (Method::GET, user.clone(), None),
            (
                Method::PATCH,
                user.clone(),
                Some(json!({"name": "Hijacked"})),
            ),
            (Method::DELETE, user.clone(), None),
            (Method::GET, secret.clone(), None),
            (Method::POST, secret.clone(), None),
            (
                Method::PATCH,
                secret.clone(),
                Some(json!({"validity_ts": null})),
            ),
            (Method::DELETE, secret.clone(), None),
            (
                Method::POST,
                "/users".to_owned(),
                Some(json!({"name": "Planted", "role": a.role})),
            ),
        ];
        for role in [&spare_role, &a.role] {
            let path = format!("/roles/{role}");
            calls.push((Method::GET, path.clone(), None));
            calls.push((
                Method::PATCH,
                path.clone(),
                Some(json!({"name": "Hijacked"})),
            ));
            calls.push((Method::DELETE, path, None));
        }

        for (method, path, body) in calls {
            let reply = app.call(method.clone(), &path, Some(&b.secret), body).await;
            reply.assert_tt_error(404, 404_653);
            assert!(
                !reply.text().contains(&a.account),
                "{method} {path} leaked A's account id"
            );
            assert!(!reply.text().contains("Account A"));
        }

        let listed_by_b = app
            .call(Method::GET, "/users", Some(&b.secret), None)
            .await
            .json();
        assert!(listed_by_b["users"].get(&a.user).is_none());
        let roles_by_b = app
            .call(Method::GET, "/roles", Some(&b.secret), None)
            .await
            .json();
        assert!(roles_by_b["roles"].get(&a.role).is_none());
        assert!(roles_by_b["roles"].get(&spare_role).is_none());
        let after = (
            app.call(Method::GET, "/users", as_a, None).await.json(),
            app.call(Method::GET, "/roles", as_a, None).await.json(),
            app.call(
                Method::GET,
                &format!("/users/{}/secrets", a.user),
                as_a,
                None,
            )
            .await
            .json(),
        );
        assert_eq!(after, before, "account A unchanged");
        // B's PIN route cannot redeem into A either: A's account path with B's pin is a wrong PIN.
        let b_pin = app
            .call(
                Method::POST,
                &format!("/users/{}/secrets", b.user),
                Some(&b.secret),
                None,
            )
            .await
            .json()["pin"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(
            Method::POST,
            &format!("/secrets/{}/{b_pin}", a.account),
            None,
            None,
        )
        .await
        .assert_tt_error(404, 404_653);
    }
}
