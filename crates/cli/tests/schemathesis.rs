//! Schema-driven fuzzing: [Schemathesis](https://schemathesis.readthedocs.io) (pinned in
//! `tests/python/schemathesis-requirements.txt`, installed into its own virtualenv under the
//! target directory) reads `GET /openapi.json` from the real `steward serve` binary and sends
//! generated requests, valid and invalid, to every operation of the document, authenticated as a
//! super-admin of an account that holds a twin with a ledger entry, an identity, a sticker, a
//! role and a user (so that generated requests also reach existing resources), and as the
//! operator on the operator routes. It checks that no answer is a 5xx
//! (`not_a_server_error`), that every answer's status code is documented
//! (`status_code_conformance`) and that every answer's body matches the documented schema
//! (`response_schema_conformance`).
//!
//! Not fuzzed, each for a reason:
//! * `GET /events` never ends (an endless `text/event-stream`): every generated request would
//!   wait for the request timeout. `crates/http/src/tests` and `tests/serve.rs` test it.
//! * The stateful phase: its links are inferred from list answers (`GET /operator/accounts`,
//!   `GET /users`), so it feeds the fuzzing account's own ids into `suspend`, `DELETE /users`
//!   and the like; the credential would lock itself out half-way and the rest of the run would
//!   test only 401s, differently on every run. For the same reason values seen in answers are
//!   not reused (`extra-data-sources.responses = false`): existing ids come from dictionaries that
//!   name only resources that may be damaged (a second user and role, and a second account for
//!   the operator routes), never the fuzzing user, its role or its account.
//!
//! Webhook callbacks: every body the fuzzing phase generates for `POST /notifications/webhooks`
//! gets a loopback `callback_url` (a closed port; the server runs with
//! `--webhook-allow-loopback`), so the server never delivers a confirmation outside this
//! machine; the coverage phase sends only boundary values of the schema there (empty and
//! wrongly typed strings), which the server refuses.
//!
//! The run is seeded (`SEED`) and bounded (`MAX_EXAMPLES` per operation and phase); the test
//! prints the Schemathesis version and how many test cases ran. Python 3 with `venv` and a
//! reachable package index are required: a missing interpreter or a failed install fails the
//! test, it never skips. `STEWARD_TEST_PYTHON` names another interpreter than `python3`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Backend, Server, OPERATOR_TOKEN};

/// Seed of the generated data: the same cases on every run.
const SEED: u64 = 20_261_123;

/// Test cases per operation in the fuzzing phase (the coverage phase adds its own, derived from
/// the schemas): about 1.5 minutes on a 2-core machine.
const MAX_EXAMPLES: u32 = 100;

/// The longest the Schemathesis run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(480);

/// Where the generated webhook subscriptions point: a closed loopback port.
const CALLBACK_URL: &str = "http://127.0.0.1:9/schemathesis";

fn requirements_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/schemathesis-requirements.txt")
}

/// The virtualenv, kept under the target directory between runs.
fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyenv-schemathesis")
}

/// Creates the virtualenv and installs the pinned requirements unless they are installed
/// already; returns the `st` executable.
fn ensure_schemathesis() -> PathBuf {
    let python = support::python::virtualenv(&venv_dir(), &requirements_path(), "Schemathesis");
    let st = python.with_file_name("st");
    assert!(st.exists(), "the install should provide {}", st.display());
    st
}

/// A JSON client for setting up the data the fuzzer starts from.
struct Api<'a> {
    server: &'a Server,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(server: &'a Server) -> Self {
        Self {
            server,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
        }
    }

    /// Sends a JSON request and returns the answer's body, failing unless the status is `expected`.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        credential: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        self.runtime.block_on(async {
            let mut request = self
                .client
                .request(method.clone(), self.server.url(path))
                .header("Authorization", credential)
                .timeout(Duration::from_secs(30));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, expected, "{method} {path}: {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    fn post(&self, path: &str, credential: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, credential, Some(body), 201)
    }
}

