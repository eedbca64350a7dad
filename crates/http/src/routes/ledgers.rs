//! Ledgers and entries.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use steward_core::{
    Conditions, EntryHistory, EntryInput, ErrorCode, HistoryBounds, LedgerSelector, LedgerView,
    ResolvedSource, WriteOptions, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT,
};
use steward_domain::{Entry, EntryContent, Timestamp, TwinId};
use utoipa::ToSchema;

use crate::extract::{parse_path_id, present, Caller, TtJson, TtJsonOrEmpty, TtPath};
use crate::{ApiError, AppState, ErrorBody};

/// An entry as sent in add and update requests.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    value: Option<Value>,
    #[serde(default, rename = "ref")]
    reference: Option<SourceBody>,
    #[serde(default)]
    include: Option<SourceBody>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    visibility: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    history: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    publish: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    timeseries: Option<Option<Value>>,
}

/// `{"source": "twin://…"}` of a reference or include entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceBody {
    source: String,
}

impl From<EntryBody> for EntryInput {
    fn from(body: EntryBody) -> Self {
        Self {
            value: body.value,
            reference: body.reference.map(|source| source.source),
            include: body.include.map(|source| source.source),
            visibility: body.visibility,
            history: body.history,
            publish: body.publish,
            timeseries: body.timeseries,
        }
    }
}

/// `POST` and `PATCH /twins/{twin}/ledgers/{ledger}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesBody {
    entries: BTreeMap<String, EntryBody>,
    #[serde(default)]
    conditions: Option<Conditions>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    transaction: Option<Value>,
}

impl EntriesBody {
    /// The entries, conditions and transaction id of the request.
    fn into_parts(self) -> Result<(BTreeMap<String, EntryInput>, WriteOptions), ApiError> {
        let options = write_options(self.conditions, self.transaction)?;
        let entries = self
            .entries
            .into_iter()
            .map(|(name, entry)| (name, entry.into()))
            .collect();
        Ok((entries, options))
    }
}

/// `PATCH …/value`: new values by entry name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValuesBody {
    #[schema(value_type = Object)]
    entries: BTreeMap<String, ValueBody>,
    #[serde(default)]
    conditions: Option<Conditions>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    transaction: Option<Value>,
}

/// `{"value": …}` of one entry in a value update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValueBody {
    #[schema(value_type = Object)]
    value: Value,
}

/// Optional body of `DELETE /twins/{twin}/ledgers/{ledger}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteBody {
    #[serde(default)]
    conditions: Option<Conditions>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    transaction: Option<Value>,
}

/// A ledger (or the entries a write changed), as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LedgerBody {
    #[schema(value_type = Object)]
    entries: Map<String, Value>,
    entry_created_ts: Option<f64>,
    entry_updated_ts: Option<f64>,
    value_changed_ts: Option<f64>,
}

fn seconds(ts: steward_domain::Timestamp) -> Value {
    Value::from(ts.as_tt_seconds())
}

