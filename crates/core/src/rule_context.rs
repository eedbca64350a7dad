//! The variables rules see (spec §3.3), supplied lazily: a rule that never mentions `TWIN` or
//! `DICT` never makes us convert them.

use serde_json::{Map, Value as Json};
use steward_domain::{Timestamp, Twin};
use steward_rules::{Context, Number, Value};

use crate::Principal;

/// Converts stored JSON to a rule value without interpreting the `$`-tagged forms of the
/// `steward rules` tools: partner data is plain JSON. Numbers keep their decimal text, so
/// `value_changed_ts == 1707997392.123` compares exactly.
pub(crate) fn plain_json_to_rule_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => Number::parse_decimal_text(&number.to_string())
            .or_else(|| number.as_f64().and_then(Number::from_f64))
            .map_or(Value::Null, Value::Number),
        Json::String(text) => Value::string(text.as_str()),
        Json::Array(items) => Value::array(items.iter().map(plain_json_to_rule_value).collect()),
        Json::Object(map) => map_to_rule_value(map),
    }
}

/// Converts a JSON object to a rule mapping.
pub(crate) fn map_to_rule_value(map: &Map<String, Json>) -> Value {
    Value::mapping(
        map.iter()
            .map(|(key, value)| (Value::string(key.as_str()), plain_json_to_rule_value(value)))
            .collect(),
    )
}

/// Unix seconds with three decimals, exact.
pub(crate) fn seconds_value(at: Timestamp) -> Value {
    let millis = at.as_millis();
    let text = format!(
        "{}{}.{:03}",
        if millis < 0 { "-" } else { "" },
        (millis / 1000).abs(),
        (millis % 1000).abs()
    );
    Number::parse_decimal_text(&text).map_or(Value::Null, Value::Number)
}

/// Variables about the caller, available in every rule.
pub(crate) fn caller_variable(principal: &Principal, now: Timestamp, name: &str) -> Option<Value> {
    match name {
        "account" => Some(Value::string(principal.account.to_string())),
        "user" => Some(Value::string(principal.user.id.to_string())),
        "role" => Some(Value::string(principal.role.id.to_string())),
        "now" => Some(seconds_value(now)),
        "USER" => Some(map_to_rule_value(&principal.user.description)),
        "DICT" => Some(map_to_rule_value(&principal.rule_dict())),
        _ => None,
    }
}

/// Variables about a twin.
pub(crate) fn twin_variable(twin: &Twin, name: &str) -> Option<Value> {
    match name {
        "twin" => Some(Value::string(twin.id.to_string())),
        "twin_status" => Some(Value::string(twin.status.as_str())),
        "TWIN" => Some(
            twin.description
                .as_ref()
                .map_or_else(|| Value::mapping(Vec::new()), map_to_rule_value),
        ),
        _ => None,
    }
}

/// The context of a role's `twin_rule` and of a scan's `match` rule.
pub(crate) struct TwinRuleContext<'a> {
    pub principal: &'a Principal,
    pub twin: &'a Twin,
    pub now: Timestamp,
}

impl Context for TwinRuleContext<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        caller_variable(self.principal, self.now, name).or_else(|| twin_variable(self.twin, name))
    }
}

/// The context of a role's `entry_rule`, an entry's `visibility` and write `conditions`:
/// caller, twin, ledger and entry variables. `LEDGER` is built at most once per request.
pub(crate) struct EntryRuleContext<'a> {
    pub principal: &'a Principal,
    pub twin: &'a Twin,
    pub ledger: &'a steward_domain::Ledger,
    pub ledger_values: &'a std::cell::OnceCell<Value>,
    pub entry_name: &'a str,
    pub entry: Option<&'a steward_domain::Entry>,
    pub now: Timestamp,
}

/// `LEDGER`: entry name → value of the ledger's value entries (reference and include
/// entries are null until they are resolved at read time).
pub(crate) fn ledger_values(ledger: &steward_domain::Ledger) -> Value {
    Value::mapping(
        ledger
            .entries
            .iter()
            .map(|(name, entry)| (Value::string(name.as_str()), entry_value(entry)))
            .collect(),
    )
}

fn entry_value(entry: &steward_domain::Entry) -> Value {
    match &entry.content {
        steward_domain::EntryContent::Value(value) => plain_json_to_rule_value(value),
        _ => Value::Null,
    }
}

impl Context for EntryRuleContext<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        if let Some(value) = caller_variable(self.principal, self.now, name)
            .or_else(|| twin_variable(self.twin, name))
        {
            return Some(value);
        }
        match name {
            "ledger" => Some(Value::string(self.ledger.account.to_string())),
            "LEDGER" => Some(
                self.ledger_values
                    .get_or_init(|| ledger_values(self.ledger))
                    .clone(),
            ),
            "entry_name" => Some(Value::string(self.entry_name)),
            "entry_value" => self.entry.map(entry_value),
            "entry_created_ts" => self
                .entry
                .map(|entry| seconds_value(entry.entry_created_ts)),
            "entry_updated_ts" => self
                .entry
                .map(|entry| seconds_value(entry.entry_updated_ts)),
            "value_changed_ts" => self
                .entry
                .map(|entry| seconds_value(entry.value_changed_ts)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_decimal_exact() {
        let value = plain_json_to_rule_value(&serde_json::json!(1_707_997_392.123));
        let expected = Number::parse_decimal_text("1707997392.123").unwrap();
        assert!(matches!(value, Value::Number(number) if number.numeric_eq(&expected)));
        let seconds = seconds_value(Timestamp::from_millis(1_707_997_392_123));
        assert!(matches!(seconds, Value::Number(number) if number.numeric_eq(&expected)));
    }

    #[test]
    fn tagged_forms_are_plain_data_here() {
        let value = plain_json_to_rule_value(&serde_json::json!({"$set": [1, 2]}));
        assert!(matches!(value, Value::Mapping(_)));
    }
}
