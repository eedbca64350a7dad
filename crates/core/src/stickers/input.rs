//! What callers send for stickers, checked against Trusted Twin's formats and limits
//! (spec §1.4, §2.12, §7): colours and topics, notes, recipients, validity, `publish` and the
//! `context` parameter.

use serde_json::Value;
use steward_domain::{AccountId, Timestamp};
use uuid::Uuid;

use crate::Error;

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 512;
/// Most recipients of one sticker.
pub const MAX_RECIPIENTS: usize = 100;
/// Most stickers (colours) in one `put_sticker` request.
pub const MAX_STICKERS_PER_PUT: usize = 100;
/// Most topics per `publish` event.
pub const MAX_TOPICS_PER_EVENT: usize = 10;
/// Most accounts named in one `context`.
pub const MAX_CONTEXT_ACCOUNTS: usize = 100;
/// How far ahead a validity may be, and the default: one year of 365 days.
pub const MAX_VALIDITY_MILLIS: i64 = 365 * 24 * 60 * 60 * 1000;
/// The `publish` events a sticker can notify about.
pub const PUBLISH_EVENTS: [&str; 3] = ["on_put", "on_remove", "on_expire"];

/// Longest piece of user input repeated in an error message.
const SHOWN_CHARS: usize = 64;

/// User input as error messages repeat it: at most [`SHOWN_CHARS`] characters.
pub(crate) fn shown(value: &str) -> String {
    if value.chars().count() <= SHOWN_CHARS {
        return value.to_owned();
    }
    let mut cut: String = value.chars().take(SHOWN_CHARS).collect();
    cut.push('…');
    cut
}

/// Whether `value` matches `^[0-9A-Za-z\-]{3,48}$`, the format of colours and topics.
pub(crate) fn is_colour_or_topic(value: &str) -> bool {
    (3..=48).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// A sticker colour: `^[0-9A-Za-z\-]{3,48}$` (400 / 400589 otherwise).
pub(crate) fn colour(value: &str) -> Result<(), Error> {
    if is_colour_or_topic(value) {
        return Ok(());
    }
    Err(Error::request_format(format!(
        "sticker colour `{}` must be 3 to 48 letters, digits or `-`",
        shown(value)
    )))
}

/// A note of at most [`MAX_NOTE_CHARS`] characters without NUL.
pub(crate) fn note(field: &str, value: &str) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(Error::request_format(format!(
            "`{field}` must be at most {MAX_NOTE_CHARS} characters, got {chars}"
        )));
    }
    if value.contains('\0') {
        return Err(Error::request_format(format!(
            "`{field}` must not contain NUL characters"
        )));
    }
    Ok(())
}

/// Parses recipients: 1 to [`MAX_RECIPIENTS`] uuids (hyphenated, any case); repeated ones are
/// kept once, in their first order.
pub(crate) fn recipients(field: &str, values: &[String]) -> Result<Vec<Uuid>, Error> {
    if values.is_empty() {
        return Err(Error::request_format(format!(
            "`{field}` must name at least one user, role or account"
        )));
    }
    if values.len() > MAX_RECIPIENTS {
        return Err(Error::request_format(format!(
            "`{field}` must name at most {MAX_RECIPIENTS} recipients, got {}",
            values.len()
        )));
    }
    let mut parsed: Vec<Uuid> = Vec::with_capacity(values.len());
    for value in values {
        let recipient = parse_uuid(value).ok_or_else(|| {
            Error::request_format(format!(
                "`{field}` entry `{}` is not a valid uuid",
                shown(value)
            ))
        })?;
        if !parsed.contains(&recipient) {
            parsed.push(recipient);
        }
    }
    Ok(parsed)
}

/// A hyphenated uuid (36 characters), the only form Trusted Twin clients send.
fn parse_uuid(value: &str) -> Option<Uuid> {
    if value.len() != 36 {
        return None;
    }
    Uuid::parse_str(value).ok()
}

