//! Twins.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use steward_core::{ErrorCode, TwinScan, DEFAULT_SCAN_COUNT};
use steward_domain::{Twin, TwinId};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{parse_path_id, Caller, TtJsonOrEmpty, TtPath, TtQuery};
use crate::{ApiError, AppState, ErrorBody};

/// `creation_certificate` of a twin.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreationCertificate {
    uuid: String,
    creator: String,
    created_ts: f64,
}

/// `termination_certificate` of a terminated twin.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TerminationCertificate {
    issuer: String,
    terminated_ts: f64,
}

/// A twin, in Trusted Twin's shape.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TwinBody {
    status: &'static str,
    owner: String,
    updated_ts: f64,
    creation_certificate: CreationCertificate,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination_certificate: Option<TerminationCertificate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    description: Option<Map<String, Value>>,
}

impl From<Twin> for TwinBody {
    fn from(twin: Twin) -> Self {
        Self {
            status: twin.status.as_str(),
            owner: twin.owner.to_string(),
            updated_ts: twin.updated_ts.as_tt_seconds(),
            creation_certificate: CreationCertificate {
                uuid: twin.id.to_string(),
                creator: twin.creator.to_string(),
                created_ts: twin.created_ts.as_tt_seconds(),
            },
            termination_certificate: twin.termination.map(|termination| TerminationCertificate {
                issuer: termination.issuer.to_string(),
                terminated_ts: termination.terminated_ts.as_tt_seconds(),
            }),
            description: twin.description,
        }
    }
}

/// `POST /twins` and `PATCH /twins/{twin}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DescriptionBody {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    description: Option<Map<String, Value>>,
}

/// Accepts `true`/`false` in any case (Python clients send `True`), and `1`/`0`.
fn query_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|text| match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(serde::de::Error::custom(format!(
            "expected `true` or `false`, got `{text}`"
        ))),
    })
    .transpose()
}

/// `GET /twins/{twin}` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GetTwinQuery {
    /// `false` answers 404 for a terminated twin (default `true`).
    #[serde(default, deserialize_with = "query_bool")]
    #[param(value_type = Option<bool>)]
    show_terminated: Option<bool>,
}

/// `GET /twins` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScanQuery {
    /// Where to continue: the `cursor` of the previous page.
    cursor: Option<String>,
    /// How many of the account's twins to examine, 1 to 1000 (default 100).
    count: Option<u32>,
    /// Rule a twin must satisfy (`TWIN`, `twin`, `twin_status`, caller variables).
    #[serde(rename = "match")]
    match_rule: Option<String>,
    /// Return twin objects (only twins the caller may see) instead of uuids.
    #[serde(default, deserialize_with = "query_bool")]
    #[param(value_type = Option<bool>)]
    details: Option<bool>,
}

/// Twins of a scan or an identity resolution: their uuids, or with `details=true` the twin
/// objects by uuid.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum TwinList {
    /// Twin uuids (`details=false`, the default).
    Ids(Vec<String>),
    /// Twin objects by uuid (`details=true`).
    Details(BTreeMap<String, TwinBody>),
}

impl TwinList {
    /// The uuids of these twins, or with `details` the twins by uuid.
    pub(crate) fn of(twins: Vec<Twin>, details: bool) -> Self {
        if details {
            Self::Details(
                twins
                    .into_iter()
                    .map(|twin| (twin.id.to_string(), TwinBody::from(twin)))
                    .collect(),
            )
        } else {
            Self::Ids(twins.iter().map(|twin| twin.id.to_string()).collect())
        }
    }
}

/// `GET /twins` answer: uuids, or twin objects by uuid with `details=true`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScanBody {
    cursor: Option<String>,
    twins: TwinList,
}

