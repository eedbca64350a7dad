//! `steward bench` against a real `steward serve`: setup through the API creates what it
//! claims (the reader sees exactly the visible entries), `--json` prints one object with every
//! figure, `--no-setup` reuses the state file, and every scenario runs without errors.
//! Nothing here asserts on time or throughput.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{Backend, Server, OPERATOR_TOKEN};

const SCENARIOS: [&str; 8] = [
    "healthz",
    "read-own",
    "read-foreign",
    "read-value",
    "write-entry",
    "scan-match",
    "resolve",
    "mixed",
];

/// Runs `steward bench`; with `--no-setup` without the operator token (it must not need it).
fn bench(server: &Server, state_file: &Path, extra_args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .arg("bench")
        .args(["--url", &server.base_url, "--state-file"])
        .arg(state_file)
        .args(extra_args);
    if extra_args.contains(&"--no-setup") {
        command.env_remove("STEWARD_OPERATOR_TOKEN");
    } else {
        command.env("STEWARD_OPERATOR_TOKEN", OPERATOR_TOKEN);
    }
    command.output().unwrap()
}

/// Runs a short measured scenario and returns its one JSON object, checked for every field.
fn run_scenario(server: &Server, state_file: &Path, scenario: &str, extra_args: &[&str]) -> Value {
    let mut args = vec![
        "--scenario",
        scenario,
        "--duration",
        "1",
        "--warmup",
        "0",
        "--concurrency",
        "4",
        "--json",
    ];
    args.extend_from_slice(extra_args);
    let output = bench(server, state_file, &args);
    assert!(output.status.success(), "{scenario}: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON line: {stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    for field in [
        "scenario",
        "url",
        "duration_secs",
        "concurrency",
        "requests",
        "requests_per_sec",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "errors",
        "statuses",
    ] {
        assert!(
            !report[field].is_null(),
            "{scenario}: no `{field}` in {report}"
        );
    }
    assert_eq!(report["scenario"], scenario);
    assert_eq!(report["concurrency"], 4);
    assert!(report["requests"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["errors"], 0, "{scenario}: {report}");
    let statuses = report["statuses"].as_object().unwrap();
    assert_eq!(
        statuses.keys().collect::<Vec<_>>(),
        ["200"],
        "{scenario}: {report}"
    );
    assert_eq!(statuses["200"], report["requests"], "{report}");
    report
}

fn backends(dir: &Path) -> (Vec<Backend>, Option<support::PostgresDatabase>) {
    let mut backends = vec![Backend::Sqlite(dir.join("data"))];
    let database = support::PostgresDatabase::create();
    if let Some(database) = &database {
        backends.push(Backend::Postgres(database.url.clone()));
    }
    (backends, database)
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_sets_up_the_story_and_measures_read_foreign_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (backends, _database) = backends(dir.path());
    for backend in backends {
        let server = Server::start(&backend, &[]);
        let state_file = dir.path().join("state.json");
        let report = run_scenario(
            &server,
            &state_file,
            "read-foreign",
            &["--twins", "20", "--entries", "20", "--visible", "5"],
        );
        assert_eq!(report["url"], server.base_url.as_str());

        // The state file holds secrets: only its owner may read it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&state_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{backend:?}");
        }
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
        let twins = state["twins"].as_array().unwrap();
        assert_eq!(twins.len(), 20);

        // The reader really sees 5 of the owner's 20 entries, and the owner all 20.
        let owner_account = state["owner"]["account"].as_str().unwrap();
        let reader = state["readers"][0]["secret"].as_str().unwrap();
        let owner = state["owner"]["secret"].as_str().unwrap();
        let twin = twins[7].as_str().unwrap();
        let http = reqwest::Client::new();
        let read = |path: String, secret: &str| {
            http.get(server.url(&path))
                .header("Authorization", secret)
                .send()
        };
        let seen: Value = read(format!("/twins/{twin}/ledgers/{owner_account}"), reader)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let seen = seen["entries"].as_object().unwrap();
        assert_eq!(seen.len(), 5, "{backend:?}: {seen:?}");
        let own: Value = read(format!("/twins/{twin}/ledgers/personal"), owner)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(own["entries"].as_object().unwrap().len(), 20, "{own}");
        let _ = server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_runs_on_a_reused_setup_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (backends, _database) = backends(dir.path());
    for backend in backends {
        let server = Server::start(&backend, &[]);
        let state_file = dir.path().join("state.json");
        let output = bench(
            &server,
            &state_file,
            &["--setup-only", "--twins", "20", "--accounts", "3"],
        );
        assert!(output.status.success(), "{output:?}");
        assert!(output.stdout.is_empty(), "setup prints on stderr only");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("setup: twins 20/20"), "{stderr}");
        let before = std::fs::read_to_string(&state_file).unwrap();

        for scenario in SCENARIOS {
            let report = run_scenario(&server, &state_file, scenario, &["--no-setup"]);
            assert!(report["requests"].as_u64().unwrap() > 0, "{backend:?}");
        }
        assert_eq!(
            std::fs::read_to_string(&state_file).unwrap(),
            before,
            "--no-setup leaves the state file alone"
        );
        let _ = server.terminate();
    }
}

