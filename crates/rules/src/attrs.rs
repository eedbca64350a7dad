//! Data attributes (`.length`, `.as_lower`, `.keys`...). They win over mapping keys, as in
//! rule-engine 4.5.3: `TWIN.length` is the number of keys; use `TWIN['length']` for a key.

use std::sync::Arc;

use chrono::{Datelike, Timelike};

use crate::builtins::{Function, Method};
use crate::error::EvalError;
use crate::number::Number;
use crate::statics::{Elem, Ty, ARRAY};
use crate::value::Value;

/// The attributes a type has, with their static result types.
fn attribute_type(ty: Ty, name: &str) -> Option<Ty> {
    let kind = ty.elem();
    let sized = matches!(
        kind,
        Elem::Array | Elem::Bytes | Elem::String | Elem::Mapping | Elem::Set
    );
    let sequence = matches!(kind, Elem::Array | Elem::Bytes | Elem::String);
    let member = match ty {
        Ty::Bytes => Elem::Float,
        Ty::String => Elem::String,
        Ty::Array(m) | Ty::Set(m) => m,
        _ => Elem::Undefined,
    };
    let receiver = Some((kind, member));
    let found = match (kind, name) {
        (_, "length") if sized => Ty::Float,
        (_, "is_empty") if sized => Ty::Bool,
        (_, "starts_with") if sequence => {
            Ty::Function(Some(Method::StartsWith.signature()), receiver)
        }
        (_, "ends_with") if sequence => Ty::Function(Some(Method::EndsWith.signature()), receiver),
        (Elem::Array | Elem::Bytes | Elem::Set | Elem::String, "to_ary") => Ty::Array(member),
        (Elem::Array | Elem::Bytes | Elem::Set | Elem::String, "to_set") => Ty::Set(member),
        (Elem::Bytes, "decode") => Ty::Function(Some(Method::Decode.signature()), None),
        (
            Elem::Datetime,
            "to_epoch" | "day" | "hour" | "microsecond" | "millisecond" | "minute" | "month"
            | "second" | "year",
        ) => Ty::Float,
        (Elem::Datetime, "date") => Ty::Datetime,
        (Elem::Datetime, "weekday" | "zone_name") => Ty::String,
        (Elem::Float, "ceiling" | "floor" | "to_flt" | "to_int") => Ty::Float,
        (Elem::Float, "is_nan") => Ty::Bool,
        (Elem::Float | Elem::String, "to_str") => Ty::String,
        (Elem::Mapping, "keys" | "values") => ARRAY,
        (Elem::String, "as_lower" | "as_upper") => Ty::String,
        (Elem::String, "encode") => Ty::Function(Some(Method::Encode.signature()), None),
        (Elem::String, "to_flt" | "to_int") => Ty::Float,
        (Elem::Timedelta, "days" | "seconds" | "microseconds" | "total_seconds") => Ty::Float,
        _ => return None,
    };
    Some(found)
}

/// Whether `name` is a data attribute of mappings (and so hides a key of that name).
pub fn is_mapping_attribute(name: &str) -> bool {
    matches!(name, "length" | "is_empty" | "keys" | "values")
}

/// The build-time check of `object.name`: unknown attributes of a known non-mapping type
/// are errors, like the reference's attribute resolution error.
pub fn static_attr_type(object: Ty, name: &str, safe: bool) -> Result<Ty, EvalError> {
    if !object.is_known() || (object == Ty::Null && safe) {
        return Ok(Ty::Undefined);
    }
    match attribute_type(object, name) {
        Some(ty) => Ok(ty),
        None if object.elem() == Elem::Mapping => Ok(Ty::Undefined),
        None => Err(EvalError::new(format!("unknown attribute `{name}`"))),
    }
}

fn number(value: f64) -> Result<Value, EvalError> {
    Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| EvalError::new("arithmetic error: number out of range"))
}

fn not_integer() -> EvalError {
    EvalError::mismatch("not an integer number")
}

/// Evaluates `value.name`: the data attribute if the type has one, else the mapping key,
/// else null. At evaluation `.` and `&.` behave the same (attributes of null are null with
/// `default_value=None`); they differ only in the build-time check.
pub fn get_attribute(value: Value, name: &str) -> Result<Value, EvalError> {
    if matches!(value, Value::Null) {
        return Ok(Value::Null);
    }
    let ty = Ty::shallow(&value);
    if attribute_type(ty, name).is_none() {
        return match &value {
            Value::Mapping(entries) => match Value::mapping_get_str(entries, name) {
                Some(found) => Ok(found.clone()),
                // The reference builds a "did you mean" suggestion from the keys, which fails
                // with a type error when a key is not a string.
                None => match entries
                    .iter()
                    .find(|(key, _)| !matches!(key, Value::String(_)))
                {
                    Some((key, _)) => Err(EvalError::new(format!(
                        "expected string or bytes-like object, got {}",
                        key.value_type()
                    ))),
                    None => Ok(Value::Null),
                },
            },
            _ => Ok(Value::Null),
        };
    }
    data_attribute(value, name)
}

