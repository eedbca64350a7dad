//! Liveness, readiness, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// Body of the health endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HealthStatus {
    /// `ok`, or `unavailable` when a dependency is down.
    status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The process is up", body = HealthStatus)))]
pub(crate) async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// The process can serve requests: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "The database answers", body = HealthStatus),
        (status = 503, description = "The database does not answer", body = HealthStatus),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthStatus>) {
    if state.steward.database_ready().await {
        (StatusCode::OK, Json(HealthStatus { status: "ok" }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthStatus {
                status: "unavailable",
            }),
        )
    }
}

/// Request counters and latency histograms in Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::openapi_document(),
    )
        .into_response()
}
