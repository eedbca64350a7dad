//! Several nodes on one PostgreSQL database (runs only when `STEWARD_TEST_POSTGRES_URL` is set):
//! a change made on one node reaches the live event streams and the caches of another through
//! the database's change signals (LISTEN/NOTIFY), and a webhook message held by a node that
//! dies is delivered by another node once the dead node's lease runs out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{Backend, PostgresDatabase, Server, OPERATOR_TOKEN};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Sends one request with an optional credential and JSON body; returns the status and the
/// JSON body (`Null` when the body is empty or not JSON).
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    credential: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, server.url(path))
        .timeout(Duration::from_secs(30));
    if let Some(credential) = credential {
        request = request.header("Authorization", credential);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Like [`call`], but the answer must have `expected` status; returns the JSON body.
async fn expect(
    server: &Server,
    method: Method,
    path: &str,
    credential: Option<&str>,
    body: Option<Value>,
    expected: u16,
) -> Value {
    let (status, answer) = call(server, method.clone(), path, credential, body).await;
    assert_eq!(status.as_u16(), expected, "{method} {path}: {answer}");
    answer
}

/// A new account created through `server`: (account, role, admin secret).
async fn create_account(server: &Server) -> (String, String, String) {
    let created = expect(
        server,
        Method::POST,
        "/operator/accounts",
        Some(OPERATOR_TOKEN),
        Some(json!({"name": "Shop"})),
        201,
    )
    .await;
    let text = |key: &str| created[key].as_str().unwrap().to_owned();
    (text("account"), text("role"), text("secret"))
}

/// A new twin created through `server` with this description; returns its uuid.
async fn create_twin(server: &Server, secret: &str, description: Value) -> String {
    let twin = expect(
        server,
        Method::POST,
        "/twins",
        Some(secret),
        Some(json!({"description": description})),
        201,
    )
    .await;
    twin["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `check` every 50 ms until it returns `true` or `limit` has passed; returns how long
/// it took, or `None` when it never did.
async fn within<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One Server-Sent Event: its `event` field and its `data` as JSON.
#[derive(Debug)]
struct SseEvent {
    event: String,
    data: Value,
}

/// Reads `response` (a `text/event-stream`) until an event satisfies `wanted` and returns it.
/// Keep-alive comments and other events are skipped; panics after `limit`.
async fn next_matching_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
    limit: Duration,
    wanted: impl Fn(&SseEvent) -> bool,
) -> SseEvent {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    value.trim().clone_into(&mut event);
                } else if let Some(value) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            if data.is_empty() {
                continue; // a keep-alive comment
            }
            let event = SseEvent {
                event,
                data: serde_json::from_str(&data).unwrap(),
            };
            if wanted(&event) {
                return event;
            }
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("the wanted event should arrive in time")
            .expect("the event stream should stay readable")
            .expect("the event stream should not end");
        buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_on_one_node_reaches_live_streams_and_caches_of_another() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let backend = Backend::Postgres(database.url.clone());
    // Ten minutes: a fresh read on B can only come from the change signal, never from expiry.
    let args = ["--object-cache-ttl-milliseconds", "600000"];
    let a = Server::start(&backend, &args);
    let b = Server::start(&backend, &args);
    let (account, role, secret) = create_account(&a).await;

    // (a) A live stream on B sees an entry written on A.
    let twin = create_twin(&a, &secret, json!({"kind": "parcel"})).await;
    let mut events = reqwest::Client::new()
        .get(b.url("/events"))
        .header("Authorization", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let content_type = events.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    expect(
        &a,
        Method::POST,
        &format!("/twins/{twin}/ledgers/personal"),
        Some(&secret),
        Some(json!({"entries": {"status": {"value": "packed"}}})),
        201,
    )
    .await;
    let written = Instant::now();
    let mut buffer = String::new();
    let added = next_matching_event(&mut events, &mut buffer, Duration::from_secs(10), |event| {
        event.event == "ledger.entry.added"
    })
    .await;
    eprintln!(
        "B's stream delivered A's write after {:?}",
        written.elapsed()
    );
    assert_eq!(added.data["trigger"], "ledger.entry.added");
    assert_eq!(added.data["twin"], twin.as_str());
    assert_eq!(added.data["ledger"], account.as_str());
    assert_eq!(added.data["entries"]["status"]["new_value"], "packed");
    // And an update, so the stream keeps working after its first event.
    expect(
        &a,
        Method::PATCH,
        &format!("/twins/{twin}/ledgers/personal/value"),
        Some(&secret),
        Some(json!({"entries": {"status": {"value": "sent"}}})),
        200,
    )
    .await;
    let updated = next_matching_event(&mut events, &mut buffer, Duration::from_secs(10), |event| {
        event.event == "ledger.entry.updated"
    })
    .await;
    assert_eq!(updated.data["twin"], twin.as_str());
    assert_eq!(updated.data["entries"]["status"]["new_value"], "sent");
    assert_eq!(updated.data["entries"]["status"]["old_value"], "packed");
    drop(events);

    // (b) A twin and a ledger read on B are read fresh on B after A changes them. (GET
    // /twins/{twin} reads the store directly; ledger reads go through B's object cache, so the
    // ledger half is the one only the change signal can explain.)
    let twin = create_twin(&a, &secret, json!({"v": 1})).await;
    let twin_path = format!("/twins/{twin}");
    let ledger_path = format!("/twins/{twin}/ledgers/personal");
    expect(
        &a,
        Method::POST,
        &ledger_path,
        Some(&secret),
        Some(json!({"entries": {"status": {"value": "packed"}}})),
        201,
    )
    .await;
    // Read twice, so both are certainly in B's cache from now on.
    for _ in 0..2 {
        let seen = expect(&b, Method::GET, &twin_path, Some(&secret), None, 200).await;
        assert_eq!(seen["description"], json!({"v": 1}));
        let seen = expect(&b, Method::GET, &ledger_path, Some(&secret), None, 200).await;
        assert_eq!(seen["entries"]["status"]["value"], "packed");
    }
    expect(
        &a,
        Method::PATCH,
        &twin_path,
        Some(&secret),
        Some(json!({"description": {"v": 2}})),
        200,
    )
    .await;
    let fresh = within(Duration::from_secs(5), || async {
        let seen = expect(&b, Method::GET, &twin_path, Some(&secret), None, 200).await;
        seen["description"] == json!({"v": 2})
    })
    .await;
    eprintln!("B served A's twin change after {fresh:?}");
    assert!(fresh.is_some(), "B should serve the twin as A changed it");
    expect(
        &a,
        Method::PATCH,
        &format!("{ledger_path}/value"),
        Some(&secret),
        Some(json!({"entries": {"status": {"value": "sent"}}})),
        200,
    )
    .await;
    let fresh = within(Duration::from_secs(5), || async {
        let seen = expect(&b, Method::GET, &ledger_path, Some(&secret), None, 200).await;
        seen["entries"]["status"]["value"] == "sent"
    })
    .await;
    eprintln!("B served A's ledger change after {fresh:?}");
    assert!(
        fresh.is_some(),
        "B should drop its cached ledger when A changes it (the cache TTL is 10 minutes)"
    );

    // (c) A secret deleted on A stops working on B at once.
    let user = expect(
        &a,
        Method::POST,
        "/users",
        Some(&secret),
        Some(json!({"name": "Packer", "role": role})),
        201,
    )
    .await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let pin = expect(
        &a,
        Method::POST,
        &format!("/users/{user}/secrets"),
        Some(&secret),
        None,
        201,
    )
    .await["pin"]
        .as_str()
        .unwrap()
        .to_owned();
    let packer_secret = expect(
        &a,
        Method::POST,
        &format!("/secrets/{account}/{pin}"),
        None,
        None,
        201,
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = expect(&b, Method::GET, "/whoami", Some(&packer_secret), None, 200).await;
    assert_eq!(me["user"], user.as_str());
    expect(
        &a,
        Method::DELETE,
        &format!("/users/{user}/secrets"),
        Some(&secret),
        None,
        200,
    )
    .await;
    let revoked = within(Duration::from_secs(3), || async {
        let (status, _) = call(&b, Method::GET, "/whoami", Some(&packer_secret), None).await;
        status == StatusCode::UNAUTHORIZED
    })
    .await;
    eprintln!("B refused the deleted secret after {revoked:?}");
    assert!(
        revoked.is_some(),
        "B should refuse a secret deleted on A within 3 s (its credential cache keeps 5 s)"
    );
    // The admin secret still works on B.
    expect(&b, Method::GET, "/whoami", Some(&secret), None, 200).await;

    let _ = a.terminate();
    let _ = b.terminate();
}

/// What the webhook receiver got: every JSON body, in order of arrival.
type Received = Arc<Mutex<Vec<Value>>>;

/// A real HTTP receiver on 127.0.0.1 that records every POSTed JSON body and answers 200,
/// except to the first `Notification`, which it never answers (the connection stays open
/// until the sender goes away). Returns the port and the record.
async fn holding_receiver() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let store = received.clone();
    let held_one = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            let held_one = held_one.clone();
            tokio::spawn(async move {
                let Some(body) = support::read_request_body(&mut stream).await else {
                    return;
                };
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let is_notification = body["type"] == "Notification";
                store.lock().unwrap().push(body);
                if is_notification && !held_one.swap(true, Ordering::SeqCst) {
                    // Hold it: never answer, read until the sender closes the connection.
                    let mut buffer = [0_u8; 4096];
                    while matches!(stream.read(&mut buffer).await, Ok(read) if read > 0) {}
                    return;
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (port, received)
}

fn of_type(received: &Received, kind: &str) -> Vec<Value> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|body| body["type"] == kind)
        .cloned()
        .collect()
}

/// Sends a signal to a process with `kill`.
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// A process stopped with SIGSTOP; resumed with SIGCONT when dropped, also when the test fails.
struct Frozen(u32);

impl Frozen {
    fn freeze(server: &Server) -> Self {
        let pid = server.child.id();
        signal(pid, "STOP");
        Self(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_held_by_a_killed_node_is_delivered_by_another() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let backend = Backend::Postgres(database.url.clone());
    let args = ["--webhook-allow-loopback", "--webhook-lease-seconds", "10"];
    let a = Server::start(&backend, &args);
    let b = Server::start(&backend, &args);
    let (_, _, secret) = create_account(&a).await;
    let (port, received) = holding_receiver().await;

    let subscribed = expect(
        &a,
        Method::POST,
        "/notifications/webhooks",
        Some(&secret),
        Some(json!({"callback_url": format!("http://127.0.0.1:{port}/hook"), "topic": "orders"})),
        201,
    )
    .await;
    assert_eq!(subscribed["subscription"]["topic"], "orders");
    let confirmed = within(Duration::from_secs(20), || async {
        !of_type(&received, "SubscriptionConfirmation").is_empty()
    })
    .await;
    assert!(confirmed.is_some(), "a node should send the confirmation");
    let confirmation = of_type(&received, "SubscriptionConfirmation").remove(0);
    let confirmation_url = confirmation["confirmation_url"].as_str().unwrap();
    let response = reqwest::Client::new()
        .get(confirmation_url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "confirming: {}",
        response.status()
    );

    // Only A can claim the message: B is stopped.
    let frozen = Frozen::freeze(&b);
    let twin = create_twin(&a, &secret, json!({"kind": "parcel"})).await;
    expect(
        &a,
        Method::POST,
        &format!("/twins/{twin}/ledgers/personal"),
        Some(&secret),
        Some(json!({"entries": {"status": {
            "value": "packed",
            "publish": {"on_added": "orders", "on_updated": "orders"},
        }}})),
        201,
    )
    .await;
    let held = within(Duration::from_secs(20), || async {
        !of_type(&received, "Notification").is_empty()
    })
    .await;
    assert!(held.is_some(), "A should send the notification");
    let first_arrival = Instant::now();
    // A dies while the receiver holds its delivery (well before A's 5 s attempt timeout).
    a.kill_hard();
    let killed = Instant::now();
    drop(frozen);

    let redelivered = within(Duration::from_secs(60), || async {
        of_type(&received, "Notification").len() >= 2
    })
    .await;
    eprintln!(
        "B delivered the message {:?} after A was killed",
        killed.elapsed()
    );
    let second_arrival = Instant::now();
    let notifications = of_type(&received, "Notification");
    assert!(
        redelivered.is_some(),
        "B should deliver the message once A's lease runs out: {notifications:?}"
    );
    let first = &notifications[0];
    assert_eq!(first["trigger"], "ledger.entry.added");
    assert!(first["message"].is_string(), "{first}");
    assert_eq!(
        notifications[1]["message"], first["message"],
        "the same message, sent again by B"
    );
    // A claimed the message before sending it, so its lease ran out at most 10 s after the
    // first copy arrived; B must not have taken the message much earlier than that.
    let taken_over = second_arrival - first_arrival;
    assert!(
        taken_over >= Duration::from_secs(8),
        "B sent the message {taken_over:?} after A did, before A's 10 s lease could run out"
    );
    // Nothing else was published, and B does not send it again once it was answered.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let notifications = of_type(&received, "Notification");
    let messages: BTreeSet<String> = notifications
        .iter()
        .map(|body| body["message"].to_string())
        .collect();
    assert_eq!(messages.len(), 1, "one message: {notifications:?}");
    assert_eq!(
        notifications.len(),
        2,
        "held by A, then delivered by B: {notifications:?}"
    );
    let _ = b.terminate();
}
