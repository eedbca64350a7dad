//! Crash safety (issue 9): concurrent ledger writers against the real `steward serve`, killed
//! with SIGKILL at pseudo-random moments and restarted on the same data, on SQLite and (when
//! `STEWARD_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! Every writer `w` of round `r` owns one entry `r{r}_w{w}` (two writers share each ledger) and
//! writes to it one value after another, `seq` 0 (the entry's creation), 1, 2, …, each value
//! complete and unique (writer, round, seq, a check word and padding). A writer sends its
//! next write only after the previous one was answered, so at any moment at most one of its
//! writes is in flight: after a crash the writes stored for it must be exactly the ones
//! acknowledged, or those plus the single one in flight. Every write carries the id
//! `crash-r{r}-w{w}-s{seq}` as `transaction` and as `X-Request-Id`.
//!
//! After every restart, for every writer of every round so far:
//!
//! * **history** (`entry_history`, read with SQL: every recorded change, even two within one
//!   millisecond): the set of seqs is the acknowledged ones, or those plus the one in flight;
//!   every value is byte-for-byte a value that writer sent. A lost acknowledged write is a seq
//!   missing here; a half-write is a value that is not exactly one that was sent, or a seq
//!   never acknowledged and not in flight;
//! * **the ledger** (`GET …/ledgers/personal`): the entry's value is the one of the newest
//!   stored seq (the ledger JSON and its history agree, and the value is at least the last
//!   acknowledged one); the history API's newest record is that value too;
//! * **remembered transactions** (`ledger_transactions`) and **audit records** of the writes
//!   (`audit_records`, stored in the write's transaction; matched by request id): exactly the
//!   same seqs as the history, so neither can exist without its write nor the reverse.
//!
//! Between a kill and the restart `steward audit verify` checks the crashed log. After the last
//! round every stored write whose value the entry's publish rule sends (`seq % 2 == 0`) must
//! reach the test's HTTP receiver, and nothing else may: no message for a write that was not
//! stored. Finally the server stops and the audit log verifies once more.
//!
//! Rounds: `STEWARD_CRASH_ROUNDS` (default 5 per backend); the full run in docs/storage.md uses
//! 20. `STEWARD_CRASH_SEED` changes the kill moments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Backend, PostgresDatabase, Server, OPERATOR_TOKEN};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;

/// Concurrent writers per round.
const WRITERS: u64 = 8;
/// Twins the writers share (writer `w` writes on twin `w % TWINS`).
const TWINS: u64 = 4;
/// Writes a writer makes in one round at most (history keeps the newest 1000 per entry).
const MAX_WRITES_PER_ROUND: u64 = 400;
/// A write is published to the writer's topic when `seq % PUBLISH_EVERY == 0`: a subscription
/// is sent at most a few messages a second (one per dispatcher tick), so not every write can be.
const PUBLISH_EVERY: u64 = 2;

fn server_args() -> Vec<&'static str> {
    vec![
        "--webhook-allow-loopback",
        "--webhook-lease-seconds",
        "10",
        "--audit-seal-interval-milliseconds",
        "100",
        "--audit-flush-milliseconds",
        "50",
    ]
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// splitmix64: the deterministic source of kill moments and check words.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn seed() -> u64 {
    std::env::var("STEWARD_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed)
}

