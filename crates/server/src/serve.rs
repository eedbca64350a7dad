//! Serving: open the store, build the router, serve until a shutdown signal, then let
//! in-flight requests finish within the grace period and close the pool.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use std::path::Path;

use steward_core::audit::seal::AuditSigner;
use steward_core::Steward;
use steward_domain::SystemClock;
use steward_http::AppState;
use steward_store::Store;
use steward_store_postgres::{ChangeListener, PostgresStore};
use steward_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::Config;

/// What a started server reports back (used by tests and the CLI).
#[derive(Debug, Clone)]
pub struct ServeHandle {
    /// The address actually bound (differs from the configured one for port 0).
    pub local_addr: SocketAddr,
}

/// Opens the configured backend: PostgreSQL when `database_url` is set, else SQLite in
/// `data_dir`. Migrations are applied on open.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_node_store_with(config, false).await?.0)
}

/// Opens the store of a serving node and, on PostgreSQL, starts listening for the change
/// signals of other nodes sharing the database (before anything is read, so none is missed).
async fn open_node_store(
    config: &Config,
) -> anyhow::Result<(Arc<dyn Store>, Option<ChangeListener>)> {
    open_node_store_with(config, true).await
}

async fn open_node_store_with(
    config: &Config,
    listen: bool,
) -> anyhow::Result<(Arc<dyn Store>, Option<ChangeListener>)> {
    match &config.database_url {
        Some(url) => {
            let store = PostgresStore::connect_with_max_connections(url, config.max_connections)
                .await
                .context("cannot open the PostgreSQL database")?;
            let listener = if listen {
                Some(
                    store
                        .listen_changes()
                        .await
                        .context("cannot listen for other nodes' changes")?,
                )
            } else {
                None
            };
            Ok((Arc::new(store), listener))
        }
        None => {
            let store = SqliteStore::open(&config.data_dir).await.with_context(|| {
                format!(
                    "cannot open the SQLite database in `{}`",
                    config.data_dir.display()
                )
            })?;
            Ok((Arc::new(store), None))
        }
    }
}

