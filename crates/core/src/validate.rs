//! Input formats of Trusted Twin (spec §1.4), checked without regex engines.

use serde_json::{Map, Value};

use crate::Error;

/// Role and user names: `^[0-9A-Za-z][0-9A-Za-z_ \-]{0,30}[0-9A-Za-z]$`.
pub(crate) fn name(field: &str, value: &str) -> Result<(), Error> {
    let bytes = value.as_bytes();
    let valid = (2..=32).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(Error::request_format(format!(
            "`{field}` must be 2 to 32 letters, digits, spaces, `_` or `-`, starting and ending \
             with a letter or digit"
        )))
    }
}

/// Description and dictionary keys: `^[a-z_][0-9a-z_]{0,63}$`.
pub(crate) fn description_keys(field: &str, map: &Map<String, Value>) -> Result<(), Error> {
    for key in map.keys() {
        let bytes = key.as_bytes();
        let valid = (1..=64).contains(&bytes.len())
            && bytes
                .first()
                .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_')
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if !valid {
            return Err(Error::request_format(format!(
                "`{field}` key `{key}` must match `^[a-z_][0-9a-z_]{{0,63}}$`"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_trusted_twin_pattern() {
        for good in ["ab", "User Role Name", "read-only_2", &"a".repeat(32)] {
            assert!(name("name", good).is_ok(), "{good}");
        }
        for bad in ["a", " ab", "ab ", "-ab", "a.b", &"a".repeat(33), "zażółć"] {
            assert!(name("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn description_keys_follow_the_trusted_twin_pattern() {
        let good = serde_json::json!({"company": 1, "_x9": 2});
        assert!(description_keys("description", good.as_object().unwrap()).is_ok());
        for bad in ["Company", "9lives", "", "a-b"] {
            let map = serde_json::json!({ bad: 1 });
            assert!(
                description_keys("description", map.as_object().unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
