//! JSON encoding of values, shared by the CLI, the batch contract and the differential test.
//!
//! Plain JSON maps to null/bool/number/string/array/mapping. Other types use one-key tagged
//! objects:
//!
//! * `{"$datetime": "2024-01-31T10:00:00+00:00"}` (Python `isoformat()`; naive input is UTC)
//! * `{"$timedelta": seconds}` (a number, may be fractional)
//! * `{"$set": [members...]}` (sorted: by type — bool, number, string, bytes, array, datetime,
//!   timedelta — then by value)
//! * `{"$float": "nan" | "inf" | "-inf"}`
//! * `{"$bytes": "base64"}`
//!
//! Output only: a mapping whose keys are not all strings is `{"$mapping": [[key, value], ...]}`
//! and a function is `{"$function": "name"}`.
//!
//! Numbers: integral decimals are written as JSON integers when they fit `i64`/`u64`, other
//! numbers as JSON floats (shortest representation). On input, JSON floats go through their
//! shortest decimal text (like the reference's `Decimal(repr(x))`), so `1707997392.123` is
//! exact.

use base64::Engine as _;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Map, Value as Json};

use crate::number::Number;
use crate::temporal::{format_datetime, parse_datetime};
use crate::value::{Timedelta, Value};

/// A JSON value that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

impl JsonError {
    /// Builds an error.
    pub fn new(message: impl Into<String>) -> JsonError {
        JsonError(message.into())
    }
}

/// Converts JSON (with tagged forms) to a value.
pub fn from_json(json: &Json) -> Result<Value, JsonError> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(number_from_json(n)?),
        Json::String(s) => Value::string(s.as_str()),
        Json::Array(items) => Value::array(items.iter().map(from_json).collect::<Result<_, _>>()?),
        Json::Object(object) => {
            if object.len() == 1 {
                if let Some((key, inner)) = object.iter().next() {
                    if let Some(value) = from_tagged(key, inner)? {
                        return Ok(value);
                    }
                }
            }
            let entries = object
                .iter()
                .map(|(k, v)| Ok((Value::string(k.as_str()), from_json(v)?)))
                .collect::<Result<Vec<_>, JsonError>>()?;
            Value::mapping(entries)
        }
    })
}

/// Parses JSON text (with tagged forms) into a value, keeping the order of object keys and
/// the exact text of numbers. Prefer this over [`from_json`] when the text is at hand.
pub fn from_str(text: &str) -> Result<Value, JsonError> {
    from_parsed(&crate::json_text::parse(text)?)
}

/// Converts an ordered JSON tree (see [`from_str`]) to a value.
pub(crate) fn from_parsed(json: &crate::json_text::Json) -> Result<Value, JsonError> {
    use crate::json_text::Json as J;
    Ok(match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(text) => {
            // Like Python's `json.loads` feeding the reference: integers are exact, other
            // numbers are binary floats converted through their shortest text.
            let number = if text.contains(['.', 'e', 'E']) {
                text.parse::<f64>().ok().and_then(Number::from_f64)
            } else {
                Number::parse_decimal_text(text)
            };
            Value::Number(
                number.ok_or_else(|| JsonError::new(format!("number `{text}` is out of range")))?,
            )
        }
        J::String(s) => Value::string(s.as_str()),
        J::Array(items) => Value::array(items.iter().map(from_parsed).collect::<Result<_, _>>()?),
        J::Object(members) => {
            if let [(key, inner)] = members.as_slice() {
                if key.starts_with('$') {
                    // Tagged forms are small; reuse the serde_json based decoder for them.
                    let plain = to_serde(inner);
                    if let Some(value) = from_tagged(key, &plain)? {
                        return Ok(value);
                    }
                }
            }
            let entries = members
                .iter()
                .map(|(k, v)| Ok((Value::string(k.as_str()), from_parsed(v)?)))
                .collect::<Result<Vec<_>, JsonError>>()?;
            Value::Mapping(std::sync::Arc::new(entries))
        }
    })
}

/// Converts an ordered JSON tree to `serde_json` (numbers through `f64` when not integers).
fn to_serde(json: &crate::json_text::Json) -> Json {
    use crate::json_text::Json as J;
    match json {
        J::Null => Json::Null,
        J::Bool(b) => Json::Bool(*b),
        J::Number(text) => serde_json::from_str(text).unwrap_or(Json::Null),
        J::String(s) => Json::String(s.clone()),
        J::Array(items) => Json::Array(items.iter().map(to_serde).collect()),
        J::Object(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), to_serde(v)))
                .collect(),
        ),
    }
}

