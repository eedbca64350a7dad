//! `GET /events` (Server-Sent Events): what each caller sees of other accounts' changes,
//! filters, resuming with `Last-Event-ID`, sticker events, the end of a stream whose credential
//! was revoked, and slow readers.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};

use super::{partner_role, TestAccount, TestApp};

/// How long a test waits for an event before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// One received SSE event.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    id: Option<String>,
    event: String,
    data: Value,
}

/// An open stream, read incrementally.
struct Stream {
    body: Body,
    buffer: String,
    /// Every byte received, to assert on what never arrived.
    raw: String,
}

impl Stream {
    /// The next event (comments are skipped); `None` when the stream ended.
    async fn next(&mut self) -> Option<Received> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim());
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some(Received {
                    id,
                    event,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            let frame = tokio::time::timeout(PATIENCE, self.body.frame())
                .await
                .expect("no event within the patience")?
                .unwrap();
            if let Ok(bytes) = frame.into_data() {
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                self.raw.push_str(&text);
                self.buffer.push_str(&text);
            }
        }
    }

    /// The next event other than `steward.progress`.
    async fn next_change(&mut self) -> Received {
        loop {
            let event = self.next().await.expect("the stream ended");
            if event.event != "steward.progress" {
                return event;
            }
        }
    }
}

impl TestApp {
    /// Opens `GET {path}` as a stream with `credential` and extra headers.
    async fn stream(&self, path: &str, credential: &str, headers: &[(&str, &str)]) -> Stream {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::AUTHORIZATION, credential);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response =
            tower::ServiceExt::oneshot(self.router.clone(), request.body(Body::empty()).unwrap())
                .await
                .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        Stream {
            body: response.into_body(),
            buffer: String::new(),
            raw: String::new(),
        }
    }
}

