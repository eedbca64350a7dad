//! Stickers: workflow tags on twins.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::{ErrorCode, StickerContext, StickerInput, StickerListing};
use steward_domain::{Sticker, TwinId};
use utoipa::{OpenApi, ToSchema};

use crate::extract::{parse_path_id, timestamp_field, Caller, TtJson, TtPath};
use crate::{ApiError, AppState, ErrorBody};

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/twins/{twin}/stickers",
            get(get_stickers).post(put_stickers),
        )
        .route(
            "/twins/{twin}/stickers/{color}",
            get(get_sticker).delete(remove_sticker),
        )
        .route("/stickers", get(list_stickers))
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(put_stickers, get_stickers, get_sticker, remove_sticker, list_stickers),
    tags((name = "stickers", description = "Stickers: workflow tags on twins"))
)]
pub(crate) struct StickersApi;

/// One sticker of a `put_sticker` request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StickerRequest {
    /// Free text, at most 512 characters (default empty).
    #[serde(default)]
    note: Option<String>,
    /// 1 to 100 uuids of users, roles or accounts (of any account).
    #[serde(default)]
    recipients: Vec<String>,
    /// Expiry in Unix seconds: in the future, at most one year ahead (default: one year).
    #[serde(default)]
    validity_ts: Option<f64>,
    /// `{"on_put" | "on_remove" | "on_expire": topic | [topics]}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    publish: Option<Value>,
}

/// `POST /twins/{twin}/stickers`: stickers by colour.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutStickersBody {
    stickers: BTreeMap<String, StickerRequest>,
}

/// A sticker as its creator put it (the answer of `put_sticker`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StickerBody {
    note: String,
    recipients: Vec<String>,
    validity_ts: f64,
    created_ts: f64,
    #[schema(value_type = Option<Object>)]
    publish: Option<Value>,
}

impl From<&Sticker> for StickerBody {
    fn from(sticker: &Sticker) -> Self {
        Self {
            note: sticker.note.clone(),
            recipients: sticker
                .recipients
                .iter()
                .map(|recipient| recipient.hyphenated().to_string())
                .collect(),
            validity_ts: sticker.validity_ts.as_tt_seconds(),
            created_ts: sticker.created_ts.as_tt_seconds(),
            publish: sticker.publish.clone(),
        }
    }
}

/// The answer of `put_sticker`: the stored stickers by colour.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PutStickersReply {
    stickers: BTreeMap<String, StickerBody>,
}

/// A sticker as a recipient sees it in `get_stickers`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StickerSummary {
    note: String,
    validity_ts: f64,
    created_ts: f64,
}

/// The answer of `get_stickers`: `{"accounts": {creator: {colour: sticker}}}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TwinStickersReply {
    #[schema(value_type = Object)]
    accounts: BTreeMap<String, BTreeMap<String, StickerSummary>>,
}

/// The answer of `get_sticker`. `recipients` and `publish` are shown only on the caller's own
/// account's sticker: they are the creator's configuration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StickerDetail {
    account: String,
    note: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<Vec<String>>,
    validity_ts: f64,
    created_ts: f64,
    /// Present (possibly null) on the caller's own sticker only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    publish: Option<Value>,
}

/// The answer of `remove_sticker`: the removed sticker.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemovedSticker {
    account: String,
    note: String,
    validity_ts: f64,
    created_ts: f64,
}

/// One sticker of a `list_stickers` page.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListedSticker {
    twin: String,
    account: String,
    color: String,
    note: String,
    validity_ts: f64,
    created_ts: f64,
}

/// The answer of `list_stickers`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StickerPage {
    stickers: Vec<ListedSticker>,
}

/// The query parameters of sticker routes: `context` may repeat and hold comma-separated
/// values; the others appear at most once. Empty values count as absent.
fn query_pairs(raw: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|error| {
            ApiError::new(ErrorCode::RequestFormat, format!("invalid query: {error}"))
        })?;
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &pairs {
        let Some(known) = allowed.iter().find(|name| **name == key.as_str()) else {
            return Err(ApiError::new(
                ErrorCode::RequestFormat,
                format!(
                    "unknown query parameter `{}`",
                    key.chars().take(64).collect::<String>()
                ),
            ));
        };
        if *known != "context" && seen.contains(known) {
            return Err(ApiError::new(
                ErrorCode::RequestFormat,
                format!("query parameter `{known}` is given more than once"),
            ));
        }
        seen.push(known);
    }
    Ok(pairs
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect())
}

