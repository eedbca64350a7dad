//! The connection layer of `steward serve`, end to end: HTTPS with a certificate, and the
//! limits on slow and oversized requests. Every test also checks that the server keeps
//! answering others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Backend, Server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

/// Generous bound for what must happen "soon": only a hang makes a test wait this long.
const HANG: Duration = Duration::from_secs(60);

fn start(dir: &tempfile::TempDir, extra: &[&str]) -> Server {
    Server::start(&Backend::Sqlite(dir.path().to_path_buf()), extra)
}

fn address(server: &Server) -> String {
    server
        .base_url
        .split("://")
        .nth(1)
        .expect("the base URL has a scheme")
        .to_owned()
}

async fn healthz_ok(server: &Server) {
    let status = reqwest::get(server.url("/healthz")).await.unwrap().status();
    assert_eq!(status, 200);
}

/// Sends raw bytes and reads until the server closes the connection or sends a whole
/// response head with a body; returns what was read.
async fn exchange(stream: &mut TcpStream, request: &[u8]) -> String {
    // The server may answer and close before it read everything (a refused head).
    let _ = stream.write_all(request).await;
    read_until_closed(stream).await
}

async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match tokio::time::timeout(HANG, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Err(_) => panic!("the server neither answered nor closed the connection"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

fn subcode(response: &str) -> i64 {
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .expect("the response has a body");
    let body: Value = serde_json::from_str(body).expect("the body is JSON");
    body["subcode"].as_i64().expect("a Trusted Twin error body")
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = format!("{FIXTURES}/localhost.pem");
    let key = format!("{FIXTURES}/localhost.key");
    let server = start(&dir, &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(
        server.base_url.starts_with("https://"),
        "{}",
        server.base_url
    );
    let ca = std::fs::read(format!("{FIXTURES}/ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // An error answer travels over TLS too, in the Trusted Twin format.
    let response = client.get(server.url("/account")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["subcode"], 401000);

    // A client that does not trust the certificate is refused at the handshake...
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(server.url("/healthz")).send().await.is_err());
    // ...and plain HTTP on the TLS port gets no HTTP answer.
    let plain = server.url("/healthz").replacen("https://", "http://", 1);
    assert!(reqwest::get(plain).await.is_err());
    // The trusting client still gets through afterwards.
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[test]
fn a_key_that_does_not_fit_the_certificate_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // The CA certificate with the server's key: they do not belong together.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--tls-cert", &format!("{FIXTURES}/ca.pem")])
        .args(["--tls-key", &format!("{FIXTURES}/localhost.key")])
        .env("STEWARD_OPERATOR_TOKEN", support::OPERATOR_TOKEN)
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not fit the certificate"), "{stderr}");
    // The key's text never appears in the error.
    let key = std::fs::read_to_string(format!("{FIXTURES}/localhost.key")).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!stderr.contains(key_body));
}

#[test]
fn a_certificate_without_its_key_is_refused_as_a_usage_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["serve", "--tls-cert", &format!("{FIXTURES}/localhost.pem")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &["--header-timeout-seconds", "1"]);
    let mut slow = TcpStream::connect(address(&server)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // While the slow client holds its connection, others are answered.
    healthz_ok(&server).await;
    // The rest of the head never comes: the server closes the connection (hyper answers 408
    // first, or just closes); it never serves the request.
    let received = read_until_closed(&mut slow).await;
    assert!(!received.contains("200 OK"), "{received}");
    healthz_ok(&server).await;
}

/// A new account's admin secret.
async fn admin_secret(server: &Server) -> String {
    let response = reqwest::Client::new()
        .post(server.url("/operator/accounts"))
        .header("Authorization", support::OPERATOR_TOKEN)
        .json(&serde_json::json!({ "name": "Slow Body Ltd" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["secret"]
        .as_str()
        .expect("the new account's secret")
        .to_owned()
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_400793_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &["--body-timeout-seconds", "1"]);
    let secret = admin_secret(&server).await;
    let mut slow = TcpStream::connect(address(&server)).await.unwrap();
    // Ten bytes of a promised hundred, then nothing: the body times out.
    let head = format!(
        "POST /twins HTTP/1.1\r\nHost: x\r\nAuthorization: {secret}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(b"{\"descrip").await.unwrap();
    // Meanwhile others are answered.
    healthz_ok(&server).await;
    let response = read_until_closed(&mut slow).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert_eq!(subcode(&response), 400793);
    // Nothing was created from the half body.
    let twins: Value = reqwest::Client::new()
        .get(server.url("/twins"))
        .header("Authorization", &secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let none = match &twins["twins"] {
        Value::Array(items) => items.is_empty(),
        Value::Object(items) => items.is_empty(),
        _ => false,
    };
    assert!(none, "{twins}");
    healthz_ok(&server).await;
}

#[tokio::test]
async fn headers_over_16_kb_get_400141_and_a_huge_head_gets_431() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &[]);
    let filler = "a".repeat(20 * 1024);
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\nConnection: close\r\n\r\n"
    );
    let response = exchange(&mut stream, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert_eq!(subcode(&response), 400141);
    assert!(response.contains("request headers are"), "{response}");

    // Just under the limit is fine.
    let filler = "a".repeat(15 * 1024);
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\nConnection: close\r\n\r\n"
    );
    let response = exchange(&mut stream, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // A head far bigger than the read buffer is refused by the HTTP layer (431) before any
    // handler runs, or at the latest by the header check (400141).
    let filler = "a".repeat(1024 * 1024);
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\nConnection: close\r\n\r\n"
    );
    let response = exchange(&mut stream, request.as_bytes()).await;
    assert!(
        response.starts_with("HTTP/1.1 431")
            || (response.starts_with("HTTP/1.1 400") && subcode(&response) == 400141),
        "{}",
        &response[..response.len().min(300)]
    );
    healthz_ok(&server).await;
}
