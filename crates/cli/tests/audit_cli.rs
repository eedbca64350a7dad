//! `steward audit verify` and `steward audit export` against a log written by the real server,
//! on SQLite and (when `STEWARD_TEST_POSTGRES_URL` is set) PostgreSQL: an untouched log
//! verifies and exports with proofs that check against its checkpoint; a record edited in the
//! database, rewritten together with its stored hashes, or deleted is found and named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use steward_audit::merkle::{self, Hash, MemoryLog};
use steward_audit::{Checkpoint, NoteSigner, NoteVerifier};
use support::{Backend, PostgresDatabase, Server, OPERATOR_TOKEN};

/// Raw SQL access to the server's database, to tamper with it.
enum Database {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    async fn open(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite(dir) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(dir.join("steward.db"))
                    .create_if_missing(false);
                Self::Sqlite(sqlx::SqlitePool::connect_with(options).await.unwrap())
            }
            Backend::Postgres(url) => Self::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }

    async fn texts(&self) -> Vec<(u64, String)> {
        let sql = "SELECT seq, text FROM audit_records ORDER BY seq";
        let rows: Vec<(i64, String)> = match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        };
        rows.into_iter()
            .map(|(seq, text)| (u64::try_from(seq).unwrap(), text))
            .collect()
    }

    async fn tree_size(&self) -> u64 {
        let sql = "SELECT size FROM audit_tree";
        let size: i64 = match self {
            Self::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        };
        u64::try_from(size).unwrap()
    }

    async fn checkpoint_sizes(&self) -> Vec<u64> {
        let sql = "SELECT size FROM audit_checkpoints ORDER BY size";
        let sizes: Vec<i64> = match self {
            Self::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        };
        sizes
            .into_iter()
            .map(|size| u64::try_from(size).unwrap())
            .collect()
    }

    async fn set_text(&self, seq: u64, text: &str) {
        let seq = i64::try_from(seq).unwrap();
        let done = match self {
            Self::Sqlite(pool) => sqlx::query("UPDATE audit_records SET text = ? WHERE seq = ?")
                .bind(text)
                .bind(seq)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            Self::Postgres(pool) => {
                sqlx::query("UPDATE audit_records SET text = $1 WHERE seq = $2")
                    .bind(text)
                    .bind(seq)
                    .execute(pool)
                    .await
                    .unwrap()
                    .rows_affected()
            }
        };
        assert_eq!(done, 1);
    }

    async fn set_hash(&self, index: u64, hash: &Hash) {
        let index = i64::try_from(index).unwrap();
        let done = match self {
            Self::Sqlite(pool) => sqlx::query("UPDATE audit_hashes SET hash = ? WHERE idx = ?")
                .bind(hash.as_slice())
                .bind(index)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            Self::Postgres(pool) => sqlx::query("UPDATE audit_hashes SET hash = $1 WHERE idx = $2")
                .bind(hash.as_slice())
                .bind(index)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
        };
        assert_eq!(done, 1);
    }

    /// Stores every hash of `log` (as a sealer of those records would have).
    async fn rewrite_hashes(&self, log: &MemoryLog) {
        for (index, hash) in log.stored_hashes().iter().enumerate() {
            self.set_hash(index as u64, hash).await;
        }
    }

    /// Runs one statement without parameters.
    async fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
            Self::Postgres(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }

    async fn delete_record(&self, seq: u64) {
        let seq = i64::try_from(seq).unwrap();
        let done = match self {
            Self::Sqlite(pool) => sqlx::query("DELETE FROM audit_records WHERE seq = ?")
                .bind(seq)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
            Self::Postgres(pool) => sqlx::query("DELETE FROM audit_records WHERE seq = $1")
                .bind(seq)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected(),
        };
        assert_eq!(done, 1);
    }
}

/// The outcome of one `steward` run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    fn json(&self) -> Value {
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "one JSON line: {}",
            self.stdout
        );
        serde_json::from_str(&self.stdout).unwrap()
    }
}

/// How the CLI finds the database and the key.
struct Target {
    backend: Backend,
    key_file: PathBuf,
    /// A directory without config file or data, to run in.
    work_dir: PathBuf,
}