fn context_of(
    pairs: &[(String, String)],
    default: StickerContext,
) -> Result<StickerContext, ApiError> {
    let values: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key == "context")
        .map(|(_, value)| value.clone())
        .collect();
    Ok(StickerContext::parse(&values, default)?)
}

fn number_of(field: &str, value: &str) -> Result<u32, ApiError> {
    value.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RequestFormat,
            format!(
                "`{field}` must be a whole number, got `{}`",
                value.chars().take(64).collect::<String>()
            ),
        )
    })
}

fn seconds_of(field: &str, value: &str) -> Result<Option<steward_domain::Timestamp>, ApiError> {
    let seconds: f64 = value.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RequestFormat,
            format!("`{field}` must be a timestamp in Unix seconds"),
        )
    })?;
    timestamp_field(field, Some(seconds))
}

fn parse_listing(raw: Option<&str>) -> Result<StickerListing, ApiError> {
    let pairs = query_pairs(raw, &["context", "color", "ge", "le", "limit", "offset"])?;
    let mut listing = StickerListing {
        context: context_of(&pairs, StickerContext::personal())?,
        ..StickerListing::default()
    };
    for (key, value) in &pairs {
        match key.as_str() {
            "color" => listing.color = Some(value.clone()),
            "ge" => listing.ge = seconds_of("ge", value)?,
            "le" => listing.le = seconds_of("le", value)?,
            "limit" => listing.limit = number_of("limit", value)?,
            "offset" => listing.offset = number_of("offset", value)?,
            _ => {}
        }
    }
    Ok(listing)
}

fn recipients_text(sticker: &Sticker) -> Vec<String> {
    sticker
        .recipients
        .iter()
        .map(|recipient| recipient.hyphenated().to_string())
        .collect()
}

/// Puts stickers of the caller's account on a twin (`put_sticker`).
#[utoipa::path(post, path = "/twins/{twin}/stickers", tag = "stickers",
    operation_id = "put_sticker",
    security(("user_credential" = [])),
    params(("twin" = String, Path, description = "Twin uuid")),
    request_body = PutStickersBody,
    responses(
        (status = 201, description = "The stored stickers by colour; a colour put again replaces the account's previous sticker", body = PutStickersReply),
        (status = 400, description = "Invalid colour, note, recipients, validity or publish (400589)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it, or the twin is not visible", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn put_stickers(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    TtJson(body): TtJson<PutStickersBody>,
) -> Result<(StatusCode, Json<PutStickersReply>), ApiError> {
    let twin: TwinId = parse_path_id(&twin, "twin")?;
    let mut stickers = BTreeMap::new();
    for (color, sticker) in body.stickers {
        let input = StickerInput {
            validity_ts: timestamp_field(
                &format!("stickers.{color}.validity_ts"),
                sticker.validity_ts,
            )?,
            note: sticker.note,
            recipients: sticker.recipients,
            publish: sticker.publish,
        };
        stickers.insert(color, input);
    }
    let stored = state
        .steward
        .put_stickers(&principal, twin, stickers)
        .await?;
    let stickers = stored
        .iter()
        .map(|sticker| (sticker.color.clone(), StickerBody::from(sticker)))
        .collect();
    Ok((StatusCode::CREATED, Json(PutStickersReply { stickers })))
}

/// Stickers on a twin addressed to the caller (`get_stickers`).
#[utoipa::path(get, path = "/twins/{twin}/stickers", tag = "stickers",
    operation_id = "get_stickers",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("context" = Option<String>, Query, description = "`system` (default: any account), `personal`, or account uuids (comma-separated or repeated)"),
    ),
    responses(
        (status = 200, description = "Valid stickers addressed to the caller, by creating account and colour", body = TwinStickersReply),
        (status = 400, description = "Invalid twin id or context", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it, or the twin is not visible", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn get_stickers(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(twin): TtPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<TwinStickersReply>, ApiError> {
    let twin: TwinId = parse_path_id(&twin, "twin")?;
    let pairs = query_pairs(raw.as_deref(), &["context"])?;
    let context = context_of(&pairs, StickerContext::System)?;
    let stickers = state
        .steward
        .get_stickers(&principal, twin, context)
        .await?;
    let mut accounts: BTreeMap<String, BTreeMap<String, StickerSummary>> = BTreeMap::new();
    for sticker in stickers {
        accounts
            .entry(sticker.account.to_string())
            .or_default()
            .insert(
                sticker.color,
                StickerSummary {
                    note: sticker.note,
                    validity_ts: sticker.validity_ts.as_tt_seconds(),
                    created_ts: sticker.created_ts.as_tt_seconds(),
                },
            );
    }
    Ok(Json(TwinStickersReply { accounts }))
}

/// One sticker addressed to the caller (`get_sticker`).
#[utoipa::path(get, path = "/twins/{twin}/stickers/{color}", tag = "stickers",
    operation_id = "get_sticker",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("color" = String, Path, description = "Sticker colour"),
        ("context" = Option<String>, Query, description = "Whose sticker: `personal` (default) or one account uuid"),
    ),
    responses(
        (status = 200, description = "The sticker; recipients and publish only on the caller's own account's sticker", body = StickerDetail),
        (status = 400, description = "Invalid twin id, colour or context", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it, or the twin is not visible", body = ErrorBody),
        (status = 404, description = "No such twin, or no valid sticker addressed to the caller", body = ErrorBody),
    ))]
