//! Runtime semantics of the operators.

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::Duration;

use crate::ast::BinOp;
use crate::error::EvalError;
use crate::limits::Limits;
use crate::number::Number;
use crate::value::{Timedelta, Value};

fn numbers<'a>(l: &'a Value, r: &'a Value) -> Result<(&'a Number, &'a Number), EvalError> {
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => Ok((a, b)),
        _ => Err(EvalError::mismatch("not a numeric value")),
    }
}

fn natural(value: &Value) -> Result<u64, EvalError> {
    match value {
        Value::Number(n) if n.is_natural() => n
            .to_i64()
            .filter(|_| !matches!(n, Number::Approx(_)))
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| EvalError::new("arithmetic error: number out of range")),
        _ => Err(EvalError::mismatch("not a natural number")),
    }
}

fn timedelta(micros: Option<i64>) -> Result<Value, EvalError> {
    micros
        .and_then(Timedelta::from_micros)
        .map(Value::Timedelta)
        .ok_or_else(|| EvalError::new("arithmetic error: timedelta out of range"))
}

fn shift_datetime(
    dt: &chrono::DateTime<chrono::FixedOffset>,
    micros: i64,
) -> Result<Value, EvalError> {
    dt.checked_add_signed(Duration::microseconds(micros))
        .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
        .map(Value::Datetime)
        .ok_or_else(|| EvalError::new("arithmetic error: date value out of range"))
}

fn check_string_len(len: usize, limits: &Limits) -> Result<(), EvalError> {
    if len > limits.max_string_len {
        return Err(EvalError::new(format!(
            "string is too long ({len} bytes, the limit is {})",
            limits.max_string_len
        )));
    }
    Ok(())
}