/// A string field of a JSON answer.
fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("`{pointer}` should be a string in {value}"))
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap()
}

/// The ids the fuzzer may use, and the credential it fuzzes with.
struct Fixture {
    secret: String,
    twin: String,
    ledger: String,
    identity: &'static str,
    entry: &'static str,
    color: &'static str,
    role: String,
    user: String,
    other_account: String,
}

/// Creates the fuzzing account and its data through the API, and a second account for the
/// operator routes to act on.
fn create_fixture(server: &Server) -> Fixture {
    let api = Api::new(server);
    let account = api.post(
        "/operator/accounts",
        OPERATOR_TOKEN,
        json!({ "name": "Schema fuzzing" }),
    );
    let other = api.post(
        "/operator/accounts",
        OPERATOR_TOKEN,
        json!({ "name": "Operator target" }),
    );
    let secret = text(&account, "/secret").to_owned();
    let twin = api.post(
        "/twins",
        &secret,
        json!({ "description": { "kind": "parcel" } }),
    );
    let twin = text(&twin, "/creation_certificate/uuid").to_owned();
    let (identity, entry, color) = ("RFID#fuzz01", "temperature", "red-flag");
    api.post(
        &format!("/twins/{twin}/ledgers/personal"),
        &secret,
        json!({ "entries": { entry: { "value": 21.5, "history": "1D" } } }),
    );
    api.post(
        &format!("/twins/{twin}/identities"),
        &secret,
        json!({ "identities": { identity: {} } }),
    );
    let role = api.post(
        "/roles",
        &secret,
        json!({
            "name": "Fuzzed role",
            "statement": { "effect": "allow", "actions": ["get_twin", "get_twin_ledger_entry"] },
        }),
    );
    let role = text(&role, "/uuid").to_owned();
    let user = api.post(
        "/users",
        &secret,
        json!({ "name": "Fuzzed user", "role": role }),
    );
    let user = text(&user, "/uuid").to_owned();
    api.post(
        &format!("/twins/{twin}/stickers"),
        &secret,
        json!({ "stickers": { color: { "note": "fuzz", "recipients": [user] } } }),
    );
    Fixture {
        ledger: text(&account, "/account").to_owned(),
        other_account: text(&other, "/account").to_owned(),
        secret,
        twin,
        identity,
        entry,
        color,
        role,
        user,
    }
}

/// The Schemathesis configuration: seed, limits, credentials, dictionaries of existing ids.
fn config(fixture: &Fixture) -> String {
    let dictionary = |name: &str, values: &[&str]| {
        let values: Vec<String> = values.iter().map(|value| toml_string(value)).collect();
        format!("[dictionaries.{name}]\nvalues = [{}]\n", values.join(", "))
    };
    let dictionaries = [
        dictionary("twins", &[&fixture.twin]),
        dictionary("ledgers", &["personal", &fixture.ledger]),
        dictionary("identities", &[fixture.identity]),
        dictionary("entries", &[fixture.entry]),
        dictionary("colors", &[fixture.color]),
        // Only the second role and user, never the fuzzing user's: see the module comment.
        dictionary("roles", &[&fixture.role]),
        dictionary("users", &[&fixture.user]),
        // Only the second account, never the fuzzing one: the operator may suspend it.
        dictionary("accounts", &[&fixture.other_account]),
    ]
    .concat();
    format!(
        r#"seed = {SEED}
# One worker: the same cases reach the server in the same order on every run (two are no
# faster on a 2-core machine that also runs the server).
workers = 1
request-timeout = 30

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
response_schema_conformance.enabled = true

[generation]
max-examples = {MAX_EXAMPLES}
# No example database: the same seed gives the same cases whatever earlier runs found.
database = "none"

[cache]
enabled = false

[phases.stateful]
enabled = false

[phases.coverage.extra-data-sources]
responses = false

[phases.fuzzing.extra-data-sources]
responses = false

[auth.openapi.user_credential]
api_key = {secret}

[auth.openapi.operator_token]
api_key = {operator}

{dictionaries}
[parameters]
"path.twin" = {{ dictionary = "twins", probability = 0.5 }}
"path.ledger" = {{ dictionary = "ledgers", probability = 0.5 }}
"path.identity" = {{ dictionary = "identities", probability = 0.5 }}
"path.color" = {{ dictionary = "colors", probability = 0.5 }}
"path.role" = {{ dictionary = "roles", probability = 0.5 }}
"path.user" = {{ dictionary = "users", probability = 0.5 }}
"path.account" = {{ dictionary = "accounts", probability = 0.5 }}
"query.entries" = {{ dictionary = "entries", probability = 0.5 }}
"body.callback_url" = {callback}

"#,
        secret = toml_string(&fixture.secret),
        operator = toml_string(OPERATOR_TOKEN),
        callback = toml_string(CALLBACK_URL),
    )
}