/// One entry in Trusted Twin's shape; another account's entries show no configuration. A
/// `ref`/`include` entry shows its source with the resolution `status` and the source's value
/// (null unless the status is `ok`); its `value_changed_ts` follows the source when resolved.
fn entry_json(
    entry: &Entry,
    source: Option<&ResolvedSource>,
    own: bool,
    value_only: bool,
) -> Value {
    let mut object = Map::new();
    let source_json = |uri: &str| match source {
        Some(resolved) => json!({ "source": uri, "status": resolved.status.as_str() }),
        None => json!({ "source": uri }),
    };
    match &entry.content {
        EntryContent::Value(value) => {
            object.insert("value".to_owned(), value.clone());
        }
        EntryContent::Reference { source: uri } => {
            if !value_only {
                object.insert("ref".to_owned(), source_json(uri));
            }
        }
        EntryContent::Include { source: uri } => {
            if !value_only {
                object.insert("include".to_owned(), source_json(uri));
            }
        }
    }
    if !matches!(entry.content, EntryContent::Value(_)) {
        let value = source.map_or(Value::Null, |resolved| resolved.value.clone());
        object.insert("value".to_owned(), value);
    }
    if own && !value_only {
        object.insert(
            "visibility".to_owned(),
            entry.visibility.clone().map_or(Value::Null, Value::from),
        );
        if let Some(history) = &entry.history {
            object.insert("history".to_owned(), Value::from(history.clone()));
        }
        if let Some(publish) = &entry.publish {
            object.insert("publish".to_owned(), publish.clone());
        }
        if let Some(timeseries) = &entry.timeseries {
            object.insert("timeseries".to_owned(), timeseries.clone());
        }
    }
    object.insert(
        "entry_created_ts".to_owned(),
        seconds(entry.entry_created_ts),
    );
    object.insert(
        "entry_updated_ts".to_owned(),
        seconds(entry.entry_updated_ts),
    );
    object.insert(
        "value_changed_ts".to_owned(),
        seconds(value_changed_ts(entry, source)),
    );
    Value::Object(object)
}

/// When the entry's value last changed: the source's time for a resolved reference.
fn value_changed_ts(entry: &Entry, source: Option<&ResolvedSource>) -> Timestamp {
    source
        .and_then(|resolved| resolved.value_changed_ts)
        .unwrap_or(entry.value_changed_ts)
}

fn ledger_body(view: &LedgerView, value_only: bool) -> LedgerBody {
    LedgerBody {
        entries: view
            .entries
            .iter()
            .map(|(name, entry)| {
                let source = view.sources.get(name);
                (
                    name.clone(),
                    entry_json(entry, source, view.own, value_only),
                )
            })
            .collect(),
        entry_created_ts: view
            .latest(|entry| entry.entry_created_ts)
            .map(|ts| ts.as_tt_seconds()),
        entry_updated_ts: view
            .latest(|entry| entry.entry_updated_ts)
            .map(|ts| ts.as_tt_seconds()),
        value_changed_ts: view
            .entries
            .iter()
            .map(|(name, entry)| value_changed_ts(entry, view.sources.get(name)))
            .max()
            .map(|ts| ts.as_tt_seconds()),
    }
}

/// The `key=value` pairs of a query string, in order (400 / 400589 if it does not decode).
fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|error| ApiError::new(ErrorCode::RequestFormat, format!("invalid query: {error}")))
}

/// Adds the names of one `entries` parameter (comma-separated; repeated parameters add up).
fn add_entry_names(names: &mut Option<Vec<String>>, value: &str) {
    names.get_or_insert_with(Vec::new).extend(
        value
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
    );
}

/// The query parameters of ledger routes: `entries` (comma-separated and/or repeated) and the
/// `show_*` switches.
#[derive(Debug, Default)]
struct LedgerQuery {
    entries: Option<Vec<String>>,
    show_public: bool,
    show_private: bool,
    show_references: bool,
}

fn parse_ledger_query(raw: Option<&str>) -> Result<LedgerQuery, ApiError> {
    let pairs: Vec<(String, String)> = query_pairs(raw)?;
    let mut query = LedgerQuery {
        entries: None,
        show_public: true,
        show_private: true,
        show_references: true,
    };
    let flag = |key: &str, value: &str| match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::new(
            ErrorCode::RequestFormat,
            format!("`{key}` must be `true` or `false`, got `{value}`"),
        )),
    };
    for (key, value) in pairs {
        match key.as_str() {
            "entries" => add_entry_names(&mut query.entries, &value),
            "show_public" => query.show_public = flag(&key, &value)?,
            "show_private" => query.show_private = flag(&key, &value)?,
            "show_references" => query.show_references = flag(&key, &value)?,
            other => {
                return Err(ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("unknown query parameter `{other}`"),
                ))
            }
        }
    }
    Ok(query)
}

fn parse_target(twin: &str, ledger: &str) -> Result<(TwinId, LedgerSelector), ApiError> {
    Ok((parse_path_id::<TwinId>(twin, "twin")?, ledger.parse()?))
}

