//! `steward serve`: flags (each with its `STEWARD_*` variable) on top of the config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use steward_server::{Config, ConfigOverrides, LogFormat};

/// Options of `steward serve`. Each flag falls back to its environment variable, then to the
/// config file, then to the built-in default.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML). Without it, `./steward.toml` is read if present.
    #[arg(long, env = "STEWARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "STEWARD_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Directory of the embedded SQLite database [default: ./steward-data].
    #[arg(long, env = "STEWARD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); selects PostgreSQL instead of SQLite.
    #[arg(long, env = "STEWARD_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Largest number of pooled database connections [default: 16].
    #[arg(long, env = "STEWARD_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<u32>,
    /// Seconds in-flight requests may take to finish after SIGINT/SIGTERM [default: 30].
    #[arg(long, env = "STEWARD_SHUTDOWN_GRACE_SECONDS", value_name = "SECONDS")]
    shutdown_grace_seconds: Option<u64>,
    /// Seconds a secret PIN can be redeemed [default: 86400].
    #[arg(long, env = "STEWARD_PIN_LIFETIME_SECONDS", value_name = "SECONDS")]
    pin_lifetime_seconds: Option<u64>,
    /// Seconds between background housekeeping runs (expired stickers, history, PINs)
    /// [default: 5].
    #[arg(
        long,
        env = "STEWARD_HOUSEKEEPING_INTERVAL_SECONDS",
        value_name = "SECONDS"
    )]
    housekeeping_interval_seconds: Option<u64>,
    /// Milliseconds twins and ledgers may be served from this node's memory; 0 turns the cache
    /// off. Other nodes' changes are seen after at most this long [default: 1000].
    #[arg(
        long,
        env = "STEWARD_OBJECT_CACHE_TTL_MILLISECONDS",
        value_name = "MILLISECONDS"
    )]
    object_cache_ttl_milliseconds: Option<u64>,
    /// Base URL clients reach this server at, for webhook management URLs
    /// [default: http:// plus the listen address].
    #[arg(long, env = "STEWARD_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Allow webhook callbacks to loopback addresses (tests and local setups only).
    #[arg(long, env = "STEWARD_WEBHOOK_ALLOW_LOOPBACK", value_name = "BOOL",
          num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    webhook_allow_loopback: Option<bool>,
    /// How long the event log keeps changes for `GET /events` to resume from [default: 86400].
    #[arg(long, env = "STEWARD_EVENT_RETENTION_SECONDS", value_name = "SECONDS")]
    event_retention_seconds: Option<u64>,
    /// How many events a live stream may fall behind before it is closed [default: 4096].
    #[arg(long, env = "STEWARD_EVENT_STREAM_CAPACITY", value_name = "EVENTS")]
    event_stream_capacity: Option<usize>,
    /// Seconds a node holds a webhook message it delivers before another node may take it
    /// over; at least 10 [default: 30].
    #[arg(long, env = "STEWARD_WEBHOOK_LEASE_SECONDS", value_name = "SECONDS")]
    webhook_lease_seconds: Option<u64>,
    /// Record API operations in the audit trail; `false` only to measure what auditing costs
    /// [default: true].
    #[arg(long, env = "STEWARD_AUDIT_ENABLED", value_name = "BOOL",
          num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    audit_enabled: Option<bool>,
    /// Days audit records are kept for accounts without a retention of their own; 0 keeps
    /// them forever [default: 0].
    #[arg(long, env = "STEWARD_AUDIT_RETENTION_DAYS", value_name = "DAYS")]
    audit_retention_days: Option<u32>,
    /// How often audit records of reads and refusals are written; the most a crash can lose
    /// [default: 200].
    #[arg(
        long,
        env = "STEWARD_AUDIT_FLUSH_MILLISECONDS",
        value_name = "MILLISECONDS"
    )]
    audit_flush_milliseconds: Option<u64>,
    /// How often the audit log is sealed and a checkpoint signed [default: 2000].
    #[arg(
        long,
        env = "STEWARD_AUDIT_SEAL_INTERVAL_MILLISECONDS",
        value_name = "MILLISECONDS"
    )]
    audit_seal_interval_milliseconds: Option<u64>,
    /// The audit checkpoint signing key, created on first start; the same on every node
    /// [default: <data-dir>/audit-signing.key].
    #[arg(long, env = "STEWARD_AUDIT_KEY_FILE", value_name = "PATH")]
    audit_key_file: Option<PathBuf>,
    /// Extra CA certificates (PEM) trusted for `https` webhook callbacks, e.g. a private CA.
    #[arg(long, env = "STEWARD_WEBHOOK_CA_FILE", value_name = "PATH")]
    webhook_ca_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key). Without it the server
    /// speaks plain HTTP, e.g. behind a TLS-terminating reverse proxy.
    #[arg(
        long = "tls-cert",
        env = "STEWARD_TLS_CERT_FILE",
        value_name = "PATH",
        requires = "tls_key_file"
    )]
    tls_cert_file: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long = "tls-key",
        env = "STEWARD_TLS_KEY_FILE",
        value_name = "PATH",
        requires = "tls_cert_file"
    )]
    tls_key_file: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers or finish a TLS handshake
    /// [default: 10].
    #[arg(long, env = "STEWARD_HEADER_TIMEOUT_SECONDS", value_name = "SECONDS")]
    header_timeout_seconds: Option<u64>,
    /// Seconds a client may take to send a request's body [default: 30].
    #[arg(long, env = "STEWARD_BODY_TIMEOUT_SECONDS", value_name = "SECONDS")]
    body_timeout_seconds: Option<u64>,
    /// Requests per second each account may make on this node (token bucket; 0 = unlimited)
    /// [default: 0].
    #[arg(long, env = "STEWARD_RATE_LIMIT_PER_SECOND", value_name = "N")]
    rate_limit_per_second: Option<u32>,
    /// Requests an account may make at once (token bucket size; 0 = one second's worth)
    /// [default: 0].
    #[arg(long, env = "STEWARD_RATE_LIMIT_BURST", value_name = "N")]
    rate_limit_burst: Option<u32>,
    /// Alive twins an account may own (0 = unlimited) [default: 0].
    #[arg(long, env = "STEWARD_QUOTA_MAX_TWINS", value_name = "N")]
    quota_max_twins: Option<u64>,
    /// Entries one ledger may hold (0 = unlimited) [default: 0].
    #[arg(long, env = "STEWARD_QUOTA_MAX_LEDGER_ENTRIES", value_name = "N")]
    quota_max_ledger_entries: Option<u32>,
    /// Bytes all ledgers of an account may take (0 = unlimited) [default: 0].
    #[arg(long, env = "STEWARD_QUOTA_MAX_STORED_BYTES", value_name = "BYTES")]
    quota_max_stored_bytes: Option<u64>,
    /// Log filter, e.g. `info` or `steward_http=debug,info` [default: info].
    #[arg(long, env = "STEWARD_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "STEWARD_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

