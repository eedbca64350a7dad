//! RFC 6962 / RFC 9162 §2 Merkle tree hashing for an append-only log whose node hashes live in
//! storage (a database table, a file, memory).
//!
//! Every hash of a *complete* subtree is stored once, when the record that completes it is
//! appended, under a dense numbering of `(level, index)` coordinates ([`stored_hash_index`]).
//! Level 0 holds the leaf hashes; the node at `(level, i)` covers records
//! `[i·2^level, (i+1)·2^level)`. The numbering is the one of Go's `golang.org/x/mod/sumdb/tlog`
//! (Crosby and Wallach, "Efficient Data Structures for Tamper-Evident Logging", §3.3): record
//! `n` adds its leaf hash followed by the hashes of the subtrees it completes, so a log only ever
//! appends hashes. Tree hashes of any earlier size and both kinds of proof are then computed from
//! at most `O(log n)` stored hashes, fetched with a single [`HashReader::read_hashes`] call.
//!
//! Hashes, tree hashes and proofs are byte-for-byte those of RFC 6962 and of Go's tlog; the
//! one deliberate difference is that the empty tree hashes to `SHA-256("")` as RFC 6962 says
//! (tlog returns all zeroes), which is what a C2SP checkpoint of size 0 carries.

mod memory;
mod proofs;

use sha2::{Digest, Sha256};

pub use memory::{MemoryLog, MissingHashError};
pub use proofs::{
    check_record, check_tree, prove_record, prove_tree, stored_hashes_for_leaf_hash,
    stored_hashes_for_record, tree_hash,
};

/// Size of a [`type@Hash`] in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: of a record (leaf), an interior node or a whole tree.
pub type Hash = [u8; HASH_SIZE];

/// Largest tree size the functions here accept (Go's tlog works on `int64` sizes); it keeps all
/// index arithmetic far from overflow.
pub const MAX_TREE_SIZE: u64 = i64::MAX as u64;

/// The hash of a log record: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of the empty tree: `SHA-256("")`.
pub fn empty_tree_hash() -> Hash {
    Sha256::digest([]).into()
}

/// Where the hash of the complete subtree at `(level, index)` is stored in the dense linear
/// order of stored hashes (tlog's `StoredHashIndex`).
///
/// Defined for coordinates inside a tree of at most [`MAX_TREE_SIZE`] records.
pub fn stored_hash_index(level: u32, index: u64) -> u64 {
    // The node at (level, index) is written right after the last leaf it covers, and after the
    // nodes below it that the same leaf completes; map to that leaf first.
    let mut leaf = index;
    for _ in 0..level {
        leaf = 2 * leaf + 1;
    }
    // Leaf n is written after all hashes of the first n records: n + n/2 + n/4 + ...
    let mut position = 0u64;
    let mut remaining = leaf;
    while remaining > 0 {
        position += remaining;
        remaining >>= 1;
    }
    position + u64::from(level)
}

/// The inverse of [`stored_hash_index`]: the `(level, index)` coordinates stored at `position`.
pub fn split_stored_hash_index(position: u64) -> (u32, u64) {
    // stored_hash_index(0, n) < 2n, so the record that wrote `position` is at least position/2.
    let mut record = position / 2;
    let mut record_position = stored_hash_index(0, record);
    debug_assert!(
        record_position <= position,
        "stored hash numbering is monotonic"
    );
    loop {
        // Record n writes 1 + trailing_ones(n) hashes.
        let next_position = record_position + 1 + u64::from((record + 1).trailing_zeros());
        if next_position > position {
            break;
        }
        record += 1;
        record_position = next_position;
    }
    // Truncation is fine: position - record_position < 64 because a record writes at most 64 hashes.
    let level = (position - record_position) as u32;
    (level, record >> level)
}

/// How many hashes a log of `size` records has stored.
pub fn stored_hash_count(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let last = size - 1;
    // The last leaf hash, plus the subtrees that the last record completed.
    stored_hash_index(0, last) + 1 + u64::from(last.trailing_ones())
}

/// Read access to the stored hashes of a log, by [`stored_hash_index`] position.
///
/// A database-backed log implements it with one query for all positions of a call.
pub trait HashReader {
    /// The storage error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The hashes at `positions`, in the same order and of the same length.
    ///
    /// Positions come sorted in increasing order from every function of this module.
    fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(positions)
    }
}

/// Why a tree hash, proof or set of hashes to store could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// The sizes or indexes asked for do not describe a node of the tree.
    #[error("invalid tree coordinates: {0}")]
    InvalidInput(&'static str),
    /// The [`HashReader`] broke its contract.
    #[error("hash storage returned {returned} hashes for {requested} positions")]
    WrongHashCount {
        /// Positions asked for.
        requested: usize,
        /// Hashes returned.
        returned: usize,
    },
    /// The [`HashReader`] failed.
    #[error("reading stored hashes failed")]
    Read(#[source] E),
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The sizes or index are impossible (index past the tree, old tree larger than new, ...).
    #[error("invalid proof inputs: {0}")]
    InvalidInput(&'static str),
    /// The proof has the wrong length or does not lead to the expected hashes.
    #[error("proof does not verify")]
    Mismatch,
}
