//! `GET /events`: the live event stream (Server-Sent Events), a Steward extension.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use steward_core::{ErrorCode, EventFilter, EventStream, StreamItem};
use steward_domain::TwinId;
use utoipa::OpenApi;

use crate::extract::TtQuery;
use crate::{ApiError, AppState, ErrorBody};

/// How often an idle stream sends a comment, so proxies keep it open and dead peers are found.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/events", get(stream_events))
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(stream_events),
    tags((name = "events", description = "Live event stream (Steward extension)"))
)]
pub(crate) struct EventsApi;

/// Query of `GET /events`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Comma-separated topics.
    topics: Option<String>,
    /// Comma-separated twin uuids.
    twins: Option<String>,
    /// Resume after this event (instead of the `Last-Event-ID` header).
    last_event_id: Option<String>,
}

fn list(raw: Option<&str>) -> Vec<&str> {
    raw.map(|raw| {
        raw.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn event_id(raw: &str, field: &str) -> Result<u64, ApiError> {
    raw.trim().parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RequestFormat,
            format!("`{field}` must be an event id (a non-negative integer)"),
        )
    })
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiError::new(
                    ErrorCode::CorruptedRequest,
                    format!("`{name}` header is not valid text"),
                )
            })
        })
        .transpose()
}

/// Streams the changes the caller may see as Server-Sent Events (Steward extension).
///
/// Each change is an SSE event whose `event` is its trigger (`ledger.entry.added`,
/// `ledger.entry.updated`, `ledger.entry.deleted`, `sticker.put`, `sticker.removed`,
/// `sticker.expired`), whose `id` resumes the stream (`Last-Event-ID`), and whose `data` is JSON:
/// `{"id", "trigger", "twin", "ledger", "ts", "entries": {name: {"new_value", "old_value",
/// "changed_ts"}}}` for entry changes (only entries the caller may read), or
/// `{"id", "trigger", "twin", "ts", "sticker": {...}}` for stickers addressed to the caller.
/// Control events: `steward.gap` (events were pruned before the stream could resume from
/// them), `steward.progress` (events up to this id were gone through, none for the caller: a
/// resume point), `steward.overflow` (the client read too slowly, or an event could not be
/// judged; the stream ends, resume with the given id) and `steward.unauthorized` (the
/// credential stopped being valid; the stream ends). At most 16 streams per account per
/// server (429 beyond).
#[utoipa::path(get, path = "/events", tag = "events",
    operation_id = "stream_events",
    security(("user_credential" = [])),
    params(
        ("topics" = Option<String>, Query, description = "Only changes published to one of these topics (comma-separated, at most 50)"),
        ("twins" = Option<String>, Query, description = "Only changes of these twins (comma-separated uuids, at most 100)"),
        ("last_event_id" = Option<u64>, Query, description = "Resume after this event; the `Last-Event-ID` header does the same"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this event (sent by EventSource clients on reconnect)"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream", body = String),
        (status = 400, description = "Invalid filter or event id", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 429, description = "The account holds the most streams allowed", body = ErrorBody),
    ))]
pub(crate) async fn stream_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    TtQuery(query): TtQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let twins = list(query.twins.as_deref())
        .into_iter()
        .map(|twin| {
            twin.parse::<TwinId>().map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    "`twins` must list twin uuids, separated by commas",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter = EventFilter {
        topics: list(query.topics.as_deref())
            .into_iter()
            .map(str::to_owned)
            .collect(),
        twins,
    };
    let last_event_id = match (
        query.last_event_id.as_deref(),
        header_text(&headers, "last-event-id")?,
    ) {
        (Some(raw), _) => Some(event_id(raw, "last_event_id")?),
        (None, Some(raw)) => Some(event_id(raw, "Last-Event-ID")?),
        (None, None) => None,
    };
    let authorization = header_text(&headers, header::AUTHORIZATION.as_str())
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "invalid credentials"))?;
    let dict = header_text(&headers, "x-trustedtwin")?;
    let stream = state
        .steward
        .open_event_stream(authorization, dict, filter, last_event_id)
        .await?;
    let events = futures::stream::unfold(stream, |mut stream: EventStream| async move {
        let item = stream.next().await?;
        Some((Ok::<_, Infallible>(sse_event(item)), stream))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Tell reverse proxies (nginx) not to buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    Ok(response)
}

fn sse_event(item: StreamItem) -> SseEvent {
    match item {
        StreamItem::Event { id, trigger, data } => SseEvent::default()
            .id(id.to_string())
            .event(trigger)
            .data(data.to_string()),
        StreamItem::Gap { from, to } => SseEvent::default()
            .event("steward.gap")
            .data(json!({"from": from, "to": to}).to_string()),
        StreamItem::Overflow { last_event_id } => SseEvent::default()
            .id(last_event_id.to_string())
            .event("steward.overflow")
            .data(json!({"last_event_id": last_event_id}).to_string()),
        StreamItem::Progress { last_event_id } => SseEvent::default()
            .id(last_event_id.to_string())
            .event("steward.progress")
            .data(json!({"last_event_id": last_event_id}).to_string()),
        StreamItem::Unauthorized => SseEvent::default()
            .event("steward.unauthorized")
            .data(json!({"description": "the credential is no longer valid"}).to_string()),
    }
}
