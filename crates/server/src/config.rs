//! Configuration, in layers: built-in defaults → `steward.toml` → `STEWARD_*` environment →
//! command-line flags. The environment and flag layers are both carried by
//! [`ConfigOverrides`] (the CLI reads each flag with its environment variable as fallback).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The commented default configuration file, as printed by `steward config print-default`.
pub const DEFAULT_CONFIG_FILE: &str = r#"# Steward configuration.
# Precedence: built-in defaults < this file < STEWARD_* environment variables < command-line flags.
# Unknown keys are an error.

# Address and port the HTTP API listens on (STEWARD_LISTEN, --listen).
listen = "127.0.0.1:8080"

# Directory of the embedded SQLite database, used unless database_url is set
# (STEWARD_DATA_DIR, --data-dir).
data_dir = "./steward-data"

# PostgreSQL connection URL; when set, Steward stores everything there instead of SQLite
# (STEWARD_DATABASE_URL, --database-url).
# database_url = "postgres://steward@127.0.0.1:5432/steward"

# Largest number of pooled database connections (STEWARD_MAX_CONNECTIONS, --max-connections).
max_connections = 16

# After SIGINT or SIGTERM, how long in-flight requests may take to finish, in seconds
# (STEWARD_SHUTDOWN_GRACE_SECONDS, --shutdown-grace-seconds).
shutdown_grace_seconds = 30

# How long a secret PIN (POST /users/{user}/secrets) can be redeemed, in seconds
# (STEWARD_PIN_LIFETIME_SECONDS, --pin-lifetime-seconds).
pin_lifetime_seconds = 86400

# How often background housekeeping runs, in seconds: expired stickers are removed, expired
# history records and secret PINs are deleted
# (STEWARD_HOUSEKEEPING_INTERVAL_SECONDS, --housekeeping-interval-seconds).
housekeeping_interval_seconds = 5

# How long twins and ledgers read by this node may be served from memory, in milliseconds; 0
# turns the cache off. Changes through this node are seen at once, changes through other nodes
# sharing the database after at most this long
# (STEWARD_OBJECT_CACHE_TTL_MILLISECONDS, --object-cache-ttl-milliseconds).
object_cache_ttl_milliseconds = 1000

# The base URL clients reach this server at, used in webhook confirmation, refresh and
# unsubscribe URLs; default: http:// (https:// with TLS) plus the listen address
# (STEWARD_PUBLIC_URL, --public-url).
# public_url = "https://steward.example.com"

# Allow webhook callbacks to loopback addresses (tests and local setups only; private,
# link-local and metadata addresses stay refused)
# (STEWARD_WEBHOOK_ALLOW_LOOPBACK=1, --webhook-allow-loopback).
webhook_allow_loopback = false

# How long the event log keeps changes for live streams (GET /events) to resume from with
# Last-Event-ID, in seconds (STEWARD_EVENT_RETENTION_SECONDS, --event-retention-seconds).
event_retention_seconds = 86400

# How many events a live stream (GET /events) may fall behind before it is closed with a
# final `steward.overflow` event; bounds the memory slow readers can hold
# (STEWARD_EVENT_STREAM_CAPACITY, --event-stream-capacity).
event_stream_capacity = 4096

# How long a node holds a webhook message it is delivering, in seconds; if the node dies,
# another node delivers the message after this long. At least 10 (a delivery attempt times out
# after 5) (STEWARD_WEBHOOK_LEASE_SECONDS, --webhook-lease-seconds).
webhook_lease_seconds = 30

# Whether API operations are recorded in the audit trail. Switch it off only to measure what
# auditing costs (issue 8's benchmarks compare both in one run): with it off, nothing is
# recorded and GET /audit shows no new records (STEWARD_AUDIT_ENABLED, --audit-enabled).
audit_enabled = true

# How long audit records are kept, in days, for accounts without a retention of their own
# (the operator sets those: PUT /operator/accounts/{account}/audit-retention); 0 keeps them
# forever. A record goes once it is older than the retention of both its data owner's and its
# actor's account, and its Merkle hashes stay, so the log keeps verifying
# (STEWARD_AUDIT_RETENTION_DAYS, --audit-retention-days).
audit_retention_days = 0

