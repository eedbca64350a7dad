//! The usage middleware: counts every API request for its authenticated caller
//! (`request_count`, `rest_count`, and `db_read_cost` or `db_write_cost` by method) into the
//! node's usage meter. Requests without a caller (probes, the operator API, failed
//! authentication) are not counted.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use steward_core::usage::UsageScope;

use crate::AppState;

/// Runs the request inside a usage scope and counts it once the answer is ready.
pub(crate) async fn meter_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let writing = !matches!(*request.method(), Method::GET | Method::HEAD);
    let scope = UsageScope::default();
    let response = scope.run(next.run(request)).await;
    state.steward.record_request_usage(&scope, writing);
    response
}
