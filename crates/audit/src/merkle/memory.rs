//! An in-memory log: the reference storage for tests and for recomputing a log from all its
//! records (`steward audit verify`).

use super::{
    leaf_hash, node_hash, proofs, stored_hash_index, Hash, HashReader, TreeError, MAX_TREE_SIZE,
};

/// An append-only log kept in memory as its stored hashes (see [`stored_hash_index`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryLog {
    stored: Vec<Hash>,
    size: u64,
}

/// A position that a [`MemoryLog`] has not stored (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored hash {position} does not exist")]
pub struct MissingHashError {
    /// The position asked for.
    pub position: u64,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log holding `records` in order.
    pub fn from_records<I>(records: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut log = Self::new();
        for record in records {
            log.append(record.as_ref());
        }
        log
    }

    /// Appends a record and returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// Appends a record given by its leaf hash and returns its index.
    ///
    /// # Panics
    ///
    /// When the log already holds [`MAX_TREE_SIZE`] records, which memory cannot hold anyway.
    pub fn append_leaf_hash(&mut self, record_hash: Hash) -> u64 {
        let n = self.size;
        assert!(
            n < MAX_TREE_SIZE,
            "a memory log should never get this large"
        );
        // Same hashes as `stored_hashes_for_leaf_hash`, read straight from the vector: every
        // left half was stored by an earlier record.
        let mut current = record_hash;
        self.stored.push(current);
        for level in 0..n.trailing_ones() {
            let left = self.stored[position_to_usize(stored_hash_index(level, (n >> level) - 1))];
            current = node_hash(&left, &current);
            self.stored.push(current);
        }
        self.size = n + 1;
        n
    }

    /// Number of records.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the log has no records.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// All stored hashes, in [`stored_hash_index`] order.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.stored
    }

    /// The leaf hash of record `n`, if the log has it.
    pub fn record_hash(&self, n: u64) -> Option<Hash> {
        if n >= self.size {
            return None;
        }
        self.stored
            .get(position_to_usize(stored_hash_index(0, n)))
            .copied()
    }

    /// The root hash of the whole log.
    pub fn root(&self) -> Hash {
        self.tree_hash(self.size)
            .unwrap_or_else(|_| unreachable!("the log stores every hash of its own size"))
    }

    /// The root hash of the first `size` records.
    pub fn tree_hash(&self, size: u64) -> Result<Hash, TreeError<MissingHashError>> {
        self.check_size(size)?;
        proofs::tree_hash(size, self)
    }

    /// The inclusion proof of record `n` in the tree of the first `size` records.
    pub fn prove_record(
        &self,
        size: u64,
        n: u64,
    ) -> Result<Vec<Hash>, TreeError<MissingHashError>> {
        self.check_size(size)?;
        proofs::prove_record(size, n, self)
    }

    /// The consistency proof from the first `old_size` records to the first `size`.
    pub fn prove_tree(
        &self,
        size: u64,
        old_size: u64,
    ) -> Result<Vec<Hash>, TreeError<MissingHashError>> {
        self.check_size(size)?;
        proofs::prove_tree(size, old_size, self)
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError<MissingHashError>> {
        if size > self.size {
            return Err(TreeError::InvalidInput("tree size exceeds the log size"));
        }
        Ok(())
    }
}

impl HashReader for MemoryLog {
    type Error = MissingHashError;

    fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        positions
            .iter()
            .map(|&position| {
                usize::try_from(position)
                    .ok()
                    .and_then(|index| self.stored.get(index))
                    .copied()
                    .ok_or(MissingHashError { position })
            })
            .collect()
    }
}

fn position_to_usize(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}
