//! Named access logs over the audit trail: the account's `resource_access_log` and a user's
//! `activity` (Trusted Twin §2.17, §6.5). Trusted Twin writes matching requests as rows of the
//! account's Timeseries tables; Steward has no Timeseries service, so the same configuration
//! selects records of its audit trail and renders the configured dimensions for each:
//!
//! ```json
//! {"foreign_reads": {"rule": "account != '…'", "dimensions": {"who": "{account}", "what": "{operation}"}}}
//! ```
//!
//! * `GET /audit?log=foreign_reads`: accesses to the caller account's data (by its own users and
//!   by other accounts) that match the log's `rule`, each with `log` and `dimensions`;
//! * `GET /audit?activity=calls&user=<user>`: the calls of one user of the caller's account that
//!   match that user's `activity.calls` rule (no rule: every call), with `dimensions`.
//!
//! Rules and templates see the request variables of the record: `request_uuid`, `request_ts`,
//! `user`, `operation`, `auth_type`, `auth_fingerprint`, `account` (the acting account),
//! `role`, `status`, `resources` (the twin, as a list), and Steward's `owner`, `outcome`, `twin`
//! and `client`; templates may also name the twin as `{TWIN.uuid}` (other twin attributes are
//! not recorded and render empty). `duration`, `params`, `dict` and `auth_validity` are not
//! recorded, so they are not offered. Configurations are checked when they are written (400 with sub-code 400589).

use serde_json::{json, Map, Value as Json};
use steward_domain::AuditRecord;
use steward_rules::{MapContext, Rule};

use crate::templates::{parse_template, Piece};
use crate::Error;

/// Most logs in one configuration.
const MAX_LOGS: usize = 16;
/// Most dimensions of one log.
const MAX_DIMENSIONS: usize = 32;
/// Longest dimension template, in characters.
const MAX_TEMPLATE_CHARS: usize = 256;

/// The variables rules and templates may use.
const VARIABLES: &[&str] = &[
    "request_uuid",
    "request_ts",
    "user",
    "operation",
    "auth_type",
    "auth_fingerprint",
    "account",
    "role",
    "status",
    "resources",
    "owner",
    "outcome",
    "twin",
    "client",
];

/// Checks a `resource_access_log` or `activity` configuration (`field` names it in errors):
/// `null`, or an object of up to 16 logs, each `{"rule"?: <rule>, "dimensions"?: {name:
/// template}}` with a valid rule and templates that use only the request variables.
pub(crate) fn validate_log_config(field: &str, config: Option<&Json>) -> Result<(), Error> {
    let Some(config) = config else {
        return Ok(());
    };
    let invalid = |message: String| Error::request_format(format!("`{field}`: {message}"));
    let Some(logs) = config.as_object() else {
        return Err(invalid(
            "must be null or an object of logs, {\"<log>\": {\"rule\": …, \"dimensions\": {…}}}"
                .to_owned(),
        ));
    };
    if logs.len() > MAX_LOGS {
        return Err(invalid(format!("at most {MAX_LOGS} logs")));
    }
    for (name, log) in logs {
        if !valid_name(name) {
            return Err(invalid(format!(
                "log name `{name}` must be 1 to 48 letters, digits, `_` or `-`"
            )));
        }
        let Some(log) = log.as_object() else {
            return Err(invalid(format!("log `{name}` must be an object")));
        };
        for key in log.keys() {
            if key != "rule" && key != "dimensions" {
                return Err(invalid(format!(
                    "log `{name}` has an unknown key `{key}` (expected `rule`, `dimensions`)"
                )));
            }
        }
        match log.get("rule") {
            None | Some(Json::Null) => {}
            Some(Json::String(rule)) => {
                crate::access::roles::validate_rule_text(&format!("{field}.{name}.rule"), rule)?
            }
            Some(_) => return Err(invalid(format!("log `{name}`: `rule` must be a string"))),
        }
        match log.get("dimensions") {
            None | Some(Json::Null) => {}
            Some(Json::Object(dimensions)) => {
                if dimensions.len() > MAX_DIMENSIONS {
                    return Err(invalid(format!(
                        "log `{name}`: at most {MAX_DIMENSIONS} dimensions"
                    )));
                }
                for (dimension, template) in dimensions {
                    if !valid_name(dimension) {
                        return Err(invalid(format!(
                            "log `{name}`: dimension name `{dimension}` must be 1 to 48 \
                             letters, digits, `_` or `-`"
                        )));
                    }
                    let Some(template) = template.as_str() else {
                        return Err(invalid(format!(
                            "log `{name}`: dimension `{dimension}` must be a template string"
                        )));
                    };
                    if template.chars().count() > MAX_TEMPLATE_CHARS {
                        return Err(invalid(format!(
                            "log `{name}`: dimension `{dimension}` is longer than \
                             {MAX_TEMPLATE_CHARS} characters"
                        )));
                    }
                    parse_template(template, known_token).map_err(|error| {
                        invalid(format!("log `{name}`, dimension `{dimension}`: {error}"))
                    })?;
                }
            }
            Some(_) => {
                return Err(invalid(format!(
                    "log `{name}`: `dimensions` must be an object of templates"
                )))
            }
        }
    }
    Ok(())
}

/// Whether a template may use `token`: a request variable, or the twin's attributes as
/// `TWIN.x` / `TWIN[x]` (Trusted Twin's examples use `{TWIN.uuid}`).
fn known_token(token: &str) -> bool {
    VARIABLES.contains(&token) || twin_key(token).is_some()
}

