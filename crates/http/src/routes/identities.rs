//! Identities of twins and identity resolution.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use steward_core::{
    ErrorCode, ForeignIdentities, IdentityCreation, IdentityInput, IdentityListing, IdentityPatch,
    ResolveContext, ResolvedTwins,
};
use steward_domain::{AccountId, Identity, TwinId};
use utoipa::{OpenApi, ToSchema};

use crate::extract::{
    parse_path_id, present, timestamp_field, Caller, TtJson, TtJsonOrEmpty, TtPath,
};
use crate::routes::twins::TwinList;
use crate::{ApiError, AppState, ErrorBody};

/// The per-item answer of `create_twin_identity` for an identity the account already has.
const ALREADY_EXISTS: &str = "Identity already exists.";

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/twins/{twin}/identities",
            get(get_twin_identities).post(create_twin_identity),
        )
        .route(
            "/twins/{twin}/identities/{identity}",
            get(get_twin_identity)
                .patch(update_twin_identity)
                .delete(delete_twin_identity),
        )
        .route("/resolve/{identity}", get(resolve_twin_identity))
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(
        create_twin_identity,
        get_twin_identities,
        get_twin_identity,
        update_twin_identity,
        delete_twin_identity,
        resolve_twin_identity
    ),
    tags((name = "identities", description = "Identities of twins and identity resolution"))
)]
pub(crate) struct IdentitiesApi;

/// `creation_certificate` of an identity.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentityCertificate {
    identity: String,
    creator: String,
    created_ts: f64,
}

impl IdentityCertificate {
    fn of(identity: &Identity) -> Self {
        Self {
            identity: identity.identity.clone(),
            creator: identity.account.to_string(),
            created_ts: identity.created_ts.as_tt_seconds(),
        }
    }
}

/// An identity of the caller's account, in Trusted Twin's shape.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentityBody {
    validity_ts: Option<f64>,
    visibility: Option<String>,
    updated_ts: f64,
    creation_certificate: IdentityCertificate,
}

impl From<Identity> for IdentityBody {
    fn from(identity: Identity) -> Self {
        Self {
            creation_certificate: IdentityCertificate::of(&identity),
            validity_ts: identity.validity_ts.map(|ts| ts.as_tt_seconds()),
            visibility: identity.visibility,
            updated_ts: identity.updated_ts.as_tt_seconds(),
        }
    }
}

/// One identity in a listing. `visibility` only for the caller's own identities: another
/// account's rule is its own business.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListedIdentityBody {
    validity_ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    visibility: Option<Option<String>>,
    created_ts: f64,
    updated_ts: f64,
    creation_certificate: IdentityCertificate,
}

impl ListedIdentityBody {
    fn of(identity: &Identity, own: bool) -> Self {
        Self {
            validity_ts: identity.validity_ts.map(|ts| ts.as_tt_seconds()),
            visibility: own.then(|| identity.visibility.clone()),
            created_ts: identity.created_ts.as_tt_seconds(),
            updated_ts: identity.updated_ts.as_tt_seconds(),
            creation_certificate: IdentityCertificate::of(identity),
        }
    }
}

/// `GET /twins/{twin}/identities` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentitiesBody {
    identities: BTreeMap<String, ListedIdentityBody>,
}

/// Settings of one identity in `POST /twins/{twin}/identities`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentitySettingsBody {
    #[serde(default)]
    validity_ts: Option<f64>,
    #[serde(default)]
    visibility: Option<String>,
}

/// `POST /twins/{twin}/identities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIdentitiesBody {
    identities: BTreeMap<String, IdentitySettingsBody>,
}

/// `POST /twins/{twin}/identities` answer: per identity the created identity, or
/// `{"error": "Identity already exists."}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedIdentitiesBody {
    #[schema(value_type = Object)]
    identities: BTreeMap<String, Value>,
}

/// `PATCH /twins/{twin}/identities/{identity}`: a present field replaces, `null` clears. An
/// empty body (the Python client sends none for `{}`) changes nothing and is refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateIdentityBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    validity_ts: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    visibility: Option<Option<String>>,
}

/// `GET /resolve/{identity}` answer: uuids, or twin objects by uuid with `details=true`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResolvedBody {
    twins: TwinList,
}

/// Accepts `true`/`false` in any case (the Python client sends `True`) and `1`/`0`.
fn query_flag(key: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::new(
            ErrorCode::RequestFormat,
            format!("`{key}` must be `true` or `false`, got `{value}`"),
        )),
    }
}

fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|error| ApiError::new(ErrorCode::RequestFormat, format!("invalid query: {error}")))
}

fn unknown_parameter(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RequestFormat,
        format!("unknown query parameter `{key}`"),
    )
}