/// Runs a node until `shutdown` completes. `on_ready` is called once the listener is bound.
///
/// `operator_token` is the configured operator token, if any; when there is none and the
/// database holds none, a token is generated and printed once on standard output.
pub async fn serve(
    config: Config,
    operator_token: Option<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(ServeHandle),
) -> anyhow::Result<()> {
    let (store, change_listener) = open_node_store(&config).await?;
    tracing::info!(
        backend = store.backend_name(),
        "database opened, migrations applied"
    );
    // Bound before the services start, so webhook management URLs can name the real port
    // when `public_url` is not set (`--listen 127.0.0.1:0`).
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on `{}`", config.listen))?;
    let local_addr = listener.local_addr()?;
    let mut settings = config.service_settings_at(local_addr);
    let signer = load_audit_signer(&config.audit_key_path(), &settings.public_url)?;
    check_audit_key_continues_the_log(store.as_ref(), &signer, &config.audit_key_path()).await?;
    tracing::info!(key = %signer.verifier_key(), "audit checkpoints are signed with this key");
    settings.audit_signer = Some(signer);
    if !config.audit_enabled {
        tracing::warn!(
            "the audit trail is switched off (audit_enabled = false): no operation is recorded"
        );
    }
    let steward = Steward::start(store.clone(), Arc::new(SystemClock), settings)
        .await
        .map_err(|error| anyhow::anyhow!("cannot start services: {error}"))?;
    let operator = steward
        .setup_operator_token(operator_token.as_deref())
        .await
        .map_err(|error| anyhow::anyhow!("operator token: {error}"))?;
    if let Some(token) = &operator.generated_token {
        // Printed, never logged: logs are shipped elsewhere, this line goes to the operator.
        println!("operator token (shown once, store it now): {token}");
    }
    let (stop_auditing, audit_stop) = tokio::sync::watch::channel(false);
    let auditing = tokio::spawn(run_audit(
        steward.clone(),
        Duration::from_millis(config.audit_flush_milliseconds),
        Duration::from_millis(config.audit_seal_interval_milliseconds),
        audit_stop,
    ));
    let metering = tokio::spawn(run_usage_flush(
        steward.clone(),
        Duration::from_millis(config.audit_flush_milliseconds),
        stop_auditing.subscribe(),
    ));
    let housekeeping = tokio::spawn(run_housekeeping(
        steward.clone(),
        Duration::from_secs(config.housekeeping_interval_seconds),
    ));
    let dispatcher = crate::dispatcher::Dispatcher::new(
        steward.clone(),
        config.callback_policy(),
        steward_core::notifications::delivery::RetryPolicy::default(),
        Duration::from_secs(config.webhook_lease_seconds),
        &webhook_roots(config.webhook_ca_file.as_deref())?,
    )?;
    let dispatching = tokio::spawn(crate::dispatcher::run_dispatcher(
        dispatcher,
        Duration::from_millis(250),
    ));
    // Other nodes' changes: drop what this node cached about them, wake the live streams.
    let signals = change_listener.map(|mut listener| {
        let steward = steward.clone();
        tokio::spawn(async move {
            loop {
                let signal = listener.next().await;
                steward.apply_change_signal(signal);
            }
        })
    });
    let state = AppState::new(steward.clone(), operator.auth);

    tracing::info!(
        %local_addr,
        tls = config.tls_cert_file.is_some(),
        "listening"
    );
    on_ready(ServeHandle { local_addr });

    let (shutdown_started_sender, shutdown_started) = oneshot::channel::<()>();
    let serve_options = serve_options(&config)?;
    let server = steward_http::serve(listener, state, serve_options, async move {
        shutdown.await;
        tracing::info!("shutdown requested: no new connections, finishing requests in flight");
        let _ = shutdown_started_sender.send(());
    });
    let mut server_task = tokio::spawn(server);

    let result = tokio::select! {
        finished = &mut server_task => finished.context("server task failed")?.map_err(Into::into),
        _ = shutdown_started => {
            let grace = Duration::from_secs(config.shutdown_grace_seconds);
            match tokio::time::timeout(grace, &mut server_task).await {
                Ok(finished) => finished.context("server task failed")?.map_err(Into::into),
                Err(_) => {
                    tracing::warn!(grace_seconds = config.shutdown_grace_seconds,
                        "grace period over, dropping requests still in flight");
                    server_task.abort();
                    Ok(())
                }
            }
        }
    };
    housekeeping.abort();
    dispatching.abort();
    // Stopped, not aborted: an aborted flush could lose the batch it was writing, or commit
    // it after the last seal below.
    let _ = stop_auditing.send(true);
    let _ = auditing.await;
    let _ = metering.await;
    if let Err(error) = steward.flush_usage().await {
        tracing::warn!(%error, "writing the last usage counters failed");
    }
    // What the requests of this run left queued is written before the store closes.
    if let Err(error) = steward.flush_audit().await {
        tracing::warn!(%error, "writing the last audit records failed");
    }
    if let Err(error) = steward.seal_audit_backlog(SHUTDOWN_SEAL_BATCHES).await {
        tracing::warn!(%error, "sealing the audit log at shutdown failed");
    }
    if let Some(signals) = signals {
        signals.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    result
}

/// Loads the audit signing key from `path`, or creates it there (readable by its owner only)
/// for a log named after `public_url`.
fn load_audit_signer(path: &Path, public_url: &str) -> anyhow::Result<AuditSigner> {
    match std::fs::read_to_string(path) {
        Ok(key) => AuditSigner::parse(&key)
            .map_err(|error| anyhow::anyhow!("`{}`: {error}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let origin = audit_origin(public_url);
            let (signer, key) = AuditSigner::generate(&origin)
                .map_err(|error| anyhow::anyhow!("audit signing key: {error}"))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create `{}`", parent.display()))?;
            }
            write_private(path, &key).with_context(|| {
                format!("cannot write the audit signing key `{}`", path.display())
            })?;
            tracing::info!(path = %path.display(), "created the audit signing key");
            Ok(signer)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Refuses to start when the database's latest audit checkpoint was not signed with this
/// node's key: a node with another key (a missing `audit_key_file`, so a new key was generated
/// in its data directory) would sign checkpoints that `steward audit verify` rejects.
async fn check_audit_key_continues_the_log(
    store: &dyn Store,
    signer: &AuditSigner,
    key_path: &Path,
) -> anyhow::Result<()> {
    let Some(latest) = store
        .latest_audit_checkpoint()
        .await
        .context("cannot read the latest audit checkpoint")?
    else {
        return Ok(());
    };
    if let Err(error) =
        steward_core::audit::seal::open_checkpoint(&latest.note, &signer.verifier_key())
    {
        anyhow::bail!(
            "the audit signing key `{}` did not sign this database's latest audit checkpoint \
             (size {}): {error}. Every node of one database must use the same key file \
             (`audit_key_file`); copy it from the node that created the database.",
            key_path.display(),
            latest.size
        );
    }
    Ok(())
}

/// The audit log's name: the server's address without its scheme, plus `/audit`.
fn audit_origin(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let host: String = host
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '+')
        .collect();
    format!("{host}/audit")
}

/// Writes a new file only its owner may read (it holds a private key); never overwrites.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// The extra CA certificates trusted for webhook callbacks (`webhook_ca_file`).
fn webhook_roots(file: Option<&Path>) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("`{}` holds no valid PEM certificates", file.display()))?;
    if roots.is_empty() {
        anyhow::bail!("`{}` holds no certificates", file.display());
    }
    Ok(roots)
}

/// Writes queued audit records every `flush` and seals the log every `seal`, until `stop`
/// turns true (between two steps, never inside one); failures are logged and retried.
/// Batches of records one sealing tick seals at most (each batch is up to 10,000 records and
/// gets its own checkpoint); the rest waits for the next tick, so flushes are not held up.
const SEAL_BATCHES_PER_TICK: u32 = 10;

/// Batches sealed at shutdown at most: everything up to 10 million records.
const SHUTDOWN_SEAL_BATCHES: u32 = 1_000;

async fn run_audit(
    steward: Steward,
    flush: Duration,
    seal: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut flushing = tokio::time::interval(flush);
    flushing.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sealing = tokio::time::interval(seal);
    sealing.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = flushing.tick() => {
                if let Err(error) = steward.flush_audit().await {
                    tracing::warn!(%error, "writing audit records failed; retrying");
                }
            }
            _ = sealing.tick() => {
                if let Err(error) = steward.seal_audit_backlog(SEAL_BATCHES_PER_TICK).await {
                    tracing::warn!(%error, "sealing the audit log failed; retrying");
                }
            }
        }
    }
}

