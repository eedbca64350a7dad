//! Steward's tamper-evident audit core: the pure, IO-free part of the audit log.
//!
//! Audit records are the leaves of an append-only Merkle log. The log periodically signs a
//! checkpoint (its size and root hash); anyone holding a checkpoint can then be shown, with
//! `O(log n)` hashes, that a record is in the log (inclusion proof) and that a later
//! checkpoint extends an earlier one without rewriting history (consistency proof).
//!
//! * [`merkle`]: RFC 6962 / RFC 9162 §2 hashing (`SHA-256(0x00 || record)` for leaves,
//!   `SHA-256(0x01 || left || right)` for nodes), with the log kept as a growing list of stored
//!   subtree hashes in the numbering of Go's `sumdb/tlog`. A storage backend implements
//!   [`merkle::HashReader`] and appends what [`merkle::stored_hashes_for_record`] returns;
//!   tree hashes and proofs of any past size come from at most `O(log n)` stored hashes.
//!   [`merkle::MemoryLog`] is the in-memory backend, used by tests and to recompute a log from
//!   all its records.
//! * [`note`]: C2SP signed notes with Ed25519 keys and Go-compatible key strings.
//! * [`checkpoint`]: C2SP tlog checkpoints (`origin`, size, base64 root hash) signed as notes.
//!
//! Checkpoints, tree hashes and proofs are byte-for-byte those of Go's
//! `golang.org/x/mod/sumdb/{tlog,note}`; an integration test runs Go against them.
//!
//! This crate must not depend on IO, async runtimes, SQL, HTTP or other Steward crates.

pub mod checkpoint;
pub mod merkle;
pub mod note;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use merkle::{Hash, HashReader, MemoryLog, ProofError, TreeError};
pub use note::{NoteError, NoteSigner, NoteVerifier};