/// The write options of a body: conditions, and `transaction` (a string id or null).
fn write_options(
    conditions: Option<Conditions>,
    transaction: Option<Value>,
) -> Result<WriteOptions, ApiError> {
    let transaction = match transaction {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::RequestFormat,
                format!("`transaction` must be a string id or null, got {other}"),
            ))
        }
    };
    Ok(WriteOptions {
        conditions: conditions.unwrap_or_default(),
        transaction,
    })
}

/// Reads the entries of a ledger the caller may see (`get_twin_ledger_entry`).
#[utoipa::path(get, path = "/twins/{twin}/ledgers/{ledger}", tag = "ledgers",
    operation_id = "get_twin_ledger_entry",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal`, `owner`, `creator` or an account uuid"),
        ("entries" = Option<String>, Query, description = "Entry names, comma-separated or repeated"),
        ("show_public" = Option<bool>, Query, description = "Include entries with a visibility rule (default true)"),
        ("show_private" = Option<bool>, Query, description = "Include entries without a visibility rule (default true)"),
    ),
    responses(
        (status = 200, description = "The visible entries", body = LedgerBody),
        (status = 400, description = "Invalid ledger, twin id or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn get_ledger(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LedgerBody>, ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let query = parse_ledger_query(raw.as_deref())?;
    let mut view = state
        .steward
        .get_ledger_entries(&principal, twin, selector, query.entries.as_deref())
        .await?;
    // The switches concern the caller's own ledger; another account's entries are shown only
    // when visible anyway (spec §5.7).
    let own = view.own;
    view.entries.retain(|_, entry| {
        let reference = !matches!(entry.content, EntryContent::Value(_));
        if reference && !query.show_references {
            false
        } else if !own {
            true
        } else if entry.visibility.is_some() {
            query.show_public
        } else {
            query.show_private
        }
    });
    Ok(Json(ledger_body(&view, false)))
}

/// Adds entries to the caller's ledger (`add_twin_ledger_entry`).
#[utoipa::path(post, path = "/twins/{twin}/ledgers/{ledger}", tag = "ledgers",
    operation_id = "add_twin_ledger_entry",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal` (or the caller's account uuid)"),
    ),
    request_body = EntriesBody,
    responses(
        (status = 201, description = "The added entries", body = LedgerBody),
        (status = 400, description = "Invalid entries (400589), existing entry (400358), condition not met (400592) or ledger over 64 kB (400141)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, twin not visible, or another account's ledger", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn add_entries(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    TtJson(body): TtJson<EntriesBody>,
) -> Result<(StatusCode, Json<LedgerBody>), ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let (entries, options) = body.into_parts()?;
    let view = state
        .steward
        .add_ledger_entries(&principal, twin, selector, entries, options)
        .await?;
    Ok((StatusCode::CREATED, Json(ledger_body(&view, false))))
}

/// Updates entries of the caller's ledger (`update_twin_ledger_entry`).
#[utoipa::path(patch, path = "/twins/{twin}/ledgers/{ledger}", tag = "ledgers",
    operation_id = "update_twin_ledger_entry",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal` (or the caller's account uuid)"),
    ),
    request_body = EntriesBody,
    responses(
        (status = 200, description = "The updated entries", body = LedgerBody),
        (status = 400, description = "Invalid entries, condition not met, ledger over 64 kB, or a value on a reference", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, twin not visible, or another account's ledger", body = ErrorBody),
        (status = 404, description = "No such twin or entry", body = ErrorBody),
    ))]
pub(crate) async fn update_entries(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    TtJson(body): TtJson<EntriesBody>,
) -> Result<Json<LedgerBody>, ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let (entries, options) = body.into_parts()?;
    let view = state
        .steward
        .update_ledger_entries(&principal, twin, selector, entries, options)
        .await?;
    Ok(Json(ledger_body(&view, false)))
}

/// Deletes entries of the caller's ledger (`delete_twin_ledger_entry`).
#[utoipa::path(delete, path = "/twins/{twin}/ledgers/{ledger}", tag = "ledgers",
    operation_id = "delete_twin_ledger_entry",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal` (or the caller's account uuid)"),
        ("entries" = String, Query, description = "Entry names to delete, comma-separated or repeated"),
    ),
    request_body(content = DeleteBody, description = "Optional conditions"),
    responses(
        (status = 200, description = "The deleted entries", body = LedgerBody),
        (status = 400, description = "No entries named, or a condition not met", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, twin not visible, or another account's ledger", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn delete_entries(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
    TtJsonOrEmpty(body): TtJsonOrEmpty<DeleteBody>,
) -> Result<Json<LedgerBody>, ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let options = write_options(body.conditions, body.transaction)?;
    let names = parse_ledger_query(raw.as_deref())?
        .entries
        .unwrap_or_default();
    let view = state
        .steward
        .delete_ledger_entries(&principal, twin, selector, names, options)
        .await?;
    Ok(Json(ledger_body(&view, false)))
}

/// Reads entry values (`get_twin_ledger_entry_value`).
#[utoipa::path(get, path = "/twins/{twin}/ledgers/{ledger}/value", tag = "ledgers",
    operation_id = "get_twin_ledger_entry_value",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal`, `owner`, `creator` or an account uuid"),
        ("entries" = Option<String>, Query, description = "Entry names, comma-separated or repeated"),
    ),
    responses(
        (status = 200, description = "The visible entries' values", body = LedgerBody),
        (status = 400, description = "Invalid twin id, ledger or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn get_values(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LedgerBody>, ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let query = parse_ledger_query(raw.as_deref())?;
    let view = state
        .steward
        .get_ledger_values(&principal, twin, selector, query.entries.as_deref())
        .await?;
    Ok(Json(ledger_body(&view, true)))
}

/// Changes entry values in the caller's ledger (`update_twin_ledger_entry_value`).
#[utoipa::path(patch, path = "/twins/{twin}/ledgers/{ledger}/value", tag = "ledgers",
    operation_id = "update_twin_ledger_entry_value",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal` (or the caller's account uuid)"),
    ),
    request_body = ValuesBody,
    responses(
        (status = 200, description = "The updated entries", body = LedgerBody),
        (status = 400, description = "Invalid body, condition not met, ledger over 64 kB, or a reference", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "Not allowed, twin not visible, or another account's ledger", body = ErrorBody),
        (status = 404, description = "No such twin or entry", body = ErrorBody),
    ))]
