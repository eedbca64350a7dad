//! Users of the caller's account.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_core::UserPatch;
use steward_domain::{RoleId, UserId};
use utoipa::ToSchema;

use super::dto::UserBody;
use crate::extract::{parse_path_id, present, Caller, TtJson, TtPath};
use crate::{ApiError, AppState, ErrorBody};

/// One entry of `GET /users`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserSummary {
    name: String,
    role: String,
    created_ts: f64,
    updated_ts: f64,
}

/// `GET /users`: users by uuid.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserListBody {
    users: BTreeMap<String, UserSummary>,
}

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUserBody {
    name: String,
    role: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    description: Option<Map<String, Value>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    activity: Option<Value>,
}

/// `PATCH /users/{user}`: present fields replace the stored ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    description: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    activity: Option<Option<Value>>,
}

/// Lists the account's users (`get_users`).
#[utoipa::path(get, path = "/users", tag = "users", operation_id = "get_users",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "Users by uuid", body = UserListBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<UserListBody>, ApiError> {
    let users = state.steward.list_users(&principal).await?;
    let users = users
        .into_iter()
        .map(|user| {
            let summary = UserSummary {
                name: user.name,
                role: user.role.to_string(),
                created_ts: user.created_ts.as_tt_seconds(),
                updated_ts: user.updated_ts.as_tt_seconds(),
            };
            (user.id.to_string(), summary)
        })
        .collect();
    Ok(Json(UserListBody { users }))
}

/// Creates a user (`create_user`).
#[utoipa::path(post, path = "/users", tag = "users", operation_id = "create_user",
    security(("user_credential" = [])),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The new user", body = UserBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or the role grants more than the caller holds", body = ErrorBody),
        (status = 404, description = "No such role in this account", body = ErrorBody),
    ))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJson(body): TtJson<CreateUserBody>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let role = parse_path_id::<RoleId>(&body.role, "role")?;
    let user = state
        .steward
        .create_user(
            &principal,
            body.name,
            role,
            body.description.unwrap_or_default(),
            body.activity,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Shows a user (`get_user`).
#[utoipa::path(get, path = "/users/{user}", tag = "users", operation_id = "get_user",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    responses(
        (status = 200, description = "The user", body = UserBody),
        (status = 400, description = "Invalid user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user in this account", body = ErrorBody),
    ))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
) -> Result<Json<UserBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    Ok(Json(state.steward.get_user(&principal, user).await?.into()))
}

/// Updates a user (`update_user`).
#[utoipa::path(patch, path = "/users/{user}", tag = "users", operation_id = "update_user",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The updated user", body = UserBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or the role grants more than the caller holds", body = ErrorBody),
        (status = 404, description = "No such user or role in this account", body = ErrorBody),
    ))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
    TtJson(body): TtJson<UpdateUserBody>,
) -> Result<Json<UserBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    let role = body
        .role
        .as_deref()
        .map(|role| parse_path_id::<RoleId>(role, "role"))
        .transpose()?;
    let patch = UserPatch {
        name: body.name,
        role,
        description: body.description,
        activity: body.activity,
    };
    Ok(Json(
        state
            .steward
            .update_user(&principal, user, patch)
            .await?
            .into(),
    ))
}

/// Deletes a user and revokes its secret and tokens (`delete_user`).
#[utoipa::path(delete, path = "/users/{user}", tag = "users", operation_id = "delete_user",
    security(("user_credential" = [])),
    params(("user" = String, Path, description = "User uuid")),
    responses(
        (status = 200, description = "The deleted user", body = UserBody),
        (status = 400, description = "Invalid user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such user in this account", body = ErrorBody),
    ))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(user): TtPath<String>,
) -> Result<Json<UserBody>, ApiError> {
    let user = parse_path_id::<UserId>(&user, "user")?;
    Ok(Json(
        state.steward.delete_user(&principal, user).await?.into(),
    ))
}