# How often audit records of reads and refusals are written to the audit log, in
# milliseconds: a crash loses at most this long of them (writes are audited in their own
# transaction) (STEWARD_AUDIT_FLUSH_MILLISECONDS, --audit-flush-milliseconds).
audit_flush_milliseconds = 200

# How often new audit records are sealed into the Merkle log and a checkpoint is signed, in
# milliseconds (STEWARD_AUDIT_SEAL_INTERVAL_MILLISECONDS, --audit-seal-interval-milliseconds).
audit_seal_interval_milliseconds = 2000

# The file holding the Ed25519 key that signs audit checkpoints; created on first start.
# Every node of one database must use the same key. Default: audit-signing.key in data_dir
# (STEWARD_AUDIT_KEY_FILE, --audit-key-file).
# audit_key_file = "/etc/steward/audit-signing.key"

# Extra CA certificates (a PEM file) trusted for https webhook callbacks, besides the public
# web roots, e.g. a company's private CA (STEWARD_WEBHOOK_CA_FILE, --webhook-ca-file).
# webhook_ca_file = "/etc/steward/partner-ca.pem"

# Serve HTTPS: a PEM certificate chain and its PEM private key (PKCS#8, PKCS#1 or SEC1). Both or
# neither; without them the server speaks plain HTTP, e.g. behind a TLS-terminating reverse proxy
# (STEWARD_TLS_CERT_FILE, --tls-cert; STEWARD_TLS_KEY_FILE, --tls-key).
# tls_cert_file = "/etc/steward/tls/cert.pem"
# tls_key_file = "/etc/steward/tls/key.pem"

# How long a client may take to send a request's headers (and to finish a TLS handshake), and
# its body, in seconds; slower connections are closed (STEWARD_HEADER_TIMEOUT_SECONDS,
# --header-timeout-seconds; STEWARD_BODY_TIMEOUT_SECONDS, --body-timeout-seconds).
header_timeout_seconds = 10
body_timeout_seconds = 30

# Fair sharing between tenants. Requests per second each account may make on this node (a token
# bucket; 0, the default, is unlimited) and how many may arrive at once (0: one second's worth).
# Buckets are per node: N nodes allow up to N times the rate. Requests with invalid credentials
# are limited per client address at the same rate. Override per account with
# PUT /operator/accounts/{account}/limits
# (STEWARD_RATE_LIMIT_PER_SECOND, --rate-limit-per-second;
# STEWARD_RATE_LIMIT_BURST, --rate-limit-burst).
rate_limit_per_second = 0
rate_limit_burst = 0

# Quotas per account, 0 (the default) is unlimited: alive twins an account may own, entries one
# of its ledgers may hold, and bytes all its ledgers may take together. Exceeding one is
# 400 / 400141. Override per account with PUT /operator/accounts/{account}/limits
# (STEWARD_QUOTA_MAX_TWINS, --quota-max-twins; STEWARD_QUOTA_MAX_LEDGER_ENTRIES,
# --quota-max-ledger-entries; STEWARD_QUOTA_MAX_STORED_BYTES, --quota-max-stored-bytes).
quota_max_twins = 0
quota_max_ledger_entries = 0
quota_max_stored_bytes = 0

# Log filter in tracing's EnvFilter syntax, e.g. "info" or "steward_http=debug,info"
# (STEWARD_LOG, --log).
log = "info"

# Log format: "text" for people, "json" for log collectors (STEWARD_LOG_FORMAT, --log-format).
log_format = "text"
"#;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "log format must be `text` or `json`, got `{other}`"
            )),
        }
    }
}

