//! Bodies of the `$` builtin functions and bound methods.

use base64::Engine as _;

use crate::builtins::{BuiltinFn, Method};
use crate::error::EvalError;
use crate::eval::EvalState;
use crate::number::Number;
use crate::temporal::{parse_datetime, parse_timedelta};
use crate::value::Value;

fn array_arg(args: &[Value], index: usize) -> Result<&[Value], EvalError> {
    match args.get(index) {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(EvalError::mismatch("not an array")),
    }
}

fn string_arg(args: &[Value], index: usize) -> Result<&str, EvalError> {
    match args.get(index) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(EvalError::mismatch("not a string value")),
    }
}

fn integer_arg(value: &Value, what: &str) -> Result<i64, EvalError> {
    match value {
        Value::Number(n) if n.is_integer() => n
            .to_i64()
            .ok_or_else(|| EvalError::new(format!("{what} is out of range"))),
        _ => Err(EvalError::new(format!("{what} must be an integer number"))),
    }
}

/// Runs a builtin.
pub fn call_builtin(
    function: BuiltinFn,
    args: Vec<Value>,
    state: &mut EvalState<'_>,
) -> Result<Value, EvalError> {
    match function {
        BuiltinFn::Abs => match args.first() {
            Some(Value::Number(n)) => Ok(Value::Number(n.abs())),
            // Reached through `$map`, which calls Python's `abs` unchecked: booleans are ints.
            Some(Value::Bool(b)) => Ok(Value::int(i64::from(*b))),
            Some(Value::Timedelta(t)) => t
                .micros
                .checked_abs()
                .and_then(crate::value::Timedelta::from_micros)
                .map(Value::Timedelta)
                .ok_or_else(|| EvalError::new("timedelta out of range")),
            _ => Err(EvalError::mismatch("not a numeric value")),
        },
        BuiltinFn::All => Ok(Value::Bool(
            array_arg(&args, 0)?.iter().all(Value::is_truthy),
        )),
        BuiltinFn::Any => Ok(Value::Bool(
            array_arg(&args, 0)?.iter().any(Value::is_truthy),
        )),
        BuiltinFn::Sum => {
            let mut total = Number::ZERO;
            for item in array_arg(&args, 0)? {
                let term = match item {
                    Value::Number(n) => *n,
                    Value::Bool(b) => Number::from_i64(i64::from(*b)),
                    _ => return Err(EvalError::mismatch("not a numeric value")),
                };
                total = total.add(&term)?;
            }
            Ok(Value::Number(total))
        }
        BuiltinFn::Max | BuiltinFn::Min => {
            let items = array_arg(&args, 0)?;
            let mut best: Option<&Value> = None;
            for item in items {
                best = Some(match best {
                    None => item,
                    Some(current) => {
                        let op = if function == BuiltinFn::Max {
                            crate::ast::BinOp::Gt
                        } else {
                            crate::ast::BinOp::Lt
                        };
                        if crate::ops::compare(op, item, current)? {
                            item
                        } else {
                            current
                        }
                    }
                });
            }
            best.cloned()
                .ok_or_else(|| EvalError::new("the array is empty"))
        }
        BuiltinFn::Map | BuiltinFn::Filter => {
            let Some(Value::Function(callee)) = args.first() else {
                return Err(EvalError::mismatch("not a callable value"));
            };
            let items = array_arg(&args, 1)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                state.tick(1)?;
                let result = callee.call(vec![item.clone()], state, None)?;
                if function == BuiltinFn::Map {
                    out.push(result);
                } else if result.is_truthy() {
                    out.push(item.clone());
                }
            }
            Ok(Value::array(out))
        }
        BuiltinFn::ParseDatetime => {
            let text = string_arg(&args, 0)?;
            parse_datetime(text)
                .map(Value::Datetime)
                .ok_or_else(|| EvalError::new(format!("invalid datetime `{text}`")))
        }
        BuiltinFn::ParseFloat => parse_float(string_arg(&args, 0)?).map(Value::Number),
        BuiltinFn::ParseTimedelta => {
            let text = string_arg(&args, 0)?;
            parse_timedelta(text)
                .map(Value::Timedelta)
                .ok_or_else(|| EvalError::new(format!("invalid timedelta `{text}`")))
        }
        BuiltinFn::Random => match args.first() {
            Some(boundary) if boundary.is_truthy() => {
                let Value::Number(n) = boundary else {
                    return Err(EvalError::new(
                        "argument #1 (boundary) must be a natural number",
                    ));
                };
                if !n.is_natural() {
                    return Err(EvalError::new(
                        "argument #1 (boundary) must be a natural number",
                    ));
                }
                let upper = n
                    .to_i64()
                    .ok_or_else(|| EvalError::new("argument #1 (boundary) is out of range"))?;
                let fraction = state.context.random().clamp(0.0, 1.0);
                let pick = ((upper as f64 + 1.0) * fraction).floor() as i64;
                Ok(Value::int(pick.clamp(0, upper)))
            }
            _ => Number::from_f64(state.context.random().clamp(0.0, 1.0))
                .map(Value::Number)
                .ok_or_else(|| EvalError::new("invalid random value")),
        },
        BuiltinFn::Range => range(&args, state),
        BuiltinFn::Split => split(&args, state),
    }
}