fn data_attribute(value: Value, name: &str) -> Result<Value, EvalError> {
    let bound = |method: Method, receiver: Value| {
        Ok(Value::Function(Arc::new(Function::Method {
            method,
            receiver,
        })))
    };
    match (name, &value) {
        ("length", _) => Ok(Value::int(length(&value))),
        ("is_empty", _) => Ok(Value::Bool(length(&value) == 0)),
        ("starts_with", _) => bound(Method::StartsWith, value),
        ("ends_with", _) => bound(Method::EndsWith, value),
        ("decode", _) => bound(Method::Decode, value),
        ("encode", _) => bound(Method::Encode, value),
        ("to_ary", _) => Ok(Value::array(crate::ops::iterate(&value)?)),
        ("to_set", _) => {
            let members = crate::ops::iterate(&value)?;
            if members.iter().any(|m| !m.is_hashable()) {
                return Err(EvalError::new("unhashable type in set"));
            }
            Ok(Value::set(members))
        }
        ("keys", Value::Mapping(entries)) => Ok(Value::array(
            entries.iter().map(|(k, _)| k.clone()).collect(),
        )),
        ("values", Value::Mapping(entries)) => Ok(Value::array(
            entries.iter().map(|(_, v)| v.clone()).collect(),
        )),
        (_, Value::Datetime(dt)) => Ok(match name {
            "to_epoch" => {
                return number(
                    dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_micros()) / 1e6,
                )
            }
            "date" => Value::Datetime(
                dt.with_hour(0)
                    .and_then(|d| d.with_minute(0))
                    .and_then(|d| d.with_second(0))
                    .and_then(|d| d.with_nanosecond(0))
                    .unwrap_or(*dt),
            ),
            "day" => Value::int(i64::from(dt.day())),
            "hour" => Value::int(i64::from(dt.hour())),
            "microsecond" => Value::int(i64::from(dt.timestamp_subsec_micros())),
            "millisecond" => return number(f64::from(dt.timestamp_subsec_micros()) / 1000.0),
            "minute" => Value::int(i64::from(dt.minute())),
            "month" => Value::int(i64::from(dt.month())),
            "second" => Value::int(i64::from(dt.second())),
            "year" => Value::int(i64::from(dt.year())),
            "weekday" => Value::string(dt.format("%A").to_string()),
            _ => {
                // Literal and parsed datetimes carry dateutil's `tzutc` (named `UTC`) or an
                // anonymous `tzoffset`, whose name is None: the reference then fails its
                // result type check.
                if dt.offset().local_minus_utc() == 0 {
                    Value::string("UTC")
                } else {
                    return Err(EvalError::new(
                        "attribute `zone_name` resolved to incorrect datatype (is: null, expected: string)",
                    ));
                }
            }
        }),
        (_, Value::Number(n)) => match name {
            "ceiling" => Ok(Value::Number(n.ceiling())),
            "floor" => Ok(Value::Number(n.floor())),
            "is_nan" => Ok(Value::Bool(n.is_nan())),
            "to_flt" => Ok(value.clone()),
            "to_int" if n.is_integer() => Ok(value.clone()),
            "to_int" => Err(not_integer()),
            _ => Ok(Value::string(n.to_string())),
        },
        (_, Value::String(text)) => match name {
            "as_lower" => Ok(Value::string(text.to_lowercase())),
            "as_upper" => Ok(Value::string(text.to_uppercase())),
            "to_str" => Ok(value.clone()),
            "to_flt" => Ok(Value::Number(string_to_float(text)?)),
            _ => {
                let n = string_to_float(text)?;
                if n.is_integer() {
                    Ok(Value::Number(n))
                } else {
                    Err(not_integer())
                }
            }
        },
        (_, Value::Timedelta(td)) => {
            let days = td.micros.div_euclid(86_400_000_000);
            let rest = td.micros.rem_euclid(86_400_000_000);
            Ok(match name {
                "days" => Value::int(days),
                "seconds" => Value::int(rest / 1_000_000),
                "microseconds" => Value::int(rest % 1_000_000),
                // Python's `total_seconds()` is a float.
                _ => return number(td.micros as f64 / 1e6),
            })
        }
        _ => Ok(Value::Null),
    }
}

fn length(value: &Value) -> i64 {
    let len = match value {
        Value::String(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::Array(a) | Value::Set(a) => a.len(),
        Value::Mapping(m) => m.len(),
        _ => 0,
    };
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// The reference's `to_flt` for strings: `inf`/`-inf`, a number token (no sign), or `nan`.
pub fn string_to_float(text: &str) -> Result<Number, EvalError> {
    let text = text.trim();
    if text.starts_with("inf") || text.starts_with("-inf") {
        return match text {
            "inf" | "infinity" | "Infinity" => Ok(Number::PosInf),
            "-inf" | "-infinity" | "-Infinity" => Ok(Number::NegInf),
            _ => Err(EvalError::new(format!("invalid number `{text}`"))),
        };
    }
    let tokens = crate::lexer::tokenize(text).ok();
    let single_number = match tokens.as_deref() {
        Some([first, last]) if last.tok == crate::lexer::Tok::Eof => match &first.tok {
            crate::lexer::Tok::Number(token) if token.len() == text.len() => Some(token.clone()),
            _ => None,
        },
        _ => None,
    };
    let Some(token) = single_number else {
        return Ok(Number::NaN);
    };
    // Python's literal_eval yields an int or a binary float; floats go through their repr.
    let is_float = token.contains(['.', 'e', 'E']) && !token.starts_with("0x");
    if is_float {
        let parsed = token.parse::<f64>().unwrap_or(f64::NAN);
        return Number::from_f64(parsed).ok_or_else(|| EvalError::new("invalid number"));
    }
    crate::parser::parse_number_literal(&token, crate::error::Span::default())
        .map_err(|e| EvalError::new(e.message))
}