/// The effective configuration of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listen address of the HTTP API.
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; `None` selects SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Largest number of pooled database connections.
    pub max_connections: u32,
    /// Bound on waiting for in-flight requests at shutdown, in seconds.
    pub shutdown_grace_seconds: u64,
    /// Lifetime of secret PINs, in seconds.
    pub pin_lifetime_seconds: u64,
    /// Interval of background housekeeping, in seconds.
    pub housekeeping_interval_seconds: u64,
    /// Time to live of the twin and ledger cache, in milliseconds (0 = off).
    pub object_cache_ttl_milliseconds: u64,
    /// Base URL of this server for webhook management URLs; `None` = from `listen`.
    pub public_url: Option<String>,
    /// Whether webhook callbacks may point at loopback addresses.
    pub webhook_allow_loopback: bool,
    /// How long the event log keeps events for `GET /events` to resume from, in seconds.
    pub event_retention_seconds: u64,
    /// How many events a live stream may fall behind before it is closed.
    pub event_stream_capacity: usize,
    /// How long a node holds a webhook message it is delivering before another node may.
    pub webhook_lease_seconds: u64,
    /// Whether API operations are recorded in the audit trail.
    pub audit_enabled: bool,
    /// Default audit retention in days (0 = forever).
    pub audit_retention_days: u32,
    /// How often queued audit records are written, in milliseconds (the most a crash can lose).
    pub audit_flush_milliseconds: u64,
    /// How often the audit log is sealed and a checkpoint signed while there is activity, in milliseconds.
    pub audit_seal_interval_milliseconds: u64,
    /// The Ed25519 key that signs audit checkpoints; `None` = `audit-signing.key` in `data_dir`.
    pub audit_key_file: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM) for `https` webhook callbacks.
    pub webhook_ca_file: Option<PathBuf>,
    /// PEM certificate chain to serve HTTPS with (together with `tls_key_file`).
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers or finish a TLS handshake.
    pub header_timeout_seconds: u64,
    /// Seconds a client may take to send a request's body.
    pub body_timeout_seconds: u64,
    /// Requests per second per account and node (0 = unlimited).
    pub rate_limit_per_second: u32,
    /// Token bucket size per account (0 = one second's worth).
    pub rate_limit_burst: u32,
    /// Alive twins per account (0 = unlimited).
    pub quota_max_twins: u64,
    /// Entries per ledger (0 = unlimited).
    pub quota_max_ledger_entries: u32,
    /// Bytes of all ledgers of an account (0 = unlimited).
    pub quota_max_stored_bytes: u64,
    /// Log filter.
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./steward-data"),
            database_url: None,
            max_connections: 16,
            shutdown_grace_seconds: 30,
            pin_lifetime_seconds: 24 * 60 * 60,
            housekeeping_interval_seconds: 5,
            object_cache_ttl_milliseconds: 1_000,
            public_url: None,
            webhook_allow_loopback: false,
            event_retention_seconds: 24 * 60 * 60,
            event_stream_capacity: 4_096,
            webhook_lease_seconds: 30,
            audit_enabled: true,
            audit_retention_days: 0,
            audit_flush_milliseconds: 200,
            audit_seal_interval_milliseconds: 2_000,
            audit_key_file: None,
            webhook_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            rate_limit_per_second: 0,
            rate_limit_burst: 0,
            quota_max_twins: 0,
            quota_max_ledger_entries: 0,
            quota_max_stored_bytes: 0,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
        }
    }
}

/// The file layer: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    max_connections: Option<u32>,
    shutdown_grace_seconds: Option<u64>,
    pin_lifetime_seconds: Option<u64>,
    housekeeping_interval_seconds: Option<u64>,
    object_cache_ttl_milliseconds: Option<u64>,
    public_url: Option<String>,
    webhook_allow_loopback: Option<bool>,
    event_retention_seconds: Option<u64>,
    event_stream_capacity: Option<usize>,
    webhook_lease_seconds: Option<u64>,
    audit_enabled: Option<bool>,
    audit_retention_days: Option<u32>,
    audit_flush_milliseconds: Option<u64>,
    audit_seal_interval_milliseconds: Option<u64>,
    audit_key_file: Option<PathBuf>,
    webhook_ca_file: Option<PathBuf>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    rate_limit_per_second: Option<u32>,
    rate_limit_burst: Option<u32>,
    quota_max_twins: Option<u64>,
    quota_max_ledger_entries: Option<u32>,
    quota_max_stored_bytes: Option<u64>,
    log: Option<String>,
    log_format: Option<LogFormat>,
}