const IMPLICIT_CONFIG_FILE: &str = "steward.toml";

/// Loads the configuration and runs the server until SIGINT/SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config_file = args.config.clone().or_else(|| {
        Path::new(IMPLICIT_CONFIG_FILE)
            .is_file()
            .then(|| PathBuf::from(IMPLICIT_CONFIG_FILE))
    });
    let overrides = ConfigOverrides {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        max_connections: args.max_connections,
        shutdown_grace_seconds: args.shutdown_grace_seconds,
        pin_lifetime_seconds: args.pin_lifetime_seconds,
        housekeeping_interval_seconds: args.housekeeping_interval_seconds,
        object_cache_ttl_milliseconds: args.object_cache_ttl_milliseconds,
        public_url: args.public_url,
        webhook_allow_loopback: args.webhook_allow_loopback,
        event_retention_seconds: args.event_retention_seconds,
        event_stream_capacity: args.event_stream_capacity,
        webhook_lease_seconds: args.webhook_lease_seconds,
        audit_enabled: args.audit_enabled,
        audit_retention_days: args.audit_retention_days,
        audit_flush_milliseconds: args.audit_flush_milliseconds,
        audit_seal_interval_milliseconds: args.audit_seal_interval_milliseconds,
        audit_key_file: args.audit_key_file,
        webhook_ca_file: args.webhook_ca_file,
        tls_cert_file: args.tls_cert_file,
        tls_key_file: args.tls_key_file,
        header_timeout_seconds: args.header_timeout_seconds,
        body_timeout_seconds: args.body_timeout_seconds,
        rate_limit_per_second: args.rate_limit_per_second,
        rate_limit_burst: args.rate_limit_burst,
        quota_max_twins: args.quota_max_twins,
        quota_max_ledger_entries: args.quota_max_ledger_entries,
        quota_max_stored_bytes: args.quota_max_stored_bytes,
        log: args.log,
        log_format: args.log_format,
    };
    let config = Config::load(config_file.as_deref(), &overrides)?;
    init_tracing(&config)?;
    // Read from the environment only: a flag would show the token in the process list.
    let operator_token = std::env::var("STEWARD_OPERATOR_TOKEN")
        .ok()
        .filter(|token| !token.is_empty());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Signal handlers first: a SIGTERM right after the "listening" line must not be lost.
        let shutdown =
            steward_server::shutdown_signal().context("cannot install signal handlers")?;
        let scheme = if config.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        steward_server::serve(config, operator_token, shutdown, |handle| {
            // Printed so scripts (and tests) can find the bound port when listening on :0.
            println!("steward listening on {scheme}://{}", handle.local_addr);
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn init_tracing(config: &Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .with_context(|| format!("invalid log filter `{}`", config.log))?;
    // Colours only for people at a terminal; files and log collectors get plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}
