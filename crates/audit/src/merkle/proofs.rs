//! Tree hashes, inclusion proofs and consistency proofs computed from stored subtree hashes,
//! and their verification (RFC 6962 §2.1, RFC 9162 §2.1.3–2.1.4).
//!
//! Each computation runs in two passes over the same recursion: the first lists the stored
//! positions it needs (so storage is read once, in order), the second consumes the hashes.

use super::{
    leaf_hash, node_hash, stored_hash_index, Hash, HashReader, ProofError, TreeError, MAX_TREE_SIZE,
};

/// The hashes to store when appending record `n` with `data` (see
/// [`stored_hashes_for_leaf_hash`]).
pub fn stored_hashes_for_record<R: HashReader + ?Sized>(
    n: u64,
    data: &[u8],
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    stored_hashes_for_leaf_hash(n, leaf_hash(data), reader)
}

/// The hashes to store, starting at position `stored_hash_index(0, n)`, when appending record
/// `n` whose leaf hash is `record_hash`: the leaf hash, then one hash per subtree the record
/// completes. Reads at most `log₂ n` earlier hashes.
pub fn stored_hashes_for_leaf_hash<R: HashReader + ?Sized>(
    n: u64,
    record_hash: Hash,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if n >= MAX_TREE_SIZE {
        return Err(TreeError::InvalidInput("record index is too large"));
    }
    // Each trailing 1 bit of n completes a subtree whose left half is an earlier subtree.
    let completed = n.trailing_ones();
    let positions: Vec<u64> = (0..completed)
        .rev()
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect();
    let left_halves = read_exactly(reader, &positions)?;
    let mut hashes = Vec::with_capacity(positions.len() + 1);
    let mut current = record_hash;
    hashes.push(current);
    for left in left_halves.iter().rev() {
        current = node_hash(left, &current);
        hashes.push(current);
    }
    Ok(hashes)
}

/// The root hash of the tree made of the first `size` records; the empty tree hashes to
/// `SHA-256("")`. One read of at most `1 + log₂ size` stored hashes.
pub fn tree_hash<R: HashReader + ?Sized>(
    size: u64,
    reader: &R,
) -> Result<Hash, TreeError<R::Error>> {
    if size == 0 {
        return Ok(super::empty_tree_hash());
    }
    if size > MAX_TREE_SIZE {
        return Err(TreeError::InvalidInput("tree size is too large"));
    }
    let mut positions = Vec::new();
    subtree_positions(0, size, &mut positions);
    let hashes = read_exactly(reader, &positions)?;
    let mut cursor = hashes.iter();
    subtree_hash(0, size, &mut cursor)
}

/// The inclusion proof (RFC 6962 "audit path") that record `n` is in the tree of size `size`,
/// ordered from the leaf's sibling up to the root's child.
pub fn prove_record<R: HashReader + ?Sized>(
    size: u64,
    n: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if n >= size || size > MAX_TREE_SIZE {
        return Err(TreeError::InvalidInput(
            "record index must be smaller than the tree size",
        ));
    }
    let mut positions = Vec::new();
    record_proof_positions(0, size, n, &mut positions);
    let hashes = read_exactly(reader, &positions)?;
    let mut cursor = hashes.iter();
    let mut proof = Vec::with_capacity(hashes.len());
    record_proof(0, size, n, &mut cursor, &mut proof)?;
    Ok(proof)
}

/// The consistency proof that the tree of size `size` contains the tree of size `old_size` as
/// a prefix. Requires `1 <= old_size <= size`.
pub fn prove_tree<R: HashReader + ?Sized>(
    size: u64,
    old_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if old_size == 0 || old_size > size || size > MAX_TREE_SIZE {
        return Err(TreeError::InvalidInput(
            "old tree size must be between 1 and the new tree size",
        ));
    }
    let mut positions = Vec::new();
    tree_proof_positions(0, size, old_size, &mut positions);
    let hashes = read_exactly(reader, &positions)?;
    let mut cursor = hashes.iter();
    let mut proof = Vec::with_capacity(hashes.len());
    tree_proof(0, size, old_size, &mut cursor, &mut proof)?;
    Ok(proof)
}