async fn new_twin(app: &TestApp, owner: &TestAccount) -> String {
    app.call(Method::POST, "/twins", Some(&owner.secret), Some(json!({})))
        .await
        .json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn write(app: &TestApp, who: &TestAccount, twin: &str, entries: Value) {
    let reply = app
        .call(
            Method::POST,
            &format!("/twins/{twin}/ledgers/personal"),
            Some(&who.secret),
            Some(json!({"entries": entries})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
}

async fn update(app: &TestApp, who: &TestAccount, twin: &str, entries: Value) {
    let reply = app
        .call(
            Method::PATCH,
            &format!("/twins/{twin}/ledgers/personal/value"),
            Some(&who.secret),
            Some(json!({"entries": entries})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
}

api_tests! {
    async fn each_reader_sees_only_the_entries_it_may_read(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let stranger = app.create_account("Stranger").await;
        partner_role(&app, &courier).await;
        let mut shop_stream = app.stream("/events", &shop.secret, &[]).await;
        let mut courier_stream = app.stream("/events", &courier.secret, &[]).await;
        let mut stranger_stream = app.stream("/events", &stranger.secret, &[]).await;

        let order = new_twin(&app, &shop).await;
        write(&app, &shop, &order, json!({
            "delivery_address": {"value": "Main 1", "visibility": format!("account == '{}'", courier.account)},
            "invoice": {"value": "INV-SECRET-4711"},
        })).await;
        update(&app, &shop, &order, json!({"invoice": {"value": "INV-SECRET-4712"}})).await;
        update(&app, &shop, &order, json!({"delivery_address": {"value": "Main 2"}})).await;

        let added = shop_stream.next_change().await;
        assert_eq!(added.event, "ledger.entry.added");
        assert_eq!(added.data["twin"], order.as_str());
        assert_eq!(added.data["ledger"], shop.account.as_str());
        assert_eq!(added.data["entries"]["invoice"]["new_value"], "INV-SECRET-4711");
        assert_eq!(added.data["entries"]["delivery_address"]["new_value"], "Main 1");
        assert_eq!(added.id.as_deref(), Some(added.data["id"].to_string().as_str()));
        let invoice = shop_stream.next_change().await;
        assert_eq!(invoice.data["entries"]["invoice"]["old_value"], "INV-SECRET-4711");

        // The courier gets the address only: the invoice update is skipped altogether.
        let first = courier_stream.next_change().await;
        assert_eq!(first.event, "ledger.entry.added");
        assert_eq!(first.data["entries"], json!({"delivery_address": {
            "new_value": "Main 1", "old_value": null,
            "changed_ts": first.data["entries"]["delivery_address"]["changed_ts"]}}));
        let second = courier_stream.next_change().await;
        assert_eq!(second.event, "ledger.entry.updated");
        assert_eq!(second.data["entries"]["delivery_address"]["new_value"], "Main 2");
        assert_eq!(second.data["entries"]["delivery_address"]["old_value"], "Main 1");
        assert!(!courier_stream.raw.contains("INV-SECRET"), "{}", courier_stream.raw);
        assert!(!courier_stream.raw.contains("invoice"), "{}", courier_stream.raw);

        // The stranger sees none of it: its first event is its own write.
        let own = new_twin(&app, &stranger).await;
        write(&app, &stranger, &own, json!({"mine": {"value": 1}})).await;
        let first = stranger_stream.next_change().await;
        assert_eq!(first.data["twin"], own.as_str());
        assert!(!stranger_stream.raw.contains(&order), "{}", stranger_stream.raw);
    }

    async fn deleted_entries_are_shown_to_those_who_could_read_them(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        partner_role(&app, &courier).await;
        let order = new_twin(&app, &shop).await;
        write(&app, &shop, &order, json!({
            "shared": {"value": "s", "visibility": "true"},
            "private": {"value": "p"},
        })).await;
        let mut courier_stream = app.stream("/events", &courier.secret, &[]).await;
        let reply = app
            .call(Method::DELETE, &format!("/twins/{order}/ledgers/personal?entries=shared,private"), Some(&shop.secret), None)
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
        let deleted = courier_stream.next_change().await;
        assert_eq!(deleted.event, "ledger.entry.deleted");
        assert_eq!(deleted.data["entries"]["shared"]["old_value"], "s");
        assert_eq!(deleted.data["entries"]["shared"]["new_value"], Value::Null);
        assert!(deleted.data["entries"].get("private").is_none(), "{}", deleted.data);
    }

    async fn streams_filter_by_twin_and_topic(app) {
        let shop = app.create_account("Shop").await;
        let first = new_twin(&app, &shop).await;
        let second = new_twin(&app, &shop).await;
        let mut by_twin = app.stream(&format!("/events?twins={second}"), &shop.secret, &[]).await;
        let mut by_topic = app.stream("/events?topics=orders,other", &shop.secret, &[]).await;
        write(&app, &shop, &first, json!({"a": {"value": 1, "publish": {"on_added": "orders"}}})).await;
        write(&app, &shop, &second, json!({"b": {"value": 2}, "c": {"value": 3, "publish": {"orders": "true"}}})).await;

        let seen = by_twin.next_change().await;
        assert_eq!(seen.data["twin"], second.as_str());
        assert_eq!(seen.data["entries"].as_object().unwrap().len(), 2);
        let a = by_topic.next_change().await;
        assert_eq!(a.data["entries"].as_object().unwrap().keys().collect::<Vec<_>>(), ["a"]);
        let c = by_topic.next_change().await;
        assert_eq!(c.data["entries"].as_object().unwrap().keys().collect::<Vec<_>>(), ["c"], "`b` publishes to no topic");
    }

    async fn last_event_id_resumes_where_the_reader_left(app) {
        let shop = app.create_account("Shop").await;
        let twin = new_twin(&app, &shop).await;
        let mut stream = app.stream("/events", &shop.secret, &[]).await;
        write(&app, &shop, &twin, json!({"n": {"value": 0}})).await;
        let first = stream.next_change().await;
        drop(stream);
        for n in 1..=3 {
            update(&app, &shop, &twin, json!({"n": {"value": n}})).await;
        }
        let last = first.id.clone().unwrap();
        let mut resumed = app.stream("/events", &shop.secret, &[("last-event-id", last.as_str())]).await;
        for n in 1..=3 {
            let event = resumed.next_change().await;
            assert_eq!(event.data["entries"]["n"]["new_value"], n, "{event:?}");
        }
        // The query parameter does the same.
        let mut again = app.stream(&format!("/events?last_event_id={last}"), &shop.secret, &[]).await;
        assert_eq!(again.next_change().await.data["entries"]["n"]["new_value"], 1);
        // And the live part follows the backlog.
        update(&app, &shop, &twin, json!({"n": {"value": 4}})).await;
        assert_eq!(resumed.next_change().await.data["entries"]["n"]["new_value"], 4);
    }

    async fn pruned_events_are_reported_as_a_gap(app) {
        let shop = app.create_account("Shop").await;
        let twin = new_twin(&app, &shop).await;
        write(&app, &shop, &twin, json!({"n": {"value": 0}})).await;
        update(&app, &shop, &twin, json!({"n": {"value": 1}})).await;
        // The sticker fan-out has gone through them, so housekeeping may prune them once old.
        app.steward.fan_out_sticker_events().await.unwrap();
        app.clock.advance_millis(25 * 3_600_000);
        let report = app.steward.housekeeping().await.unwrap();
        assert_eq!(report.events, 2);
        update(&app, &shop, &twin, json!({"n": {"value": 2}})).await;
        let mut stream = app.stream("/events", &shop.secret, &[("last-event-id", "0")]).await;
        let gap = stream.next_change().await;
        assert_eq!(gap.event, "steward.gap");
        assert_eq!(gap.data, json!({"from": 1, "to": 2}));
        assert_eq!(stream.next_change().await.data["entries"]["n"]["new_value"], 2);
    }

    async fn sticker_events_reach_recipients_only(app) {
        let shop = app.create_account("Shop").await;
        let courier = app.create_account("Courier").await;
        let stranger = app.create_account("Stranger").await;
        partner_role(&app, &courier).await;
        partner_role(&app, &stranger).await;
        let twin = new_twin(&app, &shop).await;
        let mut courier_stream = app.stream("/events", &courier.secret, &[]).await;
        let mut stranger_stream = app.stream("/events", &stranger.secret, &[]).await;
        let put = app
            .call(Method::POST, &format!("/twins/{twin}/stickers"), Some(&shop.secret),
                  Some(json!({"stickers": {
                      "red": {"note": "pick up", "recipients": [courier.account], "validity_ts": app_now(&app) + 60.0},
                      "blue": {"note": "not for you", "recipients": [stranger.user]},
                  }})))
            .await;
        assert_eq!(put.status.as_u16(), 201, "{}", put.text());
        let event = courier_stream.next_change().await;
        assert_eq!(event.event, "sticker.put");
        assert_eq!(event.data["sticker"]["color"], "red");
        assert_eq!(event.data["sticker"]["note"], "pick up");
        assert_eq!(event.data["sticker"]["account"], shop.account.as_str());

        let removed = app
            .call(Method::DELETE, &format!("/twins/{twin}/stickers/red?context={}", shop.account), Some(&courier.secret), None)
            .await;
        assert_eq!(removed.status.as_u16(), 200, "{}", removed.text());
        assert_eq!(courier_stream.next_change().await.event, "sticker.removed");

        let put = app
            .call(Method::POST, &format!("/twins/{twin}/stickers"), Some(&shop.secret),
                  Some(json!({"stickers": {"green": {"recipients": [courier.user], "validity_ts": app_now(&app) + 1.0}}})))
            .await;
        assert_eq!(put.status.as_u16(), 201, "{}", put.text());
        assert_eq!(courier_stream.next_change().await.event, "sticker.put");
        app.clock.advance_millis(2_000);
        app.steward.housekeeping().await.unwrap();
        let expired = courier_stream.next_change().await;
        assert_eq!(expired.event, "sticker.expired");
        assert_eq!(expired.data["sticker"]["color"], "green");

        // The stranger only ever sees the blue sticker's put.
        let first = stranger_stream.next_change().await;
        assert_eq!(first.data["sticker"]["color"], "blue");
        assert!(!stranger_stream.raw.contains("pick up"), "{}", stranger_stream.raw);
    }

    async fn a_revoked_secret_ends_the_stream(app) {
        let shop = app.create_account("Shop").await;
        let (_, user, secret) = app.user_with_statement(&shop, json!({"effect": "allow", "actions": ["get_twin_ledger_entry"]})).await;
        let twin = new_twin(&app, &shop).await;
        let mut stream = app.stream("/events", &secret, &[]).await;
        write(&app, &shop, &twin, json!({"n": {"value": 1}})).await;
        assert_eq!(stream.next_change().await.event, "ledger.entry.added");
        let deleted = app.call(Method::DELETE, &format!("/users/{user}/secrets"), Some(&shop.secret), None).await;
        assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
        app.clock.advance_millis(2_000);
        update(&app, &shop, &twin, json!({"n": {"value": 2}})).await;
        let last = stream.next_change().await;
        assert_eq!(last.event, "steward.unauthorized");
        assert!(stream.next().await.is_none(), "the stream ends");
        assert!(!stream.raw.contains("\"new_value\":2"), "{}", stream.raw);
    }

    async fn bad_stream_requests_are_refused(app) {
        let shop = app.create_account("Shop").await;
        app.call(Method::GET, "/events", None, None).await.assert_tt_error(401, 401_000);
        for path in [
            "/events?twins=not-a-uuid",
            "/events?topics=no",
            "/events?last_event_id=-1",
            "/events?last_event_id=abc",
            "/events?unknown=1",
        ] {
            app.call(Method::GET, path, Some(&shop.secret), None).await.assert_tt_error(400, 400_589);
        }
        let many: Vec<String> = (0..51).map(|n| format!("topic-{n}")).collect();
        app.call(Method::GET, &format!("/events?topics={}", many.join(",")), Some(&shop.secret), None)
            .await
            .assert_tt_error(400, 400_589);
        let request = Request::get("/events")
            .header(header::AUTHORIZATION, shop.secret.as_str())
            .header("last-event-id", "x")
            .body(Body::empty())
            .unwrap();
        app.send(request).await.assert_tt_error(400, 400_589);
    }
}

/// The test clock's now in Trusted Twin seconds.
fn app_now(app: &TestApp) -> f64 {
    use steward_domain::Clock as _;
    app.clock.now().as_tt_seconds()
}

#[tokio::test]
async fn a_slow_reader_is_told_and_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let store = steward_store_sqlite::SqliteStore::open(dir.path())
        .await
        .unwrap();
    let settings = steward_core::ServiceSettings {
        event_stream_capacity: 4,
        ..Default::default()
    };
    let app = TestApp::on_store_with(std::sync::Arc::new(store), Some(dir), settings).await;
    let shop = app.create_account("Shop").await;
    let twin = new_twin(&app, &shop).await;
    // The stream is open but not read while twenty changes go by.
    let mut stream = app.stream("/events", &shop.secret, &[]).await;
    for n in 0..20 {
        update_or_add(&app, &shop, &twin, n).await;
    }
    // Give the tail time to broadcast them all past the reader.
    let mut seen = Vec::new();
    loop {
        let event = stream.next().await;
        match event {
            Some(event) if event.event == "steward.overflow" => {
                let last: u64 = event.id.unwrap().parse().unwrap();
                assert_eq!(event.data["last_event_id"], last);
                break;
            }
            Some(event) => seen.push(event),
            None => panic!("the stream ended without saying why"),
        }
    }
    assert!(
        seen.len() < 20,
        "a reader four events behind cannot have seen all twenty"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the overflow"
    );
}

async fn update_or_add(app: &TestApp, who: &TestAccount, twin: &str, n: u64) {
    if n == 0 {
        write(app, who, twin, json!({"n": {"value": 0}})).await;
    } else {
        update(app, who, twin, json!({"n": {"value": n}})).await;
    }
    // Let the tail broadcast each change as it happens, as under real load.
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// What the review of the first version found leaking, kept as regression tests: each reads
/// the courier's stream up to a marker of its own and asserts on every byte received.
mod leaks {
    use super::*;

    async fn patch_entries(app: &TestApp, who: &TestAccount, twin: &str, entries: Value) {
        let reply = app
            .call(
                Method::PATCH,
                &format!("/twins/{twin}/ledgers/personal"),
                Some(&who.secret),
                Some(json!({"entries": entries})),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    }

    /// Writes a visible marker on a twin of `courier`'s own.
    async fn marker(app: &TestApp, courier: &TestAccount) {
        let own = new_twin(app, courier).await;
        write(app, courier, &own, json!({"marker": {"value": "END"}})).await;
    }

    /// Reads until the marker; returns every event before it.
    async fn until_marker(stream: &mut Stream) -> Vec<Received> {
        let mut seen = Vec::new();
        loop {
            let event = stream.next_change().await;
            if event.data.to_string().contains("\"END\"") {
                return seen;
            }
            seen.push(event);
        }
    }

    api_tests! {
        async fn a_deleted_private_entry_does_not_leak_through_a_public_one_of_the_same_name(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            partner_role(&app, &courier).await;
            let order = new_twin(&app, &shop).await;
            write(&app, &shop, &order, json!({"code": {"value": "PRIVATE-SECRET-1"}})).await;
            let reply = app
                .call(Method::DELETE, &format!("/twins/{order}/ledgers/personal?entries=code"), Some(&shop.secret), None)
                .await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
            write(&app, &shop, &order, json!({"code": {"value": "public", "visibility": "true"}})).await;
            let mut stream = app.stream("/events", &courier.secret, &[("last-event-id", "0")]).await;
            marker(&app, &courier).await;
            let seen = until_marker(&mut stream).await;
            assert!(!stream.raw.contains("PRIVATE-SECRET"), "{}", stream.raw);
            assert_eq!(seen.len(), 1, "only the public add: {seen:?}");
            assert_eq!(seen[0].data["entries"]["code"]["new_value"], "public");
        }

        async fn an_entry_made_public_shows_no_old_private_value(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            partner_role(&app, &courier).await;
            let order = new_twin(&app, &shop).await;
            write(&app, &shop, &order, json!({"price": {"value": "PRIVATE-COST-99"}})).await;
            let mut stream = app.stream("/events", &courier.secret, &[]).await;
            patch_entries(&app, &shop, &order, json!({"price": {"value": "120", "visibility": "true"}})).await;
            marker(&app, &courier).await;
            let seen = until_marker(&mut stream).await;
            assert!(!stream.raw.contains("PRIVATE-COST"), "{}", stream.raw);
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert_eq!(seen[0].data["entries"]["price"]["new_value"], "120");
            assert_eq!(seen[0].data["entries"]["price"]["old_value"], Value::Null);
        }

        async fn values_are_judged_as_they_were_when_written(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            partner_role(&app, &courier).await;
            let order = new_twin(&app, &shop).await;
            write(&app, &shop, &order, json!({"amount": {"value": 500, "visibility": "entry_value > 100"}})).await;
            update(&app, &shop, &order, json!({"amount": {"value": 42}})).await;
            update(&app, &shop, &order, json!({"amount": {"value": 600}})).await;
            let mut stream = app.stream("/events", &courier.secret, &[("last-event-id", "0")]).await;
            marker(&app, &courier).await;
            let seen = until_marker(&mut stream).await;
            let values: Vec<(Value, Value)> = seen
                .iter()
                .map(|event| (event.data["entries"]["amount"]["new_value"].clone(),
                              event.data["entries"]["amount"]["old_value"].clone()))
                .collect();
            assert_eq!(values, [(json!(500), Value::Null), (json!(600), Value::Null)],
                       "42 was never readable by the courier: {seen:?}");
        }

        async fn a_topic_filter_cannot_test_private_values(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            partner_role(&app, &courier).await;
            let order = new_twin(&app, &shop).await;
            let mut right = app.stream("/events?topics=pin-4711", &courier.secret, &[]).await;
            let mut wrong = app.stream("/events?topics=pin-0000", &courier.secret, &[]).await;
            write(&app, &shop, &order, json!({
                "pin": {"value": 4711},
                "status": {"value": "ready", "visibility": "true", "publish": {"pin-{LEDGER.pin}": "true"}},
            })).await;
            let own = new_twin(&app, &courier).await;
            write(&app, &courier, &own, json!({"m": {"value": 1, "publish": {"on_added": ["pin-4711", "pin-0000"]}}})).await;
            let first_right = right.next_change().await;
            let first_wrong = wrong.next_change().await;
            assert_eq!(first_right.data["twin"], own.as_str(), "the ungranted topic admits nothing: {first_right:?}");
            assert_eq!(first_wrong.data["twin"], own.as_str());
            // Once the shop grants the topic, the filter works on its changes.
            let grant = format!("/notifications/webhooks/access/accounts/{}", courier.account);
            app.call(Method::PATCH, &grant, Some(&shop.secret), Some(json!({"topics": ["pin-4711"]}))).await;
            update(&app, &shop, &order, json!({"status": {"value": "sent"}})).await;
            assert_eq!(right.next_change().await.data["twin"], order.as_str());
        }

        async fn sticker_events_show_recipients_to_the_creator_only(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            let rival = app.create_account("Rival").await;
            partner_role(&app, &courier).await;
            let twin = new_twin(&app, &shop).await;
            let mut courier_stream = app.stream("/events", &courier.secret, &[]).await;
            let mut shop_stream = app.stream("/events", &shop.secret, &[]).await;
            let put = app
                .call(Method::POST, &format!("/twins/{twin}/stickers"), Some(&shop.secret),
                      Some(json!({"stickers": {"red": {"note": "n", "recipients": [courier.account, rival.account, shop.account]}}})))
                .await;
            assert_eq!(put.status.as_u16(), 201, "{}", put.text());
            let event = courier_stream.next_change().await;
            assert_eq!(event.event, "sticker.put");
            assert!(event.data["sticker"].get("recipients").is_none(), "{}", event.data);
            assert!(!courier_stream.raw.contains(&rival.account), "{}", courier_stream.raw);
            let own = shop_stream.next_change().await;
            assert_eq!(own.data["sticker"]["recipients"].as_array().unwrap().len(), 3);
        }
    }
}

#[tokio::test]
async fn an_account_holds_a_bounded_number_of_streams() {
    let app = TestApp::new().await;
    let shop = app.create_account("Shop").await;
    let mut open = Vec::new();
    for _ in 0..steward_core::MAX_STREAMS_PER_ACCOUNT {
        open.push(app.stream("/events", &shop.secret, &[]).await);
    }
    app.call(Method::GET, "/events", Some(&shop.secret), None)
        .await
        .assert_tt_error(429, 429_000);
    // Another account is not affected, and a closed stream frees its slot.
    let other = app.create_account("Other").await;
    drop(app.stream("/events", &other.secret, &[]).await);
    drop(open.pop());
    drop(app.stream("/events", &shop.secret, &[]).await);
}
