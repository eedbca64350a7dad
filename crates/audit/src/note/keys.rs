//! Ed25519 note keys and their text encodings (those of Go's `golang.org/x/mod/sumdb/note`):
//!
//! * verifier key: `<name>+<hex key id>+<base64(0x01 || 32-byte public key)>`
//! * signer key: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::{is_valid_key_name, NoteError};

/// Signature type byte of Ed25519 in signed notes.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// The key id of a key: the first four bytes, big-endian, of
/// `SHA-256(name || "\n" || signature type || public key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([signature_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Generates a fresh Ed25519 key named `name` from the operating system's CSPRNG and returns
/// `(signer key, verifier key)` as strings. The signer key is a secret.
pub fn generate_key(name: &str) -> Result<(String, String), NoteError> {
    let signer = NoteSigner::generate(name)?;
    Ok((signer.signer_key(), signer.verifier().verifier_key()))
}

/// Signs notes with an Ed25519 key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: u32,
    signing_key: SigningKey,
}

impl NoteSigner {
    /// A fresh key named `name` from the operating system's CSPRNG.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|error| NoteError::Randomness(error.to_string()))?;
        let signer = Self::from_seed(name, &seed);
        seed.fill(0);
        signer
    }

    /// The key named `name` with the RFC 8032 32-byte private key `seed`.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let signing_key = SigningKey::from_bytes(seed);
        let key_id = key_id(
            name,
            ED25519_SIGNATURE_TYPE,
            signing_key.verifying_key().as_bytes(),
        );
        Ok(Self {
            name: name.to_owned(),
            key_id,
            signing_key,
        })
    }

    /// Parses a signer key string `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`.
    pub fn parse(signer_key: &str) -> Result<Self, NoteError> {
        let mut parts = signer_key.splitn(5, '+');
        let (Some("PRIVATE"), Some("KEY"), Some(name), Some(id_hex), Some(key_base64)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(NoteError::MalformedSignerKey);
        };
        let claimed_id = parse_key_id(id_hex).ok_or(NoteError::MalformedSignerKey)?;
        if !is_valid_key_name(name) {
            return Err(NoteError::MalformedSignerKey);
        }
        let key = BASE64
            .decode(key_base64)
            .map_err(|_| NoteError::MalformedSignerKey)?;
        let seed = match key.split_first() {
            Some((&ED25519_SIGNATURE_TYPE, seed)) => {
                <[u8; 32]>::try_from(seed).map_err(|_| NoteError::MalformedSignerKey)?
            }
            Some((&other, _)) => return Err(NoteError::UnknownSignatureType(other)),
            None => return Err(NoteError::MalformedSignerKey),
        };
        let signer = Self::from_seed(name, &seed)?;
        if signer.key_id != claimed_id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The signer key string (a secret: store it like a password).
    pub fn signer_key(&self) -> String {
        let mut key = vec![ED25519_SIGNATURE_TYPE];
        key.extend_from_slice(self.signing_key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(&key)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            verifying_key: self.signing_key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signs `text` and returns the signed note: the text, a blank line and one signature line.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        super::sign(text, std::slice::from_ref(self))
    }

    pub(super) fn signature_line(&self, text: &str) -> String {
        let signature: Signature = self.signing_key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(4 + Signature::BYTE_SIZE);
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&signature.to_bytes());
        format!("— {} {}\n", self.name, BASE64.encode(&raw))
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl FromStr for NoteSigner {
    type Err = NoteError;

    fn from_str(signer_key: &str) -> Result<Self, Self::Err> {
        Self::parse(signer_key)
    }
}

/// Verifies note signatures of one Ed25519 key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    verifying_key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key string `<name>+<hex key id>+<base64(0x01 || public key)>`.
    pub fn parse(verifier_key: &str) -> Result<Self, NoteError> {
        let mut parts = verifier_key.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_base64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedVerifierKey);
        };
        let claimed_id = parse_key_id(id_hex).ok_or(NoteError::MalformedVerifierKey)?;
        if !is_valid_key_name(name) {
            return Err(NoteError::MalformedVerifierKey);
        }
        let key = BASE64
            .decode(key_base64)
            .map_err(|_| NoteError::MalformedVerifierKey)?;
        let (&signature_type, public_key) =
            key.split_first().ok_or(NoteError::MalformedVerifierKey)?;
        // The key id covers the type byte; check it first, as Go does.
        if key_id(name, signature_type, public_key) != claimed_id {
            return Err(NoteError::KeyIdMismatch);
        }
        if signature_type != ED25519_SIGNATURE_TYPE {
            return Err(NoteError::UnknownSignatureType(signature_type));
        }
        let public_key =
            <[u8; 32]>::try_from(public_key).map_err(|_| NoteError::MalformedVerifierKey)?;
        Self::from_public_key(name, &public_key)
    }

    /// The verifier for the Ed25519 `public_key` named `name`.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let verifying_key =
            VerifyingKey::from_bytes(public_key).map_err(|_| NoteError::MalformedVerifierKey)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, ED25519_SIGNATURE_TYPE, public_key),
            verifying_key,
        })
    }

    /// The verifier key string, safe to publish.
    pub fn verifier_key(&self) -> String {
        let mut key = vec![ED25519_SIGNATURE_TYPE];
        key.extend_from_slice(self.verifying_key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(&key))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.verifying_key.to_bytes()
    }

    /// Opens a note that this key must have signed and returns its text (see [`super::open`]).
    pub fn open(&self, note: &[u8]) -> Result<String, NoteError> {
        super::open(note, std::slice::from_ref(self)).map(|opened| opened.text)
    }

    /// Whether `signature` (without the key id prefix) is this key's signature of `text`.
    ///
    /// Strict RFC 8032 verification: non-canonical and small-order encodings, which no honest
    /// signer produces, are refused rather than accepted as a second valid signature.
    pub(super) fn verifies(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.verifying_key.verify_strict(text, &signature).is_ok()
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.verifier_key())
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.verifier_key())
    }
}

impl FromStr for NoteVerifier {
    type Err = NoteError;

    fn from_str(verifier_key: &str) -> Result<Self, Self::Err> {
        Self::parse(verifier_key)
    }
}

/// Eight hex digits, nothing else (`u32::from_str_radix` alone would accept a sign).
fn parse_key_id(id_hex: &str) -> Option<u32> {
    if id_hex.len() != 8 || !id_hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(id_hex, 16).ok()
}