impl Target {
    fn steward(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        command
            .args(args)
            .current_dir(&self.work_dir)
            .env_remove("STEWARD_DATABASE_URL")
            .env_remove("STEWARD_DATA_DIR")
            .env_remove("STEWARD_CONFIG")
            .env_remove("STEWARD_AUDIT_KEY_FILE");
        match &self.backend {
            Backend::Sqlite(dir) => command.arg("--data-dir").arg(dir),
            Backend::Postgres(url) => command.args(["--database-url", url]),
        };
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// `steward audit verify` with the key file (the default one on SQLite).
    fn verify(&self, json: bool) -> Run {
        let key_file = self.key_file.to_str().unwrap();
        let mut args = vec!["audit", "verify"];
        if matches!(self.backend, Backend::Postgres(_)) {
            args.extend(["--key-file", key_file]);
        }
        if json {
            args.push("--json");
        }
        self.steward(&args)
    }
}

async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    credential: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, server.url(path))
        .header("Authorization", credential);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Runs a server on `backend`, makes a few audited calls and stops it (sealing the log);
/// returns the verifier key the server announced.
async fn write_some_audit_records(backend: &Backend, key_file: &Path) -> String {
    let server = Server::start(
        backend,
        &[
            "--audit-key-file",
            key_file.to_str().unwrap(),
            "--audit-seal-interval-milliseconds",
            "100",
            "--audit-flush-milliseconds",
            "50",
        ],
    );
    let created = call(
        &server,
        reqwest::Method::POST,
        "/operator/accounts",
        OPERATOR_TOKEN,
        Some(json!({"name": "Shop"})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let secret = created.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    for round in 0..3 {
        let twin = call(
            &server,
            reqwest::Method::POST,
            "/twins",
            &secret,
            Some(json!({"description": {"round": round}})),
        )
        .await;
        assert_eq!(twin.status(), 201);
        let twin: Value = twin.json().await.unwrap();
        let id = twin["creation_certificate"]["uuid"].as_str().unwrap();
        let read = call(
            &server,
            reqwest::Method::GET,
            &format!("/twins/{id}"),
            &secret,
            None,
        )
        .await;
        assert_eq!(read.status(), 200);
        let whoami = call(&server, reqwest::Method::GET, "/whoami", &secret, None).await;
        assert_eq!(whoami.status(), 200);
        // Let a seal happen between rounds: several checkpoints.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let checkpoint = call(
        &server,
        reqwest::Method::GET,
        "/audit/checkpoint",
        &secret,
        None,
    )
    .await;
    assert_eq!(checkpoint.status(), 200);
    let verifier_key = checkpoint
        .headers()
        .get("x-steward-audit-key")
        .expect("the checkpoint names its key")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(server.terminate().success());
    verifier_key
}

/// A copy of `text` with one character inside the `operation` string value changed.
fn flip_one_character(text: &str) -> String {
    let marker = "\"operation\":\"";
    let at = text.find(marker).unwrap() + marker.len();
    let old = text.as_bytes()[at];
    assert!(old.is_ascii_alphanumeric() || old == b'_' || old == b'/');
    let new = if old == b'x' { "y" } else { "x" };
    let mut changed = text.to_owned();
    changed.replace_range(at..=at, new);
    changed
}

/// Checks every line of an export against its checkpoint; returns the number of records.
fn check_export(lines: &str, verifier_key: &str, records: &[(u64, String)]) -> usize {
    let mut lines = lines.lines();
    let first: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(first["type"], "checkpoint");
    let verifier = NoteVerifier::parse(verifier_key).unwrap();
    let checkpoint = Checkpoint::open(
        first["note"].as_str().unwrap().as_bytes(),
        verifier.name(),
        &verifier,
    )
    .unwrap();
    assert_eq!(first["size"], checkpoint.size);
    let mut count = 0;
    for (line, (seq, text)) in lines.zip(records) {
        let entry: Value = serde_json::from_str(line).unwrap();
        assert_eq!(entry["type"], "record");
        assert_eq!(entry["seq"], *seq);
        // The record is the exact leaf text, so its hash is the exported leaf hash.
        assert!(line.contains(&format!("\"record\":{text},")), "{line}");
        assert_eq!(entry["record"].to_string(), *text);
        let leaf = merkle::leaf_hash(text.as_bytes());
        assert_eq!(entry["leaf_hash"], BASE64.encode(leaf));
        assert_eq!(entry["size"], checkpoint.size, "every record is sealed");
        let proof: Vec<Hash> = entry["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| {
                BASE64
                    .decode(hash.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        merkle::check_record(&proof, checkpoint.size, &checkpoint.root_hash, *seq, &leaf)
            .unwrap_or_else(|error| panic!("proof of record {seq}: {error}"));
        count += 1;
    }
    count
}

/// A log written by a real server on `backend`: the directory to keep alive, how to run the
/// CLI on it, raw access to its database, and the verifier key the server announced.
async fn written_log(backend: &Backend) -> (tempfile::TempDir, Target, Database, String) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = match backend {
        Backend::Sqlite(data_dir) => data_dir.join("audit-signing.key"),
        Backend::Postgres(_) => dir.path().join("audit-signing.key"),
    };
    let work_dir = dir.path().join("work");
    std::fs::create_dir_all(&work_dir).unwrap();
    let verifier_key = write_some_audit_records(backend, &key_file).await;
    let target = Target {
        backend: backend.clone(),
        key_file,
        work_dir,
    };
    let database = Database::open(backend).await;
    (dir, target, database, verifier_key)
}

async fn audit_log_tampering_is_found(backend: Backend) {
    let (_dir, target, database, verifier_key) = written_log(&backend).await;
    let records = database.texts().await;
    let count = records.len() as u64;
    assert!(count >= 10, "every call is audited: {count} records");
    assert_eq!(database.tree_size().await, count, "all sealed at shutdown");
    let checkpoints = database.checkpoint_sizes().await;
    assert_eq!(checkpoints.last(), Some(&count));

    // The untouched log verifies, with the key file and with the announced public key.
    let run = target.verify(false);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        run.stdout.contains(&format!("{count} records"))
            && run
                .stdout
                .contains(&format!("{} checkpoints", checkpoints.len()))
            && run.stdout.contains("(0 not sealed yet)"),
        "{}",
        run.stdout
    );
    let run = target.verify(true);
    assert_eq!(run.code, 0, "{}", run.output());
    let summary = run.json();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["records"], count);
    assert_eq!(summary["checkpoints"], checkpoints.len());
    assert_eq!(summary["sealed"], count);
    assert_eq!(summary["first_bad_record"], Value::Null);
    assert_eq!(summary["error"], Value::Null);
    let run = target.steward(&["audit", "verify", "--verifier-key", &verifier_key]);
    assert_eq!(run.code, 0, "{}", run.output());

    // Another key of the same log name does not open the checkpoints.
    let origin = verifier_key.split('+').next().unwrap();
    let other_key = NoteSigner::generate(origin)
        .unwrap()
        .verifier()
        .verifier_key();
    let run = target.steward(&["audit", "verify", "--json", "--verifier-key", &other_key]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert_eq!(run.json()["bad_checkpoint"], checkpoints[0]);
    // No key at all: a clear refusal.
    let run = target.steward(&["audit", "verify", "--key-file", "no-such.key"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(run
        .stderr
        .contains("no key to check audit checkpoints with"));

    // The export of the untouched log: every proof checks against the checkpoint.
    let run = target.steward(&["audit", "export"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(
        check_export(&run.stdout, &verifier_key, &records),
        records.len()
    );
    assert_eq!(run.stdout.lines().count(), records.len() + 1);
    let exported = target.work_dir.join("audit.jsonl");
    let run = target.steward(&["audit", "export", "--output", exported.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.output());
    let written = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        check_export(&written, &verifier_key, &records),
        records.len()
    );

    // One character of one record changed: that record is named.
    let victim = count / 2;
    let original = records[victim as usize].1.clone();
    let changed = flip_one_character(&original);
    serde_json::from_str::<Value>(&changed).unwrap();
    database.set_text(victim, &changed).await;
    let run = target.verify(false);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.output()
            .contains(&format!("record {victim} does not match")),
        "{}",
        run.output()
    );
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    let report = run.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_record"], victim);
    assert!(report["error"]
        .as_str()
        .unwrap()
        .contains(&format!("record {victim}")));
    // The export refuses to prove a log that does not match its checkpoint.
    let run = target.steward(&["audit", "export"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(run.stdout.is_empty());

    // Its stored hashes rewritten to match: the checkpoints still catch it.
    let mut texts: Vec<String> = records.iter().map(|(_, text)| text.clone()).collect();
    texts[victim as usize] = changed.clone();
    database
        .rewrite_hashes(&MemoryLog::from_records(&texts))
        .await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    let report = run.json();
    let failing = *checkpoints.iter().find(|size| **size > victim).unwrap();
    let previous = checkpoints
        .iter()
        .copied()
        .rfind(|size| *size <= victim)
        .unwrap_or(0);
    assert_eq!(report["bad_checkpoint"], failing, "{report}");
    assert_eq!(
        report["bad_records"],
        json!({"first": previous, "last": failing - 1})
    );
    assert_eq!(report["first_bad_record"], Value::Null);
    let run = target.verify(false);
    assert!(
        run.stderr
            .contains(&format!("one of records {previous} to {}", failing - 1)),
        "{}",
        run.output()
    );

    // Only the leaf hash rewritten, not the subtree hashes above it: narrowed down further.
    let original_log = MemoryLog::from_records(records.iter().map(|(_, text)| text));
    database.rewrite_hashes(&original_log).await;
    database
        .set_hash(
            merkle::stored_hash_index(0, victim),
            &merkle::leaf_hash(changed.as_bytes()),
        )
        .await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    let report = run.json();
    let first = report["bad_records"]["first"].as_u64().unwrap();
    let last = report["bad_records"]["last"].as_u64().unwrap();
    assert!(first <= victim && victim <= last, "{report}");

    // Everything restored: the log verifies again.
    database
        .set_hash(
            merkle::stored_hash_index(0, victim),
            &merkle::leaf_hash(original.as_bytes()),
        )
        .await;
    database.set_text(victim, &original).await;
    let run = target.verify(false);
    assert_eq!(run.code, 0, "{}", run.output());

    // Two records swapped: the first of them is named.
    let (a, b) = (1_u64, 2_u64);
    database.set_text(a, &records[b as usize].1).await;
    database.set_text(b, &records[a as usize].1).await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    assert_eq!(run.json()["first_bad_record"], a);
    database.set_text(a, &records[a as usize].1).await;
    database.set_text(b, &records[b as usize].1).await;
    assert_eq!(target.verify(false).code, 0);

    // The last sealed record deleted: it is named as missing.
    let last = count - 1;
    database.delete_record(last).await;
    let run = target.verify(false);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.output().contains(&format!("record {last} is missing")),
        "{}",
        run.output()
    );
    let run = target.verify(true);
    assert_eq!(run.json()["first_bad_record"], last);

    // ... and hidden: counter, sealed size and hashes moved back. The checkpoint still counts it.
    database
        .execute(&format!("UPDATE audit_counter SET next_seq = {last}"))
        .await;
    database
        .execute(&format!("UPDATE audit_tree SET size = {last}"))
        .await;
    database
        .execute(&format!(
            "DELETE FROM audit_hashes WHERE idx >= {}",
            merkle::stored_hash_count(last)
        ))
        .await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    let report = run.json();
    assert_eq!(report["bad_checkpoint"], count, "{report}");
    assert_eq!(report["first_bad_record"], last, "{report}");
    assert!(report["error"]
        .as_str()
        .unwrap()
        .contains(&format!("record {last} is missing")));
    database.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_audit_log_tampering_is_found() {
    let dir = tempfile::tempdir().unwrap();
    audit_log_tampering_is_found(Backend::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_audit_log_tampering_is_found() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    audit_log_tampering_is_found(Backend::Postgres(database.url.clone())).await;
}

#[test]
fn verify_refuses_a_directory_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["audit", "verify", "--verifier-key", "x+00000000+AA=="])
        .arg("--data-dir")
        .arg(&empty)
        .current_dir(dir.path())
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_CONFIG")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("key"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["audit", "export"])
        .arg("--data-dir")
        .arg(&empty)
        .current_dir(dir.path())
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_CONFIG")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no Steward database"), "{stderr}");
    assert!(!empty.exists(), "nothing created");
}

#[tokio::test(flavor = "multi_thread")]
async fn records_not_sealed_yet_verify_and_export_without_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite(dir.path().join("data"));
    let server = Server::start(
        &backend,
        &[
            "--audit-seal-interval-milliseconds",
            "600000",
            "--audit-flush-milliseconds",
            "20",
        ],
    );
    let created = call(
        &server,
        reqwest::Method::POST,
        "/operator/accounts",
        OPERATOR_TOKEN,
        Some(json!({"name": "Shop"})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let secret = created.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let whoami = call(&server, reqwest::Method::GET, "/whoami", &secret, None).await;
    assert_eq!(whoami.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // A crash: what was written stays unsealed.
    server.kill_hard();

    let work_dir = dir.path().join("work");
    std::fs::create_dir_all(&work_dir).unwrap();
    let target = Target {
        key_file: dir.path().join("data").join("audit-signing.key"),
        backend,
        work_dir,
    };
    let run = target.verify(true);
    assert_eq!(run.code, 0, "{}", run.output());
    let summary = run.json();
    let records = summary["records"].as_u64().unwrap();
    assert!(records >= 2, "{summary}");
    assert_eq!(summary["checkpoints"], 0);
    assert_eq!(summary["sealed"], 0);
    let run = target.verify(false);
    assert!(
        run.stdout
            .contains(&format!("no checkpoint yet ({records} not sealed yet)")),
        "{}",
        run.stdout
    );

    let run = target.steward(&["audit", "export"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, records, "no checkpoint line");
    for (seq, line) in lines.iter().enumerate() {
        assert_eq!(line["type"], "record");
        assert_eq!(line["seq"], seq);
        assert_eq!(line["proof"], Value::Null);
        assert_eq!(line["size"], Value::Null);
        let text = line["record"].to_string();
        assert_eq!(
            line["leaf_hash"],
            BASE64.encode(merkle::leaf_hash(text.as_bytes()))
        );
    }
}

/// Records deleted by retention leave their stored hashes and a prune record listing them: the
/// log still verifies against every checkpoint and exports with proofs. A record deleted
/// outside retention is still named, and so is a prune record edited to cover it.
async fn retention_keeps_the_log_verifiable(backend: Backend) {
    let (_dir, target, database, verifier_key) = written_log(&backend).await;
    let key_file = target.key_file.clone();
    let before = database.texts().await;
    let shop: steward_domain::AccountId = before
        .iter()
        .find_map(|(_, text)| {
            let record: Value = serde_json::from_str(text).unwrap();
            record["owner"].as_str().map(|owner| owner.parse().unwrap())
        })
        .expect("the shop's records");

    // Two days later, with the shop keeping one day and everybody else forever.
    let config = steward_server::Config {
        data_dir: match &backend {
            Backend::Sqlite(dir) => dir.clone(),
            Backend::Postgres(_) => PathBuf::from("unused"),
        },
        database_url: match &backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(url) => Some(url.clone()),
        },
        ..steward_server::Config::default()
    };
    let store = steward_server::open_store(&config).await.unwrap();
    let clock = std::sync::Arc::new(steward_domain::ManualClock::new(
        steward_domain::Timestamp::from_millis(0),
    ));
    let key = std::fs::read_to_string(&key_file).unwrap();
    let settings = steward_core::ServiceSettings {
        audit_signer: Some(steward_core::audit::seal::AuditSigner::parse(&key).unwrap()),
        ..Default::default()
    };
    let steward = steward_core::Steward::start(store.clone(), clock.clone(), settings)
        .await
        .unwrap();
    steward.set_audit_retention(shop, Some(1)).await.unwrap();
    let newest = before
        .iter()
        .map(|(_, text)| {
            serde_json::from_str::<Value>(text).unwrap()["ts"]
                .as_f64()
                .unwrap()
        })
        .fold(0.0, f64::max);
    // Timestamps are Unix seconds with milliseconds.
    let newest = (newest * 1_000.0).round() as i64;
    clock.set(steward_domain::Timestamp::from_millis(
        newest + 2 * 86_400_000,
    ));
    let pruned = steward.prune_audit().await.unwrap();
    assert!(
        pruned > 0 && pruned < before.len() as u64,
        "{pruned} of {}",
        before.len()
    );
    assert!(
        steward.seal_audit().await.unwrap() > 0,
        "the prune record is sealed"
    );
    store.close().await;

    let after = database.texts().await;
    assert_eq!(after.len() as u64, before.len() as u64 - pruned + 1);
    let (prune_seq, prune_text) = after.last().unwrap().clone();
    let prune: Value = serde_json::from_str(&prune_text).unwrap();
    assert_eq!(prune["operation"], "prune_audit_records");
    assert!(after
        .iter()
        .all(|(_, text)| !text.contains(&format!("\"owner\":\"{shop}\""))));

    let run = target.verify(true);
    assert_eq!(run.code, 0, "{}", run.output());
    let export = target.steward(&["audit", "export"]);
    assert_eq!(export.code, 0, "{}", export.output());
    assert_eq!(
        check_export(&export.stdout, &verifier_key, &after),
        after.len()
    );

    // A record deleted outside retention is named.
    let (victim, victim_text) = after[0].clone();
    database.delete_record(victim).await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    assert_eq!(run.json()["first_bad_record"], victim);
    assert!(run.json()["error"]
        .as_str()
        .unwrap()
        .contains("no retention pruning lists it"));
    // ... and so is the prune record when it is edited to list the victim.
    let mut forged: Value = serde_json::from_str(&prune_text).unwrap();
    forged["pruned"]
        .as_array_mut()
        .unwrap()
        .push(json!([victim, victim]));
    database.set_text(prune_seq, &forged.to_string()).await;
    let run = target.verify(true);
    assert_eq!(run.code, 1, "{}", run.output());
    assert_eq!(
        run.json()["first_bad_record"],
        prune_seq,
        "{}",
        run.output()
    );
    database.set_text(prune_seq, &prune_text).await;
    database
        .execute(&format!(
            "INSERT INTO audit_records (seq, ts, operation, outcome, text) VALUES ({victim}, 0, \
             'x', 'x', '{}')",
            victim_text.replace('\'', "''")
        ))
        .await;
    assert_eq!(target.verify(false).code, 0);
    database.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_retention_keeps_the_log_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    retention_keeps_the_log_verifiable(Backend::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_retention_keeps_the_log_verifiable() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    retention_keeps_the_log_verifiable(Backend::Postgres(database.url.clone())).await;
}

/// A node whose key did not sign the log's latest checkpoint (its `audit_key_file` is missing,
/// so it would generate a new key) refuses to start instead of signing checkpoints nobody can
/// verify against the log's key; with the right key it starts.
async fn a_node_with_another_audit_key_refuses_to_start(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("audit-signing.key");
    write_some_audit_records(&backend, &key_file).await;
    let other_key = dir.path().join("other-node").join("audit-signing.key");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--audit-key-file")
        .arg(&other_key)
        .env("STEWARD_OPERATOR_TOKEN", OPERATOR_TOKEN)
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_CONFIG");
    match &backend {
        Backend::Sqlite(data_dir) => command.arg("--data-dir").arg(data_dir),
        Backend::Postgres(url) => command.args(["--database-url", url]),
    };
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did not sign this database's latest audit checkpoint"),
        "{stderr}"
    );
    // The log's own key still works.
    let server = Server::start(&backend, &["--audit-key-file", key_file.to_str().unwrap()]);
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_a_node_with_another_audit_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    a_node_with_another_audit_key_refuses_to_start(Backend::Sqlite(dir.path().join("data"))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_node_with_another_audit_key_refuses_to_start() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL is not set");
        return;
    };
    a_node_with_another_audit_key_refuses_to_start(Backend::Postgres(database.url.clone())).await;
}
