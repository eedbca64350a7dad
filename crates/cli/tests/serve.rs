//! End-to-end: the real `steward serve` binary on SQLite and PostgreSQL, graceful shutdown,
//! and `kill -9` in the middle of writes followed by a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::{Backend, PostgresDatabase, Server, OPERATOR_TOKEN};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn check_system_endpoints(server: &Server) {
    let http = client();
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"steward_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{metrics}"
    );
    let openapi: Value = http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
}

async fn create_account(http: &reqwest::Client, server_url: &str, name: &str) -> Option<String> {
    let response = http
        .post(format!("{server_url}/operator/accounts"))
        .header("Authorization", OPERATOR_TOKEN)
        .json(&json!({ "name": name }))
        .send()
        .await
        .ok()?;
    if response.status() != 201 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["account"].as_str().map(str::to_owned)
}

async fn account_exists(http: &reqwest::Client, server: &Server, account: &str) -> bool {
    let response = http
        .get(server.url(&format!("/operator/accounts/{account}")))
        .header("Authorization", OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    response.status() == 200
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_serve_answers_system_endpoints_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite(dir.path().join("data"));
    let server = Server::start(&backend, &[]);
    check_system_endpoints(&server).await;
    assert!(dir.path().join("data/steward.db").exists());
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_serve_answers_system_endpoints_and_keeps_data_across_restarts() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL not set");
        return;
    };
    let backend = Backend::Postgres(database.url.clone());
    let server = Server::start(&backend, &[]);
    check_system_endpoints(&server).await;
    let account = create_account(&client(), &server.base_url, "pg-partner")
        .await
        .expect("account created on postgres");
    assert!(server.terminate().success());
    // Second start: migrations re-run as a no-op, the data is still there.
    let server = Server::start(&backend, &[]);
    assert!(account_exists(&client(), &server, &account).await);
    assert!(server.terminate().success());
}

/// Starts the server, lets writers create accounts, kills it with SIGKILL at a pseudo-random
/// moment, and returns the accounts whose creation was acknowledged.
async fn write_then_kill(backend: &Backend, round: u64) -> Vec<String> {
    let server = Server::start(backend, &[]);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let base_url = server.base_url.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            let http = client();
            for index in 0.. {
                let name = format!("crash-{round}-{writer}-{index}");
                match create_account(&http, &base_url, &name).await {
                    Some(account) => acknowledged.lock().unwrap().push(account),
                    None => break,
                }
            }
        }));
    }
    // Deterministic spread of kill moments between 150 and 650 ms.
    let delay = 150 + (round * 7_919 + 104_729) % 500;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    tokio::task::spawn_blocking(move || server.kill_hard())
        .await
        .unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    acknowledged
}

async fn kill_rounds_lose_no_acknowledged_write(backend: Backend, rounds: u64) {
    let mut all_acknowledged = Vec::new();
    for round in 0..rounds {
        let acknowledged = write_then_kill(&backend, round).await;
        assert!(
            !acknowledged.is_empty(),
            "round {round}: some writes should be acknowledged before the kill"
        );
        all_acknowledged.extend(acknowledged);
    }
    let server = Server::start(&backend, &[]);
    let http = client();
    for account in &all_acknowledged {
        assert!(
            account_exists(&http, &server, account).await,
            "acknowledged account {account} lost after kill -9"
        );
    }
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_kill_9_during_writes_loses_no_acknowledged_write_and_file_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    kill_rounds_lose_no_acknowledged_write(Backend::Sqlite(data_dir.clone()), 5).await;
    let intact = tokio::task::spawn_blocking(move || support::sqlite_integrity_ok(&data_dir))
        .await
        .unwrap();
    assert!(intact, "PRAGMA integrity_check should be ok after kill -9");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_kill_9_during_writes_loses_no_acknowledged_write() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL not set");
        return;
    };
    kill_rounds_lose_no_acknowledged_write(Backend::Postgres(database.url.clone()), 3).await;
}

#[test]
fn config_print_default_prints_a_file_that_serve_accepts_and_unknown_keys_fail() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["config", "print-default"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""));
    assert!(text.contains("data_dir = \"./steward-data\""));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward.toml");
    std::fs::write(&config, format!("{text}\nlisten_prt = 1\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listen_prt"), "{stderr}");
}