/// Values from the environment and the command line; `None` leaves the lower layer's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    /// Listen address.
    pub listen: Option<SocketAddr>,
    /// SQLite data directory.
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL.
    pub database_url: Option<String>,
    /// Pool size.
    pub max_connections: Option<u32>,
    /// Shutdown grace period in seconds.
    pub shutdown_grace_seconds: Option<u64>,
    /// Lifetime of secret PINs in seconds.
    pub pin_lifetime_seconds: Option<u64>,
    /// Interval of background housekeeping in seconds.
    pub housekeeping_interval_seconds: Option<u64>,
    /// Time to live of the twin and ledger cache in milliseconds.
    pub object_cache_ttl_milliseconds: Option<u64>,
    /// Base URL of this server.
    pub public_url: Option<String>,
    /// Allow loopback webhook callbacks.
    pub webhook_allow_loopback: Option<bool>,
    /// Retention of the event log in seconds.
    pub event_retention_seconds: Option<u64>,
    /// Live stream backlog bound in events.
    pub event_stream_capacity: Option<usize>,
    /// Webhook delivery lease in seconds.
    pub webhook_lease_seconds: Option<u64>,
    /// Whether the audit trail records operations.
    pub audit_enabled: Option<bool>,
    /// Default audit retention in days.
    pub audit_retention_days: Option<u32>,
    /// Audit flush interval in milliseconds.
    pub audit_flush_milliseconds: Option<u64>,
    /// Audit seal interval in milliseconds.
    pub audit_seal_interval_milliseconds: Option<u64>,
    /// Audit signing key file.
    pub audit_key_file: Option<PathBuf>,
    /// Extra CA certificates for webhook callbacks.
    pub webhook_ca_file: Option<PathBuf>,
    /// TLS certificate chain (PEM).
    pub tls_cert_file: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key_file: Option<PathBuf>,
    /// Header (and TLS handshake) timeout in seconds.
    pub header_timeout_seconds: Option<u64>,
    /// Body timeout in seconds.
    pub body_timeout_seconds: Option<u64>,
    /// Requests per second per account.
    pub rate_limit_per_second: Option<u32>,
    /// Token bucket size per account.
    pub rate_limit_burst: Option<u32>,
    /// Alive twins per account.
    pub quota_max_twins: Option<u64>,
    /// Entries per ledger.
    pub quota_max_ledger_entries: Option<u32>,
    /// Bytes of all ledgers of an account.
    pub quota_max_stored_bytes: Option<u64>,
    /// Log filter.
    pub log: Option<String>,
    /// Log format.
    pub log_format: Option<LogFormat>,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("invalid config file `{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's explanation, naming the key.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Value(String),
}

