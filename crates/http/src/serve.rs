//! The connection loop: HTTP/1.1 over plain TCP or TLS (rustls), with the limits that protect a
//! node from slow and oversized requests before they reach the router.
//!
//! * The request head (request line and headers) must arrive within the header timeout, or the
//!   connection is closed: a client that trickles its headers (slow loris) holds a connection
//!   for at most that long.
//! * The body must arrive within the body timeout; a late body is 400 / 400793.
//! * The head may take at most [`MAX_HEAD_BYTES`] of buffer (hyper answers 431 beyond), and the
//!   headers at most [`MAX_HEADER_BYTES`] in all (400 / 400141 with a Trusted Twin body).
//! * A TLS handshake must finish within the header timeout as well.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use steward_core::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::ApiError;

/// The most a request's head may occupy in the connection's read buffer; larger heads get
/// 431 from hyper before any handler runs.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most all header names and values of a request may add up to: 16 kB (16,384 bytes).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// Serve HTTPS with this configuration instead of plain HTTP.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// How long a client may take to send a request head (and to finish a TLS handshake).
    pub header_timeout: Duration,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            tls: None,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServeOptions")
            .field("tls", &self.tls.is_some())
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .finish()
    }
}

/// Accepts connections on `listener` and serves `router` on them until `shutdown` completes;
/// then stops accepting and waits for the connections' requests in flight to finish (the
/// caller bounds that wait).
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(RequestBodyTimeoutLayer::new(options.body_timeout));
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            remote,
            header_timeout: options.header_timeout,
            watcher: graceful.watcher(),
        };
        match &acceptor {
            None => {
                tokio::spawn(connection.serve(stream));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(connection.header_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(stream)) => connection.serve(stream).await,
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %remote, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One accepted connection.
struct Connection {
    router: Router,
    remote: SocketAddr,
    header_timeout: Duration,
    watcher: Watcher,
}

impl Connection {
    async fn serve<Io>(self, io: Io)
    where
        Io: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let Self {
            router,
            remote,
            header_timeout,
            watcher,
        } = self;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            async move { Ok::<_, Infallible>(handle(router, remote, request).await) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(MAX_HEAD_BYTES)
            .serve_connection(TokioIo::new(io), service);
        if let Err(error) = watcher.watch(connection).await {
            tracing::debug!(%error, %remote, "connection ended with an error");
        }
    }
}

/// Checks the size of the headers, then hands the request to the router.
async fn handle(router: Router, remote: SocketAddr, request: Request<Incoming>) -> Response<Body> {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            ErrorCode::QuotaViolation,
            format!(
                "request headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are \
                 allowed"
            ),
        )
        .into_response();
    }
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(ConnectInfo(remote));
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}
