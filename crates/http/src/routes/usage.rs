//! Usage, the account log and traces (Trusted Twin's `get_account_usage`, `get_user_usage`,
//! `get_log`, `trace`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use steward_domain::UserId;
use utoipa::OpenApi;

use crate::extract::{parse_path_id, Caller, TtPath, TtQuery};
use crate::{ApiError, AppState, ErrorBody};

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/usage", get(get_account_usage))
        .route("/usage/{user}", get(get_user_usage))
        .route("/log", get(get_log))
        .route("/trace", post(trace))
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(get_account_usage, get_user_usage, get_log, trace),
    tags((name = "usage", description = "Usage counters, the account log and traces"))
)]
pub(crate) struct UsageApi;

/// Query of `GET /log`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogParams {
    fragment: Option<String>,
}

/// The account's usage not caused by any user (webhook deliveries: `task_publish_topic_count`)
/// in the current hour and, when it has any, the previous one.
#[utoipa::path(get, path = "/usage", tag = "usage",
    operation_id = "get_account_usage",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "`{\"usage\": {\"YYYY-MM-DD-HH\": {counter: number}}}`", body = Object),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow `get_account_usage`", body = ErrorBody),
    ))]
pub(crate) async fn get_account_usage(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Value>, ApiError> {
    let usage = state.steward.get_account_usage(&principal).await?;
    Ok(Json(json!({ "usage": usage })))
}

/// The usage of a user of the caller's account (requests, read and write operations, twins
/// created and terminated, identities added) in the current hour and, when it has any, the
/// previous one.
#[utoipa::path(get, path = "/usage/{user}", tag = "usage",
    operation_id = "get_user_usage",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    responses(
        (status = 200, description = "`{\"usage\": {\"YYYY-MM-DD-HH\": {counter: number}}}`", body = Object),
        (status = 400, description = "The user is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow `get_user_usage`", body = ErrorBody),
        (status = 404, description = "No such user in this account", body = ErrorBody),
    ))]
pub(crate) async fn get_user_usage(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
) -> Result<Json<Value>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    let usage = state.steward.get_user_usage(&principal, user).await?;
    Ok(Json(json!({ "usage": usage })))
}

/// Messages of the account log (dead-lettered webhook messages, trace stages), oldest first,
/// at most 100; pass the answer's `fragment` to continue after them.
#[utoipa::path(get, path = "/log", tag = "usage",
    operation_id = "get_log",
    security(("user_credential" = [])),
    params(
        ("fragment" = Option<String>, Query, description = "The `fragment` of the previous answer"),
    ),
    responses(
        (status = 200, description = "`{\"fragment\": \"...\", \"messages\": [\"...\"]}`", body = Object),
        (status = 400, description = "Not a fragment this server returned", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow `get_log`", body = ErrorBody),
    ))]
pub(crate) async fn get_log(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtQuery(params): TtQuery<LogParams>,
) -> Result<Json<Value>, ApiError> {
    let page = state
        .steward
        .get_log(&principal, params.fragment.as_deref())
        .await?;
    Ok(Json(
        json!({ "fragment": page.fragment, "messages": page.messages }),
    ))
}

/// Starts a diagnostic task that logs the stages of the processing pipeline to the account
/// log (`<time> INFO trace <request id> <stage>: <detail>`, stages `received`, `store`,
/// `webhooks`, `audit`, `completed`); answers at once with `{}`.
#[utoipa::path(post, path = "/trace", tag = "usage",
    operation_id = "trace",
    security(("user_credential" = [])),
    responses(
        (status = 201, description = "`{}`: the task was started", body = Object),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow `trace`", body = ErrorBody),
    ))]
pub(crate) async fn trace(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The id the request-id middleware gave (or the client sent): the trace's messages carry
    // it, so they can be matched with this request.
    let request_id = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    state.steward.trace(&principal, request_id)?;
    Ok((StatusCode::CREATED, Json(json!({}))))
}