fn parse_listing(raw: Option<&str>) -> Result<IdentityListing, ApiError> {
    let mut listing = IdentityListing::default();
    for (key, value) in query_pairs(raw)? {
        match key.as_str() {
            "show_personal" => listing.show_personal = query_flag(&key, &value)?,
            "show_expired" => listing.show_expired = query_flag(&key, &value)?,
            "show_valid" => listing.show_valid = query_flag(&key, &value)?,
            "show_public" => listing.show_public = query_flag(&key, &value)?,
            "show_private" => listing.show_private = query_flag(&key, &value)?,
            "show_foreign" => {
                listing.show_foreign = match query_flag(&key, &value) {
                    Ok(true) => ForeignIdentities::All,
                    Ok(false) => ForeignIdentities::None,
                    Err(_) => ForeignIdentities::Account(value.parse().map_err(|_| {
                        ApiError::new(
                            ErrorCode::RequestFormat,
                            format!(
                                "`show_foreign` must be `true`, `false` or an account uuid, got \
                                 `{value}`"
                            ),
                        )
                    })?),
                }
            }
            other => return Err(unknown_parameter(other)),
        }
    }
    Ok(listing)
}

/// `context` (repeated and/or comma-separated: `personal`, account uuids, or `system` alone)
/// and `details` of a resolution.
fn parse_resolve_query(
    raw: Option<&str>,
    caller: AccountId,
) -> Result<(ResolveContext, bool), ApiError> {
    let mut items: Vec<String> = Vec::new();
    let mut details = false;
    for (key, value) in query_pairs(raw)? {
        match key.as_str() {
            "context" => items.extend(value.split(',').map(|item| item.trim().to_owned())),
            "details" => details = query_flag(&key, &value)?,
            other => return Err(unknown_parameter(other)),
        }
    }
    if items.is_empty() {
        return Ok((ResolveContext::Accounts(vec![caller]), details));
    }
    if items.iter().any(|item| item == "system") {
        if items.len() > 1 {
            return Err(ApiError::new(
                ErrorCode::RequestFormat,
                "`context` `system` cannot be combined with other contexts",
            ));
        }
        return Ok((ResolveContext::System, details));
    }
    let mut accounts: Vec<AccountId> = Vec::with_capacity(items.len());
    for item in &items {
        let account = if item == "personal" {
            caller
        } else {
            item.parse().map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    format!(
                        "`context` must be `personal`, `system` or account uuids, got `{item}`"
                    ),
                )
            })?
        };
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }
    Ok((ResolveContext::Accounts(accounts), details))
}

/// Attaches identities of the caller's account to a twin (`create_twin_identity`).
#[utoipa::path(post, path = "/twins/{twin}/identities", tag = "identities",
    operation_id = "create_twin_identity",
    security(("user_credential" = [])),
    params(("twin" = String, Path, description = "Twin uuid")),
    request_body = CreateIdentitiesBody,
    responses(
        (status = 201, description = "Per identity: the created identity, or `{\"error\": \"Identity already exists.\"}`", body = CreatedIdentitiesBody),
        (status = 400, description = "Invalid identity, rule, validity or body (400589)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn create_twin_identity(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    TtJson(body): TtJson<CreateIdentitiesBody>,
) -> Result<(StatusCode, Json<CreatedIdentitiesBody>), ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let mut inputs = Vec::with_capacity(body.identities.len());
    for (name, settings) in body.identities {
        let validity_ts = timestamp_field("validity_ts", settings.validity_ts)?;
        inputs.push((
            name,
            IdentityInput {
                validity_ts,
                visibility: settings.visibility,
            },
        ));
    }
    let created = state
        .steward
        .create_twin_identities(&principal, twin, inputs)
        .await?;
    let identities = created
        .into_iter()
        .map(|(name, outcome)| {
            let item = match outcome {
                IdentityCreation::Created(identity) => {
                    serde_json::to_value(IdentityBody::from(identity)).unwrap_or_default()
                }
                IdentityCreation::AlreadyExists => json!({ "error": ALREADY_EXISTS }),
            };
            (name, item)
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(CreatedIdentitiesBody { identities }),
    ))
}

