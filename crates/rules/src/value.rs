//! Runtime values of the rule language.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

use crate::builtins::Function;
use crate::number::Number;

/// A duration, kept as whole microseconds like Python's `timedelta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timedelta {
    /// Total length in microseconds (may be negative).
    pub micros: i64,
}

/// The largest timedelta we accept: 100,000,000 days in microseconds (Python allows up to
/// 999,999,999 days, which does not fit 64-bit microseconds).
pub const MAX_TIMEDELTA_MICROS: i64 = 100_000_000 * 86_400 * 1_000_000;

impl Timedelta {
    /// Builds a timedelta, refusing values outside Python's range.
    pub fn from_micros(micros: i64) -> Option<Timedelta> {
        if micros.checked_abs()? > MAX_TIMEDELTA_MICROS {
            return None;
        }
        Some(Timedelta { micros })
    }
}

/// A value produced or consumed by a rule.
///
/// Collections are reference counted so that cloning a context value (for example a large
/// `LEDGER` mapping) is cheap.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`, also the value of every missing variable or key.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (decimal, or `inf`/`nan`).
    Number(Number),
    /// A text string.
    String(Arc<str>),
    /// A byte string (`b'..'`).
    Bytes(Arc<[u8]>),
    /// An ordered array (Python tuple).
    Array(Arc<Vec<Value>>),
    /// An insertion-ordered mapping with unique keys.
    Mapping(Arc<Vec<(Value, Value)>>),
    /// A set of unique members (insertion order kept; output is sorted).
    Set(Arc<Vec<Value>>),
    /// A timezone-aware point in time (naive input is UTC).
    Datetime(DateTime<FixedOffset>),
    /// A duration.
    Timedelta(Timedelta),
    /// A callable: a `$` builtin or a bound data attribute such as `'x'.starts_with`.
    Function(Arc<Function>),
}

/// The names of the value types, as shown in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `null`
    Null,
    /// boolean
    Bool,
    /// number (FLOAT in the reference)
    Number,
    /// string
    String,
    /// bytes
    Bytes,
    /// array
    Array,
    /// mapping
    Mapping,
    /// set
    Set,
    /// datetime
    Datetime,
    /// timedelta
    Timedelta,
    /// function
    Function,
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ValueType::Null => "null",
            ValueType::Bool => "boolean",
            ValueType::Number => "float",
            ValueType::String => "string",
            ValueType::Bytes => "bytes",
            ValueType::Array => "array",
            ValueType::Mapping => "mapping",
            ValueType::Set => "set",
            ValueType::Datetime => "datetime",
            ValueType::Timedelta => "timedelta",
            ValueType::Function => "function",
        };
        f.write_str(name)
    }
}

impl Value {
    /// Builds a string value.
    pub fn string(text: impl Into<Arc<str>>) -> Value {
        Value::String(text.into())
    }

    /// Builds a number value from an integer.
    pub fn int(value: i64) -> Value {
        Value::Number(Number::from_i64(value))
    }

    /// Builds an array value.
    pub fn array(members: Vec<Value>) -> Value {
        Value::Array(Arc::new(members))
    }

    /// Builds a set, dropping duplicate members.
    pub fn set(members: Vec<Value>) -> Value {
        let mut unique: Vec<Value> = Vec::with_capacity(members.len());
        for member in members {
            if !unique.iter().any(|existing| existing.loose_eq(&member)) {
                unique.push(member);
            }
        }
        Value::Set(Arc::new(unique))
    }

