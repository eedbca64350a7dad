//! What callers send for an entry, and its validation.

use serde_json::Value;
use steward_domain::{AccountId, Entry, EntryContent, RetentionPeriod, Timestamp, TwinId};

use crate::access::roles::validate_rule_text;
use crate::{Error, ErrorCode};

/// One entry of an add or update request. For updates, absent fields keep their value; the
/// outer `Option` of the configuration fields tells absent from `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryInput {
    /// `value`.
    pub value: Option<Value>,
    /// `ref.source`.
    pub reference: Option<String>,
    /// `include.source`.
    pub include: Option<String>,
    /// `visibility`.
    pub visibility: Option<Option<String>>,
    /// `history`.
    pub history: Option<Option<String>>,
    /// `publish`.
    pub publish: Option<Option<Value>>,
    /// `timeseries`.
    pub timeseries: Option<Option<Value>>,
}

/// Entry names: the current (`^(_*[a-z0-9]+)([_-][0-9a-z]+)*$`) and the older
/// (`^[a-z_][0-9a-z_]{0,127}$`) Trusted Twin patterns, at most 128 characters.
pub(crate) fn validate_entry_name(name: &str) -> Result<(), Error> {
    let bytes = name.as_bytes();
    let lower_or_digit = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let older = bytes
        .first()
        .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_')
        && bytes.iter().all(|b| lower_or_digit(b) || *b == b'_');
    let current = {
        let trimmed = name.trim_start_matches('_');
        !trimmed.is_empty()
            && trimmed
                .split(['_', '-'])
                .all(|part| !part.is_empty() && part.bytes().all(|b| lower_or_digit(&b)))
    };
    if (1..=128).contains(&bytes.len()) && (older || current) {
        Ok(())
    } else {
        Err(Error::request_format(format!(
            "entry name `{name}` must match `^(_*[a-z0-9]+)([_-][0-9a-z]+)*$` or \
             `^[a-z_][0-9a-z_]{{0,127}}$` (at most 128 characters)"
        )))
    }
}

/// History retention: `^([1-9][0-9]{0,2}[DWMY])|(INF)$`.
fn validate_history(name: &str, history: &str) -> Result<(), Error> {
    match RetentionPeriod::parse(history) {
        Some(_) => Ok(()),
        None => Err(Error::request_format(format!(
            "`history` of entry `{name}` must be 1–999 followed by D, W, M or Y, or INF"
        ))),
    }
}

/// Where a reference or include entry reads its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceAddress<'a> {
    /// The twin of the source entry.
    pub twin: TwinId,
    /// The ledger (account) of the source entry; `None` for includes, which read from the
    /// including entry's own account.
    pub account: Option<AccountId>,
    /// The source entry's name.
    pub entry: &'a str,
}

/// Parses `twin://{twin}/{account}/{entry}` (reference) or `twin://{twin}/{entry}` (include).
pub(crate) fn parse_source(source: &str, include: bool) -> Option<SourceAddress<'_>> {
    let rest = source.strip_prefix("twin://")?;
    let mut parts = rest.split('/');
    let twin = parts.next()?.parse().ok()?;
    let account = if include {
        None
    } else {
        Some(parts.next()?.parse().ok()?)
    };
    let entry = parts.next()?;
    if parts.next().is_some() || validate_entry_name(entry).is_err() {
        return None;
    }
    Some(SourceAddress {
        twin,
        account,
        entry,
    })
}

fn validate_source(name: &str, source: &str, include: bool) -> Result<(), Error> {
    if parse_source(source, include).is_some() {
        return Ok(());
    }
    let (field, form) = if include {
        ("include", "twin://{twin}/{entry}")
    } else {
        ("ref", "twin://{twin}/{account}/{entry}")
    };
    Err(Error::request_format(format!(
        "`{field}.source` of entry `{name}` must have the form `{form}` with uuids and an entry name"
    )))
}

