//! The audit trail (Steward extension): records, the signed checkpoint and Merkle proofs.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::audit::view::AuditListing;
use steward_core::ErrorCode;
use steward_domain::{AccountId, TwinId, UserId};
use utoipa::OpenApi;

use crate::extract::{timestamp_field, Caller, TtQuery};
use crate::{ApiError, AppState, ErrorBody};

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/audit/checkpoint", get(audit_checkpoint))
        .route("/audit/proof/inclusion", get(inclusion_proof))
        .route("/audit/proof/consistency", get(consistency_proof))
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(list_audit, audit_checkpoint, inclusion_proof, consistency_proof),
    tags((name = "audit", description = "Tamper-evident audit trail (Steward extension)"))
)]
pub(crate) struct AuditApi;

/// Query of `GET /audit`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    twin: Option<String>,
    actor: Option<String>,
    operation: Option<String>,
    outcome: Option<String>,
    ge: Option<f64>,
    le: Option<f64>,
    cursor: Option<u64>,
    limit: Option<u32>,
    log: Option<String>,
    activity: Option<String>,
    user: Option<String>,
}

fn parse_id<T: std::str::FromStr>(raw: Option<String>, field: &str) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        raw.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::RequestFormat,
                format!("`{field}` must be a uuid"),
            )
        })
    })
    .transpose()
}

/// Lists the audit records the caller may read, newest first: every access to its account's
/// data by anyone, and its own accesses to others' data (entries withheld from it are counted,
/// not named). Action `get_audit`.
#[utoipa::path(get, path = "/audit", tag = "audit",
    operation_id = "get_audit",
    security(("user_credential" = [])),
    params(
        ("twin" = Option<String>, Query, description = "Only records about this twin"),
        ("actor" = Option<String>, Query, description = "Only records of this acting account"),
        ("operation" = Option<String>, Query, description = "Only this operation (e.g. `get_twin_ledger_entry`)"),
        ("outcome" = Option<String>, Query, description = "`allowed` or `denied`"),
        ("ge" = Option<f64>, Query, description = "Only records at or after (Unix seconds)"),
        ("le" = Option<f64>, Query, description = "Only records at or before (Unix seconds)"),
        ("cursor" = Option<u64>, Query, description = "The `cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 200 (default 200); a page of a `log` or `activity` may hold fewer, follow `cursor`"),
        ("log" = Option<String>, Query, description = "Only accesses to the account's data that match this log of its `resource_access_log`, each with `log` and rendered `dimensions`"),
        ("activity" = Option<String>, Query, description = "Only the calls of `user` that match this log of the user's `activity`, each with `log` and rendered `dimensions`"),
        ("user" = Option<String>, Query, description = "The user of the caller's account whose `activity` log is asked for"),
    ),
    responses(
        (status = 200, description = "`{\"records\": [...], \"cursor\": seq | null}`", body = Object),
        (status = 400, description = "Invalid query parameter, or no such log", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow `get_audit`", body = ErrorBody),
        (status = 404, description = "`user` is not a user of the caller's account", body = ErrorBody),
    ))]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtQuery(params): TtQuery<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let listing = AuditListing {
        twin: parse_id::<TwinId>(params.twin, "twin")?,
        actor: parse_id::<AccountId>(params.actor, "actor")?,
        operation: params.operation,
        outcome: params.outcome,
        ge: timestamp_field("ge", params.ge)?,
        le: timestamp_field("le", params.le)?,
        cursor: params.cursor,
        limit: params.limit,
        log: params.log,
        activity: params.activity,
        activity_user: parse_id::<UserId>(params.user, "user")?,
    };
    let page = state.steward.list_audit(&principal, listing).await?;
    Ok(Json(
        json!({"records": page.records, "cursor": page.cursor}),
    ))
}

/// The newest signed checkpoint of the audit log (a C2SP signed note, `text/plain`); the
/// `X-Steward-Audit-Key` header carries the key it verifies with. 404 before the first seal.
#[utoipa::path(get, path = "/audit/checkpoint", tag = "audit",
    operation_id = "get_audit_checkpoint",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "The signed checkpoint note", content_type = "text/plain", body = String),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No checkpoint yet", body = ErrorBody),
    ))]
pub(crate) async fn audit_checkpoint(
    State(state): State<AppState>,
    Caller(_principal): Caller,
) -> Result<Response, ApiError> {
    let checkpoint =
        state.steward.audit_checkpoint().await?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, "the audit log has no checkpoint yet")
        })?;
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        checkpoint.note,
    )
        .into_response();
    if let Some(key) = state.steward.audit_verifier_key() {
        if let Ok(value) = HeaderValue::from_str(&key) {
            response.headers_mut().insert("x-steward-audit-key", value);
        }
    }
    Ok(response)
}

/// Query of the inclusion proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionParams {
    index: u64,
    size: u64,
}

/// An RFC 6962 inclusion proof of record `index` in the log of `size` records (a sealed
/// size), for a record the caller may read: `{"index", "size", "leaf_hash", "hashes"}` (base64),
/// plus the record's exact text for its data owner.
#[utoipa::path(get, path = "/audit/proof/inclusion", tag = "audit",
    operation_id = "get_audit_inclusion_proof",
    security(("user_credential" = [])),
    params(
        ("index" = u64, Query, description = "The record's `seq`"),
        ("size" = u64, Query, description = "A sealed log size, e.g. of the latest checkpoint"),
    ),
    responses(
        (status = 200, description = "The proof", body = Object),
        (status = 400, description = "Invalid index or size", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No such record the caller may read", body = ErrorBody),
    ))]
pub(crate) async fn inclusion_proof(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtQuery(params): TtQuery<InclusionParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        state
            .steward
            .audit_inclusion_proof(&principal, params.index, params.size)
            .await?,
    ))
}

/// Query of the consistency proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyParams {
    from: u64,
    to: u64,
}

/// An RFC 6962 consistency proof that the log of `to` records extends the log of `from`
/// records (both sealed sizes): `{"from", "to", "hashes"}` (base64).
#[utoipa::path(get, path = "/audit/proof/consistency", tag = "audit",
    operation_id = "get_audit_consistency_proof",
    security(("user_credential" = [])),
    params(
        ("from" = u64, Query, description = "The older size (at least 1)"),
        ("to" = u64, Query, description = "The newer size"),
    ),
    responses(
        (status = 200, description = "The proof", body = Object),
        (status = 400, description = "Invalid sizes", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ))]
pub(crate) async fn consistency_proof(
    State(state): State<AppState>,
    Caller(_principal): Caller,
    TtQuery(params): TtQuery<ConsistencyParams>,
) -> Result<Json<Value>, ApiError> {
    use base64::Engine as _;
    let hashes = state
        .steward
        .audit_consistency_hashes(params.from, params.to)
        .await?;
    let hashes: Vec<String> = hashes
        .iter()
        .map(|hash| base64::engine::general_purpose::STANDARD.encode(hash))
        .collect();
    Ok(Json(
        json!({"from": params.from, "to": params.to, "hashes": hashes}),
    ))
}
