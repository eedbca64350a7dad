//! Encoding shared by every backend for values kept as JSON text columns (descriptions, role
//! statements, ledger entries). Stored as text on every backend so partner JSON round-trips
//! exactly; see migrations 0003/0004.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::StoreError;

/// A stored value that does not decode: the database holds something this version did not
/// write. The detail is for logs only.
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} does not decode: {detail}"))
}

/// Serializes a value for a JSON text column.
pub fn encode_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Backend(format!("cannot encode json: {error}")))
}

/// Serializes an optional value; `None` stays SQL NULL.
pub fn encode_optional_json(value: Option<&Value>) -> Result<Option<String>, StoreError> {
    value.map(encode_json).transpose()
}

/// Decodes a JSON text column; `what` names the column in the error.
pub fn decode_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt(what, error))
}

/// Decodes a nullable JSON text column.
pub fn decode_optional_json(text: Option<String>, what: &str) -> Result<Option<Value>, StoreError> {
    text.map(|text| decode_json(&text, what)).transpose()
}

/// The last id of the leading run of `(id, ts)` rows (in id order) whose `ts` is before
/// `before`: how far a log may be pruned without leaving a hole; `None` if the first row is
/// not old enough.
pub fn prefix_end(rows: &[(i64, i64)], before: steward_domain::Timestamp) -> Option<i64> {
    rows.iter()
        .take_while(|(_, ts)| *ts < before.as_millis())
        .last()
        .map(|(id, _)| *id)
}
