//! Where a rule's variables come from.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};

use crate::value::Value;

/// Supplies variables to a rule, lazily: `resolve` is only called for names the rule uses
/// (see [`crate::Rule::variables`]), so a caller can skip building `LEDGER` for rules that
/// never mention it. A missing name (`None`) evaluates to null.
///
/// `now` and `random` back `$now`/`$today` and `$random`; override them for repeatable
/// evaluations.
pub trait Context {
    /// The value of a variable, or `None` when it is not available.
    fn resolve(&self, name: &str) -> Option<Value>;

    /// Lends a variable's value without cloning it, when the context stores it (optional;
    /// the default says "not available this way" and `resolve` is used instead).
    fn resolve_ref(&self, _name: &str) -> Option<&Value> {
        None
    }

    /// The current time for `$now` and `$today` (default: the system clock, UTC).
    fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().fixed_offset()
    }

    /// A number in `[0, 1)` for `$random` (default: derived from the clock).
    fn random(&self) -> f64 {
        let nanos = Utc::now().timestamp_subsec_nanos();
        // A cheap mix so consecutive calls differ; `$random` is not for security.
        let mixed = u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        mixed as f64 / (1u64 << 53) as f64
    }
}

/// A context with no variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyContext;

impl Context for EmptyContext {
    fn resolve(&self, _name: &str) -> Option<Value> {
        None
    }
}

/// FNV-1a: variable names are short and chosen by the server, not by an attacker, so a
/// fast non-keyed hash is appropriate (the default SipHash dominated lookups).
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The map type of [`MapContext`].
pub type VariableMap = HashMap<String, Value, std::hash::BuildHasherDefault<FnvHasher>>;

/// A context backed by a map, with optional fixed `$now` and `$random` values.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// The variables.
    pub variables: VariableMap,
    /// Fixed value for `$now` (system clock when unset).
    pub now: Option<DateTime<FixedOffset>>,
    /// Fixed value in `[0, 1)` for `$random` (clock-derived when unset).
    pub random: Option<f64>,
}

impl MapContext {
    /// An empty context.
    pub fn new() -> MapContext {
        MapContext::default()
    }

    /// Adds or replaces a variable.
    pub fn with(mut self, name: impl Into<String>, value: Value) -> MapContext {
        self.variables.insert(name.into(), value);
        self
    }

    /// Builds a context from JSON text (an object, tagged values allowed), keeping the order
    /// of keys and the exact text of numbers. Prefer this to [`MapContext::from_json`].
    pub fn from_json_str(text: &str) -> Result<MapContext, crate::json::JsonError> {
        match crate::json::from_str(text)? {
            Value::Mapping(entries) => Self::from_entries(&entries),
            _ => Err(crate::json::JsonError::new(
                "the context must be a JSON object",
            )),
        }
    }

    pub(crate) fn from_entries(
        entries: &[(Value, Value)],
    ) -> Result<MapContext, crate::json::JsonError> {
        let mut context = MapContext::new();
        for (name, value) in entries {
            if let Value::String(name) = name {
                context.variables.insert(name.to_string(), value.clone());
            }
        }
        Ok(context)
    }

    /// Builds a context from a JSON object using the tagged value encoding of
    /// [`crate::json`]. A non-object is an error. `serde_json` (without its
    /// `preserve_order` feature) sorts object keys, so mappings come out in key order.
    pub fn from_json(json: &serde_json::Value) -> Result<MapContext, crate::json::JsonError> {
        let serde_json::Value::Object(object) = json else {
            return Err(crate::json::JsonError::new(
                "the context must be a JSON object",
            ));
        };
        let mut context = MapContext::new();
        for (name, value) in object {
            context
                .variables
                .insert(name.clone(), crate::json::from_json(value)?);
        }
        Ok(context)
    }
}

impl Context for MapContext {
    fn resolve(&self, name: &str) -> Option<Value> {
        self.variables.get(name).cloned()
    }

    fn resolve_ref(&self, name: &str) -> Option<&Value> {
        self.variables.get(name)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now.unwrap_or_else(|| Utc::now().fixed_offset())
    }

    fn random(&self) -> f64 {
        self.random.unwrap_or_else(|| EmptyContext.random())
    }
}

impl<F> Context for F
where
    F: Fn(&str) -> Option<Value>,
{
    fn resolve(&self, name: &str) -> Option<Value> {
        self(name)
    }
}
