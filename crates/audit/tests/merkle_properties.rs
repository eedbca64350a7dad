#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the stored-hash Merkle log against a naive recursive RFC 6962 implementation.

use proptest::prelude::*;
use steward_audit::merkle::{
    check_record, check_tree, empty_tree_hash, leaf_hash, node_hash, prove_record,
    stored_hashes_for_record, tree_hash, Hash, HashReader, MemoryLog, ProofError,
};

/// MTH(D[n]) exactly as RFC 6962 §2.1 writes it.
fn naive_root(records: &[Vec<u8>]) -> Hash {
    match records.len() {
        0 => empty_tree_hash(),
        1 => leaf_hash(&records[0]),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_root(&records[..k]), &naive_root(&records[k..]))
        }
    }
}

fn records(count: usize, salt: u8) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("record {i} salt {salt}").into_bytes())
        .collect()
}

/// A storage that only appends what `stored_hashes_for_record` says, as a database would.
#[derive(Default)]
struct AppendOnlyStore(Vec<Hash>);

impl HashReader for AppendOnlyStore {
    type Error = std::io::Error;

    fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        positions
            .iter()
            .map(|&position| {
                self.0
                    .get(position as usize)
                    .copied()
                    .ok_or_else(|| std::io::Error::other("missing"))
            })
            .collect()
    }
}

fn flip(proof: &[Hash], which: usize, byte: usize) -> Vec<Hash> {
    let mut tampered = proof.to_vec();
    tampered[which][byte] ^= 0x01;
    tampered
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn incremental_root_equals_the_naive_rfc6962_root(size in 0usize..300, salt: u8) {
        let records = records(size, salt);
        let log = MemoryLog::from_records(&records);
        prop_assert_eq!(log.root(), naive_root(&records));
        // Every earlier size too, from the same stored hashes.
        for earlier in [0, size / 3, size / 2, size.saturating_sub(1)] {
            prop_assert_eq!(log.tree_hash(earlier as u64).unwrap(), naive_root(&records[..earlier]));
        }
    }

    #[test]
    fn appending_stored_hashes_through_a_reader_builds_the_same_log(size in 0usize..300, salt: u8) {
        let records = records(size, salt);
        let mut store = AppendOnlyStore::default();
        for (n, record) in records.iter().enumerate() {
            let new_hashes = stored_hashes_for_record(n as u64, record, &store).unwrap();
            store.0.extend(new_hashes);
        }
        let log = MemoryLog::from_records(&records);
        prop_assert_eq!(&store.0[..], log.stored_hashes());
        prop_assert_eq!(tree_hash(size as u64, &store).unwrap(), naive_root(&records));
    }

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails(size in 1usize..300, salt: u8, pick: usize) {
        let records = records(size, salt);
        let log = MemoryLog::from_records(&records);
        let size = size as u64;
        let root = log.root();
        for n in 0..size {
            let record_hash = leaf_hash(&records[n as usize]);
            let proof = log.prove_record(size, n).unwrap();
            prop_assert_eq!(check_record(&proof, size, &root, n, &record_hash), Ok(()));
        }
        let n = pick as u64 % size;
        let record_hash = leaf_hash(&records[n as usize]);
        let proof = prove_record(size, n, &log).unwrap();
        if !proof.is_empty() {
            let tampered = flip(&proof, pick % proof.len(), pick % 32);
            prop_assert_eq!(check_record(&tampered, size, &root, n, &record_hash), Err(ProofError::Mismatch));
            let truncated = &proof[..proof.len() - 1];
            prop_assert!(check_record(truncated, size, &root, n, &record_hash).is_err());
        }
        let mut extended = proof.clone();
        extended.push([0xab; 32]);
        prop_assert!(check_record(&extended, size, &root, n, &record_hash).is_err());
        if size > 1 {
            let wrong_index = (n + 1) % size;
            prop_assert!(check_record(&proof, size, &root, wrong_index, &record_hash).is_err());
            let wrong_record = leaf_hash(&records[wrong_index as usize]);
            prop_assert!(check_record(&proof, size, &root, n, &wrong_record).is_err());
        }
        prop_assert!(check_record(&proof, size, &root, size, &record_hash).is_err());
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails(size in 1usize..300, salt: u8, pick: usize) {
        let records = records(size, salt);
        let log = MemoryLog::from_records(&records);
        let size = size as u64;
        let root = log.root();
        for old_size in 1..=size {
            let old_root = naive_root(&records[..old_size as usize]);
            let proof = log.prove_tree(size, old_size).unwrap();
            prop_assert_eq!(check_tree(&proof, size, &root, old_size, &old_root), Ok(()));
        }
        let old_size = 1 + pick as u64 % size;
        let old_root = log.tree_hash(old_size).unwrap();
        let proof = log.prove_tree(size, old_size).unwrap();
        if !proof.is_empty() {
            let tampered = flip(&proof, pick % proof.len(), pick % 32);
            prop_assert_eq!(check_tree(&tampered, size, &root, old_size, &old_root), Err(ProofError::Mismatch));
            prop_assert!(check_tree(&proof[1..], size, &root, old_size, &old_root).is_err());
        }
        if old_size < size {
            // A rewritten history: same old size, different old root.
            let mut rewritten = old_root;
            rewritten[0] ^= 0x80;
            prop_assert!(check_tree(&proof, size, &root, old_size, &rewritten).is_err());
            // The proof is bound to its sizes.
            let other_old = if old_size > 1 { old_size - 1 } else { old_size + 1 };
            let other_root = log.tree_hash(other_old).unwrap();
            prop_assert!(check_tree(&proof, size, &root, other_old, &other_root).is_err());
        }
        let mut extended = proof.clone();
        extended.push([0xcd; 32]);
        prop_assert!(check_tree(&extended, size, &root, old_size, &old_root).is_err());
    }
}