/// `TWIN.x` or `TWIN[x]` → `x`.
fn twin_key(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("TWIN")?;
    let key = rest
        .strip_prefix('.')
        .or_else(|| rest.strip_prefix('[').and_then(|key| key.strip_suffix(']')))?;
    (!key.is_empty()).then_some(key)
}

fn valid_name(name: &str) -> bool {
    (1..=48).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// One configured log, ready to select and render records.
pub(crate) struct NamedLog {
    name: String,
    rule: Option<Rule>,
    dimensions: Map<String, Json>,
}

impl NamedLog {
    /// The log `name` of a stored configuration; `None` if there is no such log (or the stored
    /// configuration no longer parses).
    pub(crate) fn from_config(config: Option<&Json>, name: &str) -> Option<Self> {
        let log = config?.get(name)?.as_object()?;
        let rule = match log.get("rule").and_then(Json::as_str) {
            Some(text) => Some(Rule::parse(text).ok()?),
            None => None,
        };
        let dimensions = log
            .get("dimensions")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        Some(Self {
            name: name.to_owned(),
            rule,
            dimensions,
        })
    }

    /// Whether `record` belongs in the log (its rule holds for the record's variables; a rule
    /// that fails to evaluate does not).
    pub(crate) fn selects(&self, record: &AuditRecord) -> bool {
        let Some(rule) = &self.rule else {
            return true;
        };
        MapContext::from_json(&variables(record))
            .map(|context| rule.matches(&context))
            .unwrap_or(false)
    }

    /// Adds `log` and the rendered `dimensions` to a record's view.
    pub(crate) fn annotate(&self, record: &AuditRecord, view: &mut Json) {
        let variables = variables(record);
        let mut rendered = Map::new();
        for (dimension, template) in &self.dimensions {
            let Some(template) = template.as_str() else {
                continue;
            };
            rendered.insert(dimension.clone(), json!(render(template, &variables)));
        }
        view["log"] = json!(self.name);
        view["dimensions"] = Json::Object(rendered);
    }
}

/// The request variables of a record, as rules and templates see them.
fn variables(record: &AuditRecord) -> Json {
    json!({
        "request_uuid": record.request_id,
        "request_ts": record.ts,
        "user": record.actor_user,
        "operation": record.operation,
        "auth_type": record.auth,
        "auth_fingerprint": record.fingerprint,
        "account": record.actor_account,
        "role": record.actor_role,
        "status": record.status,
        "resources": record.twin.map(|twin| vec![twin]).unwrap_or_default(),
        "owner": record.owner,
        "outcome": record.outcome,
        "twin": record.twin,
        "client": record.client,
    })
}

/// A template with each `{variable}` replaced by its value (strings bare, others as JSON,
/// null as the empty string).
fn render(template: &str, variables: &Json) -> String {
    let Ok(pieces) = parse_template(template, known_token) else {
        return String::new();
    };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Token(token) => match twin_key(token).map_or(&variables[token], |key| {
                // Of the twin only its uuid is recorded.
                if key == "uuid" {
                    &variables["twin"]
                } else {
                    &Json::Null
                }
            }) {
                Json::Null => {}
                Json::String(text) => out.push_str(text),
                other => out.push_str(&other.to_string()),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use steward_domain::{AccountId, Timestamp};

    #[test]
    fn configurations_are_checked_before_they_are_stored() {
        let ok = json!({"reads": {"rule": "operation == 'get_twin'", "dimensions": {"who": "{account} {{x}}"}}});
        validate_log_config("resource_access_log", Some(&ok)).unwrap();
        validate_log_config("activity", None).unwrap();
        validate_log_config("activity", Some(&json!({"all": {}}))).unwrap();
        for bad in [
            json!([]),
            json!({"a b": {}}),
            json!({"reads": 1}),
            json!({"reads": {"rule": "operation =="}}),
            json!({"reads": {"rule": 3}}),
            json!({"reads": {"dimensions": {"who": "{nope}"}}}),
            json!({"reads": {"dimensions": {"who": "{account"}}}),
            json!({"reads": {"dimensions": {"who": 1}}}),
            json!({"reads": {"extra": true}}),
        ] {
            let error = validate_log_config("resource_access_log", Some(&bad)).unwrap_err();
            assert_eq!(error.code.subcode(), 400_589, "{bad}");
        }
    }

    #[test]
    fn a_log_selects_by_its_rule_and_renders_its_dimensions() {
        let actor = AccountId::new_random();
        let mut record = AuditRecord::new("get_twin", "req-9", Timestamp::from_millis(1_500));
        record.actor_account = Some(actor);
        record.status = 200;
        let config = json!({"reads": {"rule": format!("account == '{actor}' and status == 200"),
                                      "dimensions": {"what": "{operation}/{status} by {account}{client}",
                                                     "twin": "{TWIN.uuid}{TWIN[name]}"}}});
        let log = NamedLog::from_config(Some(&config), "reads").unwrap();
        assert!(log.selects(&record));
        let mut view = json!({});
        log.annotate(&record, &mut view);
        assert_eq!(view["log"], "reads");
        assert_eq!(
            view["dimensions"]["what"],
            format!("get_twin/200 by {actor}")
        );
        record.status = 403;
        assert!(!log.selects(&record));
        assert!(NamedLog::from_config(Some(&config), "other").is_none());
    }
}
