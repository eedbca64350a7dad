//! The caller's account and identity.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::AccountBody;
use crate::extract::{Caller, TtJson};
use crate::{ApiError, AppState, ErrorBody};

/// `GET /whoami`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WhoAmIBody {
    account: String,
    user: String,
    role: String,
}

/// `PATCH /account`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateAccountBody {
    #[schema(value_type = Option<Object>)]
    resource_access_log: Option<Value>,
}

/// Who the credential belongs to (`who_am_i`).
#[utoipa::path(get, path = "/whoami", tag = "account", operation_id = "who_am_i",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "The caller", body = WhoAmIBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ))]
pub(crate) async fn who_am_i(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<WhoAmIBody>, ApiError> {
    state.steward.who_am_i(&principal)?;
    Ok(Json(WhoAmIBody {
        account: principal.account.to_string(),
        user: principal.user.id.to_string(),
        role: principal.role.id.to_string(),
    }))
}

/// The caller's account (`get_account`).
#[utoipa::path(get, path = "/account", tag = "account", operation_id = "get_account",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "The account", body = AccountBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn get_account(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<AccountBody>, ApiError> {
    Ok(Json(
        state.steward.get_caller_account(&principal).await?.into(),
    ))
}

/// Updates the Resource Access Log configuration (`update_account`).
#[utoipa::path(patch, path = "/account", tag = "account", operation_id = "update_account",
    security(("user_credential" = [])),
    request_body = UpdateAccountBody,
    responses(
        (status = 200, description = "The account", body = AccountBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn update_account(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJson(body): TtJson<UpdateAccountBody>,
) -> Result<Json<AccountBody>, ApiError> {
    let account = state
        .steward
        .update_caller_account(&principal, body.resource_access_log)
        .await?;
    Ok(Json(account.into()))
}
