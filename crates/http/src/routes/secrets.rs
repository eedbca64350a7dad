//! Secrets: the PIN flow and a user's secret metadata.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use steward_domain::{AccountId, UserId};
use utoipa::ToSchema;

use super::dto::{IssuedSecretBody, SecretBody};
use crate::extract::{parse_path_id, timestamp_field, Caller, TtJson, TtJsonOrEmpty, TtPath};
use crate::{ApiError, AppState, ErrorBody};

/// `validity_ts` of a secret: Unix seconds, or `null` for no expiry.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidityBody {
    #[serde(default)]
    pub(crate) validity_ts: Option<f64>,
}

/// `POST /users/{user}/secrets`.
// No `Debug`: the body carries a credential that must never reach a log.
#[derive(Serialize, ToSchema)]
pub(crate) struct PinBody {
    pin: String,
}

/// Creates a single-use PIN for the user's next secret (`create_user_secret_pin`).
#[utoipa::path(post, path = "/users/{user}/secrets", tag = "secrets",
    operation_id = "create_user_secret_pin",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    request_body(content = ValidityBody, description = "Validity of the secret to be created (optional)"),
    responses(
        (status = 201, description = "The PIN", body = PinBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user in this account", body = ErrorBody),
    ))]
pub(crate) async fn create_pin(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
    TtJsonOrEmpty(body): TtJsonOrEmpty<ValidityBody>,
) -> Result<(StatusCode, Json<PinBody>), ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    let validity = timestamp_field("validity_ts", body.validity_ts)?;
    let created = state
        .steward
        .create_secret_pin(&principal, user, validity)
        .await?;
    Ok((StatusCode::CREATED, Json(PinBody { pin: created.pin })))
}

/// Redeems a PIN for a new secret; needs no credentials (`create_user_secret`).
#[utoipa::path(post, path = "/secrets/{account}/{pin}", tag = "secrets",
    operation_id = "create_user_secret",
    params(
        ("account" = String, Path, description = "Account uuid"),
        ("pin" = String, Path, description = "The PIN"),
    ),
    responses(
        (status = 201, description = "The new secret, shown only now", body = IssuedSecretBody),
        (status = 400, description = "Malformed path (not valid percent-encoded UTF-8)", body = ErrorBody),
        (status = 404, description = "Wrong, used or expired PIN", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this account", body = ErrorBody),
    ))]
pub(crate) async fn redeem_pin(
    State(state): State<AppState>,
    TtPath((account, pin)): TtPath<(String, String)>,
) -> Result<(StatusCode, Json<IssuedSecretBody>), ApiError> {
    // A malformed account cannot hold the PIN: answer like a wrong PIN.
    let account = account
        .parse::<AccountId>()
        .map_err(|_| ApiError(steward_core::Error::not_found("pin")))?;
    let issued = state.steward.redeem_secret_pin(account, &pin).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// A user's secret metadata (`get_user_secret`).
#[utoipa::path(get, path = "/users/{user}/secrets", tag = "secrets",
    operation_id = "get_user_secret",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    responses(
        (status = 200, description = "The secret's metadata", body = SecretBody),
        (status = 400, description = "Invalid user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user or secret in this account", body = ErrorBody),
    ))]
pub(crate) async fn get_secret(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
) -> Result<Json<SecretBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    Ok(Json(
        state
            .steward
            .get_user_secret(&principal, user)
            .await?
            .into(),
    ))
}

/// Changes a secret's validity (`update_user_secret`).
#[utoipa::path(patch, path = "/users/{user}/secrets", tag = "secrets",
    operation_id = "update_user_secret",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    request_body = ValidityBody,
    responses(
        (status = 200, description = "The secret's metadata", body = SecretBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user or secret in this account", body = ErrorBody),
    ))]
pub(crate) async fn update_secret(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
    TtJson(body): TtJson<ValidityBody>,
) -> Result<Json<SecretBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    let validity = timestamp_field("validity_ts", body.validity_ts)?;
    let secret = state
        .steward
        .update_user_secret(&principal, user, validity)
        .await?;
    Ok(Json(secret.into()))
}

/// Revokes a user's secret and every token minted from it (`delete_user_secret`).
#[utoipa::path(delete, path = "/users/{user}/secrets", tag = "secrets",
    operation_id = "delete_user_secret",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    responses(
        (status = 200, description = "The revoked secret's metadata", body = SecretBody),
        (status = 400, description = "Invalid user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user or secret in this account", body = ErrorBody),
    ))]
pub(crate) async fn delete_secret(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
) -> Result<Json<SecretBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    Ok(Json(
        state
            .steward
            .delete_user_secret(&principal, user)
            .await?
            .into(),
    ))
}