/// The reference's `parse_float`: like a number literal, plus what Python's `Decimal`
/// accepts (a sign, `nan`, `inf`, `Infinity`).
pub fn parse_float(text: &str) -> Result<Number, EvalError> {
    let invalid = || EvalError::new(format!("invalid floating point literal `{text}`"));
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'0') && bytes.get(1).is_some_and(u8::is_ascii_digit) {
        return Err(EvalError::new(format!(
            "invalid floating point literal `{text}` (leading zeros in decimal literals are not permitted)"
        )));
    }
    if matches!(text.get(..2), Some("0x" | "0o" | "0b")) {
        return crate::parser::parse_number_literal(text, crate::error::Span::default())
            .map_err(|_| invalid());
    }
    // Python's Decimal accepts `_` between digits, as in `1_000`.
    let bytes = text.as_bytes();
    let underscores_ok = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'_'
            || (i > 0
                && bytes.get(i - 1).is_some_and(u8::is_ascii_digit)
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return Err(invalid());
    }
    let without_underscores = text.replace('_', "");
    let trimmed = without_underscores.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let special = match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(Number::PosInf),
        "nan" => Some(Number::NaN),
        _ => None,
    };
    let value = match special {
        Some(value) => value,
        None => {
            if !body
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                return Err(invalid());
            }
            Number::parse_decimal_text(body).ok_or_else(invalid)?
        }
    };
    Ok(if negative { value.neg() } else { value })
}

fn range(args: &[Value], state: &EvalState<'_>) -> Result<Value, EvalError> {
    let first = integer_arg(args.first().unwrap_or(&Value::Null), "argument #1 (start)")?;
    // Like the reference, a zero (falsy) stop or step counts as not given.
    let stop = args.get(1).filter(|v| v.is_truthy());
    let step = args.get(2).filter(|v| v.is_truthy());
    let (start, stop, step) = match (stop, step) {
        (None, _) => (0, first, 1),
        (Some(stop), None) => (first, integer_arg(stop, "argument #2 (stop)")?, 1),
        (Some(stop), Some(step)) => (
            first,
            integer_arg(stop, "argument #2 (stop)")?,
            integer_arg(step, "argument #3 (step)")?,
        ),
    };
    let span = i128::from(stop) - i128::from(start);
    let step_wide = i128::from(step);
    let count = if (step_wide > 0 && span > 0) || (step_wide < 0 && span < 0) {
        (span.abs() + step_wide.abs() - 1) / step_wide.abs()
    } else {
        0
    };
    state.check_len(usize::try_from(count).unwrap_or(usize::MAX))?;
    let mut out = Vec::new();
    let mut current = i128::from(start);
    for _ in 0..count {
        out.push(Value::int(i64::try_from(current).unwrap_or(0)));
        current += step_wide;
    }
    Ok(Value::array(out))
}

fn split(args: &[Value], state: &EvalState<'_>) -> Result<Value, EvalError> {
    let text = string_arg(args, 0)?;
    let separator = match args.get(1) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => return Err(EvalError::new("empty separator")),
        Some(Value::String(s)) => Some(s.to_string()),
        Some(_) => return Err(EvalError::mismatch("not a string value")),
    };
    let max_splits = match args.get(2) {
        None | Some(Value::Null) => usize::MAX,
        Some(Value::Number(n)) if n.is_natural() => n
            .to_i64()
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(usize::MAX),
        Some(_) => {
            return Err(EvalError::new(
                "argument #3 (maxsplit) must be a natural number",
            ))
        }
    };
    let parts: Vec<Value> = match separator {
        Some(sep) => text
            .splitn(max_splits.saturating_add(1), sep.as_str())
            .map(Value::string)
            .collect(),
        None => split_whitespace(text, max_splits),
    };
    state.check_len(parts.len())?;
    Ok(Value::array(parts))
}

/// Python's `str.split()` without a separator: runs of whitespace, no empty parts.
fn split_whitespace(text: &str, max_splits: usize) -> Vec<Value> {
    let mut parts = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if parts.len() == max_splits {
            parts.push(Value::string(rest.trim_end()));
            break;
        }
        match rest.find(char::is_whitespace) {
            Some(index) => {
                parts.push(Value::string(&rest[..index]));
                rest = rest[index..].trim_start();
            }
            None => {
                parts.push(Value::string(rest));
                break;
            }
        }
    }
    parts
}

