#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Checkpoints: format, strict parsing, signing and opening.

use steward_audit::merkle::MemoryLog;
use steward_audit::note::{NoteError, NoteSigner};
use steward_audit::{Checkpoint, CheckpointError};

const ORIGIN: &str = "steward.example/audit";

fn log_of(size: u32) -> MemoryLog {
    MemoryLog::from_records((0..size).map(|i| format!("event {i}")))
}

#[test]
fn checkpoint_text_is_origin_size_and_base64_root() {
    let log = MemoryLog::from_records(["a", "b", "c", "d", "e"]);
    let checkpoint = Checkpoint::new("example.com/audit", log.size(), log.root());
    let text = checkpoint.to_text().unwrap();
    // The checkpoint Go's tlog produced for the same records (standards.md §4.7).
    assert!(
        text.starts_with("example.com/audit\n5\n/hSlQm+9c"),
        "{text}"
    );
    assert!(text.ends_with("Xs=\n"), "{text}");
    assert_eq!(text.lines().count(), 3);
    assert_eq!(Checkpoint::parse(&text).unwrap(), checkpoint);
}

#[test]
fn the_empty_log_checkpoint_carries_sha256_of_nothing() {
    let checkpoint = Checkpoint::new(ORIGIN, 0, MemoryLog::new().root());
    assert_eq!(
        checkpoint.to_text().unwrap(),
        "steward.example/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    );
}

#[test]
fn extension_lines_round_trip() {
    let mut checkpoint = Checkpoint::new(ORIGIN, 3, log_of(3).root());
    checkpoint.extensions = vec!["timestamp 1700000000".into(), "x".into()];
    let text = checkpoint.to_text().unwrap();
    assert_eq!(Checkpoint::parse(&text).unwrap(), checkpoint);
    checkpoint.extensions.push(String::new());
    assert!(checkpoint.to_text().is_err());
}

#[test]
fn parsing_rejects_non_canonical_checkpoints() {
    let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let cases = [
        ("missing final newline", format!("{ORIGIN}\n0\n{root}")),
        ("missing root", format!("{ORIGIN}\n0\n")),
        ("empty origin", format!("\n0\n{root}\n")),
        ("leading zero", format!("{ORIGIN}\n01\n{root}\n")),
        ("plus sign", format!("{ORIGIN}\n+1\n{root}\n")),
        ("negative", format!("{ORIGIN}\n-1\n{root}\n")),
        ("empty size", format!("{ORIGIN}\n\n{root}\n")),
        (
            "too large",
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
        ),
        ("short hash", format!("{ORIGIN}\n0\nAAAA\n")),
        (
            "unpadded hash",
            format!("{ORIGIN}\n0\n{}\n", root.trim_end_matches('=')),
        ),
        ("empty extension", format!("{ORIGIN}\n0\n{root}\n\n")),
    ];
    for (what, text) in cases {
        assert!(
            matches!(Checkpoint::parse(&text), Err(CheckpointError::Malformed(_))),
            "{what}"
        );
    }
}

#[test]
fn signed_checkpoints_open_with_the_logs_verifier() {
    let signer = NoteSigner::generate(ORIGIN).unwrap();
    let log = log_of(37);
    let checkpoint = Checkpoint::new(ORIGIN, log.size(), log.root());
    let note = checkpoint.sign(&signer).unwrap();
    assert!(note.contains("\n\n— steward.example/audit "));
    let opened = Checkpoint::open(note.as_bytes(), ORIGIN, &signer.verifier()).unwrap();
    assert_eq!(opened, checkpoint);
}

#[test]
fn opening_rejects_another_origin_another_key_and_a_changed_size() {
    let signer = NoteSigner::generate(ORIGIN).unwrap();
    let log = log_of(10);
    let note = Checkpoint::new(ORIGIN, 10, log.root())
        .sign(&signer)
        .unwrap();
    assert!(matches!(
        Checkpoint::open(note.as_bytes(), "other.example/log", &signer.verifier()),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    let impostor = NoteSigner::generate(ORIGIN).unwrap();
    assert_eq!(
        Checkpoint::open(note.as_bytes(), ORIGIN, &impostor.verifier()),
        Err(CheckpointError::Note(NoteError::Unverified))
    );
    let grown = note.replacen("\n10\n", "\n11\n", 1);
    assert!(matches!(
        Checkpoint::open(grown.as_bytes(), ORIGIN, &signer.verifier()),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
}