    /// Builds a mapping; a later duplicate key replaces the earlier value in place.
    pub fn mapping(entries: Vec<(Value, Value)>) -> Value {
        let mut unique: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match unique
                .iter_mut()
                .find(|(existing, _)| existing.loose_eq(&key))
            {
                Some(slot) => slot.1 = value,
                None => unique.push((key, value)),
            }
        }
        Value::Mapping(Arc::new(unique))
    }

    /// The type of this value.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Number(_) => ValueType::Number,
            Value::String(_) => ValueType::String,
            Value::Bytes(_) => ValueType::Bytes,
            Value::Array(_) => ValueType::Array,
            Value::Mapping(_) => ValueType::Mapping,
            Value::Set(_) => ValueType::Set,
            Value::Datetime(_) => ValueType::Datetime,
            Value::Timedelta(_) => ValueType::Timedelta,
            Value::Function(_) => ValueType::Function,
        }
    }

    /// Python truthiness: null, false, zero, empty strings and empty collections are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.is_truthy(),
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Mapping(m) => !m.is_empty(),
            Value::Set(s) => !s.is_empty(),
            Value::Datetime(_) | Value::Function(_) => true,
            Value::Timedelta(t) => t.micros != 0,
        }
    }

    /// The rule language's `==`: false for values of different types, otherwise Python
    /// equality (which, nested inside collections, is [`Value::loose_eq`]).
    pub fn strict_eq(&self, other: &Value) -> bool {
        self.value_type() == other.value_type() && self.loose_eq(other)
    }

    /// Python's `==` on the underlying objects, used for membership, set members, mapping
    /// keys and nested comparisons. Like Python, `true` equals `1` here.
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a.numeric_eq(b),
            (Value::Bool(b), Value::Number(n)) | (Value::Number(n), Value::Bool(b)) => {
                n.numeric_eq(&Number::from_i64(i64::from(*b)))
            }
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            // Python compares containers with an identity shortcut, so a value read twice
            // from the context equals itself even when it holds `nan`.
            (Value::Array(a), Value::Array(b)) | (Value::Set(a), Value::Set(b))
                if Arc::ptr_eq(a, b) =>
            {
                true
            }
            (Value::Mapping(a), Value::Mapping(b)) if Arc::ptr_eq(a, b) => true,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.loose_eq(y))
            }
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.loose_eq(y)))
            }
            (Value::Mapping(a), Value::Mapping(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(key, value)| {
                        b.iter().any(|(other_key, other_value)| {
                            key.loose_eq(other_key) && value.loose_eq(other_value)
                        })
                    })
            }
            (Value::Datetime(a), Value::Datetime(b)) => a == b,
            (Value::Timedelta(a), Value::Timedelta(b)) => a == b,
            (Value::Function(a), Value::Function(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Looks up a mapping key (Python dict semantics).
    pub fn mapping_get<'a>(entries: &'a [(Value, Value)], key: &Value) -> Option<&'a Value> {
        entries
            .iter()
            .find(|(existing, _)| existing.loose_eq(key))
            .map(|(_, value)| value)
    }

    /// Looks up a string key in a mapping without allocating.
    pub fn mapping_get_str<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
        entries
            .iter()
            .find(|(existing, _)| matches!(existing, Value::String(s) if &**s == key))
            .map(|(_, value)| value)
    }

    /// A total order used to sort set members for output: by type, then by value.
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
        let rank = |value: &Value| value.value_type() as u8;
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.sort_cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Datetime(a), Value::Datetime(b)) => a.cmp(b),
            (Value::Timedelta(a), Value::Timedelta(b)) => a.cmp(b),
            (Value::Array(a), Value::Array(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let order = x.sort_cmp(y);
                    if order != Ordering::Equal {
                        return order;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => rank(self).cmp(&rank(other)),
        }
    }

    /// Whether the value may be used as a mapping key or set member (Python hashable).
    pub fn is_hashable(&self) -> bool {
        match self {
            Value::Mapping(_) | Value::Set(_) => false,
            Value::Array(members) => members.iter().all(Value::is_hashable),
            _ => true,
        }
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<Number> for Value {
    fn from(value: Number) -> Value {
        Value::Number(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::string(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_across_types_is_false_but_membership_is_python_like() {
        assert!(!Value::Bool(true).strict_eq(&Value::int(1)));
        assert!(Value::Bool(true).loose_eq(&Value::int(1)));
        assert!(Value::array(vec![Value::Bool(true)]).strict_eq(&Value::array(vec![Value::int(1)])));
    }

    #[test]
    fn sets_drop_duplicates_and_compare_unordered() {
        let a = Value::set(vec![Value::int(1), Value::int(2), Value::int(1)]);
        let b = Value::set(vec![Value::int(2), Value::int(1)]);
        assert!(a.strict_eq(&b));
    }

    #[test]
    fn truthiness_matches_python() {
        assert!(!Value::string("").is_truthy());
        assert!(Value::Number(Number::NaN).is_truthy());
        assert!(!Value::array(vec![]).is_truthy());
        assert!(!Value::Null.is_truthy());
    }
}
