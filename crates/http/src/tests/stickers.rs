//! Stickers over the Trusted Twin routes: the shop puts a "ready-for-pickup" sticker for the
//! courier, who lists, reads and removes it; recipients by user, role and account; one sticker
//! per colour per account; single-winner removal; expiry; validation; paging; twin access.

use axum::http::Method;
use serde_json::{json, Value};
use steward_domain::Clock as _;

use super::{TestAccount, TestApp};

struct Story {
    shop: TestAccount,
    courier: TestAccount,
    /// The courier's role, which sees orders.
    courier_role: String,
    order: String,
}

/// A role of `account` with `rules` (and the default statement), assigned to `user`.
async fn assign_role(app: &TestApp, account: &TestAccount, user: &str, rules: Value) -> String {
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
    let updated = app
        .call(
            Method::PATCH,
            &format!("/users/{user}"),
            Some(&account.secret),
            Some(json!({"role": role})),
        )
        .await;
    assert_eq!(updated.status.as_u16(), 200, "{}", updated.text());
    role
}

/// A new user of `account` holding `role`; returns (user, secret).
async fn new_user(app: &TestApp, account: &TestAccount, role: &str) -> (String, String) {
    let user = app
        .call(
            Method::POST,
            "/users",
            Some(&account.secret),
            Some(json!({"name": "Second User", "role": role})),
        )
        .await;
    assert_eq!(user.status.as_u16(), 201, "{}", user.text());
    let user = user.json()["uuid"].as_str().unwrap().to_owned();
    let secret = app.issue_secret(account, &user).await;
    (user, secret)
}

/// A shop with an order twin; the courier's role sees orders.
async fn story(app: &TestApp) -> Story {
    let shop = app.create_account("Shop").await;
    let courier = app.create_account("Courier").await;
    let order = create_twin(app, &shop, json!({"kind": "order"})).await;
    let courier_role = assign_role(
        app,
        &courier,
        &courier.user,
        json!({"twin_rule": "TWIN.kind == 'order'"}),
    )
    .await;
    Story {
        shop,
        courier,
        courier_role,
        order,
    }
}

