//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, compatible with Go's
//! `golang.org/x/mod/sumdb/note`.
//!
//! A signed note is a text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(4-byte big-endian key id || signature)>` (an em dash U+2014 and a
//! space). The signature covers the text including its final newline. When opening a note,
//! signatures from unknown keys (another name, or the same name with another key id) are
//! ignored, a known key's signature that fails to verify rejects the whole note, and a note
//! with no verified signature is rejected.

mod keys;

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

pub use keys::{generate_key, key_id, NoteSigner, NoteVerifier, ED25519_SIGNATURE_TYPE};

/// Most signature lines a note may carry when opened (C2SP asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "— ";

/// Why a key could not be used or a note could not be signed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name is empty or has a space or `+`.
    #[error("key name `{0}` is empty or contains a space or `+`")]
    InvalidKeyName(String),
    /// A verifier key string is not `<name>+<hex key id>+<base64 key>`.
    #[error("malformed verifier key")]
    MalformedVerifierKey,
    /// A signer key string is not `PRIVATE+KEY+<name>+<hex key id>+<base64 key>`.
    #[error("malformed signer key")]
    MalformedSignerKey,
    /// A key of a signature type other than Ed25519.
    #[error("unsupported signature type {0:#04x}")]
    UnknownSignatureType(u8),
    /// The key id in a key string does not belong to the key.
    #[error("key id does not match the key")]
    KeyIdMismatch,
    /// The operating system's random generator failed.
    #[error("random generator failed: {0}")]
    Randomness(String),
    /// Text to sign that does not end with a newline or has control characters.
    #[error("note text must end with a newline and contain no control characters but newline")]
    InvalidText,
    /// A note that breaks the signed-note format.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// A known key's signature that does not verify.
    #[error("invalid signature by key `{name}+{key_id:08x}`")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// No signature from any known key.
    #[error("note has no signature from a known key")]
    Unverified,
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// `base64(key id || signature)` as in the note.
    pub base64: String,
}

/// A note whose signatures have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The signed text, final newline included.
    pub text: String,
    /// Signatures by known keys, all verified.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys not in the verifier list, not checked.
    pub unverified: Vec<NoteSignature>,
}

/// Whether `name` can name a key: non-empty, without Unicode spaces or `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Signs `text` with every signer, in order, and returns the signed note.
pub fn sign(text: &str, signers: &[NoteSigner]) -> Result<String, NoteError> {
    if !text.ends_with('\n') || has_forbidden_characters(text) {
        return Err(NoteError::InvalidText);
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 110);
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        note.push_str(&signer.signature_line(text));
    }
    Ok(note)
}

/// Opens a signed note with the known `verifiers` (see the module docs for the rules).
pub fn open(note: &[u8], verifiers: &[NoteVerifier]) -> Result<OpenedNote, NoteError> {
    let note = std::str::from_utf8(note).map_err(|_| NoteError::MalformedNote("not UTF-8"))?;
    if has_forbidden_characters(note) {
        return Err(NoteError::MalformedNote("control character"));
    }
    // The text ends at the last blank line; it keeps its final newline.
    let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote(
        "no blank line before the signatures",
    ))?;
    let (text, signature_block) = (&note[..=split], &note[split + 2..]);
    if signature_block.is_empty() || !signature_block.ends_with('\n') {
        return Err(NoteError::MalformedNote(
            "signatures must be non-empty lines ending in a newline",
        ));
    }

    let mut opened = OpenedNote {
        text: text.to_owned(),
        verified: Vec::new(),
        unverified: Vec::new(),
    };
    let mut seen_lines = HashSet::new();
    let lines: Vec<&str> = signature_block.split_terminator('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(NoteError::MalformedNote("too many signatures"));
    }
    for line in lines {
        let (signature, signature_bytes) = parse_signature_line(line)?;
        if !seen_lines.insert(line) {
            continue;
        }
        let known = verifiers.iter().find(|verifier| {
            verifier.name() == signature.name && verifier.key_id() == signature.key_id
        });
        let Some(verifier) = known else {
            opened.unverified.push(signature);
            continue;
        };
        // Like Go's note package, only the first signature of a known key counts.
        if opened
            .verified
            .iter()
            .any(|seen| seen.name == signature.name && seen.key_id == signature.key_id)
        {
            continue;
        }
        if !verifier.verifies(text.as_bytes(), &signature_bytes) {
            return Err(NoteError::InvalidSignature {
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        opened.verified.push(signature);
    }
    if opened.verified.is_empty() {
        return Err(NoteError::Unverified);
    }
    Ok(opened)
}

/// A signature line's fields and the signature bytes after the key id.
fn parse_signature_line(line: &str) -> Result<(NoteSignature, Vec<u8>), NoteError> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(NoteError::MalformedNote(
            "signature line must start with `— `",
        ))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(NoteError::MalformedNote("signature line has no signature"))?;
    if !is_valid_key_name(name) {
        return Err(NoteError::MalformedNote(
            "invalid key name in a signature line",
        ));
    }
    let raw = BASE64
        .decode(encoded)
        .map_err(|_| NoteError::MalformedNote("signature is not base64"))?;
    let Some((key_id_bytes, signature_bytes)) = raw.split_first_chunk::<4>() else {
        return Err(NoteError::MalformedNote("signature is too short"));
    };
    if signature_bytes.is_empty() {
        return Err(NoteError::MalformedNote("signature is too short"));
    }
    let signature = NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes(*key_id_bytes),
        base64: encoded.to_owned(),
    };
    Ok((signature, signature_bytes.to_vec()))
}

/// ASCII control characters other than newline are not allowed anywhere in a note.
fn has_forbidden_characters(text: &str) -> bool {
    text.chars().any(|c| c < ' ' && c != '\n')
}
