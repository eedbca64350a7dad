//! `steward demo`: the seeded story is what the README promises — the courier sees
//! `delivery_address` and never `invoice`, the shop sees the courier's `delivery_status`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Backend, Server, OPERATOR_TOKEN};

#[tokio::test(flavor = "multi_thread")]
async fn demo_seeds_the_shop_and_courier_story_that_a_server_then_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["demo", "--orders", "2", "--json", "--data-dir"])
        .arg(&data_dir)
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let seeded: Value = serde_json::from_slice(&output.stdout).unwrap();
    let orders = seeded["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    let order = orders[0].as_str().unwrap();
    let courier = seeded["courier"]["secret"].as_str().unwrap();
    let shop = seeded["shop"]["secret"].as_str().unwrap();
    let courier_account = seeded["courier"]["account"].as_str().unwrap();

    let server = Server::start(&Backend::Sqlite(data_dir), &[]);
    let http = reqwest::Client::new();
    let get = |path: String, secret: &str| {
        http.get(server.url(&path))
            .header("Authorization", secret)
            .send()
    };
    let seen_by_courier = get(format!("/twins/{order}/ledgers/owner"), courier)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let seen_by_courier: Value = serde_json::from_str(&seen_by_courier).unwrap();
    let names: Vec<&String> = seen_by_courier["entries"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, ["delivery_address"]);
    let seen_by_shop: Value = get(format!("/twins/{order}/ledgers/{courier_account}"), shop)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen_by_shop["entries"]["delivery_status"]["value"],
        "picked_up"
    );
    let own: Value = get(format!("/twins/{order}/ledgers/personal"), shop)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(own["entries"]["invoice"].is_object());
    let _ = server.terminate();
}

#[test]
fn demo_without_json_prints_secrets_and_curl_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["demo", "--orders", "1", "--data-dir"])
        .arg(dir.path())
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "SHOP=",
        "COURIER=",
        "ORDER=",
        "curl -s $URL/twins/$ORDER/ledgers/owner",
    ] {
        assert!(text.contains(expected), "missing {expected}: {text}");
    }
}

/// Seeds a running server over its API and checks the story there, on SQLite and (when
/// `STEWARD_TEST_POSTGRES_URL` is set) PostgreSQL.
#[tokio::test(flavor = "multi_thread")]
async fn demo_seeds_a_running_server_through_its_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![Backend::Sqlite(dir.path().join("data"))];
    let database = support::PostgresDatabase::create();
    if let Some(database) = &database {
        backends.push(Backend::Postgres(database.url.clone()));
    }
    for backend in backends {
        let server = Server::start(&backend, &[]);
        let output = Command::new(env!("CARGO_BIN_EXE_steward"))
            .args([
                "demo",
                "--orders",
                "2",
                "--json",
                "--server",
                &server.base_url,
            ])
            .env("STEWARD_OPERATOR_TOKEN", OPERATOR_TOKEN)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let seeded: Value = serde_json::from_slice(&output.stdout).unwrap();
        let order = seeded["orders"][1].as_str().unwrap();
        let courier = seeded["courier"]["secret"].as_str().unwrap();
        let seen: Value = reqwest::Client::new()
            .get(server.url(&format!("/twins/{order}/ledgers/owner")))
            .header("Authorization", courier)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&String> = seen["entries"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["delivery_address"], "{backend:?}: {seen}");
        assert_eq!(
            seen["entries"]["delivery_address"]["value"]["street"],
            "Main 2"
        );

        // Without the operator token, or with a wrong one, nothing is seeded.
        for token in [None, Some("wrong-token")] {
            let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
            command.args(["demo", "--server", &server.base_url]);
            command.env_remove("STEWARD_OPERATOR_TOKEN");
            if let Some(token) = token {
                command.env("STEWARD_OPERATOR_TOKEN", token);
            }
            let output = command.output().unwrap();
            assert!(!output.status.success(), "{token:?}: {output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let expected = if token.is_some() {
                "401"
            } else {
                "STEWARD_OPERATOR_TOKEN"
            };
            assert!(stderr.contains(expected), "{token:?}: {stderr}");
        }
        let _ = server.terminate();
    }
}