async fn create_twin(app: &TestApp, owner: &TestAccount, description: Value) -> String {
    let created = app
        .call(
            Method::POST,
            "/twins",
            Some(&owner.secret),
            Some(json!({ "description": description })),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text());
    created.json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Puts one sticker and asserts 201; returns the stored sticker as answered.
async fn put(app: &TestApp, secret: &str, twin: &str, color: &str, sticker: Value) -> Value {
    let reply = app
        .call(
            Method::POST,
            &format!("/twins/{twin}/stickers"),
            Some(secret),
            Some(json!({"stickers": {color: sticker}})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    reply.json()["stickers"][color].clone()
}

async fn get_json(app: &TestApp, secret: &str, path: &str) -> Value {
    let reply = app.call(Method::GET, path, Some(secret), None).await;
    assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text());
    reply.json()
}

/// The `list_stickers` page as (twin, account, color) triples.
fn listed(page: &Value) -> Vec<(String, String, String)> {
    page["stickers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sticker| {
            let field = |key: &str| sticker[key].as_str().unwrap().to_owned();
            (field("twin"), field("account"), field("color"))
        })
        .collect()
}

/// The colours of a `get_stickers` answer for one creating account.
fn colours_of(reply: &Value, account: &str) -> Vec<String> {
    reply["accounts"]
        .get(account)
        .and_then(Value::as_object)
        .map(|colours| colours.keys().cloned().collect())
        .unwrap_or_default()
}

fn now_seconds(app: &TestApp) -> f64 {
    app.clock.now().as_tt_seconds()
}

const YEAR_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

api_tests! {
    async fn shop_puts_a_sticker_for_the_courier_who_lists_gets_and_removes_it(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        let now = now_seconds(&app);
        let validity = ((now + 3600.0) * 1000.0).round() / 1000.0;
        let sent = json!({
            "note": "parcel at the back door",
            "recipients": [courier.account],
            "validity_ts": validity,
            "publish": {"on_put": ["pickups"], "on_remove": "pickups-done"},
        });
        let stored = put(&app, &shop.secret, &order, "ready-for-pickup", sent).await;
        assert_eq!(stored, json!({
            "note": "parcel at the back door",
            "recipients": [courier.account],
            "validity_ts": validity,
            "created_ts": now,
            "publish": {"on_put": ["pickups"], "on_remove": "pickups-done"},
        }));

        let as_courier = courier.secret.as_str();
        let on_twin = get_json(&app, as_courier, &format!("/twins/{order}/stickers")).await;
        assert_eq!(on_twin, json!({"accounts": {shop.account.clone(): {"ready-for-pickup": {
            "note": "parcel at the back door", "validity_ts": validity, "created_ts": now,
        }}}}));
        let by_shop = get_json(&app, as_courier, &format!("/twins/{order}/stickers?context={}", shop.account)).await;
        assert_eq!(by_shop, on_twin);
        let personal = get_json(&app, as_courier, &format!("/twins/{order}/stickers?context=personal")).await;
        assert_eq!(personal, json!({"accounts": {}}));

        // list_stickers defaults to `personal`: the courier put nothing.
        let page = get_json(&app, as_courier, "/stickers").await;
        assert_eq!(page, json!({"stickers": []}));
        let page = get_json(&app, as_courier, "/stickers?context=system").await;
        assert_eq!(page, json!({"stickers": [{
            "twin": order, "account": shop.account, "color": "ready-for-pickup",
            "note": "parcel at the back door", "validity_ts": validity, "created_ts": now,
        }]}));
        let page = get_json(&app, as_courier, &format!("/stickers?context={}", shop.account)).await;
        assert_eq!(listed(&page).len(), 1);

        // get_sticker: the courier names the shop's account; it does not see the shop's
        // recipients or topics.
        let missing = app.call(Method::GET, &format!("/twins/{order}/stickers/ready-for-pickup"), Some(as_courier), None).await;
        missing.assert_tt_error(404, 404653);
        let one = get_json(&app, as_courier, &format!("/twins/{order}/stickers/ready-for-pickup?context={}", shop.account)).await;
        assert_eq!(one, json!({
            "account": shop.account, "note": "parcel at the back door",
            "validity_ts": validity, "created_ts": now,
        }));

        let removed = app.call(Method::DELETE, &format!("/twins/{order}/stickers/ready-for-pickup?context={}", shop.account), Some(as_courier), None).await;
        assert_eq!(removed.status.as_u16(), 200, "{}", removed.text());
        assert_eq!(removed.json(), json!({
            "account": shop.account, "note": "parcel at the back door",
            "validity_ts": validity, "created_ts": now,
        }));
        let again = app.call(Method::DELETE, &format!("/twins/{order}/stickers/ready-for-pickup?context={}", shop.account), Some(as_courier), None).await;
        let body = again.json();
        again.assert_tt_error(404, 404653);
        assert_eq!(body["description"], "sticker not found");
        let page = get_json(&app, as_courier, "/stickers?context=system").await;
        assert_eq!(page, json!({"stickers": []}));
    }

    async fn recipients_by_user_role_and_account_see_the_sticker_and_others_do_not(app) {
        let Story { shop, courier, courier_role, order } = story(&app).await;
        // A second courier user with another role that also sees orders.
        let (_, other_role_secret) = {
            let role = app.call(Method::POST, "/roles", Some(&courier.secret),
                Some(json!({"name": "Dispatcher", "rules": {"twin_rule": "TWIN.kind == 'order'"}}))).await.json()["uuid"].as_str().unwrap().to_owned();
            new_user(&app, &courier, &role).await
        };
        let (_, same_role_secret) = new_user(&app, &courier, &courier_role).await;
        let stranger = app.create_account("Stranger").await;
        assign_role(&app, &stranger, &stranger.user, json!({"twin_rule": "true"})).await;

        put(&app, &shop.secret, &order, "to-user", json!({"recipients": [courier.user]})).await;
        put(&app, &shop.secret, &order, "to-role", json!({"recipients": [courier_role]})).await;
        put(&app, &shop.secret, &order, "to-account", json!({"recipients": [courier.account]})).await;

        let colours = |secret: String| {
            let app = &app;
            let order = order.clone();
            let shop = shop.account.clone();
            async move {
                let reply = get_json(app, &secret, &format!("/twins/{order}/stickers")).await;
                let mut found = colours_of(&reply, &shop);
                found.sort();
                found
            }
        };
        assert_eq!(colours(courier.secret.clone()).await, ["to-account", "to-role", "to-user"]);
        assert_eq!(colours(same_role_secret.clone()).await, ["to-account", "to-role"]);
        assert_eq!(colours(other_role_secret.clone()).await, ["to-account"]);
        assert!(colours(stranger.secret.clone()).await.is_empty());
        assert!(colours(shop.secret.clone()).await.is_empty(), "the shop did not list itself");

        // Non-recipients get 404 on get and remove, and the sticker stays.
        for (secret, color) in [
            (&other_role_secret, "to-user"),
            (&other_role_secret, "to-role"),
            (&stranger.secret, "to-account"),
            (&shop.secret, "to-account"),
        ] {
            let path = format!("/twins/{order}/stickers/{color}?context={}", shop.account);
            app.call(Method::GET, &path, Some(secret), None).await.assert_tt_error(404, 404653);
            app.call(Method::DELETE, &path, Some(secret), None).await.assert_tt_error(404, 404653);
        }
        let page = get_json(&app, &stranger.secret, "/stickers?context=system").await;
        assert_eq!(page, json!({"stickers": []}));
        assert_eq!(colours(courier.secret.clone()).await, ["to-account", "to-role", "to-user"]);

        // A recipient by role removes the role's sticker.
        let path = format!("/twins/{order}/stickers/to-role?context={}", shop.account);
        let removed = app.call(Method::DELETE, &path, Some(&same_role_secret), None).await;
        assert_eq!(removed.status.as_u16(), 200, "{}", removed.text());
        assert_eq!(colours(courier.secret.clone()).await, ["to-account", "to-user"]);
    }

    async fn creator_sees_its_own_sticker_only_when_it_listed_itself(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        put(&app, &shop.secret, &order, "for-courier", json!({"recipients": [courier.account]})).await;
        let path = format!("/twins/{order}/stickers/for-courier");
        app.call(Method::GET, &path, Some(&shop.secret), None).await.assert_tt_error(404, 404653);
        app.call(Method::DELETE, &path, Some(&shop.secret), None).await.assert_tt_error(404, 404653);
        let mine = get_json(&app, &shop.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(mine, json!({"accounts": {}}));
        assert_eq!(get_json(&app, &shop.secret, "/stickers").await, json!({"stickers": []}));

        let publish = json!({"on_expire": ["late-pickups"]});
        put(&app, &shop.secret, &order, "for-both", json!({
            "note": "both", "recipients": [courier.account, shop.account], "publish": publish,
        })).await;
        let own = get_json(&app, &shop.secret, &format!("/twins/{order}/stickers/for-both")).await;
        assert_eq!(own["account"], shop.account.as_str());
        assert_eq!(own["recipients"], json!([courier.account, shop.account]));
        assert_eq!(own["publish"], publish);
        let page = get_json(&app, &shop.secret, "/stickers").await;
        assert_eq!(listed(&page), [(order.clone(), shop.account.clone(), "for-both".to_owned())]);
        // The default validity is one year after the put.
        assert!((own["validity_ts"].as_f64().unwrap() - own["created_ts"].as_f64().unwrap() - YEAR_SECONDS).abs() < 1e-6, "{own}");
    }

    async fn one_sticker_per_colour_per_account_per_twin(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        put(&app, &shop.secret, &order, "red", json!({"note": "first", "recipients": [courier.account]})).await;
        app.clock.advance_millis(5_000);
        let second = put(&app, &shop.secret, &order, "red", json!({"note": "second", "recipients": [courier.user]})).await;
        assert_eq!(second["created_ts"].as_f64().unwrap(), now_seconds(&app), "re-putting sets a new created_ts");
        // The courier's own sticker of the same colour on the same twin is another sticker.
        put(&app, &courier.secret, &order, "red", json!({"note": "courier's", "recipients": [courier.account]})).await;

        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(on_twin["accounts"][&shop.account]["red"]["note"], "second");
        assert_eq!(on_twin["accounts"][&courier.account]["red"]["note"], "courier's");
        assert_eq!(on_twin["accounts"].as_object().unwrap().len(), 2);
        let page = get_json(&app, &courier.secret, "/stickers?context=system&color=red").await;
        // Put at the same time: the larger account uuid comes first.
        let mut expected = vec![
            (order.clone(), courier.account.clone(), "red".to_owned()),
            (order.clone(), shop.account.clone(), "red".to_owned()),
        ];
        expected.sort_by(|left, right| right.1.cmp(&left.1));
        assert_eq!(listed(&page), expected);
        // Several colours in one request.
        let reply = app.call(Method::POST, &format!("/twins/{order}/stickers"), Some(&shop.secret),
            Some(json!({"stickers": {"blue": {"recipients": [courier.account]}, "green": {"recipients": [courier.account]}}}))).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let mut colours: Vec<String> = reply.json()["stickers"].as_object().unwrap().keys().cloned().collect();
        colours.sort();
        assert_eq!(colours, ["blue", "green"]);
        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers?context=personal,{}", shop.account)).await;
        assert_eq!(colours_of(&on_twin, &shop.account), ["blue", "green", "red"]);
        assert_eq!(colours_of(&on_twin, &courier.account), ["red"]);
    }

    async fn concurrent_removals_answer_one_200_and_the_others_404(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        put(&app, &shop.secret, &order, "ready-for-pickup", json!({"recipients": [courier.account]})).await;
        let path = format!("/twins/{order}/stickers/ready-for-pickup?context={}", shop.account);
        let (first, second, third, fourth) = tokio::join!(
            app.call(Method::DELETE, &path, Some(&courier.secret), None),
            app.call(Method::DELETE, &path, Some(&courier.secret), None),
            app.call(Method::DELETE, &path, Some(&courier.secret), None),
            app.call(Method::DELETE, &path, Some(&courier.secret), None),
        );
        let mut statuses: Vec<u16> = [&first, &second, &third, &fourth].iter().map(|reply| reply.status.as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 404, 404, 404]);
        for reply in [&first, &second, &third, &fourth] {
            if reply.status.as_u16() == 404 {
                reply.assert_tt_error(404, 404653);
            }
        }
    }

    async fn expired_stickers_are_hidden_at_once_and_removed_by_the_worker(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        let now = now_seconds(&app);
        put(&app, &shop.secret, &order, "short", json!({"recipients": [courier.account], "validity_ts": now + 60.0})).await;
        put(&app, &shop.secret, &order, "long", json!({"recipients": [courier.account], "validity_ts": now + 120.0})).await;
        assert_eq!(app.steward.expire_stickers().await.unwrap(), 0, "nothing expired yet");

        app.clock.advance_millis(60_000);
        // Before the worker ran: the expired sticker is gone from every view.
        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(colours_of(&on_twin, &shop.account), ["long"]);
        let page = get_json(&app, &courier.secret, "/stickers?context=system").await;
        assert_eq!(listed(&page), [(order.clone(), shop.account.clone(), "long".to_owned())]);
        let path = format!("/twins/{order}/stickers/short?context={}", shop.account);
        app.call(Method::GET, &path, Some(&courier.secret), None).await.assert_tt_error(404, 404653);
        app.call(Method::DELETE, &path, Some(&courier.secret), None).await.assert_tt_error(404, 404653);

        assert_eq!(app.steward.expire_stickers().await.unwrap(), 1);
        assert_eq!(app.steward.expire_stickers().await.unwrap(), 0);
        // The colour is free for a new sticker, and the valid one is untouched.
        put(&app, &shop.secret, &order, "short", json!({"recipients": [courier.account]})).await;
        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(colours_of(&on_twin, &shop.account), ["long", "short"]);

        app.clock.advance_millis(60_000);
        assert_eq!(app.steward.expire_stickers().await.unwrap(), 1);
        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(colours_of(&on_twin, &shop.account), ["short"]);
    }

    async fn every_invalid_sticker_request_is_400589_and_stores_nothing(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        let now = now_seconds(&app);
        let ok = json!({"recipients": [courier.account]});
        let with = |key: &str, value: Value| {
            let mut sticker = ok.clone();
            sticker[key] = value;
            sticker
        };
        let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let bodies = [
            ("colour too short", json!({"stickers": {"re": ok}})),
            ("colour with underscore", json!({"stickers": {"red_1": ok}})),
            ("colour too long", json!({"stickers": {"x".repeat(49): ok}})),
            ("note too long", json!({"stickers": {"red": with("note", json!("a".repeat(513)))}})),
            ("note with NUL", json!({"stickers": {"red": with("note", json!("a\u{0}b"))}})),
            ("no recipients", json!({"stickers": {"red": {"note": "x"}}})),
            ("empty recipients", json!({"stickers": {"red": with("recipients", json!([]))}})),
            ("101 recipients", json!({"stickers": {"red": with("recipients", json!(too_many))}})),
            ("recipient not a uuid", json!({"stickers": {"red": with("recipients", json!(["courier"]))}})),
            ("recipient a number", json!({"stickers": {"red": with("recipients", json!([7]))}})),
            ("validity in the past", json!({"stickers": {"red": with("validity_ts", json!(now - 1.0))}})),
            ("validity now", json!({"stickers": {"red": with("validity_ts", json!(now))}})),
            ("validity beyond a year", json!({"stickers": {"red": with("validity_ts", json!(now + YEAR_SECONDS + 1.0))}})),
            ("validity a string", json!({"stickers": {"red": with("validity_ts", json!("tomorrow"))}})),
            ("publish unknown event", json!({"stickers": {"red": with("publish", json!({"on_change": "t-1"}))}})),
            ("publish bad topic", json!({"stickers": {"red": with("publish", json!({"on_put": ["a b"]}))}})),
            ("publish topic number", json!({"stickers": {"red": with("publish", json!({"on_put": [1]}))}})),
            ("publish not an object", json!({"stickers": {"red": with("publish", json!(["on_put"]))}})),
            ("publish too many topics", json!({"stickers": {"red": with("publish", json!({"on_put": vec!["abc"; 11]}))}})),
            ("unknown sticker field", json!({"stickers": {"red": with("message", json!("x"))}})),
            ("unknown body field", json!({"stickers": {"red": ok}, "extra": 1})),
            ("no stickers", json!({"stickers": {}})),
            ("stickers missing", json!({})),
            ("one bad among good", json!({"stickers": {"red": ok, "re": ok}})),
        ];
        for (label, body) in bodies {
            let reply = app.call(Method::POST, &format!("/twins/{order}/stickers"), Some(&shop.secret), Some(body)).await;
            assert_eq!(reply.status.as_u16(), 400, "{label}: {}", reply.text());
            reply.assert_tt_error(400, 400589);
            assert!(!reply.json()["description"].as_str().unwrap().is_empty(), "{label}");
        }
        let on_twin = get_json(&app, &courier.secret, &format!("/twins/{order}/stickers")).await;
        assert_eq!(on_twin, json!({"accounts": {}}), "a refused request stored something");

        let shop_account = &shop.account;
        for path in [
            "/stickers?limit=0".to_owned(),
            "/stickers?limit=101".to_owned(),
            "/stickers?limit=ten".to_owned(),
            "/stickers?offset=-1".to_owned(),
            "/stickers?offset=10001".to_owned(),
            "/stickers?limit=5&limit=6".to_owned(),
            "/stickers?colour=red".to_owned(),
            "/stickers?color=re".to_owned(),
            "/stickers?ge=yesterday".to_owned(),
            "/stickers?le=1e400".to_owned(),
            "/stickers?context=everyone".to_owned(),
            "/stickers?context=system,personal".to_owned(),
            format!("/twins/{order}/stickers?context=nobody"),
            format!("/twins/{order}/stickers?details=true"),
            format!("/twins/{order}/stickers/re"),
            format!("/twins/{order}/stickers/red?context=system"),
            format!("/twins/{order}/stickers/red?context=personal,{shop_account}"),
            "/twins/not-a-uuid/stickers".to_owned(),
            "/twins/not-a-uuid/stickers/red".to_owned(),
        ] {
            let reply = app.call(Method::GET, &path, Some(&courier.secret), None).await;
            assert_eq!(reply.status.as_u16(), 400, "{path}: {}", reply.text());
            reply.assert_tt_error(400, 400589);
        }
        for path in [
            format!("/twins/{order}/stickers/re"),
            format!("/twins/{order}/stickers/red?context=system"),
            format!("/twins/{order}/stickers/red?context=a,b"),
            "/twins/not-a-uuid/stickers/red".to_owned(),
        ] {
            let reply = app.call(Method::DELETE, &path, Some(&courier.secret), None).await;
            assert_eq!(reply.status.as_u16(), 400, "{path}: {}", reply.text());
            reply.assert_tt_error(400, 400589);
        }
    }

    async fn list_stickers_pages_newest_first_with_filters(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        let second_order = create_twin(&app, &shop, json!({"kind": "order"})).await;
        let mut put_at = Vec::new();
        for (index, color) in ["c-one", "c-two", "c-three", "c-four", "c-five"].iter().enumerate() {
            let twin = if index % 2 == 0 { &order } else { &second_order };
            put(&app, &shop.secret, twin, color, json!({"recipients": [courier.user]})).await;
            put_at.push((now_seconds(&app), twin.clone(), (*color).to_owned()));
            app.clock.advance_millis(1_000);
        }
        let newest_first: Vec<(String, String, String)> = put_at
            .iter()
            .rev()
            .map(|(_, twin, color)| (twin.clone(), shop.account.clone(), color.clone()))
            .collect();
        let context = format!("context={}", shop.account);
        let all = get_json(&app, &courier.secret, &format!("/stickers?{context}")).await;
        assert_eq!(listed(&all), newest_first);

        let mut paged = Vec::new();
        for offset in [0, 2, 4, 6] {
            let page = get_json(&app, &courier.secret, &format!("/stickers?{context}&limit=2&offset={offset}")).await;
            let page = listed(&page);
            assert!(page.len() <= 2);
            paged.extend(page);
        }
        assert_eq!(paged, newest_first);

        let (ge, le) = (put_at[1].0, put_at[3].0);
        let range = get_json(&app, &courier.secret, &format!("/stickers?{context}&ge={ge}&le={le}")).await;
        assert_eq!(listed(&range), newest_first[1..4].to_vec());
        let one = get_json(&app, &courier.secret, &format!("/stickers?{context}&color=c-three")).await;
        assert_eq!(listed(&one), [(order.clone(), shop.account.clone(), "c-three".to_owned())]);
        let repeated = get_json(&app, &courier.secret, &format!("/stickers?context=personal&{context}&limit=100&offset=0")).await;
        assert_eq!(listed(&repeated), newest_first);
        let on_second = get_json(&app, &courier.secret, &format!("/twins/{second_order}/stickers")).await;
        assert_eq!(colours_of(&on_second, &shop.account), ["c-four", "c-two"]);
    }

    async fn stickers_need_a_visible_twin_and_the_role_statement(app) {
        let Story { shop, courier, order, .. } = story(&app).await;
        put(&app, &shop.secret, &order, "red", json!({"recipients": [courier.account]})).await;
        // A twin the courier's twin rule hides: 403 on every twin-scoped operation.
        let hidden = create_twin(&app, &shop, json!({"kind": "invoice"})).await;
        put(&app, &shop.secret, &hidden, "red", json!({"recipients": [courier.account]})).await;
        let missing = uuid::Uuid::new_v4().to_string();
        let calls = |twin: &str| {
            vec![
                (Method::POST, format!("/twins/{twin}/stickers"), Some(json!({"stickers": {"red": {"recipients": [courier.account]}}}))),
                (Method::GET, format!("/twins/{twin}/stickers"), None),
                (Method::GET, format!("/twins/{twin}/stickers/red?context={}", shop.account), None),
                (Method::DELETE, format!("/twins/{twin}/stickers/red?context={}", shop.account), None),
            ]
        };
        for (method, path, body) in calls(&hidden) {
            let reply = app.call(method, &path, Some(&courier.secret), body).await;
            reply.assert_tt_error(403, 403535);
        }
        for (method, path, body) in calls(&missing) {
            let reply = app.call(method, &path, Some(&courier.secret), body).await;
            reply.assert_tt_error(404, 404653);
        }
        // Being a recipient is enough for the cross-twin listing.
        let page = get_json(&app, &courier.secret, "/stickers?context=system").await;
        assert_eq!(listed(&page).len(), 2);

        // A role whose statement omits remove_sticker gets 403, and the sticker stays.
        let (_, _, limited) = app.user_with_statement(&courier, json!({"effect": "allow", "actions": ["get_stickers", "list_stickers"]})).await;
        let path = format!("/twins/{order}/stickers/red?context={}", shop.account);
        app.call(Method::DELETE, &path, Some(&limited), None).await.assert_tt_error(403, 403535);
        app.call(Method::POST, &format!("/twins/{order}/stickers"), Some(&limited),
            Some(json!({"stickers": {"red": {"recipients": [courier.account]}}}))).await.assert_tt_error(403, 403535);
        let page = get_json(&app, &limited, "/stickers?context=system").await;
        assert_eq!(listed(&page).len(), 2, "the limited user's account is a recipient");
        let removed = app.call(Method::DELETE, &path, Some(&courier.secret), None).await;
        assert_eq!(removed.status.as_u16(), 200, "{}", removed.text());
        app.call(Method::GET, "/stickers", None, None).await.assert_tt_error(401, 401000);
    }
}
