//! Tenant isolation: a super-admin of account B gets 404 for every user, role and secret
//! endpoint of account A; on A's shared objects B gets 403 for every twin-scoped route while
//! the twin is hidden from it, and even when it may see the twin it can change nothing of A's
//! and read nothing A did not share. A's data is unchanged afterwards.

use axum::http::Method;
use serde_json::{json, Value};

use super::TestApp;

/// What A itself reads of its twin: the twin, its ledger, history, identities and stickers.
async fn snapshot(app: &TestApp, twin: &str, secret: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        format!("/twins/{twin}"),
        format!("/twins/{twin}/ledgers/personal"),
        format!("/twins/{twin}/ledgers/personal/history"),
        format!("/twins/{twin}/identities"),
        format!("/twins/{twin}/stickers"),
    ] {
        let reply = app.call(Method::GET, &path, Some(secret), None).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text());
        seen.push(reply.json());
    }
    seen
}

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
        let mut calls: Vec<(Method, String, Option<Value>)> = vec![
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

    async fn another_account_reaches_nothing_of_a_twin_and_changes_nothing(app) {
        let a = app.create_account("Account A").await;
        let b = app.create_account("Account B").await;
        let as_a = Some(a.secret.as_str());
        let twin = app
            .call(Method::POST, "/twins", as_a, Some(json!({"description": {"kind": "order"}})))
            .await
            .json()["creation_certificate"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let ledger = format!("/twins/{twin}/ledgers/personal");
        let setup = [
            (ledger.clone(), json!({"entries": {"secret_note": {"value": "A only", "history": "INF"}}})),
            (format!("/twins/{twin}/identities"), json!({"identities": {"RFID#a1": {"visibility": null}}})),
            (format!("/twins/{twin}/stickers"), json!({"stickers": {"red": {"note": "for A", "recipients": [a.account]}}})),
        ];
        for (path, body) in setup {
            let reply = app.call(Method::POST, &path, as_a, Some(body)).await;
            assert_eq!(reply.status.as_u16(), 201, "{path}: {}", reply.text());
        }
        let before = snapshot(&app, &twin, &a.secret).await;

        let twin_calls = |a_ledger: &str| -> Vec<(Method, String, Option<Value>)> {
            vec![
                (Method::GET, format!("/twins/{twin}"), None),
                (Method::PATCH, format!("/twins/{twin}"), Some(json!({"description": {"kind": "forged"}}))),
                (Method::DELETE, format!("/twins/{twin}"), None),
                (Method::GET, format!("/twins/{twin}/ledgers/{a_ledger}"), None),
                (Method::POST, format!("/twins/{twin}/ledgers/{a_ledger}"), Some(json!({"entries": {"planted": {"value": 1}}}))),
                (Method::PATCH, format!("/twins/{twin}/ledgers/{a_ledger}"), Some(json!({"entries": {"secret_note": {"value": "forged"}}}))),
                (Method::DELETE, format!("/twins/{twin}/ledgers/{a_ledger}?entries=secret_note"), None),
                (Method::GET, format!("/twins/{twin}/ledgers/{a_ledger}/value"), None),
                (Method::PATCH, format!("/twins/{twin}/ledgers/{a_ledger}/value"), Some(json!({"entries": {"secret_note": {"value": "forged"}}}))),
                (Method::GET, format!("/twins/{twin}/ledgers/{a_ledger}/history"), None),
                (Method::GET, format!("/twins/{twin}/identities"), None),
                (Method::POST, format!("/twins/{twin}/identities"), Some(json!({"identities": {"RFID#b1": {}}}))),
                (Method::GET, format!("/twins/{twin}/identities/RFID%23a1"), None),
                (Method::PATCH, format!("/twins/{twin}/identities/RFID%23a1"), Some(json!({"visibility": "true"}))),
                (Method::DELETE, format!("/twins/{twin}/identities/RFID%23a1"), None),
                (Method::POST, format!("/twins/{twin}/stickers"), Some(json!({"stickers": {"blue": {"note": "x", "recipients": [b.account]}}}))),
                (Method::GET, format!("/twins/{twin}/stickers"), None),
                (Method::GET, format!("/twins/{twin}/stickers/red?context={}", a.account), None),
                (Method::DELETE, format!("/twins/{twin}/stickers/red?context={}", a.account), None),
            ]
        };

        // The twin is hidden from B (its Super Admin role has no twin rule): every twin-scoped
        // route answers 403 / 403535 and leaks nothing.
        for (method, path, body) in twin_calls("owner") {
            let reply = app.call(method.clone(), &path, Some(&b.secret), body).await;
            reply.assert_tt_error(403, 403_535);
            assert!(!reply.text().contains("A only") && !reply.text().contains("for A"), "{method} {path}");
        }
        // Across twins: nothing of A's is listed or resolved.
        let scanned = app.call(Method::GET, "/twins", Some(&b.secret), None).await.json();
        assert_eq!(scanned["twins"], json!([]));
        for context in ["system", a.account.as_str()] {
            let resolved = app
                .call(Method::GET, &format!("/resolve/RFID%23a1?context={context}"), Some(&b.secret), None)
                .await;
            assert_eq!(resolved.status.as_u16(), 200, "{}", resolved.text());
            assert_eq!(resolved.json()["twins"], json!([]), "context {context}");
        }
        let stickers = app.call(Method::GET, "/stickers?context=system", Some(&b.secret), None).await;
        assert_eq!(stickers.json()["stickers"], json!([]));

        // Now B may see the twin and foreign entries in general: still nothing of A's changes,
        // and A's private entry, identity and sticker stay invisible.
        let role = app
            .call(
                Method::POST,
                "/roles",
                Some(&b.secret),
                Some(json!({"name": "Curious", "rules": {"twin_rule": "true", "entry_rule": "true", "identity_rule": "true"}})),
            )
            .await
            .json()["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(Method::PATCH, &format!("/users/{}", b.user), Some(&b.secret), Some(json!({"role": role}))).await;
        // What B gets, route by route (in the order of `twin_calls`): reads answer without A's
        // private data, changes of A's things are refused, B's own additions are its own.
        let expected = [
            200, 403, 403, // twin: read, update, terminate (owner only)
            200, 403, 403, 403, // A's ledger: read, add, update, delete (own ledger only)
            200, 403, 200, // values read and update, history read
            200, 201, 404, 404, 404, // identities: list, attach B's own, A's private one
            201, 200, 404, 404, // stickers: B's own, list, A's not addressed to B
        ];
        for ((method, path, body), status) in twin_calls(&a.account).into_iter().zip(expected) {
            let reply = app.call(method.clone(), &path, Some(&b.secret), body).await;
            assert_eq!(reply.status.as_u16(), status, "{method} {path}: {}", reply.text());
            assert!(!reply.text().contains("A only") && !reply.text().contains("for A"), "{method} {path}: {}", reply.text());
            assert!(!reply.text().contains("RFID#a1"), "{method} {path}: {}", reply.text());
        }
        let after = snapshot(&app, &twin, &a.secret).await;
        assert_eq!(after[1..], before[1..], "A's ledger, history, identities and stickers unchanged");
        assert_eq!(after[0]["description"], before[0]["description"]);
        assert_eq!(after[0]["status"], "alive");
    }
}