/// Checks that `proof` shows record `n`, with leaf hash `record_hash`, in the tree of size
/// `size` whose root hash is `root`. The proof must have exactly the expected length.
pub fn check_record(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    n: u64,
    record_hash: &Hash,
) -> Result<(), ProofError> {
    if n >= size || size > MAX_TREE_SIZE {
        return Err(ProofError::InvalidInput(
            "record index must be smaller than the tree size",
        ));
    }
    let implied_root = run_record_proof(proof, 0, size, n, record_hash)?;
    if &implied_root != root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks that `proof` shows the tree of size `size` with root `root` to contain, as a prefix,
/// the tree of size `old_size` with root `old_root`. Requires `1 <= old_size <= size`; equal
/// sizes need an empty proof and equal roots.
pub fn check_tree(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    old_size: u64,
    old_root: &Hash,
) -> Result<(), ProofError> {
    if old_size == 0 || old_size > size || size > MAX_TREE_SIZE {
        return Err(ProofError::InvalidInput(
            "old tree size must be between 1 and the new tree size",
        ));
    }
    let (implied_old_root, implied_root) = run_tree_proof(proof, 0, size, old_size, old_root)?;
    if &implied_old_root != old_root || &implied_root != root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// The largest power of two strictly smaller than `n` (for `n >= 2`): RFC 6962's split point.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "only trees of two or more leaves are split");
    1 << (63 - (n - 1).leading_zeros())
}

/// Reads `positions` and insists on the [`HashReader`] contract.
fn read_exactly<R: HashReader + ?Sized>(
    reader: &R,
    positions: &[u64],
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(positions).map_err(TreeError::Read)?;
    if hashes.len() != positions.len() {
        return Err(TreeError::WrongHashCount {
            requested: positions.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

type Cursor<'a> = std::slice::Iter<'a, Hash>;

fn index_math_error<E>() -> TreeError<E> {
    // Unreachable unless the two passes disagree; reported rather than panicking in a server.
    TreeError::InvalidInput("internal stored hash index arithmetic is inconsistent")
}

/// The complete subtrees covering records `[lo, hi)`, largest first: each is stored.
fn subtree_positions(mut lo: u64, hi: u64, positions: &mut Vec<u64>) {
    while lo < hi {
        let width = largest_power_of_two_at_most(hi - lo);
        let level = width.trailing_zeros();
        positions.push(stored_hash_index(level, lo >> level));
        lo += width;
    }
}

fn largest_power_of_two_at_most(n: u64) -> u64 {
    1 << (63 - n.leading_zeros())
}

/// Hash of records `[lo, hi)` from the hashes listed by [`subtree_positions`].
fn subtree_hash<E>(mut lo: u64, hi: u64, cursor: &mut Cursor<'_>) -> Result<Hash, TreeError<E>> {
    let mut parts = Vec::new();
    while lo < hi {
        parts.push(*cursor.next().ok_or_else(index_math_error)?);
        lo += largest_power_of_two_at_most(hi - lo);
    }
    // The fringe nests to the right: fold from the smallest subtree up.
    let mut parts = parts.into_iter().rev();
    let mut hash = parts.next().ok_or_else(index_math_error)?;
    for left in parts {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

fn record_proof_positions(lo: u64, hi: u64, n: u64, positions: &mut Vec<u64>) {
    if hi - lo == 1 {
        return;
    }
    let middle = lo + split_point(hi - lo);
    if n < middle {
        record_proof_positions(lo, middle, n, positions);
        subtree_positions(middle, hi, positions);
    } else {
        subtree_positions(lo, middle, positions);
        record_proof_positions(middle, hi, n, positions);
    }
}

fn record_proof<E>(
    lo: u64,
    hi: u64,
    n: u64,
    cursor: &mut Cursor<'_>,
    proof: &mut Vec<Hash>,
) -> Result<(), TreeError<E>> {
    if hi - lo == 1 {
        // The verifier knows the leaf hash itself.
        return Ok(());
    }
    let middle = lo + split_point(hi - lo);
    let sibling = if n < middle {
        record_proof(lo, middle, n, cursor, proof)?;
        subtree_hash(middle, hi, cursor)?
    } else {
        let sibling = subtree_hash(lo, middle, cursor)?;
        record_proof(middle, hi, n, cursor, proof)?;
        sibling
    };
    proof.push(sibling);
    Ok(())
}

fn tree_proof_positions(lo: u64, hi: u64, old_size: u64, positions: &mut Vec<u64>) {
    if old_size == hi {
        if lo != 0 {
            subtree_positions(lo, hi, positions);
        }
        return;
    }
    let middle = lo + split_point(hi - lo);
    if old_size <= middle {
        tree_proof_positions(lo, middle, old_size, positions);
        subtree_positions(middle, hi, positions);
    } else {
        subtree_positions(lo, middle, positions);
        tree_proof_positions(middle, hi, old_size, positions);
    }
}

fn tree_proof<E>(
    lo: u64,
    hi: u64,
    old_size: u64,
    cursor: &mut Cursor<'_>,
    proof: &mut Vec<Hash>,
) -> Result<(), TreeError<E>> {
    if old_size == hi {
        // A subtree shared by both trees; when it is the whole old tree the verifier has it.
        if lo != 0 {
            proof.push(subtree_hash(lo, hi, cursor)?);
        }
        return Ok(());
    }
    let middle = lo + split_point(hi - lo);
    let sibling = if old_size <= middle {
        tree_proof(lo, middle, old_size, cursor, proof)?;
        subtree_hash(middle, hi, cursor)?
    } else {
        let sibling = subtree_hash(lo, middle, cursor)?;
        tree_proof(middle, hi, old_size, cursor, proof)?;
        sibling
    };
    proof.push(sibling);
    Ok(())
}

/// The root of `[lo, hi)` implied by `proof` for leaf `n`; the last proof hash is the top one.
fn run_record_proof(
    proof: &[Hash],
    lo: u64,
    hi: u64,
    n: u64,
    record_hash: &Hash,
) -> Result<Hash, ProofError> {
    if hi - lo == 1 {
        // The proof must be used up exactly.
        return if proof.is_empty() {
            Ok(*record_hash)
        } else {
            Err(ProofError::Mismatch)
        };
    }
    let Some((sibling, rest)) = proof.split_last() else {
        return Err(ProofError::Mismatch);
    };
    let middle = lo + split_point(hi - lo);
    if n < middle {
        let left = run_record_proof(rest, lo, middle, n, record_hash)?;
        Ok(node_hash(&left, sibling))
    } else {
        let right = run_record_proof(rest, middle, hi, n, record_hash)?;
        Ok(node_hash(sibling, &right))
    }
}

/// The hashes of `[lo, hi)` in the old tree and in the new tree implied by `proof`.
fn run_tree_proof(
    proof: &[Hash],
    lo: u64,
    hi: u64,
    old_size: u64,
    old_root: &Hash,
) -> Result<(Hash, Hash), ProofError> {
    if old_size == hi {
        if lo == 0 {
            return if proof.is_empty() {
                Ok((*old_root, *old_root))
            } else {
                Err(ProofError::Mismatch)
            };
        }
        return match proof {
            [shared] => Ok((*shared, *shared)),
            _ => Err(ProofError::Mismatch),
        };
    }
    let Some((sibling, rest)) = proof.split_last() else {
        return Err(ProofError::Mismatch);
    };
    let middle = lo + split_point(hi - lo);
    if old_size <= middle {
        let (old_hash, new_hash) = run_tree_proof(rest, lo, middle, old_size, old_root)?;
        Ok((old_hash, node_hash(&new_hash, sibling)))
    } else {
        let (old_hash, new_hash) = run_tree_proof(rest, middle, hi, old_size, old_root)?;
        Ok((node_hash(sibling, &old_hash), node_hash(sibling, &new_hash)))
    }
}
