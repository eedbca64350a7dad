//! The audit middleware: every API request (except health, readiness, metrics and the OpenAPI
//! document) produces one audit record, named by its Trusted Twin operation id (and a read that
//! returned several accounts' data one more per other data owner).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use steward_core::audit::AuditScope;

use crate::AppState;

/// Routes that are not audited: probes and documents with no tenant data.
const NOT_AUDITED: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// (method, route template) → operation id, from the OpenAPI document.
fn operations() -> &'static HashMap<(String, String), String> {
    static OPERATIONS: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let mut map = HashMap::new();
        let document: serde_json::Value =
            serde_json::from_str(crate::openapi_document()).unwrap_or_default();
        if let Some(paths) = document["paths"].as_object() {
            for (path, methods) in paths {
                for (method, operation) in methods.as_object().into_iter().flatten() {
                    if let Some(id) = operation["operationId"].as_str() {
                        map.insert((method.to_uppercase(), path.clone()), id.to_owned());
                    }
                }
            }
        }
        map
    })
}

/// The operation id of a request, or a stable name when the route is not in the document.
fn operation_of(request: &Request) -> Option<String> {
    let Some(template) = request.extensions().get::<MatchedPath>() else {
        return Some("unmatched".to_owned());
    };
    if NOT_AUDITED.contains(&template.as_str()) {
        return None;
    }
    let key = (
        request.method().as_str().to_owned(),
        template.as_str().to_owned(),
    );
    Some(
        operations()
            .get(&key)
            .cloned()
            .unwrap_or_else(|| format!("{} {}", key.0, key.1)),
    )
}

/// Runs the request inside an audit scope and queues its records when the answer is ready
/// (unless a write stored them in its own transaction).
pub(crate) async fn audit_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.steward.audit_enabled() {
        return next.run(request).await;
    }
    let Some(operation) = operation_of(&request) else {
        return next.run(request).await;
    };
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let scope = AuditScope::new(&operation, &request_id, client, state.steward.now());
    let response = scope.run(next.run(request)).await;
    // The request's record, and one per other data owner when it returned several accounts'
    // data (none when a write stored them with its transaction).
    for record in scope.finish(response.status().as_u16(), state.steward.now()) {
        state.steward.record_audit(record).await;
    }
    response
}
