//! Identities over the Trusted Twin routes: the shop attaches identities to an order, the
//! courier resolves only those the shop shares with it and its own role lets it see; bad input,
//! expiry, and what a foreign account can never change.

use axum::http::Method;
use serde_json::{json, Value};
use steward_domain::Clock as _;

use super::{TestAccount, TestApp};

const PUBLIC: &str = "RFID#parcel-4411";
const PRIVATE: &str = "INV#2024-0001";
const OTHERS: &str = "RFID#other-partner";

struct Story {
    shop: TestAccount,
    courier: TestAccount,
    order: String,
}

/// Percent-encodes an identity for a path segment, as the Python client does.
fn enc(identity: &str) -> String {
    identity
        .replace('%', "%25")
        .replace('#', "%23")
        .replace('+', "%2B")
        .replace('=', "%3D")
}

async fn create_twin(app: &TestApp, account: &TestAccount, kind: &str) -> String {
    let reply = app
        .call(
            Method::POST,
            "/twins",
            Some(&account.secret),
            Some(json!({"description": {"kind": kind}})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    reply.json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Gives `account`'s admin user a new role with `rules`.
async fn set_rules(app: &TestApp, account: &TestAccount, rules: Value) {
    let role = app
        .call(
            Method::POST,
            "/roles",
            Some(&account.secret),
            Some(json!({"name": "Partner", "rules": rules})),
        )
        .await;
    assert_eq!(role.status.as_u16(), 201, "{}", role.text());
    let role = role.json()["uuid"].as_str().unwrap().to_owned();
    let user = app
        .call(
            Method::PATCH,
            &format!("/users/{}", account.user),
            Some(&account.secret),
            Some(json!({ "role": role })),
        )
        .await;
    assert_eq!(user.status.as_u16(), 200, "{}", user.text());
}

/// A shop's order twin with three identities: one shared with the courier, one private, one
/// shared with another partner only. The courier sees orders and lets identity visibility
/// decide.
async fn story(app: &TestApp) -> Story {
    let shop = app.create_account("Shop").await;
    let courier = app.create_account("Courier").await;
    let order = create_twin(app, &shop, "order").await;
    set_rules(
        app,
        &courier,
        json!({"twin_rule": "TWIN.kind == 'order'", "identity_rule": "true"}),
    )
    .await;
    let created = app
        .call(
            Method::POST,
            &format!("/twins/{order}/identities"),
            Some(&shop.secret),
            Some(json!({"identities": {
                PUBLIC: {"visibility": format!("account == '{}'", courier.account)},
                PRIVATE: {},
                OTHERS: {"visibility": "account == '00000000-0000-4000-8000-000000000000'", "validity_ts": null},
            }})),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text());
    Story {
        shop,
        courier,
        order,
    }
}

fn identity_names(body: &Value) -> Vec<String> {
    body["identities"]
        .as_object()
        .unwrap_or_else(|| panic!("no identities object: {body}"))
        .keys()
        .cloned()
        .collect()
}

fn twin_ids(body: &Value) -> Vec<String> {
    body["twins"]
        .as_array()
        .unwrap_or_else(|| panic!("twins is not a list: {body}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

api_tests! {
    async fn owner_attaches_reads_updates_and_deletes_identities(app) {
        let shop = app.create_account("Shop").await;
        let order = create_twin(&app, &shop, "order").await;
        let as_shop = Some(shop.secret.as_str());
        let now = app.clock.now().as_tt_seconds();
        let validity = (now + 3600.0).floor() + 0.125;
        let created = app
            .call(
                Method::POST,
                &format!("/twins/{order}/identities"),
                as_shop,
                Some(json!({"identities": {
                    "RFID#be744bdc-0f6d": {"validity_ts": validity, "visibility": "USER.role == 'courier'"},
                    "NFC#6c02+a=": {},
                }})),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text());
        let created = created.json();
        let rfid = &created["identities"]["RFID#be744bdc-0f6d"];
        assert_eq!(rfid["validity_ts"], json!(validity));
        assert_eq!(rfid["visibility"], "USER.role == 'courier'");
        assert_eq!(rfid["creation_certificate"]["identity"], "RFID#be744bdc-0f6d");
        assert_eq!(rfid["creation_certificate"]["creator"], shop.account.as_str());
        assert!(rfid["creation_certificate"]["created_ts"].as_f64().unwrap() >= now.floor());
        assert_eq!(created["identities"]["NFC#6c02+a="]["visibility"], Value::Null);
        assert_eq!(created["identities"]["NFC#6c02+a="]["validity_ts"], Value::Null);

        // Attaching again: per-item error, the stored identity is kept; new ones are stored.
        let again = app
            .call(
                Method::POST,
                &format!("/twins/{order}/identities"),
                as_shop,
                Some(json!({"identities": {"RFID#be744bdc-0f6d": {"visibility": "true"}, "QR#1": {}}})),
            )
            .await;
        assert_eq!(again.status.as_u16(), 201, "{}", again.text());
        let again = again.json();
        assert_eq!(again["identities"]["RFID#be744bdc-0f6d"], json!({"error": "Identity already exists."}));
        assert_eq!(again["identities"]["QR#1"]["creation_certificate"]["identity"], "QR#1");

        let fetched = app
            .call(Method::GET, &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")), as_shop, None)
            .await;
        assert_eq!(fetched.status.as_u16(), 200, "{}", fetched.text());
        assert_eq!(fetched.json(), *rfid);
        let encoded = app
            .call(Method::GET, &format!("/twins/{order}/identities/{}", enc("NFC#6c02+a=")), as_shop, None)
            .await;
        assert_eq!(encoded.status.as_u16(), 200, "{}", encoded.text());
        assert_eq!(encoded.json()["creation_certificate"]["identity"], "NFC#6c02+a=");

        let listed = app.call(Method::GET, &format!("/twins/{order}/identities"), as_shop, None).await;
        assert_eq!(listed.status.as_u16(), 200, "{}", listed.text());
        let listed = listed.json();
        assert_eq!(identity_names(&listed), ["NFC#6c02+a=", "QR#1", "RFID#be744bdc-0f6d"]);
        let item = &listed["identities"]["RFID#be744bdc-0f6d"];
        assert_eq!(item["validity_ts"], json!(validity));
        assert_eq!(item["visibility"], "USER.role == 'courier'");
        assert_eq!(item["created_ts"], rfid["creation_certificate"]["created_ts"]);
        assert_eq!(item["updated_ts"], rfid["updated_ts"]);
        for (query, expected) in [
            ("show_public=false", vec!["NFC#6c02+a=", "QR#1"]),
            ("show_private=False", vec!["RFID#be744bdc-0f6d"]),
            ("show_personal=0", vec![]),
            ("show_valid=false", vec![]),
            ("show_foreign=true", vec!["NFC#6c02+a=", "QR#1", "RFID#be744bdc-0f6d"]),
        ] {
            let reply = app.call(Method::GET, &format!("/twins/{order}/identities?{query}"), as_shop, None).await;
            assert_eq!(reply.status.as_u16(), 200, "{query}: {}", reply.text());
            assert_eq!(identity_names(&reply.json()), expected, "{query}");
        }

        app.clock.advance_millis(1_500);
        let patched = app
            .call(
                Method::PATCH,
                &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")),
                as_shop,
                Some(json!({"visibility": null})),
            )
            .await;
        assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
        let patched = patched.json();
        assert_eq!(patched["visibility"], Value::Null);
        assert_eq!(patched["validity_ts"], json!(validity), "absent fields are kept");
        assert!(patched["updated_ts"].as_f64() > rfid["updated_ts"].as_f64());
        assert_eq!(patched["creation_certificate"], rfid["creation_certificate"]);
        let patched = app
            .call(
                Method::PATCH,
                &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")),
                as_shop,
                Some(json!({"validity_ts": null, "visibility": "true"})),
            )
            .await
            .json();
        assert_eq!(patched["validity_ts"], Value::Null);
        assert_eq!(patched["visibility"], "true");

        let deleted = app
            .call(Method::DELETE, &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")), as_shop, None)
            .await;
        assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
        assert_eq!(deleted.json(), patched);
        for method in [Method::GET, Method::DELETE] {
            app.call(method, &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")), as_shop, None)
                .await
                .assert_tt_error(404, 404653);
        }
        app.call(
            Method::PATCH,
            &format!("/twins/{order}/identities/{}", enc("RFID#be744bdc-0f6d")),
            as_shop,
            Some(json!({"visibility": "true"})),
        )
        .await
        .assert_tt_error(404, 404653);
        let resolved = app.call(Method::GET, &format!("/resolve/{}", enc("RFID#be744bdc-0f6d")), as_shop, None).await.json();
        assert_eq!(twin_ids(&resolved), Vec::<String>::new());
    }

    async fn foreign_reader_sees_only_identities_both_rules_allow(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_courier = Some(courier.secret.as_str());
        let list = |query: &'static str| {
            let path = format!("/twins/{order}/identities{query}");
            let app = &app;
            async move {
                let reply = app.call(Method::GET, &path, as_courier, None).await;
                assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text());
                reply.json()
            }
        };

        // Default: the courier's own identities only (none).
        assert_eq!(identity_names(&list("").await), Vec::<String>::new());
        let foreign = list("?show_foreign=true").await;
        assert_eq!(identity_names(&foreign), [PUBLIC]);
        let item = &foreign["identities"][PUBLIC];
        assert_eq!(item["creation_certificate"]["creator"], shop.account.as_str());
        assert!(item.get("visibility").is_none(), "a foreign rule is not shown: {item}");
        let by_account = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_foreign={}", shop.account), as_courier, None)
            .await
            .json();
        assert_eq!(identity_names(&by_account), [PUBLIC]);
        let other_account = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_foreign={}", courier.account), as_courier, None)
            .await
            .json();
        assert_eq!(identity_names(&other_account), Vec::<String>::new());

        for context in [shop.account.clone(), "system".to_owned()] {
            let resolved = app.call(Method::GET, &format!("/resolve/{}?context={context}", enc(PUBLIC)), as_courier, None).await;
            assert_eq!(resolved.status.as_u16(), 200, "{}", resolved.text());
            assert_eq!(twin_ids(&resolved.json()), std::slice::from_ref(&order), "context {context}");
            for hidden in [PRIVATE, OTHERS] {
                let resolved = app.call(Method::GET, &format!("/resolve/{}?context={context}", enc(hidden)), as_courier, None).await;
                assert_eq!(twin_ids(&resolved.json()), Vec::<String>::new(), "{hidden} leaked through context {context}");
            }
        }
        // Nothing private ever appears in what the courier reads.
        for path in [
            format!("/twins/{order}/identities?show_foreign=true&show_private=true&show_expired=true"),
            format!("/twins/{order}/identities?show_foreign={}", shop.account),
        ] {
            let text = app.call(Method::GET, &path, as_courier, None).await.text();
            assert!(!text.contains(PRIVATE) && !text.contains(OTHERS), "{path} leaked: {text}");
        }
        for hidden in [PRIVATE, PUBLIC] {
            app.call(Method::GET, &format!("/twins/{order}/identities/{}", enc(hidden)), as_courier, None)
                .await
                .assert_tt_error(404, 404653);
        }

        // The courier's own identity_rule narrows further; a null rule shows nothing foreign.
        set_rules(&app, &courier, json!({"twin_rule": "TWIN.kind == 'order'", "identity_rule": "identity =~ 'NFC#.*'"})).await;
        assert_eq!(identity_names(&list("?show_foreign=true").await), Vec::<String>::new());
        let resolved = app.call(Method::GET, &format!("/resolve/{}?context=system", enc(PUBLIC)), as_courier, None).await.json();
        assert_eq!(twin_ids(&resolved), Vec::<String>::new());
        set_rules(&app, &courier, json!({"twin_rule": "TWIN.kind == 'order'"})).await;
        assert_eq!(identity_names(&list("?show_foreign=true").await), Vec::<String>::new());
        let resolved = app.call(Method::GET, &format!("/resolve/{}?context={}", enc(PUBLIC), shop.account), as_courier, None).await.json();
        assert_eq!(twin_ids(&resolved), Vec::<String>::new());
        // Identity rules see the twin: TWIN and twin_status.
        set_rules(&app, &courier, json!({"twin_rule": "TWIN.kind == 'order'", "identity_rule": "TWIN.kind == 'order' and twin_status == 'alive'"})).await;
        let resolved = app.call(Method::GET, &format!("/resolve/{}?context=system", enc(PUBLIC)), as_courier, None).await.json();
        assert_eq!(twin_ids(&resolved), std::slice::from_ref(&order));

        // The shop's own role rule restricts its own identities too.
        set_rules(&app, &shop, json!({"twin_rule": "true", "identity_rule": "identity =~ 'RFID#.*'"})).await;
        let own = app.call(Method::GET, &format!("/twins/{order}/identities"), Some(&shop.secret), None).await.json();
        assert_eq!(identity_names(&own), [OTHERS, PUBLIC]);
        app.call(Method::GET, &format!("/twins/{order}/identities/{}", enc(PRIVATE)), Some(&shop.secret), None)
            .await
            .assert_tt_error(404, 404653);
        let resolved = app.call(Method::GET, &format!("/resolve/{}", enc(PRIVATE)), Some(&shop.secret), None).await.json();
        assert_eq!(twin_ids(&resolved), Vec::<String>::new());
    }

    async fn resolve_accepts_every_context_form_and_details(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_courier = Some(courier.secret.as_str());
        // The courier attaches the same string to a twin of its own; the shop to a second twin
        // the courier cannot see (its twin rule needs kind == 'order').
        let van = create_twin(&app, &courier, "order").await;
        let hidden = create_twin(&app, &shop, "invoice").await;
        app.call(Method::GET, &format!("/twins/{hidden}"), as_courier, None).await.assert_tt_error(403, 403535);
        let shared = app
            .call(
                Method::POST,
                &format!("/twins/{hidden}/identities"),
                Some(&shop.secret),
                Some(json!({"identities": {PUBLIC: {"visibility": "true"}}})),
            )
            .await;
        assert_eq!(shared.status.as_u16(), 201, "{}", shared.text());
        let own = app
            .call(Method::POST, &format!("/twins/{van}/identities"), as_courier, Some(json!({"identities": {PUBLIC: {}}})))
            .await;
        assert_eq!(own.status.as_u16(), 201, "{}", own.text());

        let resolve = |query: String| {
            let app = &app;
            async move {
                let reply = app.call(Method::GET, &format!("/resolve/{}{query}", enc(PUBLIC)), as_courier, None).await;
                assert_eq!(reply.status.as_u16(), 200, "{query}: {}", reply.text());
                reply.json()
            }
        };
        let mut shop_twins = vec![order.clone(), hidden.clone()];
        shop_twins.sort();
        let mut everything = vec![order.clone(), hidden.clone(), van.clone()];
        everything.sort();
        let shop_account = &shop.account;
        let courier_account = &courier.account;
        for (query, expected) in [
            (String::new(), vec![van.clone()]),
            ("?context=personal".to_owned(), vec![van.clone()]),
            (format!("?context={courier_account}"), vec![van.clone()]),
            (format!("?context={shop_account}"), shop_twins.clone()),
            (format!("?context={shop_account},personal"), everything.clone()),
            (format!("?context={shop_account}&context={courier_account}"), everything.clone()),
            (format!("?context=personal,{shop_account}&context={shop_account}"), everything.clone()),
            ("?context=system".to_owned(), everything.clone()),
            ("?context=system&details=false".to_owned(), everything.clone()),
            ("?context=00000000-0000-4000-8000-000000000000".to_owned(), vec![]),
        ] {
            assert_eq!(twin_ids(&resolve(query.clone()).await), expected, "{query}");
        }

        // With details only twins the courier may see, as twin objects by uuid.
        for flag in ["true", "True", "1"] {
            let detailed = resolve(format!("?context=system&details={flag}")).await;
            let twins = detailed["twins"].as_object().unwrap_or_else(|| panic!("{detailed}"));
            let mut keys: Vec<&String> = twins.keys().collect();
            keys.sort();
            let mut visible = vec![&order, &van];
            visible.sort();
            assert_eq!(keys, visible, "details={flag}");
            assert_eq!(twins[&order]["description"]["kind"], "order");
            assert_eq!(twins[&order]["creation_certificate"]["uuid"], order.as_str());
            assert_eq!(twins[&order]["owner"], shop_account.as_str());
            assert!(!detailed.to_string().contains(&hidden));
        }
        let detailed = resolve("?details=true".to_owned()).await;
        assert_eq!(detailed["twins"].as_object().unwrap().len(), 1);

        for query in [
            "?context=system,personal".to_owned(),
            "?context=system&context=personal".to_owned(),
            "?context=everyone".to_owned(),
            "?context=".to_owned(),
            "?context=personal,".to_owned(),
            "?details=maybe".to_owned(),
            "?contexts=personal".to_owned(),
        ] {
            app.call(Method::GET, &format!("/resolve/{}{query}", enc(PUBLIC)), as_courier, None)
                .await
                .assert_tt_error(400, 400589);
        }
        let many: Vec<String> = (0..101).map(|n| format!("00000000-0000-4000-8000-{n:012}")).collect();
        app.call(Method::GET, &format!("/resolve/{}?context={}", enc(PUBLIC), many.join(",")), as_courier, None)
            .await
            .assert_tt_error(400, 400589);
        for bad in ["RFID", "RFID%23", "TOOLONGPREFIX%23x", "RFID%23a%20b", "RFID%23a%2Fb"] {
            app.call(Method::GET, &format!("/resolve/{bad}"), as_courier, None)
                .await
                .assert_tt_error(400, 400589);
        }
    }

    async fn expired_identities_are_listed_on_request_and_never_resolved(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_shop = Some(shop.secret.as_str());
        let as_courier = Some(courier.secret.as_str());
        let soon = app.clock.now().as_tt_seconds() + 60.0;
        let patched = app
            .call(
                Method::PATCH,
                &format!("/twins/{order}/identities/{}", enc(PUBLIC)),
                as_shop,
                Some(json!({"validity_ts": soon})),
            )
            .await;
        assert_eq!(patched.status.as_u16(), 200, "{}", patched.text());
        let resolved = app.call(Method::GET, &format!("/resolve/{}?context=system", enc(PUBLIC)), as_courier, None).await.json();
        assert_eq!(twin_ids(&resolved), std::slice::from_ref(&order));

        app.clock.advance_millis(60_001);
        let own = app.call(Method::GET, &format!("/twins/{order}/identities"), as_shop, None).await.json();
        assert_eq!(identity_names(&own), [PRIVATE, OTHERS]);
        let expired = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_expired=true&show_valid=false"), as_shop, None)
            .await
            .json();
        assert_eq!(identity_names(&expired), [PUBLIC]);
        let fetched = app.call(Method::GET, &format!("/twins/{order}/identities/{}", enc(PUBLIC)), as_shop, None).await;
        assert_eq!(fetched.status.as_u16(), 200, "the owner still reads its expired identity");

        for caller in [as_courier, as_shop] {
            let resolved = app.call(Method::GET, &format!("/resolve/{}?context=system", enc(PUBLIC)), caller, None).await.json();
            assert_eq!(twin_ids(&resolved), Vec::<String>::new());
        }
        let foreign = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_foreign=true&show_expired=true"), as_courier, None)
            .await
            .json();
        assert_eq!(identity_names(&foreign), Vec::<String>::new());

        // A validity in the past is refused; renewing brings the identity back.
        app.call(
            Method::PATCH,
            &format!("/twins/{order}/identities/{}", enc(PUBLIC)),
            as_shop,
            Some(json!({"validity_ts": soon})),
        )
        .await
        .assert_tt_error(400, 400589);
        let renewed = app
            .call(Method::PATCH, &format!("/twins/{order}/identities/{}", enc(PUBLIC)), as_shop, Some(json!({"validity_ts": null})))
            .await;
        assert_eq!(renewed.status.as_u16(), 200, "{}", renewed.text());
        let resolved = app.call(Method::GET, &format!("/resolve/{}?context=system", enc(PUBLIC)), as_courier, None).await.json();
        assert_eq!(twin_ids(&resolved), std::slice::from_ref(&order));
    }

    async fn bad_identity_input_is_refused_with_subcodes(app) {
        let shop = app.create_account("Shop").await;
        let order = create_twin(&app, &shop, "order").await;
        let as_shop = Some(shop.secret.as_str());
        let path = format!("/twins/{order}/identities");
        let past = app.clock.now().as_tt_seconds() - 1.0;
        let long_value = format!("RFID#{}", "x".repeat(129));
        let longest = format!("ABCDEFGH#{}", "y".repeat(128));
        for body in [
            json!({"identities": {"RFID#a b": {}}}),
            json!({"identities": {"RFID": {}}}),
            json!({"identities": {"NINECHARS#1": {}}}),
            json!({"identities": {"1RFID#1": {}}}),
            json!({"identities": {"RFID#zażółć": {}}}),
            json!({"identities": {long_value.clone(): {}}}),
            json!({"identities": {"RFID#1": {"visibility": "account =="}}}),
            json!({"identities": {"RFID#1": {"visibility": 5}}}),
            json!({"identities": {"RFID#1": {"validity_ts": "tomorrow"}}}),
            json!({"identities": {"RFID#1": {"validity_ts": past}}}),
            json!({"identities": {"RFID#1": {"visible": "true"}}}),
            json!({"identities": {"RFID#1": {}}, "extra": 1}),
            json!({"identities": {}}),
            json!({"identities": ["RFID#1"]}),
            json!({}),
        ] {
            let reply = app.call(Method::POST, &path, as_shop, Some(body.clone())).await;
            reply.assert_tt_error(400, 400589);
        }
        let rule_error = app
            .call(Method::POST, &path, as_shop, Some(json!({"identities": {"RFID#1": {"visibility": "account =="}}})))
            .await
            .json();
        assert!(rule_error["description"].as_str().unwrap().contains("RFID#1.visibility"), "{rule_error}");
        // One bad identity refuses the whole request: nothing was stored.
        app.call(Method::POST, &path, as_shop, Some(json!({"identities": {"RFID#good": {}, "RFID#b d": {}}})))
            .await
            .assert_tt_error(400, 400589);
        let listed = app.call(Method::GET, &path, as_shop, None).await.json();
        assert_eq!(identity_names(&listed), Vec::<String>::new());
        let created = app.call(Method::POST, &path, as_shop, Some(json!({"identities": {longest.clone(): {}}}))).await;
        assert_eq!(created.status.as_u16(), 201, "the longest identity is valid: {}", created.text());

        let not_json = app.send(
            axum::http::Request::post(path.as_str())
                .header("authorization", &shop.secret)
                .body(axum::body::Body::from("{\"identities\": "))
                .unwrap(),
        ).await;
        not_json.assert_tt_error(400, 400415);

        // Path ids and identities.
        app.call(Method::GET, "/twins/not-a-uuid/identities", as_shop, None).await.assert_tt_error(400, 400589);
        app.call(Method::POST, "/twins/not-a-uuid/identities", as_shop, Some(json!({"identities": {"RFID#1": {}}})))
            .await
            .assert_tt_error(400, 400589);
        let missing = "00000000-0000-4000-8000-000000000000";
        app.call(Method::GET, &format!("/twins/{missing}/identities"), as_shop, None).await.assert_tt_error(404, 404653);
        app.call(Method::POST, &format!("/twins/{missing}/identities"), as_shop, Some(json!({"identities": {"RFID#1": {}}})))
            .await
            .assert_tt_error(404, 404653);
        for bad in ["RFID", "RFID%23a%20b", "RFID%23"] {
            for method in [Method::GET, Method::DELETE] {
                app.call(method, &format!("{path}/{bad}"), as_shop, None).await.assert_tt_error(400, 400589);
            }
        }
        let one = format!("{path}/{}", enc(&longest));
        for body in [
            json!({}),
            json!({"visibility": "account =="}),
            json!({"validity_ts": past}),
            json!({"validity_ts": "soon"}),
            json!({"visibility": true}),
            json!({"name": "x"}),
        ] {
            app.call(Method::PATCH, &one, as_shop, Some(body)).await.assert_tt_error(400, 400589);
        }
        for query in ["?show_foreign=maybe", "?show_expired=yes", "?show_all=true", "?details=true"] {
            app.call(Method::GET, &format!("{path}{query}"), as_shop, None).await.assert_tt_error(400, 400589);
        }
    }

    async fn a_foreign_account_can_never_change_anothers_identities(app) {
        let Story { shop, courier, order } = story(&app).await;
        let as_courier = Some(courier.secret.as_str());
        let public = format!("/twins/{order}/identities/{}", enc(PUBLIC));
        app.call(Method::PATCH, &public, as_courier, Some(json!({"visibility": "true"})))
            .await
            .assert_tt_error(404, 404653);
        app.call(Method::DELETE, &public, as_courier, None).await.assert_tt_error(404, 404653);

        // The courier attaching the same string makes its own identity, not a change of the shop's.
        let attached = app
            .call(Method::POST, &format!("/twins/{order}/identities"), as_courier, Some(json!({"identities": {PUBLIC: {}, PRIVATE: {"visibility": "true"}}})))
            .await;
        assert_eq!(attached.status.as_u16(), 201, "{}", attached.text());
        let attached = attached.json();
        assert_eq!(attached["identities"][PUBLIC]["creation_certificate"]["creator"], courier.account.as_str());
        let deleted = app.call(Method::DELETE, &public, as_courier, None).await;
        assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
        assert_eq!(deleted.json()["creation_certificate"]["creator"], courier.account.as_str());

        let shops = app.call(Method::GET, &format!("/twins/{order}/identities"), Some(&shop.secret), None).await.json();
        assert_eq!(identity_names(&shops), [PRIVATE, OTHERS, PUBLIC]);
        assert_eq!(shops["identities"][PUBLIC]["visibility"], format!("account == '{}'", courier.account));
        // With foreign identities, the shop's own identity wins over the courier's of the same
        // string; the courier's is listed when the shop leaves out its own.
        set_rules(&app, &shop, json!({"twin_rule": "true", "identity_rule": "true"})).await;
        let both = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_foreign=true"), Some(&shop.secret), None)
            .await
            .json();
        assert_eq!(identity_names(&both), [PRIVATE, OTHERS, PUBLIC]);
        assert_eq!(both["identities"][PRIVATE]["creation_certificate"]["creator"], shop.account.as_str());
        assert_eq!(both["identities"][PRIVATE]["visibility"], Value::Null);
        let couriers = app
            .call(Method::GET, &format!("/twins/{order}/identities?show_personal=false&show_foreign={}", courier.account), Some(&shop.secret), None)
            .await
            .json();
        assert_eq!(identity_names(&couriers), [PRIVATE]);
        assert_eq!(couriers["identities"][PRIVATE]["creation_certificate"]["creator"], courier.account.as_str());
        assert!(couriers["identities"][PRIVATE].get("visibility").is_none());

        // A twin the courier cannot see: 403 for every operation.
        let invoice = create_twin(&app, &shop, "invoice").await;
        let base = format!("/twins/{invoice}/identities");
        app.call(Method::POST, &base, as_courier, Some(json!({"identities": {"X#1": {}}}))).await.assert_tt_error(403, 403535);
        app.call(Method::GET, &base, as_courier, None).await.assert_tt_error(403, 403535);
        app.call(Method::GET, &format!("{base}/X%231"), as_courier, None).await.assert_tt_error(403, 403535);
        app.call(Method::PATCH, &format!("{base}/X%231"), as_courier, Some(json!({"visibility": null}))).await.assert_tt_error(403, 403535);
        app.call(Method::DELETE, &format!("{base}/X%231"), as_courier, None).await.assert_tt_error(403, 403535);
    }

    async fn identity_operations_need_their_role_actions(app) {
        let Story { shop, order, .. } = story(&app).await;
        let (_, _, reader) = app
            .user_with_statement(&shop, json!({"effect": "allow", "actions": ["get_twin_identities", "resolve_twin_identity"]}))
            .await;
        let as_reader = Some(reader.as_str());
        let listed = app.call(Method::GET, &format!("/twins/{order}/identities"), as_reader, None).await;
        assert_eq!(listed.status.as_u16(), 200, "{}", listed.text());
        assert_eq!(identity_names(&listed.json()).len(), 3);
        let resolved = app.call(Method::GET, &format!("/resolve/{}", enc(PRIVATE)), as_reader, None).await;
        assert_eq!(twin_ids(&resolved.json()), std::slice::from_ref(&order));
        let one = format!("/twins/{order}/identities/{}", enc(PRIVATE));
        app.call(Method::GET, &one, as_reader, None).await.assert_tt_error(403, 403535);
        app.call(Method::PATCH, &one, as_reader, Some(json!({"visibility": "true"}))).await.assert_tt_error(403, 403535);
        app.call(Method::DELETE, &one, as_reader, None).await.assert_tt_error(403, 403535);
        app.call(Method::POST, &format!("/twins/{order}/identities"), as_reader, Some(json!({"identities": {"X#1": {}}})))
            .await
            .assert_tt_error(403, 403535);
        app.call(Method::GET, &format!("/resolve/{}", enc(PRIVATE)), None, None).await.assert_tt_error(401, 401000);
        let unchanged = app.call(Method::GET, &one, Some(&shop.secret), None).await.json();
        assert_eq!(unchanged["visibility"], Value::Null);
    }
}
