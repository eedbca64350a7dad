//! C2SP transparency log checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed tree
//! head of the log, as the text of a signed note.
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeroes>
//! <base64 RFC 6962 root hash>
//! [extension lines, each non-empty]
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::merkle::{Hash, HASH_SIZE};
use crate::note::{NoteError, NoteSigner, NoteVerifier};

/// A log's tree head: origin, size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `steward.example/audit`; also the name of the log's key.
    pub origin: String,
    /// Number of records in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree of `size` records.
    pub root_hash: Hash,
    /// Extension lines (opaque, NOT RECOMMENDED by C2SP), without their newlines.
    pub extensions: Vec<String>,
}

/// Why a checkpoint could not be formatted, parsed, signed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The note around the checkpoint is malformed or not signed by the expected key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note text is not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The checkpoint is from another log.
    #[error("checkpoint origin is `{found}`, expected `{expected}`")]
    OriginMismatch {
        /// The origin asked for.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root_hash: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root_hash,
            extensions: Vec::new(),
        }
    }

    /// The note text: origin, size, root hash and extension lines, each ending in a newline.
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        if !is_valid_line(&self.origin) {
            return Err(CheckpointError::Malformed(
                "origin must be a non-empty line",
            ));
        }
        if !self.extensions.iter().all(|line| is_valid_line(line)) {
            return Err(CheckpointError::Malformed(
                "extension lines must be non-empty lines",
            ));
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root_hash)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses a checkpoint's note text (strictly: canonical size and hash, final newline).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root_hash)) =
            (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed(
                "origin, tree size and root hash lines are required",
            ));
        };
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("origin is empty"));
        }
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed("extension line is empty"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root_hash: parse_root_hash(root_hash)?,
            extensions,
        })
    }

    /// Signs the checkpoint and returns the signed note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, CheckpointError> {
        Ok(signer.sign(&self.to_text()?)?)
    }

    /// Opens a signed checkpoint note from the log `expected_origin`, verified with `verifier`
    /// (other signatures, e.g. witnesses', are ignored).
    pub fn open(
        note: &[u8],
        expected_origin: &str,
        verifier: &NoteVerifier,
    ) -> Result<Self, CheckpointError> {
        let text = verifier.open(note)?;
        let checkpoint = Self::parse(&text)?;
        if checkpoint.origin != expected_origin {
            return Err(CheckpointError::OriginMismatch {
                expected: expected_origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

fn is_valid_line(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(|c| c < ' ')
}

fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let canonical = !line.is_empty()
        && line.bytes().all(|byte| byte.is_ascii_digit())
        && (line == "0" || !line.starts_with('0'));
    if !canonical {
        return Err(CheckpointError::Malformed(
            "tree size must be a decimal number without leading zeroes",
        ));
    }
    line.parse()
        .map_err(|_| CheckpointError::Malformed("tree size is too large"))
}

fn parse_root_hash(line: &str) -> Result<Hash, CheckpointError> {
    let bytes = BASE64
        .decode(line)
        .map_err(|_| CheckpointError::Malformed("root hash is not base64"))?;
    <[u8; HASH_SIZE]>::try_from(bytes.as_slice())
        .map_err(|_| CheckpointError::Malformed("root hash is not 32 bytes"))
}