#[test]
fn human_report_names_every_figure_and_setup_needs_the_operator_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&Backend::Sqlite(dir.path().join("data")), &[]);
    let state_file = dir.path().join("state.json");
    let output = bench(
        &server,
        &state_file,
        &[
            "--scenario",
            "healthz",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--concurrency",
            "2",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "scenario:      healthz",
        "requests/s:",
        "p50",
        "p99.9",
        "errors:        0",
        "statuses:      200:",
    ] {
        assert!(text.contains(expected), "missing {expected}: {text}");
    }
    assert!(!state_file.exists(), "healthz needs no setup");

    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "bench",
            "--scenario",
            "read-foreign",
            "--url",
            &server.base_url,
        ])
        .arg("--state-file")
        .arg(&state_file)
        .env_remove("STEWARD_OPERATOR_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("STEWARD_OPERATOR_TOKEN"), "{stderr}");

    let output = bench(&server, &state_file, &["--no-setup", "--duration", "1"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("state file"), "{stderr}");
    let _ = server.terminate();
}

/// `--seed-data-dir` / `--seed-database-url` write the same data set through the storage
/// layer; a server started on it then serves it to `--no-setup` runs.
#[tokio::test(flavor = "multi_thread")]
async fn seeded_data_is_served_like_the_api_setup() {
    let dir = tempfile::tempdir().unwrap();
    let (backends, _database) = backends(dir.path());
    for backend in backends {
        let state_file = dir.path().join("seeded.json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        command
            .args(["bench", "--twins", "20", "--state-file"])
            .arg(&state_file)
            .env_remove("STEWARD_OPERATOR_TOKEN")
            .env_remove("STEWARD_DATABASE_URL");
        match &backend {
            Backend::Sqlite(data_dir) => command.arg("--seed-data-dir").arg(data_dir),
            Backend::Postgres(url) => command.args(["--seed-database-url", url]),
        };
        let output = command.output().unwrap();
        assert!(output.status.success(), "{backend:?}: {output:?}");
        assert!(output.stdout.is_empty(), "seeding prints on stderr only");

        let server = Server::start(&backend, &[]);
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
        let owner_account = state["owner"]["account"].as_str().unwrap();
        let reader = state["readers"][0]["secret"].as_str().unwrap();
        let twin = state["twins"][3].as_str().unwrap();
        let seen: Value = reqwest::Client::new()
            .get(server.url(&format!("/twins/{twin}/ledgers/{owner_account}")))
            .header("Authorization", reader)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            seen["entries"].as_object().unwrap().len(),
            5,
            "{backend:?}: {seen}"
        );
        // The state file names the default URL; --url points the run at this server.
        for scenario in ["read-foreign", "resolve", "write-entry"] {
            run_scenario(&server, &state_file, scenario, &["--no-setup"]);
        }
        let _ = server.terminate();
    }
}