/// Runs `st` with this configuration against the server's document, killing it after
/// `RUN_LIMIT`; returns its exit status and output, and the JSON report.
fn run_schemathesis(st: &Path, dir: &Path, server: &Server, config: &str) -> (Output, Value) {
    let config_path = dir.join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();
    let report_path = dir.join("report.json");
    let stdout_path = dir.join("stdout.txt");
    let stderr_path = dir.join("stderr.txt");
    let mut child = Command::new(st)
        .arg("--config-file")
        .arg(&config_path)
        .arg("run")
        .arg(server.url("/openapi.json"))
        .args([
            "--phases",
            "examples,coverage,fuzzing",
            "--exclude-path",
            "/events",
            "--continue-on-failure",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
        ])
        .arg(&report_path)
        .current_dir(dir)
        // Talk to the local server directly, whatever proxy the environment names.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("SCHEMATHESIS_CONFIG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("the virtualenv's st should start");
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = Output {
        status,
        stdout: std::fs::read(&stdout_path).unwrap(),
        stderr: std::fs::read(&stderr_path).unwrap(),
    };
    let report = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|report| serde_json::from_str(&report).ok())
        .unwrap_or_else(|| {
            panic!(
                "Schemathesis wrote no JSON report ({}):\n--- stdout\n{}\n--- stderr\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            )
        });
    (output, report)
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let st = ensure_schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &Backend::Sqlite(dir.path().join("data")),
        &["--webhook-allow-loopback"],
    );
    let fixture = create_fixture(&server);
    let work = dir.path().join("schemathesis");
    std::fs::create_dir(&work).unwrap();

    let started = Instant::now();
    let (output, report) = run_schemathesis(&st, &work, &server, &config(&fixture));
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let version = report["schemathesis_version"].as_str().unwrap_or("?");
    let cases = report["test_cases"]["generated"].as_u64().unwrap_or(0);
    let operations = &report["operations"];
    eprintln!(
        "schemathesis {version}: {cases} test cases on {} of {} operations (seed {SEED}, \
         {MAX_EXAMPLES} examples per operation) in {elapsed:.1?}",
        operations["tested"], operations["total"],
    );
    eprintln!("--- schemathesis output\n{stdout}");

    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        output.status.success() && failures.is_empty() && errors.is_empty(),
        "Schemathesis found problems ({}, after {elapsed:.1?}):\nfailures: {failures:#?}\n\
         errors: {errors:#?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status,
    );
    assert!(cases > 0, "Schemathesis ran no test case:\n{stdout}");
    assert_eq!(
        operations["tested"], operations["selected"],
        "every selected operation should be tested:\n{stdout}"
    );

    // The fuzzing credential still works: the run did not lock itself out half-way.
    Api::new(&server).call(reqwest::Method::GET, "/whoami", &fixture.secret, None, 200);
}