/// The validity of a new sticker: `now` + one year when absent; otherwise after `now` and at
/// most one year ahead (a later one is refused, not shortened).
pub(crate) fn validity(
    field: &str,
    requested: Option<Timestamp>,
    now: Timestamp,
) -> Result<Timestamp, Error> {
    let latest = now.plus_millis(MAX_VALIDITY_MILLIS);
    let Some(requested) = requested else {
        return Ok(latest);
    };
    if requested <= now {
        return Err(Error::request_format(format!(
            "`{field}` must be in the future, got {:.3} (now is {:.3})",
            requested.as_tt_seconds(),
            now.as_tt_seconds()
        )));
    }
    if requested > latest {
        return Err(Error::request_format(format!(
            "`{field}` must be at most one year (365 days) ahead, that is at most {:.3}, got {:.3}",
            latest.as_tt_seconds(),
            requested.as_tt_seconds()
        )));
    }
    Ok(requested)
}

/// `publish`: `null`, or an object whose keys are among [`PUBLISH_EVENTS`] and whose values
/// are a topic or a list of at most [`MAX_TOPICS_PER_EVENT`] topics
/// (`^[0-9A-Za-z\-]{3,48}$`). Returns what to store (`None` for `null`).
pub(crate) fn publish(field: &str, value: Option<Value>) -> Result<Option<Value>, Error> {
    let value = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => value,
    };
    let Value::Object(events) = &value else {
        return Err(Error::request_format(format!(
            "`{field}` must be an object with `on_put`, `on_remove` or `on_expire`"
        )));
    };
    for (event, topics) in events {
        if !PUBLISH_EVENTS.contains(&event.as_str()) {
            return Err(Error::request_format(format!(
                "`{field}` key `{}` must be `on_put`, `on_remove` or `on_expire`",
                shown(event)
            )));
        }
        let topic_field = format!("{field}.{event}");
        match topics {
            Value::String(topic) => self::topic(&topic_field, topic)?,
            Value::Array(list) => {
                if list.len() > MAX_TOPICS_PER_EVENT {
                    return Err(Error::request_format(format!(
                        "`{topic_field}` must list at most {MAX_TOPICS_PER_EVENT} topics, got {}",
                        list.len()
                    )));
                }
                for item in list {
                    let Value::String(topic) = item else {
                        return Err(Error::request_format(format!(
                            "`{topic_field}` must list topic names (strings)"
                        )));
                    };
                    self::topic(&topic_field, topic)?;
                }
            }
            _ => {
                return Err(Error::request_format(format!(
                    "`{topic_field}` must be a topic name or a list of topic names"
                )))
            }
        }
    }
    Ok(Some(value))
}

pub(crate) fn topic(field: &str, value: &str) -> Result<(), Error> {
    if is_colour_or_topic(value) {
        return Ok(());
    }
    Err(Error::request_format(format!(
        "`{field}` topic `{}` must be 3 to 48 letters, digits or `-`",
        shown(value)
    )))
}

/// Whose stickers an operation looks at (`context`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickerContext {
    /// Stickers of any account (`system`).
    System,
    /// Stickers of these accounts; `personal` stands for the caller's own account.
    Accounts {
        /// `personal` was named.
        personal: bool,
        /// Account uuids named.
        accounts: Vec<AccountId>,
    },
}

impl StickerContext {
    /// The caller's own account only (`personal`).
    pub const fn personal() -> Self {
        Self::Accounts {
            personal: true,
            accounts: Vec::new(),
        }
    }

