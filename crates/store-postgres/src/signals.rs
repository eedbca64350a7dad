//! Change signals between nodes: `NOTIFY` on [`ChangeSignal::CHANNEL`] sent inside the
//! transaction of the change (so PostgreSQL delivers it exactly when, and only if, the change
//! commits), and [`ChangeListener`], which receives them.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgConnection;
use steward_store::{ChangeSignal, StoreError};

use crate::error::database_error;
use crate::{PostgresStore, ACQUIRE_TIMEOUT};

/// How long the listener waits before trying a lost connection again.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Queues `signals` for delivery when the caller's transaction commits (they are dropped if it
/// rolls back). PostgreSQL folds identical signals of one transaction into one.
pub(crate) async fn send_signals(
    connection: &mut PgConnection,
    signals: impl IntoIterator<Item = ChangeSignal>,
) -> Result<(), StoreError> {
    let mut payloads: Vec<String> = signals.into_iter().map(|signal| signal.encode()).collect();
    payloads.sort_unstable();
    payloads.dedup();
    if payloads.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::TEXT[]) AS payload")
        .bind(ChangeSignal::CHANNEL)
        .bind(payloads)
        .execute(connection)
        .await
        .map_err(database_error)?;
    Ok(())
}

/// Queues one signal for delivery when the caller's transaction commits.
pub(crate) async fn send_signal(
    connection: &mut PgConnection,
    signal: ChangeSignal,
) -> Result<(), StoreError> {
    send_signals(connection, [signal]).await
}

/// Receives the change signals every node of the database sends, this one's included.
///
/// It holds one connection of its own, outside the store's pool: listening never takes a
/// connection from the store, and closing the store does not wait for the listener.
#[derive(Debug)]
pub struct ChangeListener {
    options: PgConnectOptions,
    /// `None` after the connection was lost, until it is back.
    listener: Option<PgListener>,
}

impl PostgresStore {
    /// Starts listening for change signals on a connection of its own to the store's
    /// database. Fails when the database cannot be reached now; later losses of the connection
    /// are handled by [`ChangeListener::next`].
    pub async fn listen_changes(&self) -> Result<ChangeListener, StoreError> {
        let options = (*self.pool.connect_options()).clone();
        let listener = listen(&options).await.map_err(database_error)?;
        Ok(ChangeListener {
            options,
            listener: Some(listener),
        })
    }
}

/// A listener subscribed to [`ChangeSignal::CHANNEL`] on a new connection. Each (re)connection
/// gets a one-connection pool of its own, so a lost connection that is still being torn down
/// never holds up the next one.
async fn listen(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    // Nobody closes this pool while the listener runs.
    listener.ignore_pool_close_event(true);
    listener.listen(ChangeSignal::CHANNEL).await?;
    Ok(listener)
}

impl ChangeListener {
    /// Waits for the next signal. Never fails: when the connection is lost it tries again every
    /// half second and, once listening again, answers [`ChangeSignal::Resync`], since signals
    /// sent in between were lost. A payload this version does not know is `Resync` too.
    pub async fn next(&mut self) -> ChangeSignal {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listen(&self.options).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        return ChangeSignal::Resync;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "change listener cannot reconnect");
                        tokio::time::sleep(RECONNECT_DELAY).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => return ChangeSignal::decode(notification.payload()),
                // sqlx reconnected (and listens again) before answering `None`.
                Ok(None) => {
                    tracing::info!("change listener reconnected; signals may have been lost");
                    return ChangeSignal::Resync;
                }
                Err(error) => {
                    // Start over on a new connection: whatever state this one is in, it is not
                    // trusted to deliver again.
                    tracing::warn!(%error, "change listener lost its connection");
                    self.listener = None;
                    tokio::time::sleep(RECONNECT_DELAY).await;
                }
            }
        }
    }
}