/// Evaluates a binary operator other than `and`, `or`, `in`, `not in` and the regex ones.
pub fn binary(op: BinOp, l: &Value, r: &Value, limits: &Limits) -> Result<Value, EvalError> {
    match op {
        BinOp::Add => add(l, r, limits),
        BinOp::Sub => subtract(l, r),
        BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod | BinOp::Pow => {
            if !matches!(l, Value::Number(_)) {
                return Err(EvalError::mismatch("not a numeric value"));
            }
            let (a, b) = numbers(l, r)?;
            let result = match op {
                BinOp::Mul => a.mul(b),
                BinOp::Div => a.div(b),
                BinOp::FloorDiv => a.floor_div(b),
                BinOp::Mod => a.rem(b),
                _ => a.pow(b),
            }?;
            Ok(Value::Number(result))
        }
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => bitwise(op, l, r),
        BinOp::Eq => Ok(Value::Bool(l.strict_eq(r))),
        BinOp::Ne => Ok(Value::Bool(!l.strict_eq(r))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Ok(Value::Bool(compare(op, l, r)?)),
        _ => Err(EvalError::new(format!(
            "unsupported operator `{}`",
            op.symbol()
        ))),
    }
}

fn add(l: &Value, r: &Value, limits: &Limits) -> Result<Value, EvalError> {
    match (l, r) {
        (Value::Datetime(dt), Value::Timedelta(td))
        | (Value::Timedelta(td), Value::Datetime(dt)) => shift_datetime(dt, td.micros),
        (Value::Datetime(_), _) => Err(EvalError::mismatch("not a timedelta value")),
        (Value::Timedelta(a), Value::Timedelta(b)) => timedelta(a.micros.checked_add(b.micros)),
        (Value::Timedelta(_), _) => Err(EvalError::mismatch("not a datetime or timedelta value")),
        (Value::Bytes(a), Value::Bytes(b)) => {
            check_string_len(a.len() + b.len(), limits)?;
            Ok(Value::Bytes([&a[..], &b[..]].concat().into()))
        }
        (Value::Bytes(_), _) | (_, Value::Bytes(_)) => {
            Err(EvalError::mismatch("not a bytes value"))
        }
        (Value::String(a), Value::String(b)) => {
            check_string_len(a.len() + b.len(), limits)?;
            Ok(Value::String(Arc::from(format!("{a}{b}"))))
        }
        (Value::String(_), _) | (_, Value::String(_)) => {
            Err(EvalError::mismatch("not a string value"))
        }
        _ => {
            let (a, b) = numbers(l, r)?;
            Ok(Value::Number(a.add(b)?))
        }
    }
}

fn subtract(l: &Value, r: &Value) -> Result<Value, EvalError> {
    match (l, r) {
        (Value::Datetime(a), Value::Datetime(b)) => {
            let delta = a.signed_duration_since(*b);
            timedelta(delta.num_microseconds())
        }
        (Value::Datetime(dt), Value::Timedelta(td)) => {
            shift_datetime(dt, td.micros.saturating_neg())
        }
        (Value::Datetime(_), _) => Err(EvalError::mismatch("not a datetime or timedelta value")),
        (Value::Timedelta(a), Value::Timedelta(b)) => timedelta(a.micros.checked_sub(b.micros)),
        (Value::Timedelta(_), _) => Err(EvalError::mismatch("not a timedelta value")),
        _ => {
            let (a, b) = numbers(l, r)?;
            Ok(Value::Number(a.sub(b)?))
        }
    }
}

fn bitwise(op: BinOp, l: &Value, r: &Value) -> Result<Value, EvalError> {
    match l {
        Value::Number(_) => {
            let a = natural(l)?;
            let b = natural(r)?;
            let result = match op {
                BinOp::BitAnd => Some(a & b),
                BinOp::BitOr => Some(a | b),
                BinOp::BitXor => Some(a ^ b),
                BinOp::Shl => u32::try_from(b)
                    .ok()
                    .and_then(|b| a.checked_shl(b))
                    .filter(|v| b == 0 || a == 0 || v >> b == a),
                _ => Some(
                    u32::try_from(b)
                        .ok()
                        .and_then(|b| a.checked_shr(b))
                        .unwrap_or(0),
                ),
            };
            match result.and_then(|v| i64::try_from(v).ok()) {
                Some(exact) => Ok(Value::int(exact)),
                // Python integers are unbounded; past 64 bits continue approximately.
                None if op == BinOp::Shl => {
                    let shift = i32::try_from(b).unwrap_or(i32::MAX);
                    let approx = (a as f64) * 2f64.powi(shift);
                    Ok(Value::Number(Number::from_approx(approx)?))
                }
                None => Err(EvalError::new("arithmetic error: number out of range")),
            }
        }
        Value::Set(a) if !matches!(op, BinOp::Shl | BinOp::Shr) => {
            let Value::Set(b) = r else {
                return Err(EvalError::mismatch(""));
            };
            let in_b = |x: &Value| b.iter().any(|y| x.loose_eq(y));
            let in_a = |x: &Value| a.iter().any(|y| x.loose_eq(y));
            let members: Vec<Value> = match op {
                BinOp::BitAnd => a.iter().filter(|x| in_b(x)).cloned().collect(),
                BinOp::BitOr => a.iter().chain(b.iter()).cloned().collect(),
                _ => a
                    .iter()
                    .filter(|x| !in_b(x))
                    .chain(b.iter().filter(|x| !in_a(x)))
                    .cloned()
                    .collect(),
            };
            Ok(Value::set(members))
        }
        _ => Err(EvalError::mismatch("")),
    }
}

/// Ordering comparison with the reference's rules (same types only; arrays
/// lexicographically; `null` against `null` is equal).
pub fn compare(op: BinOp, l: &Value, r: &Value) -> Result<bool, EvalError> {
    let allows_equal = matches!(op, BinOp::Le | BinOp::Ge);
    let ordering = match (l, r) {
        (Value::Null, Value::Null) => return Ok(allows_equal),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter().zip(b.iter()) {
                if compare(BinOp::Ne, x, y)? {
                    return compare(op, x, y);
                }
            }
            if a.len() != b.len() {
                a.len().cmp(&b.len())
            } else {
                return Ok(allows_equal);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            if op == BinOp::Ne {
                return Ok(!a.numeric_eq(b));
            }
            a.try_cmp(b)?
        }
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Datetime(a), Value::Datetime(b)) => a.cmp(b),
        (Value::Timedelta(a), Value::Timedelta(b)) => a.cmp(b),
        (Value::Set(_), Value::Set(_)) if op == BinOp::Ne => return Ok(!l.loose_eq(r)),
        (Value::Set(a), Value::Set(b)) => {
            let subset =
                |x: &[Value], y: &[Value]| x.iter().all(|m| y.iter().any(|n| m.loose_eq(n)));
            return Ok(match op {
                BinOp::Le => subset(a, b),
                BinOp::Lt => subset(a, b) && a.len() < b.len(),
                BinOp::Ge => subset(b, a),
                _ => subset(b, a) && a.len() > b.len(),
            });
        }
        (a, b) if a.value_type() == b.value_type() && op == BinOp::Ne => return Ok(!a.loose_eq(b)),
        _ => return Err(EvalError::mismatch("")),
    };
    Ok(match op {
        BinOp::Lt => ordering == Ordering::Less,
        BinOp::Le => ordering != Ordering::Greater,
        BinOp::Gt => ordering == Ordering::Greater,
        BinOp::Ge => ordering != Ordering::Less,
        _ => ordering != Ordering::Equal,
    })
}

/// Unary minus.
pub fn negate(value: Value) -> Result<Value, EvalError> {
    match value {
        Value::Number(n) => Ok(Value::Number(n.neg())),
        Value::Timedelta(t) => timedelta(t.micros.checked_neg()),
        _ => Err(EvalError::mismatch("not a numeric or timedelta value")),
    }
}