/// Adds this node's usage counts to the database every `flush` (the audit flush interval),
/// until `stop` turns true (between two flushes, never inside one); failures are logged and the
/// counts kept for the next flush.
async fn run_usage_flush(
    steward: Steward,
    flush: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut flushing = tokio::time::interval(flush);
    flushing.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = flushing.tick() => {
                if let Err(error) = steward.flush_usage().await {
                    tracing::warn!(%error, "writing usage counters failed; retrying");
                }
            }
        }
    }
}

/// Runs housekeeping every `interval` until aborted. A failed pass is logged and retried at
/// the next tick; it never stops the server.
async fn run_housekeeping(steward: Steward, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match steward.housekeeping().await {
            Ok(report) if report != steward_core::HousekeepingReport::default() => {
                tracing::info!(
                    history_records = report.history_records,
                    secret_pins = report.secret_pins,
                    stickers = report.stickers,
                    transactions = report.transactions,
                    subscriptions = report.subscriptions,
                    dead_letters = report.dead_letters,
                    usage_counters = report.usage_counters,
                    log_messages = report.log_messages,
                    "housekeeping removed expired data"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "housekeeping failed; retrying at the next tick"),
        }
    }
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The signal handlers are installed
/// when this is called (it must run inside the Tokio runtime), not when the future is first
/// polled, so a signal sent as soon as the server says it is listening is never missed.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

/// A future that completes on Ctrl-C (platforms without Unix signals).
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

/// How connections are served: TLS when a certificate is configured, and the read timeouts.
fn serve_options(config: &Config) -> anyhow::Result<steward_http::ServeOptions> {
    let tls = match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        _ => None,
    };
    Ok(steward_http::ServeOptions {
        tls,
        header_timeout: Duration::from_secs(config.header_timeout_seconds),
        body_timeout: Duration::from_secs(config.body_timeout_seconds),
    })
}

/// Reads a PEM certificate chain and its private key into a TLS server configuration
/// (TLS 1.2 and 1.3, HTTP/1.1).
pub fn tls_config(
    cert_file: &Path,
    key_file: &Path,
) -> anyhow::Result<Arc<steward_http::rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use steward_http::rustls;

    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot read the TLS certificate `{}`: {error}",
                cert_file.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!(
            "the TLS certificate file `{}` holds no certificate",
            cert_file.display()
        );
    }
    // The key's text is never logged or put into an error message.
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|error| {
        anyhow::anyhow!(
            "cannot read the TLS private key `{}`: {error}",
            key_file.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| {
            format!(
                "the TLS key `{}` does not fit the certificate `{}`",
                key_file.display(),
                cert_file.display()
            )
        })?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}
