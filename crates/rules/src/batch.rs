//! The batch contract used by `steward rules eval --batch` and the differential test.
//!
//! Input line: `{"rule": "...", "context": {...}}` (context optional; values in the tagged
//! encoding of [`crate::json`]; optional `"now": {"$datetime": ...}` and `"random": 0.5`
//! fix `$now` and `$random`). Output line: `{"value": <json>}` or
//! `{"error": {"kind": "parse" | "eval", "message": "..."}}`. A line that is not valid input
//! is reported as kind `parse` with a message starting `invalid batch line`.

use serde_json::json;

use crate::context::MapContext;
use crate::json::{from_parsed, to_json};
use crate::json_text::Json;
use crate::value::Value;
use crate::Rule;

fn error_line(kind: &str, message: &str) -> String {
    json!({"error": {"kind": kind, "message": message}}).to_string()
}

/// Evaluates one batch line and returns one output line (without a trailing newline).
pub fn eval_line(line: &str) -> String {
    let input = match crate::json_text::parse(line) {
        Ok(input @ Json::Object(_)) => input,
        Ok(_) => return error_line("parse", "invalid batch line: expected a JSON object"),
        Err(error) => return error_line("parse", &format!("invalid batch line: {error}")),
    };
    let Some(Json::String(rule_text)) = input.get("rule") else {
        return error_line("parse", "invalid batch line: `rule` must be a string");
    };
    let mut context = match input.get("context") {
        None | Some(Json::Null) => MapContext::new(),
        Some(json) => match from_parsed(json) {
            Ok(Value::Mapping(entries)) => match MapContext::from_entries(&entries) {
                Ok(context) => context,
                Err(error) => return error_line("parse", &format!("invalid batch line: {error}")),
            },
            Ok(_) => return error_line("parse", "invalid batch line: `context` must be an object"),
            Err(error) => return error_line("parse", &format!("invalid batch line: {error}")),
        },
    };
    if let Some(now) = input.get("now") {
        match from_parsed(now) {
            Ok(Value::Datetime(dt)) => context.now = Some(dt),
            _ => return error_line("parse", "invalid batch line: `now` must be a `$datetime`"),
        }
    }
    if let Some(random) = input.get("random") {
        match random {
            Json::Number(text) => match text.parse::<f64>() {
                Ok(r) => context.random = Some(r),
                Err(_) => {
                    return error_line("parse", "invalid batch line: `random` must be a number")
                }
            },
            _ => return error_line("parse", "invalid batch line: `random` must be a number"),
        }
    }
    let rule = match Rule::parse(rule_text) {
        Ok(rule) => rule,
        Err(error) => return error_line(error.kind_name(), &error.to_string()),
    };
    match rule.evaluate(&context) {
        Ok(value) => json!({"value": to_json(&value)}).to_string(),
        Err(error) => error_line(error.kind_name(), &error.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_errors_follow_the_contract() {
        assert_eq!(
            eval_line(r#"{"rule": "1 + 1", "context": {}}"#),
            r#"{"value":2}"#
        );
        assert_eq!(
            eval_line(
                r#"{"rule": "TWIN.company == USER.company", "context": {"TWIN": {"company": "a"}, "USER": {"company": "a"}}}"#
            ),
            r#"{"value":true}"#
        );
        let parse = eval_line(r#"{"rule": "1 +", "context": {}}"#);
        assert!(parse.starts_with(r#"{"error":{"kind":"parse""#), "{parse}");
        let eval = eval_line(r#"{"rule": "'a' + 1", "context": {}}"#);
        assert!(eval.starts_with(r#"{"error":{"kind":"eval""#), "{eval}");
        let runtime = eval_line(r#"{"rule": "x < 'a'", "context": {"x": 1}}"#);
        assert!(
            runtime.starts_with(r#"{"error":{"kind":"eval""#),
            "{runtime}"
        );
    }

    #[test]
    fn now_and_random_can_be_fixed() {
        let line = r#"{"rule": "$now.year", "now": {"$datetime": "2030-05-01T00:00:00Z"}}"#;
        assert_eq!(eval_line(line), r#"{"value":2030}"#);
        assert_eq!(
            eval_line(r#"{"rule": "$random(10)", "random": 0.55}"#),
            r#"{"value":6}"#
        );
    }

    #[test]
    fn malformed_lines_are_reported() {
        assert!(eval_line("not json").contains("invalid batch line"));
        assert!(eval_line(r#"{"context": {}}"#).contains("invalid batch line"));
    }
}
