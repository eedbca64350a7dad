//! Secrets hygiene: a server at debug log level runs a scenario that handles every kind of
//! secret (the operator token, account secrets, a PIN and the secret it is redeemed for, a user
//! token, the audit signing key), including wrong and malformed credentials. No log line and no
//! error body may contain any of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// Everything the server printed, line by line.
type Lines = Arc<Mutex<Vec<String>>>;

struct DebugServer {
    child: std::process::Child,
    base_url: String,
    lines: Lines,
}

impl Drop for DebugServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `steward serve` at debug level (every crate, sqlx's statements included) and
/// collects standard output and standard error.
fn start_debug_server(data_dir: &std::path::Path) -> DebugServer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "debug"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("STEWARD_OPERATOR_TOKEN", support::OPERATOR_TOKEN)
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Lines = Arc::default();
    let (address_sender, address) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("steward listening on ") {
                let _ = address_sender.send(url.to_owned());
            }
            collected.lock().unwrap().push(line);
        }
    });
    let stderr = child.stderr.take().unwrap();
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            collected.lock().unwrap().push(line);
        }
    });
    let base_url = address
        .recv_timeout(Duration::from_secs(60))
        .expect("the server should start");
    DebugServer {
        child,
        base_url,
        lines,
    }
}

/// Calls the API and keeps every error body.
struct Client {
    http: reqwest::Client,
    base: String,
    error_bodies: Vec<String>,
}

impl Client {
    async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        credential: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(credential) = credential {
            request = request.header("Authorization", credential);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status >= 400 {
            self.error_bodies.push(text.clone());
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_any_log_line_or_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_debug_server(dir.path());
    let mut client = Client {
        http: reqwest::Client::new(),
        base: server.base_url.clone(),
        error_bodies: Vec::new(),
    };
    use reqwest::Method;
    let operator = support::OPERATOR_TOKEN;

    let (status, created) = client
        .call(
            Method::POST,
            "/operator/accounts",
            Some(operator),
            Some(json!({"name": "Hygiene Ltd"})),
        )
        .await;
    assert_eq!(status, 201);
    let admin = created["secret"].as_str().unwrap().to_owned();
    let account = created["account"].as_str().unwrap().to_owned();
    let role = created["role"].as_str().unwrap().to_owned();

    // A user, a PIN for it, and the secret the PIN is redeemed for.
    let (status, user) = client
        .call(
            Method::POST,
            "/users",
            Some(&admin),
            Some(json!({"name": "Dana", "role": role})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let user = user["uuid"].as_str().unwrap().to_owned();
    let (status, pin) = client
        .call(
            Method::POST,
            &format!("/users/{user}/secrets"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 201, "{pin}");
    let pin = pin["pin"].as_str().unwrap().to_owned();
    let (status, redeemed) = client
        .call(
            Method::POST,
            &format!("/secrets/{account}/{pin}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 201, "{redeemed}");
    let user_secret = redeemed["secret"].as_str().unwrap().to_owned();
    // The PIN again (spent), and a wrong one.
    let (status, _) = client
        .call(
            Method::POST,
            &format!("/secrets/{account}/{pin}"),
            None,
            None,
        )
        .await;
    assert!(status >= 400);
    let (status, _) = client
        .call(
            Method::POST,
            &format!("/secrets/{account}/ZZZZ99"),
            None,
            None,
        )
        .await;
    assert!(status >= 400);

    // A token, used and refreshed; then used with a broken signature.
    let (status, token) = client
        .call(Method::POST, "/token", Some(&user_secret), None)
        .await;
    assert_eq!(status, 201, "{token}");
    let token = token["token"].as_str().unwrap().to_owned();
    let (status, _) = client
        .call(Method::GET, "/whoami", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (status, _) = client
        .call(Method::GET, "/whoami", Some(&forged), None)
        .await;
    assert_eq!(status, 401);

    // Wrong and malformed credentials: a near miss of a real secret, garbage, a wrong
    // operator token, a real secret in the operator API.
    let near_miss = format!("{}A", &admin[..admin.len() - 1]);
    for credential in [near_miss.as_str(), "not-a-secret", "Bearer x.y.z"] {
        let (status, _) = client
            .call(Method::GET, "/whoami", Some(credential), None)
            .await;
        assert_eq!(status, 401);
    }
    let wrong_operator = format!("{operator}-wrong");
    let (status, _) = client
        .call(
            Method::GET,
            "/operator/accounts",
            Some(&wrong_operator),
            None,
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = client
        .call(Method::GET, "/operator/accounts", Some(&admin), None)
        .await;
    assert_eq!(status, 401);
    // A secret in a body where it does not belong, and in an X-TrustedTwin header.
    let (status, _) = client
        .call(
            Method::POST,
            "/twins",
            Some(&admin),
            Some(json!({"description": {"bad key!": admin}})),
        )
        .await;
    assert_eq!(status, 400);
    let response = client
        .http
        .get(format!("{}/whoami", client.base))
        .header("Authorization", &user_secret)
        .header("X-TrustedTwin", format!("!!{user_secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    client.error_bodies.push(response.text().await.unwrap());
    // The secret is deleted; using it again fails.
    let (status, _) = client
        .call(
            Method::DELETE,
            &format!("/users/{user}/secrets"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = client
        .call(Method::GET, "/whoami", Some(&user_secret), None)
        .await;
    assert_eq!(status, 401);

    // Give the audit sealer time to sign a checkpoint with the key, then stop the server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..200 {
        if std::fs::metadata(dir.path().join("steward.db-wal")).is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let signing_key = std::fs::read_to_string(dir.path().join("audit-signing.key")).unwrap();
    let mut secrets = vec![
        ("operator token", operator.to_owned()),
        ("admin secret", admin.clone()),
        ("near miss of the admin secret", near_miss),
        ("user secret", user_secret.clone()),
        ("PIN", pin.clone()),
        ("user token", token.clone()),
        ("forged token", forged),
        ("wrong operator token", wrong_operator),
    ];
    // The token's signature part alone is a secret too.
    if let Some((_, signature)) = token.rsplit_once('.') {
        secrets.push(("token signature", signature.to_owned()));
    }
    for line in signing_key
        .lines()
        .map(str::trim)
        .filter(|line| line.len() >= 16)
    {
        secrets.push(("audit signing key", line.to_owned()));
        // A signed-note key is `PRIVATE+KEY+<name>+<hash>+<key data>`: the key data alone.
        if let Some((_, data)) = line.rsplit_once('+') {
            if data.len() >= 16 {
                secrets.push(("audit signing key data", data.to_owned()));
            }
        }
    }
    let lines = server.lines.lock().unwrap().clone();
    assert!(
        lines.len() > 50,
        "debug logging should have written plenty: {} lines",
        lines.len()
    );
    assert!(
        lines.iter().any(|line| line.contains("DEBUG")),
        "the server should log at debug level"
    );
    for (what, secret) in &secrets {
        for line in &lines {
            assert!(
                !line.contains(secret.as_str()),
                "the {what} is in a log line: {line}"
            );
        }
        for body in &client.error_bodies {
            assert!(
                !body.contains(secret.as_str()),
                "the {what} is in an error body: {body}"
            );
        }
    }
    assert!(client.error_bodies.len() >= 10);
}
