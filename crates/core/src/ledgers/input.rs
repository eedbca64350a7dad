//! What callers send for an entry, and its validation.

use serde_json::Value;
use steward_domain::{Entry, EntryContent, Timestamp};

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
    let valid = history == "INF"
        || history.len() >= 2
            && history.len() <= 4
            && history.ends_with(['D', 'W', 'M', 'Y'])
            && history[..history.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_digit())
            && !history.starts_with('0');
    if valid {
        Ok(())
    } else {
        Err(Error::request_format(format!(
            "`history` of entry `{name}` must be 1–999 followed by D, W, M or Y, or INF"
        )))
    }
}

impl EntryInput {
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
        if self.reference.is_some() || self.include.is_some() {
            return Err(Error::new(
                ErrorCode::OperationNotAllowed,
                format!("entry `{name}`: `ref` and `include` entries are not supported yet"),
            ));
        }
        if let Some(Some(visibility)) = &self.visibility {
            validate_rule_text(&format!("entries.{name}.visibility"), visibility)?;
        }
        if let Some(Some(history)) = &self.history {
            validate_history(name, history)?;
        }
        Ok(())
    }

    /// A new entry from an add request (already validated).
    pub(crate) fn into_new_entry(self, name: &str, now: Timestamp) -> Result<Entry, Error> {
        let Some(value) = self.value else {
            return Err(Error::request_format(format!(
                "entry `{name}` needs a `value`"
            )));
        };
        Ok(Entry {
            content: EntryContent::Value(value),
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
        if let Some(visibility) = self.visibility {
            entry.visibility = visibility;
        }
        if let Some(history) = self.history {
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
    fn history_follows_the_retention_pattern() {
        for good in ["7D", "2W", "3M", "1Y", "999D", "INF"] {
            assert!(validate_history("e", good).is_ok(), "{good}");
        }
        for bad in ["0D", "D", "1000D", "7d", "7X", "inf", "07D"] {
            assert!(validate_history("e", bad).is_err(), "{bad}");
        }
    }
}