impl EntryInput {
    /// The input as request JSON (present fields only; `null` where a field clears).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                object.insert(key.to_owned(), value);
            }
        };
        put("value", self.value.clone());
        put(
            "ref",
            self.reference
                .clone()
                .map(|source| serde_json::json!({ "source": source })),
        );
        put(
            "include",
            self.include
                .clone()
                .map(|source| serde_json::json!({ "source": source })),
        );
        put(
            "visibility",
            self.visibility
                .clone()
                .map(|rule| rule.map_or(Value::Null, Value::from)),
        );
        put(
            "history",
            self.history
                .clone()
                .map(|history| history.map_or(Value::Null, Value::from)),
        );
        put(
            "publish",
            self.publish
                .clone()
                .map(|publish| publish.unwrap_or(Value::Null)),
        );
        put(
            "timeseries",
            self.timeseries
                .clone()
                .map(|series| series.unwrap_or(Value::Null)),
        );
        Value::Object(object)
    }

    /// Checks the parts that do not depend on stored state.
    pub(crate) fn validate(&self, name: &str) -> Result<(), Error> {
        validate_entry_name(name)?;
        let contents = [
            self.value.is_some(),
            self.reference.is_some(),
            self.include.is_some(),
        ]
        .into_iter()
        .filter(|present| *present)
        .count();
        if contents > 1 {
            return Err(Error::request_format(format!(
                "entry `{name}` must have only one of `value`, `ref` and `include`"
            )));
        }
        if let Some(source) = &self.reference {
            validate_source(name, source, false)?;
        }
        if let Some(source) = &self.include {
            validate_source(name, source, true)?;
        }
        if let Some(Some(visibility)) = &self.visibility {
            validate_rule_text(&format!("entries.{name}.visibility"), visibility)?;
        }
        if let Some(Some(publish)) = &self.publish {
            crate::notifications::publish::validate_publish(name, publish)?;
        }
        if let Some(Some(history)) = &self.history {
            validate_history(name, history)?;
            if self.reference.is_some() || self.include.is_some() {
                return Err(Error::new(
                    ErrorCode::OperationNotAllowed,
                    format!("entry `{name}`: `ref` and `include` entries keep no history"),
                ));
            }
        }
        Ok(())
    }

    /// A new entry from an add request (already validated).
    pub(crate) fn into_new_entry(self, name: &str, now: Timestamp) -> Result<Entry, Error> {
        let content = match (self.value, self.reference, self.include) {
            (Some(value), _, _) => EntryContent::Value(value),
            (None, Some(source), _) => EntryContent::Reference { source },
            (None, None, Some(source)) => EntryContent::Include { source },
            (None, None, None) => {
                return Err(Error::request_format(format!(
                    "entry `{name}` needs one of `value`, `ref` and `include`"
                )))
            }
        };
        Ok(Entry {
            content,
            visibility: self.visibility.flatten(),
            history: self.history.flatten(),
            publish: self.publish.flatten(),
            timeseries: self.timeseries.flatten(),
            entry_created_ts: now,
            entry_updated_ts: now,
            value_changed_ts: now,
        })
    }

    /// Applies an update request to a stored entry (already validated).
    pub(crate) fn apply_to(
        self,
        name: &str,
        entry: &mut Entry,
        now: Timestamp,
    ) -> Result<(), Error> {
        if let Some(value) = self.value {
            let EntryContent::Value(current) = &mut entry.content else {
                return Err(Error::new(
                    ErrorCode::OperationNotAllowed,
                    format!("entry `{name}` is a reference or include: its value cannot be set"),
                ));
            };
            if *current != value {
                *current = value;
                entry.value_changed_ts = now;
            }
        }
        match (self.reference, self.include, &mut entry.content) {
            (None, None, _) => {}
            (Some(new), None, EntryContent::Reference { source })
            | (None, Some(new), EntryContent::Include { source }) => {
                if *source != new {
                    *source = new;
                    entry.value_changed_ts = now;
                }
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::OperationNotAllowed,
                    format!("entry `{name}` cannot change its type (value, ref or include)"),
                ))
            }
        }
        if let Some(visibility) = self.visibility {
            entry.visibility = visibility;
        }
        if let Some(history) = self.history {
            if history.is_some() && !matches!(entry.content, EntryContent::Value(_)) {
                return Err(Error::new(
                    ErrorCode::OperationNotAllowed,
                    format!("entry `{name}`: `ref` and `include` entries keep no history"),
                ));
            }
            entry.history = history;
        }
        if let Some(publish) = self.publish {
            entry.publish = publish;
        }
        if let Some(timeseries) = self.timeseries {
            entry.timeseries = timeseries;
        }
        entry.entry_updated_ts = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_accept_both_trusted_twin_patterns() {
        for good in [
            "entry1",
            "delivery_address",
            "_private",
            "a-b-c",
            "x",
            &"a".repeat(128),
        ] {
            assert!(validate_entry_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Entry",
            "a b",
            "a--b",
            "-a",
            "a.b",
            &"a".repeat(129),
            "zażółć",
        ] {
            assert!(validate_entry_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_need_the_documented_uri_forms() {
        let twin = "5b2d8f0e-1f3a-4c57-9a1d-3c4b5a6d7e8f";
        let account = "0f6e5d4c-3b2a-4190-8a7b-6c5d4e3f2a1b";
        let reference = format!("twin://{twin}/{account}/delivery_status");
        let parsed = parse_source(&reference, false).unwrap();
        assert_eq!(parsed.twin.to_string(), twin);
        assert_eq!(parsed.account.unwrap().to_string(), account);
        assert_eq!(parsed.entry, "delivery_status");
        let include = format!("twin://{twin}/rates");
        assert_eq!(parse_source(&include, true).unwrap().account, None);
        for bad in [
            format!("twin://{twin}/delivery_status"),
            format!("http://{twin}/{account}/x"),
            format!("twin://{twin}/{account}/x/y"),
            format!("twin://{twin}/{account}/Bad"),
            format!("twin://not-a-uuid/{account}/x"),
            format!("twin://{twin}/{account}/"),
        ] {
            assert!(parse_source(&bad, false).is_none(), "{bad}");
        }
        assert!(parse_source(&reference, true).is_none());
    }

    #[test]
    fn history_follows_the_retention_pattern() {
        for good in ["7D", "2W", "3M", "1Y", "999D", "INF"] {
            assert!(validate_history("e", good).is_ok(), "{good}");
        }
        for bad in ["0D", "D", "1000D", "7d", "7X", "inf", "07D"] {
            assert!(validate_history("e", bad).is_err(), "{bad}");
        }
    }
}