/// `member in container`.
pub fn contains(container: &Value, member: &Value) -> Result<bool, EvalError> {
    match container {
        Value::String(haystack) => match member {
            Value::String(needle) => Ok(haystack.contains(&**needle)),
            _ => Err(EvalError::mismatch("")),
        },
        Value::Bytes(haystack) => match member {
            Value::Bytes(needle) => {
                Ok(needle.is_empty() || haystack.windows(needle.len()).any(|w| w == &needle[..]))
            }
            _ => Err(EvalError::mismatch("")),
        },
        Value::Array(items) => Ok(items.iter().any(|item| item.loose_eq(member))),
        Value::Set(items) => {
            // Python looks a set member up as a frozenset; sets never contain sets.
            if matches!(member, Value::Set(_)) {
                return Ok(false);
            }
            if !member.is_hashable() {
                return Err(EvalError::new(format!(
                    "unhashable type: {}",
                    member.value_type()
                )));
            }
            Ok(items.iter().any(|item| item.loose_eq(member)))
        }
        Value::Mapping(entries) => {
            if !member.is_hashable() {
                return Err(EvalError::new(format!(
                    "unhashable type: {}",
                    member.value_type()
                )));
            }
            Ok(Value::mapping_get(entries, member).is_some())
        }
        _ => Err(EvalError::mismatch("")),
    }
}

/// The members a comprehension iterates over.
pub fn iterate(source: &Value) -> Result<Vec<Value>, EvalError> {
    match source {
        Value::Array(items) | Value::Set(items) => Ok(items.to_vec()),
        Value::Mapping(entries) => Ok(entries.iter().map(|(k, _)| k.clone()).collect()),
        Value::String(text) => Ok(text.chars().map(|c| Value::string(c.to_string())).collect()),
        Value::Bytes(bytes) => Ok(bytes.iter().map(|b| Value::int(i64::from(*b))).collect()),
        _ => Err(EvalError::mismatch("comprehension requires an iterable")),
    }
}

fn integer_index(value: &Value) -> Result<i64, EvalError> {
    match value {
        Value::Number(n) if n.is_integer() => n
            .to_i64()
            .ok_or_else(|| EvalError::new("lookup error: index out of range")),
        _ => Err(EvalError::mismatch("not an integer number")),
    }
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let resolved = if index < 0 {
        index.checked_add(len)?
    } else {
        index
    };
    if (0..len).contains(&resolved) {
        usize::try_from(resolved).ok()
    } else {
        None
    }
}

/// `container[item]` for a non-null container.
pub fn get_item(container: &Value, item: &Value, safe: bool) -> Result<Value, EvalError> {
    let missing = || {
        if safe {
            Ok(Value::Null)
        } else {
            Err(EvalError::new("lookup error: the item was not found"))
        }
    };
    match container {
        Value::String(text) => {
            let index = integer_index(item)?;
            let count = text.chars().count();
            match resolve_index(index, count).and_then(|i| text.chars().nth(i)) {
                Some(c) => Ok(Value::string(c.to_string())),
                None => missing(),
            }
        }
        Value::Bytes(bytes) => {
            let index = integer_index(item)?;
            match resolve_index(index, bytes.len()).and_then(|i| bytes.get(i)) {
                Some(b) => Ok(Value::int(i64::from(*b))),
                None => missing(),
            }
        }
        Value::Array(items) => {
            let index = integer_index(item)?;
            match resolve_index(index, items.len()).and_then(|i| items.get(i)) {
                Some(value) => Ok(value.clone()),
                None => missing(),
            }
        }
        Value::Mapping(entries) => {
            if !item.is_hashable() {
                return Err(EvalError::new(format!(
                    "unhashable type: {}",
                    item.value_type()
                )));
            }
            match Value::mapping_get(entries, item) {
                Some(value) => Ok(value.clone()),
                None => missing(),
            }
        }
        Value::Set(_) => Err(EvalError::mismatch("container is a set")),
        _ => Err(EvalError::mismatch("")),
    }
}

fn slice_bound(value: &Value) -> Result<Option<i64>, EvalError> {
    match value {
        Value::Null => Ok(None),
        other => integer_index(other).map(Some),
    }
}

fn slice_range(start: Option<i64>, stop: Option<i64>, len: usize) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |bound: i64| -> usize {
        let resolved = if bound < 0 {
            bound.saturating_add(len_i).max(0)
        } else {
            bound.min(len_i)
        };
        usize::try_from(resolved).unwrap_or(0)
    };
    let from = start.map_or(0, clamp);
    let to = stop.map_or(len, clamp);
    (from, to.max(from))
}

/// `container[start:stop]` for a non-null container.
pub fn get_slice(container: &Value, start: &Value, stop: &Value) -> Result<Value, EvalError> {
    let start = slice_bound(start)?;
    let stop = slice_bound(stop)?;
    match container {
        Value::String(text) => {
            let chars: Vec<char> = text.chars().collect();
            let (from, to) = slice_range(start, stop, chars.len());
            Ok(Value::string(
                chars
                    .get(from..to)
                    .unwrap_or(&[])
                    .iter()
                    .collect::<String>(),
            ))
        }
        Value::Bytes(bytes) => {
            let (from, to) = slice_range(start, stop, bytes.len());
            Ok(Value::Bytes(bytes.get(from..to).unwrap_or(&[]).into()))
        }
        Value::Array(items) => {
            let (from, to) = slice_range(start, stop, items.len());
            Ok(Value::array(items.get(from..to).unwrap_or(&[]).to_vec()))
        }
        Value::Set(_) => Err(EvalError::mismatch("container is a set")),
        _ => Err(EvalError::mismatch("")),
    }
}