/// Creates a twin owned by the caller's account (`create_twin`).
#[utoipa::path(post, path = "/twins", tag = "twins", operation_id = "create_twin",
    security(("user_credential" = [])),
    request_body = DescriptionBody,
    responses(
        (status = 201, description = "The new twin", body = TwinBody),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn create_twin(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJsonOrEmpty(body): TtJsonOrEmpty<DescriptionBody>,
) -> Result<(StatusCode, Json<TwinBody>), ApiError> {
    let twin = state
        .steward
        .create_twin(&principal, body.description)
        .await?;
    Ok((StatusCode::CREATED, Json(twin.into())))
}

/// Shows a twin (`get_twin`).
#[utoipa::path(get, path = "/twins/{twin}", tag = "twins", operation_id = "get_twin",
    security(("user_credential" = [])),
    params(("twin" = String, Path, description = "Twin uuid"), GetTwinQuery),
    responses(
        (status = 200, description = "The twin", body = TwinBody),
        (status = 400, description = "Invalid twin id or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin (or terminated with show_terminated=false)", body = ErrorBody),
    ))]
pub(crate) async fn get_twin(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    TtQuery(query): TtQuery<GetTwinQuery>,
) -> Result<Json<TwinBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let twin = state
        .steward
        .get_twin(&principal, twin, query.show_terminated.unwrap_or(true))
        .await?;
    Ok(Json(twin.into()))
}

/// Replaces the description of an alive twin the caller's account owns (`update_twin`).
#[utoipa::path(patch, path = "/twins/{twin}", tag = "twins", operation_id = "update_twin",
    security(("user_credential" = [])),
    params(("twin" = String, Path, description = "Twin uuid")),
    request_body = DescriptionBody,
    responses(
        (status = 200, description = "The updated twin", body = TwinBody),
        (status = 400, description = "Invalid body, or the twin is terminated (400897)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or not the owner", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn update_twin(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    TtJsonOrEmpty(body): TtJsonOrEmpty<DescriptionBody>,
) -> Result<Json<TwinBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    let twin = state
        .steward
        .update_twin(&principal, twin, body.description)
        .await?;
    Ok(Json(twin.into()))
}

/// Terminates a twin the caller's account owns (`terminate_twin`).
#[utoipa::path(delete, path = "/twins/{twin}", tag = "twins", operation_id = "terminate_twin",
    security(("user_credential" = [])),
    params(("twin" = String, Path, description = "Twin uuid")),
    responses(
        (status = 200, description = "The terminated twin", body = TwinBody),
        (status = 400, description = "Already terminated (400358)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, or not the owner", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn terminate_twin(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
) -> Result<Json<TwinBody>, ApiError> {
    let twin = parse_path_id::<TwinId>(&twin, "twin")?;
    Ok(Json(
        state.steward.terminate_twin(&principal, twin).await?.into(),
    ))
}

/// Scans the twins the caller's account owns (`scan_twins`).
#[utoipa::path(get, path = "/twins", tag = "twins", operation_id = "scan_twins",
    security(("user_credential" = [])),
    params(ScanQuery),
    responses(
        (status = 200, description = "A page of twins", body = ScanBody),
        (status = 400, description = "Invalid count, cursor or rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn scan_twins(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtQuery(query): TtQuery<ScanQuery>,
) -> Result<Json<ScanBody>, ApiError> {
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let details = query.details.unwrap_or(false);
    let page = state
        .steward
        .scan_twins(
            &principal,
            TwinScan {
                after,
                count: query.count.unwrap_or(DEFAULT_SCAN_COUNT),
                match_rule: query.match_rule,
                details,
            },
        )
        .await?;
    Ok(Json(ScanBody {
        cursor: page.next_after.map(encode_cursor),
        twins: TwinList::of(page.twins, details),
    }))
}

/// The cursor is the base64 of the last examined twin's uuid, as in Trusted Twin's examples.
fn encode_cursor(after: TwinId) -> String {
    STANDARD.encode(after.to_string())
}

fn decode_cursor(cursor: &str) -> Result<TwinId, ApiError> {
    STANDARD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::RequestFormat,
                format!("`{cursor}` is not a valid cursor"),
            )
        })
}
