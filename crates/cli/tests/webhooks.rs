//! Webhook delivery survives a crash: a message queued while the receiver is down is still
//! delivered after the server is killed with `kill -9` and restarted, on SQLite and (when
//! `STEWARD_TEST_POSTGRES_URL` is set) PostgreSQL. The receiver is a real HTTP listener.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Backend, PostgresDatabase, Server, OPERATOR_TOKEN};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;

/// A port nothing listens on yet (bound and released).
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A minimal HTTP receiver on `port` that answers 200 to every POST and records the bodies.
async fn receiver(port: u16) -> Arc<Mutex<Vec<String>>> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let Some(body) = support::read_request_body(&mut stream).await else {
                    return;
                };
                store
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).to_string());
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    received
}

async fn post(server: &Server, path: &str, credential: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(server.url(path))
        .header("Authorization", credential)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{path}");
    response.json().await.unwrap()
}

async fn message_queued_before_a_crash_is_delivered_after_restart(backend: Backend) {
    let args = ["--webhook-allow-loopback"];
    let server = Server::start(&backend, &args);
    let account = post(
        &server,
        "/operator/accounts",
        OPERATOR_TOKEN,
        json!({"name": "Shop"}),
    )
    .await;
    let secret = account["secret"].as_str().unwrap().to_owned();
    let port = free_port().await;
    let callback = format!("http://127.0.0.1:{port}/hook");
    let subscribed = post(
        &server,
        "/notifications/webhooks",
        &secret,
        json!({"callback_url": callback, "topic": "orders"}),
    )
    .await;
    assert_eq!(subscribed["subscription"]["topic"], "orders");
    // Nobody listens yet: the first attempts fail. Then the server dies without warning.
    tokio::time::sleep(Duration::from_millis(600)).await;
    server.kill_hard();

    let received = receiver(port).await;
    let server = Server::start(&backend, &args);
    // Normally within seconds; at worst the killed node held the message's 30 s lease.
    let deadline = Instant::now() + Duration::from_secs(45);
    while received.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bodies = received.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        1,
        "delivered once after the restart: {bodies:?}"
    );
    let confirmation: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(confirmation["type"], "SubscriptionConfirmation");
    assert_eq!(confirmation["subscription"]["topic"], "orders");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received.lock().unwrap().len(), 1, "and never again");
    let _ = server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_delivers_a_message_queued_before_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    message_queued_before_a_crash_is_delivered_after_restart(Backend::Sqlite(
        dir.path().join("data"),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_delivers_a_message_queued_before_a_crash() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    message_queued_before_a_crash_is_delivered_after_restart(Backend::Postgres(
        database.url.clone(),
    ))
    .await;
}

/// Starts the HTTPS receiver; returns it, its port and the bodies it received so far.
fn https_receiver() -> (std::process::Child, u16, Arc<Mutex<Vec<String>>>) {
    use std::io::BufRead as _;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
    let mut child = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/https_receiver.py"
        ))
        .arg(format!("{fixtures}/localhost.pem"))
        .arg(format!("{fixtures}/localhost.key"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 should start");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port: u16 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, port, received)
}

async fn wait_for(received: &Arc<Mutex<Vec<String>>>, patience: Duration) -> Vec<String> {
    let deadline = Instant::now() + patience;
    while received.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    received.lock().unwrap().clone()
}

/// An `https` callback is delivered over TLS when its certificate chains to a trusted root
/// (here the test CA given with `--webhook-ca-file`), and not otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn https_callbacks_are_delivered_over_verified_tls() {
    let (mut receiver, port, received) = https_receiver();
    let callback = format!("https://127.0.0.1:{port}/hook");
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");

    // Without the test CA the receiver's certificate does not verify: nothing is delivered.
    let dir = tempfile::tempdir().unwrap();
    let untrusting = Server::start(
        &Backend::Sqlite(dir.path().join("data")),
        &["--webhook-allow-loopback"],
    );
    let account = post(
        &untrusting,
        "/operator/accounts",
        OPERATOR_TOKEN,
        json!({"name": "Shop"}),
    )
    .await;
    let secret = account["secret"].as_str().unwrap().to_owned();
    post(
        &untrusting,
        "/notifications/webhooks",
        &secret,
        json!({"callback_url": callback, "topic": "orders"}),
    )
    .await;
    assert!(
        wait_for(&received, Duration::from_secs(3)).await.is_empty(),
        "an unverified certificate must not receive messages"
    );
    let _ = untrusting.terminate();

    // Trusting the test CA, the queued confirmation goes out over TLS.
    let trusting = Server::start(
        &Backend::Sqlite(dir.path().join("data")),
        &["--webhook-allow-loopback", "--webhook-ca-file", ca],
    );
    let bodies = wait_for(&received, Duration::from_secs(30)).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let confirmation: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(confirmation["type"], "SubscriptionConfirmation");
    let _ = trusting.terminate();
    let _ = receiver.kill();
    let _ = receiver.wait();
}