/// Lists the identities of a twin the caller may see (`get_twin_identities`).
#[utoipa::path(get, path = "/twins/{twin}/identities", tag = "identities",
    operation_id = "get_twin_identities",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("show_personal" = Option<bool>, Query, description = "Include the caller's account's identities (default true)"),
        ("show_foreign" = Option<String>, Query, description = "`true`, `false` (default) or an account uuid: other accounts' visible identities"),
        ("show_expired" = Option<bool>, Query, description = "Include own identities whose validity passed (default false)"),
        ("show_valid" = Option<bool>, Query, description = "Include own valid identities (default true)"),
        ("show_public" = Option<bool>, Query, description = "Include own identities with a visibility rule (default true)"),
        ("show_private" = Option<bool>, Query, description = "Include own identities without a visibility rule (default true)"),
    ),
    responses(
        (status = 200, description = "The visible identities by identity string", body = IdentitiesBody),
        (status = 400, description = "Invalid twin id or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn get_twin_identities(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<IdentitiesBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let listing = parse_listing(raw.as_deref())?;
    let found = state
        .steward
        .get_twin_identities(&principal, twin, listing)
        .await?;
    // One entry per identity string: the service lists own identities first, so the caller's
    // own wins over another account's identity of the same string.
    let mut identities = BTreeMap::new();
    for identity in &found {
        identities
            .entry(identity.identity.clone())
            .or_insert_with(|| {
                ListedIdentityBody::of(identity, identity.account == principal.account)
            });
    }
    Ok(Json(IdentitiesBody { identities }))
}

/// Shows an identity of the caller's account (`get_twin_identity`).
#[utoipa::path(get, path = "/twins/{twin}/identities/{identity}", tag = "identities",
    operation_id = "get_twin_identity",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("identity" = String, Path, description = "Identity, URL-encoded (`RFID%234411`)"),
    ),
    responses(
        (status = 200, description = "The identity", body = IdentityBody),
        (status = 400, description = "Invalid twin id or identity", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin, or no such identity of the caller's account", body = ErrorBody),
    ))]
pub(crate) async fn get_twin_identity(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, identity)): TtPath<(String, String)>,
) -> Result<Json<IdentityBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let identity = state
        .steward
        .get_twin_identity(&principal, twin, &identity)
        .await?;
    Ok(Json(identity.into()))
}

/// Changes validity and/or visibility of an identity of the caller's account
/// (`update_twin_identity`).
#[utoipa::path(patch, path = "/twins/{twin}/identities/{identity}", tag = "identities",
    operation_id = "update_twin_identity",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("identity" = String, Path, description = "Identity, URL-encoded (`RFID%234411`)"),
    ),
    request_body = UpdateIdentityBody,
    responses(
        (status = 200, description = "The updated identity", body = IdentityBody),
        (status = 400, description = "Invalid identity, rule, validity or body (400589)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin, or no such identity of the caller's account", body = ErrorBody),
    ))]
pub(crate) async fn update_twin_identity(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, identity)): TtPath<(String, String)>,
    TtJsonOrEmpty(body): TtJsonOrEmpty<UpdateIdentityBody>,
) -> Result<Json<IdentityBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let validity_ts = match body.validity_ts {
        None => None,
        Some(seconds) => Some(timestamp_field("validity_ts", seconds)?),
    };
    let patch = IdentityPatch {
        validity_ts,
        visibility: body.visibility,
    };
    let identity = state
        .steward
        .update_twin_identity(&principal, twin, &identity, patch)
        .await?;
    Ok(Json(identity.into()))
}

/// Detaches an identity of the caller's account (`delete_twin_identity`).
#[utoipa::path(delete, path = "/twins/{twin}/identities/{identity}", tag = "identities",
    operation_id = "delete_twin_identity",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("identity" = String, Path, description = "Identity, URL-encoded (`RFID%234411`)"),
    ),
    responses(
        (status = 200, description = "The deleted identity", body = IdentityBody),
        (status = 400, description = "Invalid twin id or identity", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin, or no such identity of the caller's account", body = ErrorBody),
    ))]
pub(crate) async fn delete_twin_identity(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, identity)): TtPath<(String, String)>,
) -> Result<Json<IdentityBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let identity = state
        .steward
        .delete_twin_identity(&principal, twin, &identity)
        .await?;
    Ok(Json(identity.into()))
}

/// Finds the twins carrying an identity the caller may see (`resolve_twin_identity`).
#[utoipa::path(get, path = "/resolve/{identity}", tag = "identities",
    operation_id = "resolve_twin_identity",
    security(("user_credential" = [])),
    params(
        ("identity" = String, Path, description = "Identity, URL-encoded (`RFID%234411`)"),
        ("context" = Option<String>, Query, description = "`personal` (default), account uuids (comma-separated or repeated, at most 100) or `system`"),
        ("details" = Option<bool>, Query, description = "Return the twins the caller may see, by uuid, instead of uuids (default false)"),
    ),
    responses(
        (status = 200, description = "The twins", body = ResolvedBody),
        (status = 400, description = "Invalid identity or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn resolve_twin_identity(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(identity): TtPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ResolvedBody>, ApiError> {
    let (context, details) = parse_resolve_query(raw.as_deref(), principal.account)?;
    let resolved = state
        .steward
        .resolve_twin_identity(&principal, &identity, context, details)
        .await?;
    let twins = match resolved {
        ResolvedTwins::Ids(ids) => TwinList::Ids(ids.iter().map(ToString::to_string).collect()),
        ResolvedTwins::Twins(twins) => TwinList::of(twins, true),
    };
    Ok(Json(ResolvedBody { twins }))
}
