//! `steward admin create-account` against a database that a running server also uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Backend, Server, OPERATOR_TOKEN};

fn steward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_steward"))
}

#[tokio::test(flavor = "multi_thread")]
async fn create_account_json_prints_one_object_and_the_running_server_sees_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = Server::start(&Backend::Sqlite(data_dir.clone()), &[]);

    let output = steward()
        .args([
            "admin",
            "create-account",
            "--name",
            "Hospital North",
            "--json",
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout}");
    let created: Value = serde_json::from_str(&stdout).unwrap();
    let mut keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["account", "role", "secret", "user"]);
    assert_eq!(created["secret"].as_str().unwrap().len(), 64);

    let account = created["account"].as_str().unwrap();
    let shown: Value = reqwest::Client::new()
        .get(server.url(&format!("/operator/accounts/{account}")))
        .header("Authorization", OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["name"], "Hospital North");
}

#[test]
fn create_account_refuses_an_invalid_name_and_prints_a_summary_for_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = steward()
        .args(["admin", "create-account", "--name", " padded "])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("account name"), "{stderr}");
    let human = steward()
        .args(["admin", "create-account", "--name", "Valid Name"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("secret"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|line| line.starts_with("account"))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_operator_token_is_printed_once_and_works_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite(dir.path().join("data"));
    let server = Server::start_with_operator_token(&backend, &[], None);
    let token = server
        .stdout_lines
        .lock()
        .unwrap()
        .iter()
        .find_map(|line| {
            line.strip_prefix("operator token (shown once, store it now): ")
                .map(str::to_owned)
        })
        .expect("first start prints the generated operator token");
    assert_eq!(token.len(), 64);
    assert!(server.terminate().success());

    let server = Server::start_with_operator_token(&backend, &[], None);
    let printed_again = server
        .stdout_lines
        .lock()
        .unwrap()
        .iter()
        .any(|line| line.contains("operator token"));
    assert!(
        !printed_again,
        "the token is printed only on the first start"
    );
    let http = reqwest::Client::new();
    let listed = http
        .get(server.url("/operator/accounts"))
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "the stored token hash still verifies");
    let refused = http
        .get(server.url("/operator/accounts"))
        .header("Authorization", OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_account_works_against_postgres_while_a_server_runs_on_it() {
    let Some(database) = support::PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL not set");
        return;
    };
    let server = Server::start(&Backend::Postgres(database.url.clone()), &[]);
    let output = steward()
        .args(["admin", "create-account", "--name", "Lab South", "--json"])
        .args(["--database-url", &database.url])
        .env_remove("STEWARD_DATA_DIR")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let account = created["account"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    let http = reqwest::Client::new();
    let me: Value = http
        .get(server.url("/whoami"))
        .header("Authorization", secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"], account);
    let _ = server.terminate();
}
