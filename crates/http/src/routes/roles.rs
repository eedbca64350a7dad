//! Roles of the caller's account.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use steward_core::RolePatch;
use steward_domain::RoleId;
use utoipa::ToSchema;

use super::dto::{RoleBody, RulesBody, StatementBody};
use crate::extract::{parse_path_id, Caller, TtJson, TtJsonOrEmpty, TtPath};
use crate::{ApiError, AppState, ErrorBody};

/// One entry of `GET /roles`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleSummary {
    name: String,
    created_ts: f64,
    updated_ts: f64,
}

/// `GET /roles`: roles by uuid.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleListBody {
    roles: BTreeMap<String, RoleSummary>,
}

/// `POST /roles` and `PATCH /roles/{role}`: every part optional; a present part replaces the
/// whole part.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleInputBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    statement: Option<StatementBody>,
    #[serde(default)]
    rules: Option<RulesBody>,
}

impl From<RoleInputBody> for RolePatch {
    fn from(body: RoleInputBody) -> Self {
        Self {
            name: body.name,
            statement: body.statement.map(Into::into),
            rules: body.rules.map(Into::into),
        }
    }
}

/// Lists the account's roles (`get_user_roles`).
#[utoipa::path(get, path = "/roles", tag = "roles", operation_id = "get_user_roles",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "Roles by uuid", body = RoleListBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn list_roles(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<RoleListBody>, ApiError> {
    let roles = state.steward.list_roles(&principal).await?;
    let roles = roles
        .into_iter()
        .map(|role| {
            let summary = RoleSummary {
                name: role.name,
                created_ts: role.created_ts.as_tt_seconds(),
                updated_ts: role.updated_ts.as_tt_seconds(),
            };
            (role.id.to_string(), summary)
        })
        .collect();
    Ok(Json(RoleListBody { roles }))
}

/// Creates a role (`create_user_role`).
#[utoipa::path(post, path = "/roles", tag = "roles", operation_id = "create_user_role",
    security(("user_credential" = [])),
    request_body = RoleInputBody,
    responses(
        (status = 201, description = "The new role", body = RoleBody),
        (status = 400, description = "Invalid body, unknown action or a rule that does not parse", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or the statement grants more than the caller holds", body = ErrorBody),
    ))]
pub(crate) async fn create_role(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJsonOrEmpty(body): TtJsonOrEmpty<RoleInputBody>,
) -> Result<(StatusCode, Json<RoleBody>), ApiError> {
    let patch = RolePatch::from(body);
    let role = state
        .steward
        .create_role(&principal, patch.name, patch.statement, patch.rules)
        .await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// Shows a role (`get_user_role`).
#[utoipa::path(get, path = "/roles/{role}", tag = "roles", operation_id = "get_user_role",
    security(("user_credential" = [])),
    params(("role" = String, Path, description = "Role uuid")),
    responses(
        (status = 200, description = "The role", body = RoleBody),
        (status = 400, description = "Invalid role id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such role in this account", body = ErrorBody),
    ))]
pub(crate) async fn get_role(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(role): TtPath<String>,
) -> Result<Json<RoleBody>, ApiError> {
    let role = parse_path_id::<RoleId>(&role, "role")?;
    Ok(Json(state.steward.get_role(&principal, role).await?.into()))
}

/// Updates a role (`update_user_role`).
#[utoipa::path(patch, path = "/roles/{role}", tag = "roles", operation_id = "update_user_role",
    security(("user_credential" = [])),
    params(("role" = String, Path, description = "Role uuid")),
    request_body = RoleInputBody,
    responses(
        (status = 200, description = "The updated role", body = RoleBody),
        (status = 400, description = "Invalid body, unknown action or a rule that does not parse", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or the statement grants more than the caller holds", body = ErrorBody),
        (status = 404, description = "No such role in this account", body = ErrorBody),
    ))]
pub(crate) async fn update_role(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(role): TtPath<String>,
    TtJson(body): TtJson<RoleInputBody>,
) -> Result<Json<RoleBody>, ApiError> {
    let role = parse_path_id::<RoleId>(&role, "role")?;
    let role = state
        .steward
        .update_role(&principal, role, body.into())
        .await?;
    Ok(Json(role.into()))
}

/// Deletes a role no user holds (`delete_user_role`).
#[utoipa::path(delete, path = "/roles/{role}", tag = "roles", operation_id = "delete_user_role",
    security(("user_credential" = [])),
    params(("role" = String, Path, description = "Role uuid")),
    responses(
        (status = 200, description = "The deleted role", body = RoleBody),
        (status = 400, description = "A user still holds the role (400897)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such role in this account", body = ErrorBody),
    ))]
pub(crate) async fn delete_role(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(role): TtPath<String>,
) -> Result<Json<RoleBody>, ApiError> {
    let role = parse_path_id::<RoleId>(&role, "role")?;
    Ok(Json(
        state.steward.delete_role(&principal, role).await?.into(),
    ))
}