/// Runs a bound method.
pub fn call_method(method: Method, receiver: &Value, args: Vec<Value>) -> Result<Value, EvalError> {
    let arg = args.first().unwrap_or(&Value::Null);
    match method {
        Method::StartsWith | Method::EndsWith => {
            let at_start = method == Method::StartsWith;
            let result = match (receiver, arg) {
                (Value::String(s), Value::String(p)) => {
                    let chars: Vec<char> = s.chars().collect();
                    let prefix: Vec<char> = p.chars().collect();
                    affix_matches(&chars, &prefix, at_start)
                }
                (Value::Bytes(s), Value::Bytes(p)) => affix_matches(s, p, at_start),
                (Value::Array(s), Value::Array(p)) => {
                    let (from, to) = affix_range(s.len(), p.len(), at_start);
                    let window = s.get(from..to).unwrap_or(&[]);
                    window.len() == p.len()
                        && window.iter().zip(p.iter()).all(|(a, b)| a.loose_eq(b))
                }
                (
                    _,
                    Value::String(_)
                    | Value::Bytes(_)
                    | Value::Array(_)
                    | Value::Mapping(_)
                    | Value::Set(_),
                ) => false,
                _ => return Err(EvalError::mismatch("")),
            };
            Ok(Value::Bool(result))
        }
        Method::Decode => {
            let (Value::Bytes(bytes), Value::String(encoding)) = (receiver, arg) else {
                return Err(EvalError::mismatch(""));
            };
            let encoding = normalize_encoding(encoding);
            if bytes.is_empty() && !matches!(encoding.as_str(), "hex" | "base16" | "base64") {
                // CPython returns '' for empty input before looking the codec up.
                return Ok(Value::string(""));
            }
            match encoding.as_str() {
                "hex" | "base16" => Ok(Value::string(
                    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                )),
                "base64" => Ok(Value::string(crate::builtins::base64_encode(bytes))),
                "utf-8" => std::str::from_utf8(bytes)
                    .map(Value::string)
                    .map_err(|_| EvalError::new("the bytes are not valid utf-8")),
                "ascii" if bytes.is_ascii() => Ok(Value::string(
                    bytes.iter().map(|b| char::from(*b)).collect::<String>(),
                )),
                "ascii" => Err(EvalError::new("the bytes are not valid ascii")),
                "latin-1" => Ok(Value::string(
                    bytes.iter().map(|b| char::from(*b)).collect::<String>(),
                )),
                other => Err(EvalError::new(format!("invalid encoding name `{other}`"))),
            }
        }
        Method::Encode => {
            let (Value::String(text), Value::String(encoding)) = (receiver, arg) else {
                return Err(EvalError::mismatch(""));
            };
            let encoding = normalize_encoding(encoding);
            match encoding.as_str() {
                "hex" | "base16" => decode_hex(text).map(|b| Value::Bytes(b.into())),
                "base64" => base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map(|b| Value::Bytes(b.into()))
                    .map_err(|_| EvalError::new("error converting to base64")),
                "utf-8" => Ok(Value::Bytes(text.as_bytes().into())),
                "ascii" if text.is_ascii() => Ok(Value::Bytes(text.as_bytes().into())),
                "ascii" => Err(EvalError::new("the string is not valid ascii")),
                "latin-1" => text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .map(|b| Value::Bytes(b.into()))
                    .ok_or_else(|| EvalError::new("the string is not valid latin-1")),
                other => Err(EvalError::new(format!("invalid encoding name `{other}`"))),
            }
        }
    }
}

/// Maps Python codec names to the ones handled here, normalizing like Python's codec
/// registry (case-insensitive, runs of punctuation and spaces become `_`).
fn normalize_encoding(name: &str) -> String {
    let lowered = name.to_ascii_lowercase();
    if matches!(lowered.as_str(), "hex" | "base16" | "base64") {
        return lowered;
    }
    let words: Vec<&str> = lowered
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    let normalized = words.join("_");
    match normalized.as_str() {
        "utf8" | "utf_8" | "u8" | "utf" | "cp65001" => "utf-8".to_string(),
        "ascii" | "us_ascii" | "646" => "ascii".to_string(),
        "latin_1" | "latin1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" | "latin" | "l1" => {
            "latin-1".to_string()
        }
        _ => normalized,
    }
}

fn affix_range(len: usize, affix: usize, at_start: bool) -> (usize, usize) {
    if at_start {
        (0, affix.min(len))
    } else if affix == 0 {
        // Python's `value[-0:]` is the whole value, so an empty suffix only matches an
        // empty value; the reference inherits this quirk.
        (0, len)
    } else {
        (len.saturating_sub(affix), len)
    }
}

fn affix_matches<T: PartialEq>(value: &[T], affix: &[T], at_start: bool) -> bool {
    let (from, to) = affix_range(value.len(), affix.len(), at_start);
    value.get(from..to).is_some_and(|window| window == affix)
}

fn decode_hex(text: &str) -> Result<Vec<u8>, EvalError> {
    let bad = || EvalError::new("error converting to hex");
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}