impl Config {
    /// Builds the effective configuration: defaults, then the file (if any), then overrides.
    pub fn load(file: Option<&Path>, overrides: &ConfigOverrides) -> Result<Self, ConfigError> {
        let file_layer = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::parse_file(&text).map_err(|message| ConfigError::Invalid {
                    path: path.to_owned(),
                    message,
                })?
            }
            None => ConfigFile::default(),
        };
        let defaults = Self::default();
        let config = Self {
            listen: overrides
                .listen
                .or(file_layer.listen)
                .unwrap_or(defaults.listen),
            data_dir: overrides
                .data_dir
                .clone()
                .or(file_layer.data_dir)
                .unwrap_or(defaults.data_dir),
            database_url: overrides
                .database_url
                .clone()
                .or(file_layer.database_url)
                .filter(|url| !url.is_empty()),
            max_connections: overrides
                .max_connections
                .or(file_layer.max_connections)
                .unwrap_or(defaults.max_connections),
            shutdown_grace_seconds: overrides
                .shutdown_grace_seconds
                .or(file_layer.shutdown_grace_seconds)
                .unwrap_or(defaults.shutdown_grace_seconds),
            pin_lifetime_seconds: overrides
                .pin_lifetime_seconds
                .or(file_layer.pin_lifetime_seconds)
                .unwrap_or(defaults.pin_lifetime_seconds),
            housekeeping_interval_seconds: overrides
                .housekeeping_interval_seconds
                .or(file_layer.housekeeping_interval_seconds)
                .unwrap_or(defaults.housekeeping_interval_seconds),
            object_cache_ttl_milliseconds: overrides
                .object_cache_ttl_milliseconds
                .or(file_layer.object_cache_ttl_milliseconds)
                .unwrap_or(defaults.object_cache_ttl_milliseconds),
            public_url: overrides
                .public_url
                .clone()
                .or(file_layer.public_url)
                .filter(|url| !url.is_empty()),
            webhook_allow_loopback: overrides
                .webhook_allow_loopback
                .or(file_layer.webhook_allow_loopback)
                .unwrap_or(defaults.webhook_allow_loopback),
            event_retention_seconds: overrides
                .event_retention_seconds
                .or(file_layer.event_retention_seconds)
                .unwrap_or(defaults.event_retention_seconds),
            event_stream_capacity: overrides
                .event_stream_capacity
                .or(file_layer.event_stream_capacity)
                .unwrap_or(defaults.event_stream_capacity),
            webhook_lease_seconds: overrides
                .webhook_lease_seconds
                .or(file_layer.webhook_lease_seconds)
                .unwrap_or(defaults.webhook_lease_seconds),
            audit_enabled: overrides
                .audit_enabled
                .or(file_layer.audit_enabled)
                .unwrap_or(defaults.audit_enabled),
            audit_retention_days: overrides
                .audit_retention_days
                .or(file_layer.audit_retention_days)
                .unwrap_or(defaults.audit_retention_days),
            audit_flush_milliseconds: overrides
                .audit_flush_milliseconds
                .or(file_layer.audit_flush_milliseconds)
                .unwrap_or(defaults.audit_flush_milliseconds),
            audit_seal_interval_milliseconds: overrides
                .audit_seal_interval_milliseconds
                .or(file_layer.audit_seal_interval_milliseconds)
                .unwrap_or(defaults.audit_seal_interval_milliseconds),
            audit_key_file: overrides
                .audit_key_file
                .clone()
                .or(file_layer.audit_key_file),
            webhook_ca_file: overrides
                .webhook_ca_file
                .clone()
                .or(file_layer.webhook_ca_file),
            tls_cert_file: overrides.tls_cert_file.clone().or(file_layer.tls_cert_file),
            tls_key_file: overrides.tls_key_file.clone().or(file_layer.tls_key_file),
            header_timeout_seconds: overrides
                .header_timeout_seconds
                .or(file_layer.header_timeout_seconds)
                .unwrap_or(defaults.header_timeout_seconds),
            body_timeout_seconds: overrides
                .body_timeout_seconds
                .or(file_layer.body_timeout_seconds)
                .unwrap_or(defaults.body_timeout_seconds),
            rate_limit_per_second: overrides
                .rate_limit_per_second
                .or(file_layer.rate_limit_per_second)
                .unwrap_or(defaults.rate_limit_per_second),
            rate_limit_burst: overrides
                .rate_limit_burst
                .or(file_layer.rate_limit_burst)
                .unwrap_or(defaults.rate_limit_burst),
            quota_max_twins: overrides
                .quota_max_twins
                .or(file_layer.quota_max_twins)
                .unwrap_or(defaults.quota_max_twins),
            quota_max_ledger_entries: overrides
                .quota_max_ledger_entries
                .or(file_layer.quota_max_ledger_entries)
                .unwrap_or(defaults.quota_max_ledger_entries),
            quota_max_stored_bytes: overrides
                .quota_max_stored_bytes
                .or(file_layer.quota_max_stored_bytes)
                .unwrap_or(defaults.quota_max_stored_bytes),
            log: overrides
                .log
                .clone()
                .or(file_layer.log)
                .unwrap_or(defaults.log),
            log_format: overrides
                .log_format
                .or(file_layer.log_format)
                .unwrap_or(defaults.log_format),
        };
        config.validate()?;
        Ok(config)
    }

    /// The settings of the services this configuration asks for.
    pub fn service_settings(&self) -> steward_core::ServiceSettings {
        self.service_settings_at(self.listen)
    }

    /// The settings of the services for a server bound to `local_addr` (the default public
    /// URL names it).
    pub fn service_settings_at(&self, local_addr: SocketAddr) -> steward_core::ServiceSettings {
        steward_core::ServiceSettings {
            pin_lifetime_seconds: self.pin_lifetime_seconds,
            object_cache_ttl_millis: self.object_cache_ttl_milliseconds,
            public_url: self.public_url.clone().unwrap_or_else(|| {
                let scheme = if self.tls_cert_file.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{local_addr}")
            }),
            callbacks: self.callback_policy(),
            event_retention_millis: self.event_retention_seconds.saturating_mul(1_000),
            event_stream_capacity: self.event_stream_capacity,
            audit_enabled: self.audit_enabled,
            audit_retention_days: self.audit_retention_days,
            limits: steward_core::limits::LimitDefaults {
                rate_limit_per_second: self.rate_limit_per_second,
                rate_limit_burst: self.rate_limit_burst,
                max_twins: self.quota_max_twins,
                max_ledger_entries: self.quota_max_ledger_entries,
                max_stored_bytes: self.quota_max_stored_bytes,
            },
            ..steward_core::ServiceSettings::default()
        }
    }

    /// Where the audit signing key is kept.
    pub fn audit_key_path(&self) -> PathBuf {
        self.audit_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit-signing.key"))
    }

    /// Which webhook callbacks this configuration allows.
    pub fn callback_policy(&self) -> steward_core::notifications::callback::CallbackPolicy {
        steward_core::notifications::callback::CallbackPolicy {
            allow_loopback: self.webhook_allow_loopback,
        }
    }

    fn parse_file(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|error| error.message().to_owned())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.pin_lifetime_seconds == 0 {
            return Err(ConfigError::Value(
                "`pin_lifetime_seconds` must be at least 1".to_owned(),
            ));
        }
        if self.housekeeping_interval_seconds == 0 {
            return Err(ConfigError::Value(
                "`housekeeping_interval_seconds` must be at least 1".to_owned(),
            ));
        }
        if self.event_retention_seconds == 0 {
            return Err(ConfigError::Value(
                "`event_retention_seconds` must be at least 1".to_owned(),
            ));
        }
        if !(16..=1_000_000).contains(&self.event_stream_capacity) {
            return Err(ConfigError::Value(
                "`event_stream_capacity` must be between 16 and 1000000".to_owned(),
            ));
        }
        if self.webhook_lease_seconds < 10 {
            return Err(ConfigError::Value(
                "`webhook_lease_seconds` must be at least 10 (a delivery attempt may take 5)"
                    .to_owned(),
            ));
        }
        if self.audit_retention_days > steward_core::audit::retention::MAX_RETENTION_DAYS {
            return Err(ConfigError::Value(format!(
                "`audit_retention_days` must be between 0 (forever) and {}",
                steward_core::audit::retention::MAX_RETENTION_DAYS
            )));
        }
        if !(10..=60_000).contains(&self.audit_flush_milliseconds) {
            return Err(ConfigError::Value(
                "`audit_flush_milliseconds` must be between 10 and 60000".to_owned(),
            ));
        }
        if !(100..=600_000).contains(&self.audit_seal_interval_milliseconds) {
            return Err(ConfigError::Value(
                "`audit_seal_interval_milliseconds` must be between 100 and 600000".to_owned(),
            ));
        }
        self.validate_limits()?;
        if self.max_connections == 0 {
            return Err(ConfigError::Value(
                "`max_connections` must be at least 1".to_owned(),
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::Value(
                "`tls_cert_file` and `tls_key_file` go together: set both or neither".to_owned(),
            ));
        }
        for (key, value) in [
            ("header_timeout_seconds", self.header_timeout_seconds),
            ("body_timeout_seconds", self.body_timeout_seconds),
        ] {
            if !(1..=3_600).contains(&value) {
                return Err(ConfigError::Value(format!(
                    "`{key}` must be between 1 and 3600"
                )));
            }
        }
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::Value(
                    "`database_url` must start with `postgres://` or `postgresql://`".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    fn validate_limits(&self) -> Result<(), ConfigError> {
        use steward_core::limits::MAX_RATE;
        for (key, value) in [
            ("rate_limit_per_second", self.rate_limit_per_second),
            ("rate_limit_burst", self.rate_limit_burst),
        ] {
            if value > MAX_RATE {
                return Err(ConfigError::Value(format!(
                    "`{key}` must be between 0 (unlimited) and {MAX_RATE}"
                )));
            }
        }
        if self.rate_limit_burst > 0 && self.rate_limit_per_second == 0 {
            return Err(ConfigError::Value(
                "`rate_limit_burst` needs `rate_limit_per_second` (0 is unlimited)".to_owned(),
            ));
        }
        for (key, value) in [
            ("quota_max_twins", self.quota_max_twins),
            ("quota_max_stored_bytes", self.quota_max_stored_bytes),
        ] {
            if i64::try_from(value).is_err() {
                return Err(ConfigError::Value(format!(
                    "`{key}` must be between 0 (unlimited) and {}",
                    i64::MAX
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
