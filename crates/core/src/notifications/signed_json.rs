//! Message bodies signed the way Trusted Twin's `trustedtwin_utils.TTSignedJson` checks them:
//! keyed BLAKE2b (32-byte digest, key = client secret + server secret) over the exact JSON text
//! of each listed top-level value, in list order, base64 (standard alphabet) under `"hash"`.
//!
//! The checker hashes the text of each value as it appears in the body, so the body is written
//! here value by value and the same text is hashed: what is sent is what is signed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::digest::Mac as _;
use blake2::Blake2bMac;
use serde_json::Value;

use crate::{Error, ErrorCode};

/// The key of the signature in a signed body.
pub const HASH_KEY: &str = "hash";

/// Writes `fields` (in order) as one JSON object `{"k": v, ...}` with `", "` and `": "`
/// separators like Python's `json.dumps`. With `key`, a `"hash"` field is appended: the keyed
/// BLAKE2b of the JSON texts of the fields named in `hashed`, in that order (a listed field
/// that is absent contributes nothing).
pub fn signed_body(
    fields: &[(&str, Value)],
    hashed: &[&str],
    key: Option<&[u8]>,
) -> Result<String, Error> {
    let texts: Vec<(&str, String)> = fields
        .iter()
        .map(|(name, value)| Ok((*name, json_text(value)?)))
        .collect::<Result<_, Error>>()?;
    let mut parts: Vec<String> = texts
        .iter()
        .map(|(name, text)| Ok(format!("{}: {text}", json_text(&Value::from(*name))?)))
        .collect::<Result<_, Error>>()?;
    if let Some(key) = key {
        let mut mac = Blake2bMac::<U32>::new_with_salt_and_personal(key, &[], &[])
            .map_err(|_| Error::new(ErrorCode::General, "signing key is too long"))?;
        for name in hashed {
            if let Some((_, text)) = texts.iter().find(|(field, _)| field == name) {
                mac.update(text.as_bytes());
            }
        }
        let digest = STANDARD.encode(mac.finalize().into_bytes());
        parts.push(format!(
            "{}: {}",
            json_text(&Value::from(HASH_KEY))?,
            json_text(&Value::from(digest))?
        ));
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

fn json_text(value: &Value) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|error| {
        Error::new(
            ErrorCode::General,
            format!("message does not serialize: {error}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unsigned_bodies_are_plain_json_in_field_order() {
        let body = signed_body(
            &[
                ("type", json!("A")),
                ("n", json!(1)),
                ("o", json!({"k": [1, 2]})),
            ],
            &["type"],
            None,
        )
        .unwrap();
        assert_eq!(body, r#"{"type": "A", "n": 1, "o": {"k":[1,2]}}"#);
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["o"]["k"][1], 2);
    }

    #[test]
    fn the_hash_covers_the_listed_values_in_list_order() {
        let fields = [("a", json!("x")), ("b", json!({"y": 1}))];
        let key = b"0123456789abcdefFEDCBA9876543210";
        let signed = signed_body(&fields, &["b", "a", "missing"], Some(key)).unwrap();
        let mut mac = Blake2bMac::<U32>::new_with_salt_and_personal(key, &[], &[]).unwrap();
        mac.update(br#"{"y":1}"#);
        mac.update(br#""x""#);
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            signed,
            format!(r#"{{"a": "x", "b": {{"y":1}}, "hash": "{expected}"}}"#)
        );
        let other = signed_body(&fields, &["a", "b"], Some(key)).unwrap();
        assert_ne!(other, signed, "order matters");
    }
}
