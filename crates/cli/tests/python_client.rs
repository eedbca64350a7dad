//! Compatibility with the official Trusted Twin Python client (`trustedtwin`, pinned in
//! `tests/python/requirements.txt`): the client, installed into a virtualenv under the target
//! directory, drives the real `steward serve` binary: accounts, users, roles, the PIN → secret
//! flow and tokens (`tests/python/tt_client_flow.py`), and the shop/courier story: twins and
//! ledgers (`tt_client_objects.py`), identities and resolution (`tt_client_identities.py`),
//! stickers (`tt_client_stickers.py`), history and references (`tt_client_history.py`),
//! webhook subscriptions with a real receiver, retries and `trustedtwin_utils` hash checks
//! (`tt_client_webhooks.py`), and usage, the account log and traces (`tt_client_usage.py`).
//! Every script runs on SQLite and, when `STEWARD_TEST_POSTGRES_URL` is set, on PostgreSQL.
//!
//! Python 3 with `venv` and a reachable package index are required: a missing interpreter or a
//! failed install fails the test, it never skips. `STEWARD_TEST_PYTHON` names another interpreter
//! than `python3`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Backend, Server, OPERATOR_TOKEN};

/// The script and the requirements it runs with.
fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// The virtualenv, kept under the target directory between runs.
fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyenv-ttclient")
}

/// The virtualenv's interpreter, set up once per test process: the tests run in parallel and must
/// not build the same virtualenv at the same time.
fn ensure_virtualenv() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(install_virtualenv_unless_current)
        .clone()
}

/// Creates the virtualenv and installs the pinned client, unless it is current.
fn install_virtualenv_unless_current() -> PathBuf {
    support::python::virtualenv(
        &venv_dir(),
        &python_dir().join("requirements.txt"),
        "the Trusted Twin client",
    )
}

/// Creates an account through the operator API: `{"account", "user", "role", "secret"}`.
fn create_account(server: &Server, name: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(server.url("/operator/accounts"))
            .header("Authorization", OPERATOR_TOKEN)
            .json(&json!({ "name": name }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "operator create account");
        response.json().await.unwrap()
    })
}

/// Runs a client script with these arguments, killing it if it takes longer than `limit`;
/// returns exit status, stdout and stderr.
fn run_client_script(python: &Path, script: &str, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(python)
        .arg(python_dir().join(script))
        .args(args)
        // Talk to the local server directly, whatever proxy the environment names.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the virtualenv's python should start");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).map(|_| text)
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).map(|_| text)
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout_reader.join().unwrap().unwrap(),
        stderr: stderr_reader.join().unwrap().unwrap(),
    }
}

/// Runs a client script and fails the test, with everything it printed, unless it exits
/// successfully after printing `all steps passed`.
fn assert_client_script_passes(python: &Path, script: &str, args: &[&str]) {
    let started = Instant::now();
    let output = run_client_script(python, script, args, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Trusted Twin client flow {script} failed ({}) after {:.1?}:\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status,
        started.elapsed(),
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
    eprintln!("{script} passed in {:.1?}:\n{stdout}", started.elapsed());
}

/// A `"key"` of the operator's create-account answer.
fn field<'a>(created: &'a Value, key: &str) -> &'a str {
    created[key]
        .as_str()
        .unwrap_or_else(|| panic!("the created account should have `{key}`: {created}"))
}

/// Runs `case` on SQLite, and on PostgreSQL when `STEWARD_TEST_POSTGRES_URL` is set (as in
/// CI); without it the PostgreSQL run says it was skipped.
fn on_each_backend(serve_args: &[&str], case: impl Fn(&Server)) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&Backend::Sqlite(dir.path().join("data")), serve_args);
    case(&server);
    drop(server);
    match support::PostgresDatabase::create() {
        Some(database) => {
            let server = Server::start(&Backend::Postgres(database.url.clone()), serve_args);
            case(&server);
            drop(server);
        }
        None => eprintln!("postgres run skipped: STEWARD_TEST_POSTGRES_URL is not set"),
    }
}

/// Runs a script of the shop/courier story with its standard arguments: base URL, the shop's
/// secret and account, the courier's secret, account and user.
fn shop_and_courier_script_passes(script: &str) {
    shop_and_courier_script_passes_with(script, &[]);
}

/// Like [`shop_and_courier_script_passes`], with extra `steward serve` arguments.
fn shop_and_courier_script_passes_with(script: &str, serve_args: &[&str]) {
    let python = ensure_virtualenv();
    on_each_backend(serve_args, |server| {
        let shop = create_account(server, "Shop");
        let courier = create_account(server, "Courier");
        assert_client_script_passes(
            &python,
            script,
            &[
                &server.base_url,
                field(&shop, "secret"),
                field(&shop, "account"),
                field(&courier, "secret"),
                field(&courier, "account"),
                field(&courier, "user"),
            ],
        );
    });
}

#[test]
fn official_python_client_drives_users_roles_secrets_and_tokens() {
    let python = ensure_virtualenv();
    on_each_backend(&[], |server| {
        let created = create_account(server, "Python client");
        assert_client_script_passes(
            &python,
            "tt_client_flow.py",
            &[&server.base_url, field(&created, "secret")],
        );
    });
}

#[test]
fn official_python_client_shares_twins_and_ledger_entries_between_shop_and_courier() {
    shop_and_courier_script_passes("tt_client_objects.py");
}

#[test]
fn official_python_client_attaches_and_resolves_identities() {
    shop_and_courier_script_passes("tt_client_identities.py");
}

#[test]
fn official_python_client_puts_lists_and_removes_stickers() {
    shop_and_courier_script_passes("tt_client_stickers.py");
}

#[test]
fn official_python_client_reads_history_and_references() {
    shop_and_courier_script_passes("tt_client_history.py");
}

#[test]
fn official_python_client_subscribes_a_webhook_and_its_messages_verify() {
    shop_and_courier_script_passes_with("tt_client_webhooks.py", &["--webhook-allow-loopback"]);
}

#[test]
fn official_python_client_reads_usage_the_log_and_traces() {
    shop_and_courier_script_passes("tt_client_usage.py");
}
