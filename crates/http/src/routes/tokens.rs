//! User tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use steward_core::TokenRequest;
use utoipa::ToSchema;

use super::dto::TokenBody;
use super::secrets::ValidityBody;
use crate::extract::{timestamp_field, Caller, TtJsonOrEmpty};
use crate::{ApiError, AppState, ErrorBody};

/// `POST /token`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTokenBody {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    secret_dict: Option<Map<String, Value>>,
    #[serde(default)]
    options: Option<Vec<String>>,
    #[serde(default)]
    validity_ts: Option<f64>,
}

/// Mints a token for the caller (`create_user_token`).
#[utoipa::path(post, path = "/token", tag = "tokens", operation_id = "create_user_token",
    security(("user_credential" = [])),
    request_body = CreateTokenBody,
    responses(
        (status = 201, description = "The token", body = TokenBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    ))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJsonOrEmpty(body): TtJsonOrEmpty<CreateTokenBody>,
) -> Result<(StatusCode, Json<TokenBody>), ApiError> {
    let request = TokenRequest {
        secret_dict: body.secret_dict.unwrap_or_default(),
        options: body.options.unwrap_or_default(),
        validity_ts: timestamp_field("validity_ts", body.validity_ts)?,
    };
    let token = state.steward.create_token(&principal, request).await?;
    Ok((StatusCode::CREATED, Json(TokenBody::created(token))))
}

/// Refreshes the calling token (`refresh_user_token`).
#[utoipa::path(post, path = "/token/refresh", tag = "tokens", operation_id = "refresh_user_token",
    security(("user_credential" = [])),
    request_body = ValidityBody,
    responses(
        (status = 201, description = "The refreshed token", body = TokenBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not a token with the `refresh` option", body = ErrorBody),
    ))]
pub(crate) async fn refresh_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJsonOrEmpty(body): TtJsonOrEmpty<ValidityBody>,
) -> Result<(StatusCode, Json<TokenBody>), ApiError> {
    let validity = timestamp_field("validity_ts", body.validity_ts)?;
    let token = state.steward.refresh_token(&principal, validity).await?;
    Ok((StatusCode::CREATED, Json(TokenBody::refreshed(token))))
}
