//! Runs the real `steward` binary as a child process for end-to-end tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod python;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const OPERATOR_TOKEN: &str = "e2e-operator-token-0123456789";

/// A running `steward serve`.
pub struct Server {
    pub child: Child,
    pub base_url: String,
    /// Every line the server printed on standard output so far.
    pub stdout_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Where a server keeps its data.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Server {
    /// Starts `steward serve` on a free port and waits until it listens.
    pub fn start(backend: &Backend, extra_args: &[&str]) -> Self {
        Self::start_with_operator_token(backend, extra_args, Some(OPERATOR_TOKEN))
    }

    /// Starts the server with this operator token, or with none (so one is generated).
    pub fn start_with_operator_token(
        backend: &Backend,
        extra_args: &[&str],
        operator_token: Option<&str>,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        match operator_token {
            Some(token) => command.env("STEWARD_OPERATOR_TOKEN", token),
            None => command.env_remove("STEWARD_OPERATOR_TOKEN"),
        };
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log", "warn"])
            .env_remove("STEWARD_DATABASE_URL")
            .env_remove("STEWARD_CONFIG")
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match backend {
            Backend::Sqlite(dir) => command.arg("--data-dir").arg(dir),
            Backend::Postgres(url) => {
                command.args(["--database-url", url]);
                if !extra_args.contains(&"--audit-key-file") {
                    command.arg("--audit-key-file").arg(audit_key_file(url));
                }
                &mut command
            }
        };
        let mut child = command.spawn().expect("steward binary should start");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        let stdout_lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let collected = stdout_lines.clone();
        std::thread::spawn(move || {
            // Keep draining stdout so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("steward listening on ") {
                    let _ = sender.send(address.to_owned());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let base_url = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("server should print its address within 60 s");
        Self {
            child,
            base_url,
            stdout_lines,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// SIGKILL: no chance to clean up, like a crash.
    pub fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database for one test, dropped afterwards; `None` when
/// `STEWARD_TEST_POSTGRES_URL` is not set.
pub struct PostgresDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PostgresDatabase {
    pub fn create() -> Option<Self> {
        let admin_url = std::env::var("STEWARD_TEST_POSTGRES_URL").ok()?;
        let name = format!("steward_e2e_{}", uuid_like());
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .expect("postgres url should end in /database");
        Some(Self {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .status()
        .expect("psql should be installed where PostgreSQL tests run");
    assert!(status.success(), "psql failed: {sql}");
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{nanos}", std::process::id())
}

/// Whether a path holds a SQLite database that passes `PRAGMA integrity_check`.
pub fn sqlite_integrity_ok(data_dir: &Path) -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = steward_store_sqlite::SqliteStore::open(data_dir)
            .await
            .unwrap();
        let report = store.diagnostics().await.unwrap();
        report.integrity_check == "ok"
    })
}

/// Reads one HTTP/1.1 request with a `Content-Length` body from `stream` and returns the body;
/// `None` if the peer closed or failed first. For the webhook receivers of the tests.
pub async fn read_request_body(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    let mut data = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
        let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_string();
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return Some(data[end + 4..end + 4 + length].to_vec());
        }
    }
}

/// The audit signing key of the nodes of one test database, outside the source tree (nodes of
/// one database share it, as in production).
pub fn audit_key_file(database_url: &str) -> std::path::PathBuf {
    let database = database_url.rsplit('/').next().unwrap_or("steward");
    let directory = std::env::temp_dir().join("steward-e2e-audit-keys");
    std::fs::create_dir_all(&directory).unwrap();
    directory.join(format!("{database}.key"))
}