    /// Parses the values of `context` (each comma-separated; the parameter may repeat):
    /// `system` alone, or any of `personal` and account uuids. No value at all gives `default`.
    pub fn parse(values: &[String], default: Self) -> Result<Self, Error> {
        let tokens: Vec<&str> = values
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .collect();
        if tokens.is_empty() {
            return Ok(default);
        }
        if tokens.contains(&"system") {
            if tokens.len() == 1 {
                return Ok(Self::System);
            }
            return Err(Error::request_format(
                "`context` `system` cannot be combined with other values",
            ));
        }
        let mut personal = false;
        let mut accounts: Vec<AccountId> = Vec::new();
        for token in tokens {
            if token == "personal" {
                personal = true;
                continue;
            }
            let account: AccountId = token.parse().map_err(|_| {
                Error::request_format(format!(
                    "`context` value `{}` must be `system`, `personal` or an account uuid",
                    shown(token)
                ))
            })?;
            if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
        if accounts.len() > MAX_CONTEXT_ACCOUNTS {
            return Err(Error::request_format(format!(
                "`context` must name at most {MAX_CONTEXT_ACCOUNTS} accounts, got {}",
                accounts.len()
            )));
        }
        Ok(Self::Accounts { personal, accounts })
    }

    /// The creating accounts this context allows (`None` = any), `personal` resolved to `own`.
    pub(crate) fn creators(&self, own: AccountId) -> Option<Vec<AccountId>> {
        match self {
            Self::System => None,
            Self::Accounts { personal, accounts } => {
                let mut creators = accounts.clone();
                if *personal && !creators.contains(&own) {
                    creators.push(own);
                }
                Some(creators)
            }
        }
    }

    /// The one creating account of an operation on a single sticker; `system` or several
    /// accounts are 400 / 400589.
    pub(crate) fn single_creator(&self, own: AccountId) -> Result<AccountId, Error> {
        match self.creators(own).as_deref() {
            Some([account]) => Ok(*account),
            _ => Err(Error::request_format(
                "`context` must be `personal` or one account uuid for a single sticker",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_trusted_twin_pattern() {
        for good in ["red", "ready-for-pickup", "A-9", &"x".repeat(48)] {
            assert!(colour(good).is_ok(), "{good}");
        }
        for bad in [
            "re",
            "",
            "red_1",
            "red 1",
            "czerwoń",
            &"x".repeat(49),
            "a/b",
        ] {
            assert!(colour(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn notes_are_limited_in_characters_not_bytes() {
        assert!(note("note", &"ż".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(note("note", &"a".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(note("note", "a\0b").is_err());
    }

    #[test]
    fn recipients_are_uuids_kept_once() {
        let id = "0e483b19-62bc-4862-8a14-2cb409232045".to_owned();
        let upper = id.to_uppercase();
        let parsed = recipients("recipients", &[id.clone(), upper, id.clone()]).unwrap();
        assert_eq!(parsed.len(), 1);
        assert!(recipients("recipients", &[]).is_err());
        assert!(recipients("recipients", &["0e483b1962bc48628a142cb409232045".into()]).is_err());
        assert!(recipients("recipients", &vec![id; MAX_RECIPIENTS + 1]).is_err());
    }

    #[test]
    fn validity_defaults_to_a_year_and_refuses_past_or_beyond() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let year = now.plus_millis(MAX_VALIDITY_MILLIS);
        assert_eq!(validity("v", None, now).unwrap(), year);
        assert_eq!(validity("v", Some(year), now).unwrap(), year);
        assert!(validity("v", Some(now), now).is_err());
        assert!(validity("v", Some(year.plus_millis(1)), now).is_err());
    }

    #[test]
    fn publish_accepts_topics_or_lists_per_event() {
        let ok = serde_json::json!({"on_put": "t-1", "on_remove": ["abc", "def"], "on_expire": []});
        assert_eq!(publish("p", Some(ok.clone())).unwrap(), Some(ok));
        assert_eq!(publish("p", Some(Value::Null)).unwrap(), None);
        for bad in [
            serde_json::json!({"on_change": "abc"}),
            serde_json::json!({"on_put": "a"}),
            serde_json::json!({"on_put": [1]}),
            serde_json::json!({"on_put": {"x": "abc"}}),
            serde_json::json!(["on_put"]),
            serde_json::json!({"on_put": vec!["abc"; MAX_TOPICS_PER_EVENT + 1]}),
        ] {
            assert!(publish("p", Some(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn context_forms() {
        let own = AccountId::new_random();
        let other = AccountId::new_random();
        let parse = |values: &[&str]| {
            let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
            StickerContext::parse(&values, StickerContext::System)
        };
        assert_eq!(parse(&[]).unwrap(), StickerContext::System);
        assert_eq!(parse(&["personal"]).unwrap().creators(own), Some(vec![own]));
        let listed = parse(&[&format!("{other},personal")]).unwrap();
        assert_eq!(listed.creators(own), Some(vec![other, own]));
        let repeated = parse(&[&other.to_string(), "personal"]).unwrap();
        assert_eq!(repeated, listed);
        assert!(listed.single_creator(own).is_err());
        assert!(parse(&["system", "personal"]).is_err());
        assert!(parse(&["nobody"]).is_err());
        assert!(parse(&["system"]).unwrap().single_creator(own).is_err());
    }
}
