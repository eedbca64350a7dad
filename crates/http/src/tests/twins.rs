//! Twins over the Trusted Twin routes: ownership, termination, visibility through the
//! reader's `twin_rule`, and scans.

use axum::http::Method;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{TestAccount, TestApp};

pub(super) async fn create_twin(
    app: &TestApp,
    owner: &TestAccount,
    description: Option<Value>,
) -> String {
    let body = description.map(|description| json!({ "description": description }));
    let reply = app
        .call(Method::POST, "/twins", Some(&owner.secret), body)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    reply.json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Gives the account's admin user a role with this twin rule (all actions allowed).
async fn set_twin_rule(app: &TestApp, account: &TestAccount, twin_rule: &str) {
    let role = app
        .call(
            Method::POST,
            "/roles",
            Some(&account.secret),
            Some(json!({"name": "Partner", "rules": {"twin_rule": twin_rule}})),
        )
        .await;
    assert_eq!(role.status.as_u16(), 201, "{}", role.text());
    let role = role.json()["uuid"].as_str().unwrap().to_owned();
    let patched = app
        .call(
            Method::PATCH,
            &format!("/users/{}", account.user),
            Some(&account.secret),
            Some(json!({ "role": role })),
        )
        .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
}

pub(super) fn urlencode(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

api_tests! {
    async fn created_twin_has_trusted_twin_shape_and_owner_reads_it(app) {
        let shop = app.create_account("Shop").await;
        let reply = app
            .call(
                Method::POST,
                "/twins",
                Some(&shop.secret),
                Some(json!({"description": {"kind": "order"}})),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 201);
        let twin = reply.json();
        assert_eq!(twin["status"], "alive");
        assert_eq!(twin["owner"], shop.account.as_str());
        assert_eq!(
            twin["creation_certificate"]["creator"],
            shop.account.as_str()
        );
        assert_eq!(twin["description"], json!({"kind": "order"}));
        assert!(twin.get("termination_certificate").is_none());
        let id = twin["creation_certificate"]["uuid"].as_str().unwrap();
        let read = app
            .call(
                Method::GET,
                &format!("/twins/{id}"),
                Some(&shop.secret),
                None,
            )
            .await;
        assert_eq!(read.json(), twin);

        let bare = app
            .call(Method::POST, "/twins", Some(&shop.secret), None)
            .await
            .json();
        assert!(
            bare.get("description").is_none(),
            "absent description is omitted"
        );
        let empty = app
            .call(
                Method::POST,
                "/twins",
                Some(&shop.secret),
                Some(json!({"description": {}})),
            )
            .await
            .json();
        assert_eq!(
            empty["description"],
            json!({}),
            "an empty description stays {{}}"
        );
        app.call(
            Method::POST,
            "/twins",
            Some(&shop.secret),
            Some(json!({"description": {"Bad Key": 1}})),
        )
        .await
        .assert_tt_error(400, 400_589);
        app.call(Method::GET, "/twins/not-a-uuid", Some(&shop.secret), None)
            .await
            .assert_tt_error(400, 400_589);
        app.call(
            Method::GET,
            "/twins/00000000-0000-4000-8000-000000000000",
            Some(&shop.secret),
            None,
        )
        .await
        .assert_tt_error(404, 404_653);
    }

    async fn foreign_reader_sees_a_twin_only_when_its_twin_rule_allows_it(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let order = create_twin(&app, &shop, Some(json!({"kind": "order"}))).await;
        let invoice = create_twin(&app, &shop, Some(json!({"kind": "invoice"}))).await;

        // No twin rule: foreign twins are invisible (403, the twin exists).
        app.call(
            Method::GET,
            &format!("/twins/{order}"),
            Some(&courier.secret),
            None,
        )
        .await
        .assert_tt_error(403, 403_535);

        set_twin_rule(&app, &courier, "TWIN.kind == 'order'").await;
        let seen = app
            .call(
                Method::GET,
                &format!("/twins/{order}"),
                Some(&courier.secret),
                None,
            )
            .await;
        assert_eq!(seen.status.as_u16(), 200, "{}", seen.text());
        assert_eq!(seen.json()["description"]["kind"], "order");
        let hidden = app
            .call(
                Method::GET,
                &format!("/twins/{invoice}"),
                Some(&courier.secret),
                None,
            )
            .await;
        hidden.assert_tt_error(403, 403_535);
        assert!(
            !hidden.text().contains("invoice"),
            "a hidden twin leaks nothing"
        );

        // Seeing is not owning.
        app.call(
            Method::PATCH,
            &format!("/twins/{order}"),
            Some(&courier.secret),
            Some(json!({"description": {}})),
        )
        .await
        .assert_tt_error(403, 403_535);
        app.call(
            Method::DELETE,
            &format!("/twins/{order}"),
            Some(&courier.secret),
            None,
        )
        .await
        .assert_tt_error(403, 403_535);
        let unchanged = app
            .call(
                Method::GET,
                &format!("/twins/{order}"),
                Some(&shop.secret),
                None,
            )
            .await
            .json();
        assert_eq!(unchanged["status"], "alive");
        assert_eq!(unchanged["description"]["kind"], "order");

        // A twin rule restricts the owner's own account too.
        set_twin_rule(&app, &shop, "TWIN.kind == 'order'").await;
        app.call(
            Method::GET,
            &format!("/twins/{invoice}"),
            Some(&shop.secret),
            None,
        )
        .await
        .assert_tt_error(403, 403_535);
    }

    async fn twin_rule_can_require_a_per_request_key_from_x_trustedtwin(app) {
        let shop = app.create_account("Shop").await;
        let lab = app.create_account("Lab").await;
        let twin = create_twin(&app, &shop, Some(json!({"serial": "b0f531c3"}))).await;
        set_twin_rule(&app, &lab, "TWIN.serial == DICT.serial").await;
        app.call(
            Method::GET,
            &format!("/twins/{twin}"),
            Some(&lab.secret),
            None,
        )
        .await
        .assert_tt_error(403, 403_535);
        let header = base64::engine::general_purpose::STANDARD.encode(r#"{"serial": "b0f531c3"}"#);
        let request = axum::http::Request::get(format!("/twins/{twin}"))
            .header("Authorization", &lab.secret)
            .header("X-TrustedTwin", header)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.status.as_u16(), 200);
    }

    async fn owner_updates_alive_twins_and_termination_is_final(app) {
        let shop = app.create_account("Shop").await;
        let twin = create_twin(&app, &shop, Some(json!({"kind": "order"}))).await;
        let path = format!("/twins/{twin}");
        let updated = app
            .call(
                Method::PATCH,
                &path,
                Some(&shop.secret),
                Some(json!({"description": {"kind": "return"}})),
            )
            .await;
        assert_eq!(updated.status.as_u16(), 200);
        assert_eq!(updated.json()["description"], json!({"kind": "return"}));

        let terminated = app
            .call(Method::DELETE, &path, Some(&shop.secret), None)
            .await;
        assert_eq!(terminated.status.as_u16(), 200);
        let terminated = terminated.json();
        assert_eq!(terminated["status"], "terminated");
        assert_eq!(
            terminated["termination_certificate"]["issuer"],
            shop.account.as_str()
        );

        app.call(Method::DELETE, &path, Some(&shop.secret), None)
            .await
            .assert_tt_error(400, 400_358);
        app.call(
            Method::PATCH,
            &path,
            Some(&shop.secret),
            Some(json!({"description": {}})),
        )
        .await
        .assert_tt_error(400, 400_897);
        let shown = app.call(Method::GET, &path, Some(&shop.secret), None).await;
        assert_eq!(shown.json()["status"], "terminated");
        for hide in ["false", "False"] {
            app.call(
                Method::GET,
                &format!("{path}?show_terminated={hide}"),
                Some(&shop.secret),
                None,
            )
            .await
            .assert_tt_error(404, 404_653);
        }
        app.call(
            Method::GET,
            &format!("{path}?show_terminated=maybe"),
            Some(&shop.secret),
            None,
        )
        .await
        .assert_tt_error(400, 400_589);
    }

    async fn scan_pages_through_own_twins_only_with_match_rules_and_details(app) {
        let shop = app.create_account("Shop").await;
        let other = app.create_account("Other").await;
        let mut own = Vec::new();
        for index in 0..7 {
            let kind = if index % 2 == 0 { "order" } else { "invoice" };
            own.push(create_twin(&app, &shop, Some(json!({"kind": kind, "index": index}))).await);
        }
        let foreign = create_twin(&app, &other, Some(json!({"kind": "order"}))).await;
        own.sort();

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/twins?count=3&cursor={}", urlencode(cursor)),
                None => "/twins?count=3".to_owned(),
            };
            let page = app.call(Method::GET, &path, Some(&shop.secret), None).await;
            assert_eq!(page.status.as_u16(), 200, "{}", page.text());
            let page = page.json();
            seen.extend(
                page["twins"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| id.as_str().unwrap().to_owned()),
            );
            match page["cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, own, "every own twin once, in order");
        assert!(!seen.contains(&foreign));

        let orders = app
            .call(
                Method::GET,
                "/twins?match=TWIN.kind%20%3D%3D%20%27order%27",
                Some(&shop.secret),
                None,
            )
            .await
            .json();
        assert_eq!(orders["twins"].as_array().unwrap().len(), 4);
        assert_eq!(orders["cursor"], Value::Null);

        let details = app
            .call(Method::GET, "/twins?details=True", Some(&shop.secret), None)
            .await
            .json();
        let objects = details["twins"].as_object().unwrap();
        assert_eq!(objects.len(), 7);
        assert_eq!(objects[&own[0]]["owner"], shop.account.as_str());

        for bad in [
            "/twins?count=0",
            "/twins?count=1001",
            "/twins?cursor=%%%",
            "/twins?match=TWIN.kind%20%3D%3D",
        ] {
            app.call(Method::GET, bad, Some(&shop.secret), None)
                .await
                .assert_tt_error(400, 400_589);
        }
        let others = app
            .call(Method::GET, "/twins", Some(&other.secret), None)
            .await
            .json();
        assert_eq!(others["twins"], json!([foreign]));
    }
}
