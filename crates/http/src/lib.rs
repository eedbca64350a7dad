//! Steward's HTTP surface: the axum router, extractors, Trusted Twin error bodies, metrics and
//! the OpenAPI document.
//!
//! Handlers are thin: extract, call one `steward-core` service method, map the result to a
//! response DTO. No SQL, no access decisions and no business rules live here. This is the only
//! crate that knows axum.

mod audit;
mod error;
mod extract;
mod metrics;
mod openapi;
mod routes;
mod serve;
#[cfg(test)]
mod tests;
mod usage;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::Router;
use steward_core::{OperatorAuth, Steward};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ErrorBody};
pub use metrics::HttpMetrics;
pub use openapi::openapi_document;
pub use serve::{ServeOptions, MAX_HEADER_BYTES, MAX_HEAD_BYTES};
pub use tokio_rustls::rustls;

/// Largest accepted request body: 64 kB (65,536 bytes); larger bodies get 400 / 400141.
pub const MAX_BODY_BYTES: usize = 65_536;

/// Everything handlers need, shared by all requests of one node.
#[derive(Clone)]
pub struct AppState {
    /// The services.
    pub steward: Steward,
    /// Verifies operator tokens for the `/operator/…` API.
    pub operator: OperatorAuth,
    /// Request counters and latency histograms.
    pub metrics: Arc<HttpMetrics>,
}

impl AppState {
    /// State with fresh metrics.
    pub fn new(steward: Steward, operator: OperatorAuth) -> Self {
        Self {
            steward,
            operator,
            metrics: Arc::new(HttpMetrics::new()),
        }
    }
}

/// The complete router with every middleware: request id, tracing span per request with the
/// matched route, metrics, panic catching and the body limit.
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let audit_state = state.clone();
    let usage_state = state.clone();
    routes::routes()
        .fallback(routes::fallback::route_not_found)
        .method_not_allowed_fallback(routes::fallback::route_not_found)
        .with_state(state)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            usage_state,
            usage::meter_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            audit_state,
            audit::audit_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::record_request,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = metrics::route_label(request);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
    )
}

/// Serves the API on `listener` until `shutdown` completes, then stops accepting and waits for
/// requests in flight (the caller bounds that wait). `options` chooses plain HTTP or TLS and
/// the read timeouts (see [`ServeOptions`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let steward = state.steward.clone();
    serve::serve_connections(listener, router(state), options, async move {
        shutdown.await;
        // Live event streams never end by themselves; end them so the shutdown's wait
        // for open connections is not spent on them.
        steward.close_event_streams();
    })
    .await
}
