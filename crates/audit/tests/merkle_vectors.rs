#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Known answers: the Certificate Transparency reference vectors (RFC 6962 test data used by
//! the CT and transparency-dev implementations) and Go tlog's stored hash numbering.

use steward_audit::merkle::{
    check_record, check_tree, empty_tree_hash, leaf_hash, node_hash, split_stored_hash_index,
    stored_hash_count, stored_hash_index, Hash, MemoryLog, ProofError,
};

const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Root hashes of the trees of the first 0..=8 CT leaves.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path)
const CT_INCLUSION_PROOFS: [(u64, u64, &[&str]); 2] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, consistency proof)
const CT_CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 3] = [
    (
        2,
        8,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hash(text: &str) -> Hash {
    hex_decode(text).try_into().unwrap()
}

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts.iter().map(|text| hash(text)).collect()
}

fn ct_log() -> MemoryLog {
    MemoryLog::from_records(CT_LEAVES.iter().map(|leaf| hex_decode(leaf)))
}

#[test]
fn empty_tree_hashes_to_sha256_of_nothing() {
    assert_eq!(empty_tree_hash(), hash(CT_ROOTS[0]));
    assert_eq!(MemoryLog::new().root(), hash(CT_ROOTS[0]));
}

#[test]
fn leaf_and_node_hashes_use_rfc6962_prefixes() {
    assert_eq!(leaf_hash(b""), hash(CT_ROOTS[1]));
    let first_two = node_hash(&leaf_hash(b""), &leaf_hash(&[0x00]));
    assert_eq!(first_two, hash(CT_ROOTS[2]));
}

#[test]
fn tree_hashes_match_the_certificate_transparency_roots_for_every_size() {
    let log = ct_log();
    for (size, root) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            log.tree_hash(size as u64).unwrap(),
            hash(root),
            "size {size}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_certificate_transparency_paths() {
    let log = ct_log();
    for (index, size, expected) in CT_INCLUSION_PROOFS {
        let proof = log.prove_record(size, index).unwrap();
        assert_eq!(proof, hashes(expected), "leaf {index} of {size}");
        let root = hash(CT_ROOTS[size as usize]);
        let record = log.record_hash(index).unwrap();
        check_record(&proof, size, &root, index, &record).unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_certificate_transparency_proofs() {
    let log = ct_log();
    for (old_size, size, expected) in CT_CONSISTENCY_PROOFS {
        let proof = log.prove_tree(size, old_size).unwrap();
        assert_eq!(proof, hashes(expected), "{old_size} -> {size}");
        let old_root = hash(CT_ROOTS[old_size as usize]);
        let root = hash(CT_ROOTS[size as usize]);
        check_tree(&proof, size, &root, old_size, &old_root).unwrap();
    }
}

#[test]
fn records_a_to_e_give_the_root_go_tlog_computes() {
    // The spec (standards.md §4.7) checked Go's tlog root for records "a".."e": fe14a542…d97b.
    let log = MemoryLog::from_records(["a", "b", "c", "d", "e"]);
    let root: String = log.root().iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        root.starts_with("fe14a542") && root.ends_with("d97b"),
        "{root}"
    );
}

#[test]
fn stored_hash_numbering_is_go_tlogs() {
    // Record 0: leaf (0,0). Record 1: leaf (0,1), node (1,0). Record 2: leaf (0,2).
    // Record 3: leaf (0,3), nodes (1,1) and (2,0). Record 4: leaf (0,4).
    let expected = [
        (0, 0),
        (0, 1),
        (1, 0),
        (0, 2),
        (0, 3),
        (1, 1),
        (2, 0),
        (0, 4),
    ];
    for (position, (level, index)) in expected.into_iter().enumerate() {
        assert_eq!(stored_hash_index(level, index), position as u64);
        assert_eq!(split_stored_hash_index(position as u64), (level, index));
    }
    for position in 0..5000 {
        let (level, index) = split_stored_hash_index(position);
        assert_eq!(stored_hash_index(level, index), position);
    }
    let counts = [0, 1, 3, 4, 7, 8, 10, 11, 15];
    for (size, count) in counts.into_iter().enumerate() {
        assert_eq!(stored_hash_count(size as u64), count, "size {size}");
    }
    let log = MemoryLog::from_records((0..300u32).map(|i| i.to_be_bytes()));
    assert_eq!(log.stored_hashes().len() as u64, stored_hash_count(300));
}

#[test]
fn impossible_proof_inputs_are_rejected_before_any_hashing() {
    let root = hash(CT_ROOTS[8]);
    let leaf = leaf_hash(b"");
    assert!(matches!(
        check_record(&[], 8, &root, 8, &leaf),
        Err(ProofError::InvalidInput(_))
    ));
    assert!(matches!(
        check_tree(&[], 5, &root, 6, &root),
        Err(ProofError::InvalidInput(_))
    ));
    assert!(matches!(
        check_tree(&[], 5, &root, 0, &root),
        Err(ProofError::InvalidInput(_))
    ));
    let log = ct_log();
    assert!(log.prove_record(9, 0).is_err(), "past the log size");
    assert!(log.prove_record(8, 8).is_err(), "index equal to the size");
    assert!(log.prove_tree(8, 0).is_err(), "from the empty tree");
    assert!(log.prove_tree(4, 5).is_err(), "old tree larger");
}

#[test]
fn equal_sizes_need_an_empty_proof_and_equal_roots() {
    let log = ct_log();
    let root = log.tree_hash(5).unwrap();
    assert_eq!(log.prove_tree(5, 5).unwrap(), Vec::<Hash>::new());
    check_tree(&[], 5, &root, 5, &root).unwrap();
    let other = log.tree_hash(4).unwrap();
    assert_eq!(
        check_tree(&[], 5, &root, 5, &other),
        Err(ProofError::Mismatch)
    );
    assert_eq!(
        check_tree(&[root], 5, &root, 5, &root),
        Err(ProofError::Mismatch)
    );
}