fn number_from_json(n: &serde_json::Number) -> Result<Number, JsonError> {
    if let Some(i) = n.as_i64() {
        return Ok(Number::from_i64(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Number::Finite(rust_decimal::Decimal::from(u)));
    }
    let f = n
        .as_f64()
        .ok_or_else(|| JsonError::new(format!("invalid number `{n}`")))?;
    Number::from_f64(f).ok_or_else(|| JsonError::new(format!("number `{n}` is out of range")))
}

fn from_tagged(tag: &str, inner: &Json) -> Result<Option<Value>, JsonError> {
    let bad = || JsonError::new(format!("invalid `{tag}` value `{inner}`"));
    Ok(Some(match tag {
        "$datetime" => {
            let text = inner.as_str().ok_or_else(bad)?;
            Value::Datetime(parse_datetime(text).ok_or_else(bad)?)
        }
        "$timedelta" => {
            let Json::Number(n) = inner else {
                return Err(bad());
            };
            let seconds = number_from_json(n)?;
            let micros = match seconds {
                Number::Finite(d) => d
                    .checked_mul(rust_decimal::Decimal::from(1_000_000))
                    .and_then(|m| m.round().to_i64()),
                _ => None,
            };
            Value::Timedelta(micros.and_then(Timedelta::from_micros).ok_or_else(bad)?)
        }
        "$set" => {
            let Json::Array(items) = inner else {
                return Err(bad());
            };
            let members = items.iter().map(from_json).collect::<Result<Vec<_>, _>>()?;
            if members.iter().any(|m| !m.is_hashable()) {
                return Err(bad());
            }
            Value::set(members)
        }
        "$float" => Value::Number(match inner.as_str() {
            Some("nan") => Number::NaN,
            Some("inf") => Number::PosInf,
            Some("-inf") => Number::NegInf,
            _ => return Err(bad()),
        }),
        "$bytes" => {
            let text = inner.as_str().ok_or_else(bad)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| bad())?;
            Value::Bytes(bytes.into())
        }
        _ => return Ok(None),
    }))
}

/// Converts a number to JSON (integers exactly, other finite numbers as floats).
pub fn number_to_json(number: &Number) -> Json {
    match number {
        Number::Finite(d) => {
            if d.fract().is_zero() {
                if let Some(i) = d.to_i64() {
                    return Json::from(i);
                }
                if let Some(u) = d.to_u64() {
                    return Json::from(u);
                }
            }
            // Through the decimal text so the float is correctly rounded.
            d.to_string()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Json::Null, Json::Number)
        }
        Number::Approx(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Number::PosInf => json!({"$float": "inf"}),
        Number::NegInf => json!({"$float": "-inf"}),
        Number::NaN => json!({"$float": "nan"}),
    }
}

/// Converts a value to JSON (with tagged forms).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => number_to_json(n),
        Value::String(s) => Json::String(s.to_string()),
        Value::Bytes(b) => json!({"$bytes": base64::engine::general_purpose::STANDARD.encode(b)}),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Mapping(entries) => {
            if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) {
                let mut object = Map::new();
                for (key, value) in entries.iter() {
                    if let Value::String(key) = key {
                        object.insert(key.to_string(), to_json(value));
                    }
                }
                Json::Object(object)
            } else {
                let pairs = entries
                    .iter()
                    .map(|(k, v)| json!([to_json(k), to_json(v)]))
                    .collect();
                json!({"$mapping": Json::Array(pairs)})
            }
        }
        Value::Set(members) => {
            let mut sorted: Vec<&Value> = members.iter().collect();
            sorted.sort_by(|a, b| a.sort_cmp(b));
            json!({"$set": sorted.into_iter().map(to_json).collect::<Vec<_>>()})
        }
        Value::Datetime(dt) => json!({"$datetime": format_datetime(dt)}),
        Value::Timedelta(td) => {
            let seconds = Number::Finite(rust_decimal::Decimal::new(td.micros, 6).normalize());
            json!({"$timedelta": number_to_json(&seconds)})
        }
        Value::Function(f) => json!({"$function": f.name()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let json: Json = serde_json::from_str(text).unwrap();
        to_json(&from_json(&json).unwrap()).to_string()
    }

    #[test]
    fn tagged_forms_round_trip() {
        assert_eq!(
            round_trip(r#"{"$datetime":"2024-01-31T10:00:00Z"}"#),
            r#"{"$datetime":"2024-01-31T10:00:00+00:00"}"#
        );
        assert_eq!(
            round_trip(r#"{"$timedelta":90.5}"#),
            r#"{"$timedelta":90.5}"#
        );
        assert_eq!(round_trip(r#"{"$set":[3,1,2,1]}"#), r#"{"$set":[1,2,3]}"#);
        assert_eq!(round_trip(r#"{"$float":"-inf"}"#), r#"{"$float":"-inf"}"#);
        assert_eq!(round_trip(r#"{"$bytes":"AAE="}"#), r#"{"$bytes":"AAE="}"#);
        assert_eq!(
            round_trip(r#"{"a":[1,2.5,null,true,"x"]}"#),
            r#"{"a":[1,2.5,null,true,"x"]}"#
        );
    }

    #[test]
    fn floats_are_read_exactly() {
        let value = from_json(&json!(1707997392.123)).unwrap();
        let Value::Number(n) = value else {
            panic!("not a number")
        };
        assert!(n.numeric_eq(&Number::parse_decimal_text("1707997392.123").unwrap()));
    }

    #[test]
    fn text_input_keeps_key_order_and_reads_floats_like_python() {
        let value = from_str(r#"{"b": 1.50, "a": {"$set": [2, 1]}}"#).unwrap();
        assert_eq!(
            to_json(&value).to_string(),
            r#"{"a":{"$set":[1,2]},"b":1.5}"#
        );
        let Value::Mapping(entries) = value else {
            panic!("not a mapping")
        };
        assert!(matches!(&entries[0].0, Value::String(k) if &**k == "b"));
        let Value::Number(n) = &entries[0].1 else {
            panic!("not a number")
        };
        // JSON floats behave like Python floats: `1.50` reads as `1.5`.
        assert_eq!(n.to_string(), "1.5");
    }

    #[test]
    fn unknown_tags_are_plain_mappings() {
        assert_eq!(round_trip(r#"{"$other":1}"#), r#"{"$other":1}"#);
    }
}