pub(crate) async fn update_values(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    TtJson(body): TtJson<ValuesBody>,
) -> Result<Json<LedgerBody>, ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let options = write_options(body.conditions, body.transaction)?;
    let values = body
        .entries
        .into_iter()
        .map(|(name, entry)| (name, entry.value))
        .collect();
    let view = state
        .steward
        .update_ledger_values(&principal, twin, selector, values, options)
        .await?;
    Ok(Json(ledger_body(&view, true)))
}

/// Parses the query of a history read: `entries` (comma-separated and/or repeated), `ge` and
/// `le` (Trusted Twin seconds) and `limit` (1–1000, default 100).
fn parse_history_query(
    raw: Option<&str>,
) -> Result<(Option<Vec<String>>, HistoryBounds), ApiError> {
    let pairs: Vec<(String, String)> = query_pairs(raw)?;
    let mut entries: Option<Vec<String>> = None;
    let mut bounds = HistoryBounds {
        ge: None,
        le: None,
        limit: DEFAULT_HISTORY_LIMIT,
    };
    let timestamp = |key: &str, value: &str| {
        value
            .parse::<f64>()
            .ok()
            .and_then(Timestamp::from_tt_seconds)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("`{key}` must be a timestamp in seconds, got `{value}`"),
                )
            })
    };
    for (key, value) in pairs {
        match key.as_str() {
            "entries" => add_entry_names(&mut entries, &value),
            "ge" => bounds.ge = Some(timestamp(&key, &value)?),
            "le" => bounds.le = Some(timestamp(&key, &value)?),
            "limit" => {
                bounds.limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=MAX_HISTORY_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::RequestFormat,
                            format!(
                                "`limit` must be between 1 and {MAX_HISTORY_LIMIT}, got `{value}`"
                            ),
                        )
                    })?;
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("unknown query parameter `{other}`"),
                ))
            }
        }
    }
    Ok((entries, bounds))
}