fn rounds() -> u64 {
    std::env::var("STEWARD_CRASH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(5)
}

/// Milliseconds from the first acknowledged write to the kill of `round`: 100–700.
fn kill_delay(round: u64) -> u64 {
    100 + mix(seed() ^ mix(round)) % 601
}

fn entry_name(round: u64, writer: u64) -> String {
    format!("r{round}_w{writer}")
}

fn topic(round: u64, writer: u64) -> String {
    format!("crash-r{round}-w{writer}")
}

fn write_id(round: u64, writer: u64, seq: u64) -> String {
    format!("crash-r{round}-w{writer}-s{seq}")
}

/// `(round, writer, seq)` of a write id.
fn parse_write_id(id: &str) -> Option<(u64, u64, u64)> {
    let rest = id.strip_prefix("crash-r")?;
    let (round, rest) = rest.split_once("-w")?;
    let (writer, seq) = rest.split_once("-s")?;
    Some((round.parse().ok()?, writer.parse().ok()?, seq.parse().ok()?))
}

/// The one value writer `writer` of `round` sends as its `seq`th write.
fn value(round: u64, writer: u64, seq: u64) -> Value {
    let check = mix((round << 40) ^ (writer << 32) ^ seq);
    let pad_len = 40 + usize::try_from(check % 120).unwrap();
    json!({
        "writer": writer,
        "round": round,
        "seq": seq,
        "check": format!("{check:016x}"),
        "pad": "p".repeat(pad_len),
    })
}

/// `(round, writer, seq)` of a value if it is exactly one some writer sent.
fn identify(candidate: &Value) -> Option<(u64, u64, u64)> {
    let round = candidate["round"].as_u64()?;
    let writer = candidate["writer"].as_u64()?;
    let seq = candidate["seq"].as_u64()?;
    (*candidate == value(round, writer, seq)).then_some((round, writer, seq))
}

/// What one writer of one round sent and had acknowledged.
#[derive(Debug, Default, Clone)]
struct WriterLog {
    /// Seqs answered with 2xx: always 0..=n (the writer stops at its first unanswered write).
    acked: BTreeSet<u64>,
    /// A write sent but never answered (the server died first).
    in_flight: Option<u64>,
    /// Writes answered 503 (another write changed the ledger meanwhile) and sent again.
    retries: u64,
}

/// Everything the test knows about the data.
struct Scenario {
    backend: Backend,
    account: String,
    secret: String,
    twins: Vec<String>,
    /// Keyed by (round, writer).
    logs: BTreeMap<(u64, u64), WriterLog>,
    /// Webhook bodies received.
    received: Arc<Mutex<Vec<String>>>,
    callback: String,
}

/// A minimal HTTP receiver that answers 200 to every POST and records the bodies.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
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
    (format!("http://127.0.0.1:{port}/hook"), received)
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    credential: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http
        .request(method, url)
        .header("Authorization", credential);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Starts the server and waits until `/readyz` answers 200.
async fn start(backend: &Backend) -> Server {
    let backend = backend.clone();
    let server = tokio::task::spawn_blocking(move || Server::start(&backend, &server_args()))
        .await
        .unwrap();
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http.get(server.url("/readyz")).send().await {
            if response.status() == 200 {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "server not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Account, twins, and one confirmed subscription per (round, writer) topic.
async fn set_up(backend: Backend, server: &Server, rounds: u64) -> Scenario {
    let http = client();
    let (status, account) = send(
        &http,
        reqwest::Method::POST,
        server.url("/operator/accounts"),
        OPERATOR_TOKEN,
        Some(json!({"name": "Crash"})),
    )
    .await;
    assert_eq!(status, 201, "{account}");
    let secret = account["secret"].as_str().unwrap().to_owned();
    let mut twins = Vec::new();
    for index in 0..TWINS {
        let (status, twin) = send(
            &http,
            reqwest::Method::POST,
            server.url("/twins"),
            &secret,
            Some(json!({"description": {"crash": index}})),
        )
        .await;
        assert_eq!(status, 201, "{twin}");
        twins.push(
            twin["creation_certificate"]["uuid"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (callback, received) = receiver().await;
    for round in 0..rounds {
        for writer in 0..WRITERS {
            let (status, body) = send(
                &http,
                reqwest::Method::POST,
                server.url("/notifications/webhooks"),
                &secret,
                Some(json!({"callback_url": callback, "topic": topic(round, writer)})),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
    }
    // Confirm every subscription (on the current server: its confirmation URL names its port).
    let expected = usize::try_from(rounds * WRITERS).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut confirmed = BTreeSet::new();
    while confirmed.len() < expected {
        assert!(
            Instant::now() < deadline,
            "only {} of {expected} confirmations arrived",
            confirmed.len()
        );
        let bodies = received.lock().unwrap().clone();
        for body in bodies {
            let message: Value = serde_json::from_str(&body).unwrap();
            if message["type"] != "SubscriptionConfirmation" {
                continue;
            }
            let topic = message["subscription"]["topic"]
                .as_str()
                .unwrap()
                .to_owned();
            if confirmed.contains(&topic) {
                continue;
            }
            let url = message["confirmation_url"].as_str().unwrap();
            let path = &url[url.find("/notifications").unwrap()..];
            let response = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "confirming {topic}");
            confirmed.insert(topic);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    received.lock().unwrap().clear();
    Scenario {
        account: account["account"].as_str().unwrap().to_owned(),
        backend,
        secret,
        twins,
        logs: BTreeMap::new(),
        received,
        callback,
    }
}

fn twin_of(scenario: &Scenario, writer: u64) -> String {
    scenario.twins[usize::try_from(writer % TWINS).unwrap()].clone()
}

/// One writer: creates its entry (seq 0), then updates its value until the server dies.
async fn write_until_killed(
    base_url: String,
    secret: String,
    twin: String,
    (round, writer): (u64, u64),
    acknowledged: Arc<AtomicU64>,
) -> WriterLog {
    let http = client();
    let name = entry_name(round, writer);
    let url = format!("{base_url}/twins/{twin}/ledgers/personal");
    let mut log = WriterLog::default();
    for seq in 0..=MAX_WRITES_PER_ROUND {
        let id = write_id(round, writer, seq);
        let new_value = value(round, writer, seq);
        let request = if seq == 0 {
            let publish = json!({
                topic(round, writer): format!("new_value.seq % {PUBLISH_EVERY} == 0")
            });
            http.post(&url).json(&json!({
                "entries": {&name: {"value": new_value, "history": "INF", "publish": publish}},
                "transaction": id,
            }))
        } else {
            http.patch(format!("{url}/value")).json(&json!({
                "entries": {&name: {"value": new_value}},
                "transaction": id,
            }))
        };
        log.in_flight = Some(seq);
        let request = request
            .header("Authorization", &secret)
            .header("X-Request-Id", &id);
        let (status, body) = loop {
            let Ok(response) = request.try_clone().unwrap().send().await else {
                return log;
            };
            let status = response.status();
            let Ok(body) = response.text().await else {
                return log;
            };
            // Two writers of one ledger collide now and then; the same transaction id makes
            // the retry safe.
            if status == 503 && body.contains("503159") {
                log.retries += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            break (status, body);
        };
        assert!(
            status.is_success(),
            "round {round} writer {writer} seq {seq}: {status} {body}"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body["entries"][&name]["value"], new_value,
            "the answer shows the value written"
        );
        log.in_flight = None;
        log.acked.insert(seq);
        acknowledged.fetch_add(1, Ordering::Relaxed);
    }
    log
}

/// One round: writers against a fresh server, SIGKILL at a pseudo-random moment once writes
/// are being acknowledged (on a loaded machine the first answers can take a while).
async fn write_then_kill(scenario: &mut Scenario, server: Server, round: u64) {
    let acknowledged = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        writers.push(tokio::spawn(write_until_killed(
            server.base_url.clone(),
            scenario.secret.clone(),
            twin_of(scenario, writer),
            (round, writer),
            acknowledged.clone(),
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.load(Ordering::Relaxed) == 0 {
        assert!(
            Instant::now() < deadline,
            "round {round}: no write acknowledged in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(kill_delay(round))).await;
    tokio::task::spawn_blocking(move || server.kill_hard())
        .await
        .unwrap();
    for (writer, handle) in writers.into_iter().enumerate() {
        let log = handle.await.unwrap();
        scenario.logs.insert((round, writer as u64), log);
    }
}

/// Raw SQL access, to see every stored history record, remembered transaction and audit record.
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
                    .create_if_missing(false)
                    .read_only(true);
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

    /// Rows of text pairs for `sql` with one text parameter `$1`/`?1`.
    async fn pairs(&self, sql: &str, parameter: &str) -> Vec<(String, String)> {
        match self {
            Self::Sqlite(pool) => sqlx::query_as(&sql.replace("$1", "?1"))
                .bind(parameter)
                .fetch_all(pool)
                .await
                .unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql)
                .bind(parameter)
                .fetch_all(pool)
                .await
                .unwrap(),
        }
    }
}

/// Seqs stored for each (round, writer), from one source.
type Stored = BTreeMap<(u64, u64), BTreeSet<u64>>;

fn add_stored(stored: &mut Stored, source: &str, key: (u64, u64, u64)) {
    let (round, writer, seq) = key;
    assert!(
        stored.entry((round, writer)).or_default().insert(seq),
        "{source}: round {round} writer {writer} seq {seq} stored twice"
    );
}

/// Checks every writer of every round so far against the running server and its database.
async fn check(scenario: &Scenario, server: &Server, after_round: u64) -> Stored {
    let database = Database::open(&scenario.backend).await;
    let account = &scenario.account;

    // History: every recorded value change, read with SQL.
    let mut history = Stored::new();
    let mut history_values: HashMap<(u64, u64, u64), Value> = HashMap::new();
    for (entry, text) in database
        .pairs(
            "SELECT entry, value FROM entry_history WHERE CAST(account_id AS TEXT) = $1",
            account,
        )
        .await
    {
        let stored: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("history of {entry}: not JSON ({error}): {text}"));
        let key = identify(&stored)
            .unwrap_or_else(|| panic!("history of {entry} holds a value nobody sent: {text}"));
        assert_eq!(entry, entry_name(key.0, key.1), "value in the wrong entry");
        add_stored(&mut history, "history", key);
        history_values.insert(key, stored);
    }

    // Remembered transaction ids.
    let mut transactions = Stored::new();
    for (id, _) in database
        .pairs(
            "SELECT transaction_id, CAST(twin_id AS TEXT) FROM ledger_transactions \
             WHERE CAST(account_id AS TEXT) = $1",
            account,
        )
        .await
    {
        let key = parse_write_id(&id).unwrap_or_else(|| panic!("unknown transaction id {id}"));
        add_stored(&mut transactions, "ledger_transactions", key);
    }

    // Audit records of the ledger writes, by request id.
    let mut audited = Stored::new();
    for (operation, text) in database
        .pairs(
            "SELECT operation, text FROM audit_records WHERE CAST(actor_account_id AS TEXT) = $1 \
             AND operation IN ('add_twin_ledger_entry', 'update_twin_ledger_entry_value') \
             AND outcome = 'allowed'",
            account,
        )
        .await
    {
        let record: Value = serde_json::from_str(&text).unwrap();
        let id = record["request_id"].as_str().unwrap();
        let key = parse_write_id(id).unwrap_or_else(|| panic!("unknown request id {id}"));
        assert_eq!(
            record["outcome"], "allowed",
            "{operation} {id} recorded as {record}"
        );
        add_stored(&mut audited, "audit_records", key);
    }
    database.close().await;

    let http = client();
    for ((round, writer), log) in &scenario.logs {
        let (round, writer) = (*round, *writer);
        let who = format!("after round {after_round}: round {round} writer {writer}");
        let stored = history.get(&(round, writer)).cloned().unwrap_or_default();
        let lost: Vec<_> = log.acked.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "{who}: acknowledged writes lost: seqs {lost:?} (acknowledged {}..={:?}, stored {stored:?})",
            log.acked.first().copied().unwrap_or(0),
            log.acked.last()
        );
        let mut allowed = log.acked.clone();
        allowed.extend(log.in_flight);
        let phantom: Vec<_> = stored.difference(&allowed).collect();
        assert!(
            phantom.is_empty(),
            "{who}: writes stored that were neither acknowledged nor in flight: {phantom:?}"
        );
        assert_eq!(
            transactions
                .get(&(round, writer))
                .cloned()
                .unwrap_or_default(),
            stored,
            "{who}: remembered transactions and history disagree"
        );
        assert_eq!(
            audited.get(&(round, writer)).cloned().unwrap_or_default(),
            stored,
            "{who}: audit records and history disagree"
        );

        // The ledger as the API shows it: the newest stored value, complete.
        let twin = twin_of(scenario, writer);
        let name = entry_name(round, writer);
        let (status, ledger) = send(
            &http,
            reqwest::Method::GET,
            server.url(&format!("/twins/{twin}/ledgers/personal?entries={name}")),
            &scenario.secret,
            None,
        )
        .await;
        assert_eq!(status, 200, "{who}: {ledger}");
        let entry = &ledger["entries"][&name];
        match stored.last() {
            None => assert!(entry.is_null(), "{who}: entry without history: {entry}"),
            Some(newest) => {
                assert_eq!(
                    entry["value"],
                    value(round, writer, *newest),
                    "{who}: the ledger does not show the newest stored value"
                );
                assert_eq!(entry["history"], "INF", "{who}: {entry}");
                let (status, records) = send(
                    &http,
                    reqwest::Method::GET,
                    server.url(&format!(
                        "/twins/{twin}/ledgers/personal/history?entries={name}&limit=1000"
                    )),
                    &scenario.secret,
                    None,
                )
                .await;
                assert_eq!(status, 200, "{who}: {records}");
                let records = records["entries"][&name].as_object().unwrap();
                let newest_shown = records
                    .iter()
                    .max_by(|a, b| {
                        let a: f64 = a.0.parse().unwrap();
                        let b: f64 = b.0.parse().unwrap();
                        a.total_cmp(&b)
                    })
                    .map(|(_, value)| value.clone());
                assert_eq!(
                    newest_shown,
                    Some(value(round, writer, *newest)),
                    "{who}: the history API's newest record"
                );
                for shown in records.values() {
                    let key = identify(shown).expect("history API shows sent values only");
                    assert!(history_values.contains_key(&key), "{who}: {shown}");
                }
            }
        }
    }
    history
}

/// `steward audit verify` on the backend's data, with the key the server uses.
fn audit_verify(backend: &Backend) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .args(["audit", "verify", "--json"])
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_DATA_DIR")
        .env_remove("STEWARD_CONFIG")
        .env_remove("STEWARD_AUDIT_KEY_FILE");
    match backend {
        Backend::Sqlite(dir) => command.arg("--data-dir").arg(dir),
        Backend::Postgres(url) => command
            .args(["--database-url", url])
            .arg("--key-file")
            .arg(support::audit_key_file(url)),
    };
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "audit verify failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    report
}

/// The messages delivered so far: (round, writer, seq) of each notified value.
fn delivered(scenario: &Scenario) -> Stored {
    let mut delivered = Stored::new();
    let mut seen = BTreeSet::new();
    for body in scenario.received.lock().unwrap().iter() {
        let message: Value = serde_json::from_str(body).unwrap();
        if message["type"] == "SubscriptionConfirmation" {
            continue; // a confirmation sent again after a crash
        }
        assert_eq!(message["type"], "Notification", "{message}");
        // At least once: a message may come again after a crash, with the same uuid.
        if !seen.insert(message["message"].as_str().unwrap().to_owned()) {
            continue;
        }
        let events = message["event"].as_object().unwrap();
        assert_eq!(events.len(), 1, "{message}");
        let (name, change) = events.iter().next().unwrap();
        let key = identify(&change["new_value"])
            .unwrap_or_else(|| panic!("notified value nobody sent: {message}"));
        assert_eq!(*name, entry_name(key.0, key.1));
        assert_eq!(message["subscription"]["topic"], topic(key.0, key.1));
        let trigger = if key.2 == 0 {
            "ledger.entry.added"
        } else {
            "ledger.entry.updated"
        };
        assert_eq!(message["trigger"], trigger, "{message}");
        // In order per subscription: nothing newer of this writer was delivered before.
        let newest = delivered
            .get(&(key.0, key.1))
            .and_then(|seqs: &BTreeSet<u64>| seqs.last().copied());
        assert!(
            newest.is_none_or(|newest| newest < key.2),
            "{}: seq {} delivered after seq {newest:?}",
            topic(key.0, key.1),
            key.2
        );
        add_stored(&mut delivered, "webhook messages", key);
    }
    delivered
}

/// The stored writes whose value the entry's publish rule sends.
fn published(stored: &Stored) -> Stored {
    stored
        .iter()
        .map(|(key, seqs)| {
            let published = seqs
                .iter()
                .copied()
                .filter(|seq| seq % PUBLISH_EVERY == 0)
                .collect();
            (*key, published)
        })
        .filter(|(_, seqs): &(_, BTreeSet<u64>)| !seqs.is_empty())
        .collect()
}

/// How many of `expected` are not in `delivered`.
fn missing(expected: &Stored, delivered: &Stored) -> usize {
    expected
        .iter()
        .map(|(key, seqs)| {
            let got = delivered.get(key).cloned().unwrap_or_default();
            seqs.difference(&got).count()
        })
        .sum()
}

/// Webhook messages of stored writes: all eventually, and none of anything else.
async fn check_webhooks(scenario: &Scenario, stored: &Stored) {
    let expected = published(stored);
    let total: usize = expected.values().map(BTreeSet::len).sum();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    loop {
        let delivered = delivered(scenario);
        for (key, seqs) in &delivered {
            let allowed = expected.get(key).cloned().unwrap_or_default();
            let phantom: Vec<_> = seqs.difference(&allowed).collect();
            assert!(
                phantom.is_empty(),
                "round {} writer {}: messages for writes never stored: {phantom:?}",
                key.0,
                key.1
            );
        }
        if delivered == expected {
            eprintln!(
                "all {total} webhook messages delivered ({:.1} s after the last restart's checks)",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        if Instant::now() > deadline {
            let undelivered: Vec<_> = expected
                .iter()
                .map(|(key, seqs)| {
                    let got = delivered.get(key).cloned().unwrap_or_default();
                    (key, seqs.difference(&got).copied().collect::<Vec<_>>())
                })
                .filter(|(_, missing)| !missing.is_empty())
                .collect();
            panic!(
                "webhook messages not delivered within 120 s (to {}): {undelivered:?}",
                scenario.callback
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn crash_rounds(backend: Backend) {
    let rounds = rounds();
    eprintln!("crash test: {rounds} rounds, seed {}", seed());
    let started = Instant::now();
    let server = start(&backend).await;
    let mut scenario = set_up(backend.clone(), &server, rounds).await;
    let mut server = server;
    let mut stored = Stored::new();
    let mut pending_at_kills = 0;
    for round in 0..rounds {
        write_then_kill(&mut scenario, server, round).await;
        let delivered_at_kill = delivered(&scenario);
        let report = {
            let backend = backend.clone();
            tokio::task::spawn_blocking(move || audit_verify(&backend))
                .await
                .unwrap()
        };
        server = start(&backend).await;
        stored = check(&scenario, &server, round).await;
        let pending = missing(&published(&stored), &delivered_at_kill);
        pending_at_kills += pending;
        let acked: usize = scenario
            .logs
            .range((round, 0)..(round + 1, 0))
            .map(|(_, log)| log.acked.len())
            .sum();
        let retries: u64 = scenario
            .logs
            .range((round, 0)..(round + 1, 0))
            .map(|(_, log)| log.retries)
            .sum();
        let in_flight_stored = scenario
            .logs
            .range((round, 0)..(round + 1, 0))
            .filter(|(key, log)| {
                log.in_flight
                    .is_some_and(|seq| stored.get(key).is_some_and(|seqs| seqs.contains(&seq)))
            })
            .count();
        eprintln!(
            "round {round}: killed after {} ms, {acked} writes acknowledged ({retries} retried \
             after 503), {in_flight_stored} of the unanswered ones stored, {pending} webhook \
             messages undelivered; audit verified {} records ({} sealed) after the crash",
            kill_delay(round),
            report["records"],
            report["sealed"],
        );
    }
    assert!(
        pending_at_kills > 0,
        "no kill found a webhook message waiting: the delivery check would prove nothing"
    );
    check_webhooks(&scenario, &stored).await;
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success());
    let report = audit_verify(&backend);
    eprintln!(
        "audit verified after shutdown: {} records, {} sealed; total {:.1} s",
        report["records"],
        report["sealed"],
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_repeated_kill_9_during_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir: PathBuf = dir.path().join("data");
    crash_rounds(Backend::Sqlite(data_dir.clone())).await;
    let intact = tokio::task::spawn_blocking(move || support::sqlite_integrity_ok(&data_dir))
        .await
        .unwrap();
    assert!(intact, "PRAGMA integrity_check should be ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_repeated_kill_9_during_concurrent_writes() {
    let Some(database) = PostgresDatabase::create() else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES_URL not set");
        return;
    };
    crash_rounds(Backend::Postgres(database.url.clone())).await;
}
