#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signed notes: the known answer from Go's `sumdb/note` documentation, round trips and
//! rejections.

use steward_audit::note::{self, generate_key, key_id, NoteError, NoteSigner, NoteVerifier};

// The example key and note from the package documentation of golang.org/x/mod/sumdb/note.
const GO_SIGNER_KEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIGNATURE_LINE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn go_note() -> String {
    format!("{GO_TEXT}\n{GO_SIGNATURE_LINE}")
}

#[test]
fn signing_reproduces_go_notes_documented_example_byte_for_byte() {
    let signer = NoteSigner::parse(GO_SIGNER_KEY).unwrap();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.signer_key(), GO_SIGNER_KEY);
    assert_eq!(signer.verifier().verifier_key(), GO_VERIFIER_KEY);
    assert_eq!(signer.sign(GO_TEXT).unwrap(), go_note());
}

#[test]
fn opening_go_notes_documented_example_returns_its_text() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    assert_eq!(verifier.to_string(), GO_VERIFIER_KEY);
    assert_eq!(verifier.open(go_note().as_bytes()).unwrap(), GO_TEXT);
}

#[test]
fn key_id_is_the_first_four_bytes_of_the_named_key_hash() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    assert_eq!(
        key_id("PeterNeumann", 0x01, &verifier.public_key()),
        0xc74f20a3
    );
}

#[test]
fn generated_keys_round_trip_and_sign_notes_their_verifier_opens() {
    let (signer_key, verifier_key) = generate_key("steward.example/audit").unwrap();
    assert!(signer_key.starts_with("PRIVATE+KEY+steward.example/audit+"));
    assert!(verifier_key.starts_with("steward.example/audit+"));
    let signer: NoteSigner = signer_key.parse().unwrap();
    let verifier: NoteVerifier = verifier_key.parse().unwrap();
    assert_eq!(signer.verifier(), verifier);
    let note = signer.sign("hello\n\nworld\n").unwrap();
    assert_eq!(verifier.open(note.as_bytes()).unwrap(), "hello\n\nworld\n");
    let (other_signer_key, _) = generate_key("steward.example/audit").unwrap();
    assert_ne!(signer_key, other_signer_key, "keys come from a CSPRNG");
}

#[test]
fn debug_output_of_a_signer_hides_the_secret() {
    let signer = NoteSigner::parse(GO_SIGNER_KEY).unwrap();
    let debug = format!("{signer:?}");
    assert!(
        debug.contains("PeterNeumann") && !debug.contains("AYEKFALV"),
        "{debug}"
    );
}

#[test]
fn a_note_from_another_key_with_the_same_name_is_unverified() {
    let (_, verifier_key) = generate_key("PeterNeumann").unwrap();
    let verifier = NoteVerifier::parse(&verifier_key).unwrap();
    assert_eq!(
        verifier.open(go_note().as_bytes()),
        Err(NoteError::Unverified)
    );
}

#[test]
fn altered_text_fails_the_known_keys_signature() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    let altered = go_note().replacen("answer", "Answer", 1);
    assert!(matches!(
        verifier.open(altered.as_bytes()),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn a_flipped_signature_byte_fails() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    let altered = go_note().replacen("x08go/ZJ", "x08go/ZK", 1);
    assert!(matches!(
        verifier.open(altered.as_bytes()),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn unknown_signatures_are_kept_aside_and_a_known_one_still_verifies() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    let witness = NoteSigner::generate("witness.example/w1").unwrap();
    let cosigned = note::sign(
        GO_TEXT,
        &[NoteSigner::parse(GO_SIGNER_KEY).unwrap(), witness],
    )
    .unwrap();
    let opened = note::open(cosigned.as_bytes(), std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(opened.text, GO_TEXT);
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);
    assert_eq!(opened.unverified[0].name, "witness.example/w1");
}

#[test]
fn malformed_notes_are_rejected() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).unwrap();
    let good = go_note();
    let cases: Vec<(&str, String)> = vec![
        ("no blank line", good.replacen("\n\n", "\n", 1)),
        ("no final newline", good.trim_end().to_owned()),
        ("hyphen instead of em dash", good.replacen("— ", "- ", 1)),
        ("no space after dash", good.replacen("— ", "—", 1)),
        ("tab in text", good.replacen("If you", "If\tyou", 1)),
        (
            "carriage return",
            good.replacen("problem,\n", "problem,\r\n", 1),
        ),
        ("bad base64", good.replacen("x08go", "x08g*", 1)),
        ("name only", format!("{GO_TEXT}\n— PeterNeumann\n")),
        (
            "short signature",
            format!("{GO_TEXT}\n— PeterNeumann x08g\n"),
        ),
        ("empty", String::new()),
    ];
    for (what, note) in cases {
        let result = verifier.open(note.as_bytes());
        assert!(
            matches!(result, Err(NoteError::MalformedNote(_))),
            "{what}: {result:?}"
        );
    }
    assert!(matches!(
        verifier.open(&[0xff, 0xfe, b'\n', b'\n']),
        Err(NoteError::MalformedNote(_))
    ));
}

#[test]
fn text_to_sign_must_end_with_a_newline_and_have_no_control_characters() {
    let signer = NoteSigner::parse(GO_SIGNER_KEY).unwrap();
    assert_eq!(signer.sign("no newline"), Err(NoteError::InvalidText));
    assert_eq!(signer.sign("a\tb\n"), Err(NoteError::InvalidText));
}

#[test]
fn key_strings_are_parsed_strictly() {
    for bad in [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann++74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
    ] {
        assert!(NoteVerifier::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        NoteVerifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::KeyIdMismatch)
    );
    // Go's own test vector for an unknown algorithm, with an adjusted key id.
    assert_eq!(
        NoteVerifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::UnknownSignatureType(0x65))
    );
    for bad in [
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        "PRIVATE+KEYS+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    ] {
        assert!(NoteSigner::parse(bad).is_err(), "{bad}");
    }
    assert!(matches!(
        NoteSigner::generate("has space"),
        Err(NoteError::InvalidKeyName(_))
    ));
    assert!(matches!(
        NoteSigner::generate("has+plus"),
        Err(NoteError::InvalidKeyName(_))
    ));
}