pub(crate) async fn get_sticker(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, color)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<StickerDetail>, ApiError> {
    let twin: TwinId = parse_path_id(&twin, "twin")?;
    let pairs = query_pairs(raw.as_deref(), &["context"])?;
    let context = context_of(&pairs, StickerContext::personal())?;
    let sticker = state
        .steward
        .get_sticker(&principal, twin, &color, context)
        .await?;
    let own = sticker.account == principal.account;
    Ok(Json(StickerDetail {
        account: sticker.account.to_string(),
        recipients: own.then(|| recipients_text(&sticker)),
        validity_ts: sticker.validity_ts.as_tt_seconds(),
        created_ts: sticker.created_ts.as_tt_seconds(),
        publish: own.then(|| sticker.publish.clone().unwrap_or(Value::Null)),
        note: sticker.note,
    }))
}

/// Removes a sticker addressed to the caller (`remove_sticker`).
#[utoipa::path(delete, path = "/twins/{twin}/stickers/{color}", tag = "stickers",
    operation_id = "remove_sticker",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("color" = String, Path, description = "Sticker colour"),
        ("context" = Option<String>, Query, description = "Whose sticker: `personal` (default) or one account uuid"),
    ),
    responses(
        (status = 200, description = "The removed sticker; of concurrent removals exactly one gets it", body = RemovedSticker),
        (status = 400, description = "Invalid twin id, colour or context", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it, or the twin is not visible", body = ErrorBody),
        (status = 404, description = "No such twin, or no valid sticker addressed to the caller (already removed)", body = ErrorBody),
    ))]
pub(crate) async fn remove_sticker(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, color)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RemovedSticker>, ApiError> {
    let twin: TwinId = parse_path_id(&twin, "twin")?;
    let pairs = query_pairs(raw.as_deref(), &["context"])?;
    let context = context_of(&pairs, StickerContext::personal())?;
    let removed = state
        .steward
        .remove_sticker(&principal, twin, &color, context)
        .await?;
    Ok(Json(RemovedSticker {
        account: removed.account.to_string(),
        note: removed.note,
        validity_ts: removed.validity_ts.as_tt_seconds(),
        created_ts: removed.created_ts.as_tt_seconds(),
    }))
}

/// Stickers addressed to the caller across twins (`list_stickers`).
#[utoipa::path(get, path = "/stickers", tag = "stickers",
    operation_id = "list_stickers",
    security(("user_credential" = [])),
    params(
        ("context" = Option<String>, Query, description = "`personal` (default), `system` (any account), or account uuids (comma-separated or repeated)"),
        ("color" = Option<String>, Query, description = "Only this colour"),
        ("ge" = Option<f64>, Query, description = "Only stickers put at or after (Unix seconds)"),
        ("le" = Option<f64>, Query, description = "Only stickers put at or before (Unix seconds)"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 100 (default 100)"),
        ("offset" = Option<u32>, Query, description = "Stickers to skip, at most 10000 (default 0)"),
    ),
    responses(
        (status = 200, description = "Valid stickers addressed to the caller, newest first by (created_ts, account, twin, color)", body = StickerPage),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn list_stickers(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<StickerPage>, ApiError> {
    let listing = parse_listing(raw.as_deref())?;
    let stickers = state
        .steward
        .list_stickers(&principal, listing)
        .await?
        .into_iter()
        .map(|sticker| ListedSticker {
            twin: sticker.twin.to_string(),
            account: sticker.account.to_string(),
            color: sticker.color,
            note: sticker.note,
            validity_ts: sticker.validity_ts.as_tt_seconds(),
            created_ts: sticker.created_ts.as_tt_seconds(),
        })
        .collect();
    Ok(Json(StickerPage { stickers }))
}
