//! Prometheus metrics: request counts and latency histograms by method, route template and
//! status. Each router owns its registry, so tests never share global state.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of every HTTP metric. `route` is the route template, never the raw path, so ids in
/// paths cannot blow up the number of series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

/// The HTTP metrics of one node.
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    durations: HistogramFamily,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpMetrics {
    /// Fresh counters and histograms in their own registry.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("steward");
        let requests = Family::<HttpLabels, Counter>::default();
        let durations: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status",
            durations.clone(),
        );
        Self {
            registry,
            requests,
            durations,
        }
    }

    /// The metrics in Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        text
    }

    fn observe(&self, labels: HttpLabels, seconds: f64) {
        self.requests.get_or_create(&labels).inc();
        self.durations.get_or_create(&labels).observe(seconds);
    }
}

/// The route template of a request, or `unmatched` for requests no route took.
pub(crate) fn route_label<B>(request: &axum::http::Request<B>) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned())
}

/// Middleware that counts and times every request.
pub(crate) async fn record_request(
    State(metrics): State<Arc<HttpMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = route_label(&request);
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16().to_string(),
    };
    metrics.observe(labels, started.elapsed().as_secs_f64());
    response
}