/// A timestamp as a history key, the way Python prints a float: `1650882205.34`,
/// `1650882205.0`.
fn history_key(ts: Timestamp) -> String {
    let seconds = ts.as_tt_seconds();
    if seconds.fract() == 0.0 {
        format!("{seconds:.1}")
    } else {
        format!("{seconds}")
    }
}

/// The history body, written by hand so each entry's records keep their newest-first order
/// (a JSON map here would sort the keys).
fn history_body(history: &BTreeMap<String, EntryHistory>) -> Result<String, ApiError> {
    let mut body = String::from("{\"entries\":{");
    for (index, (name, answer)) in history.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&json_text(name)?);
        body.push(':');
        match answer {
            EntryHistory::NotAccessible => body.push_str(&json_text(NOT_ACCESSIBLE)?),
            EntryHistory::Records(records) => {
                body.push('{');
                // Two changes within one millisecond share a key: show the newer only, so the
                // object has no duplicate keys.
                let mut previous: Option<Timestamp> = None;
                for record in records {
                    if previous == Some(record.ts) {
                        continue;
                    }
                    if previous.is_some() {
                        body.push(',');
                    }
                    previous = Some(record.ts);
                    body.push_str(&json_text(&history_key(record.ts))?);
                    body.push(':');
                    body.push_str(&json_text(&record.value)?);
                }
                body.push('}');
            }
        }
    }
    body.push_str("}}");
    Ok(body)
}

/// What a history read says for an entry the caller may not see (or that does not exist).
const NOT_ACCESSIBLE: &str = "Entry not accessible.";

/// One JSON value of the hand-written history body.
fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|error| {
        ApiError::new(
            ErrorCode::General,
            format!("history does not serialize: {error}"),
        )
    })
}

/// Reads the history of entries (`get_twin_ledger_entry_history`).
#[utoipa::path(get, path = "/twins/{twin}/ledgers/{ledger}/history", tag = "ledgers",
    operation_id = "get_twin_ledger_entry_history",
    security(("user_credential" = [])),
    params(
        ("twin" = String, Path, description = "Twin uuid"),
        ("ledger" = String, Path, description = "`personal`, `owner`, `creator` or an account uuid"),
        ("entries" = Option<String>, Query, description = "Entry names, comma-separated or repeated; default: every visible entry that keeps history"),
        ("ge" = Option<f64>, Query, description = "Only records at or after this time (seconds)"),
        ("le" = Option<f64>, Query, description = "Only records at or before this time (seconds)"),
        ("limit" = Option<u32>, Query, description = "Records per entry, newest first: 1–1000, default 100"),
    ),
    responses(
        (status = 200, description = "Per entry a map from timestamp to value, newest first, or \"Entry not accessible.\"", body = Object),
        (status = 400, description = "Invalid ledger, twin id or query", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role or its twin rule does not allow it", body = ErrorBody),
        (status = 404, description = "No such twin", body = ErrorBody),
    ))]
pub(crate) async fn get_history(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath((twin, ledger)): TtPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<([(header::HeaderName, &'static str); 1], String), ApiError> {
    let (twin, selector) = parse_target(&twin, &ledger)?;
    let (entries, bounds) = parse_history_query(raw.as_deref())?;
    let history = state
        .steward
        .get_ledger_history(&principal, twin, selector, entries.as_deref(), bounds)
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        history_body(&history)?,
    ))
}
