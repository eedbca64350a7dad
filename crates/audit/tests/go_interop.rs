#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Differential test against Go's `golang.org/x/mod/sumdb/{note,tlog}`, the implementation the
//! C2SP formats come from: Go must accept Steward's signed checkpoints and proofs (and produce
//! the very same proofs), reject tampered ones, and Steward must accept Go's.
//!
//! Go comes from Debian (`golang-go`, `golang-golang-x-mod-dev`) and builds `tests/go/verify.go`
//! offline in GOPATH mode. Without Go the tests are skipped, except under `CI`, where a missing
//! Go is a failure (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use steward_audit::merkle::{check_record, check_tree, leaf_hash, Hash, MemoryLog};
use steward_audit::note::NoteSigner;
use steward_audit::{Checkpoint, NoteVerifier};

/// Where Debian's golang-golang-x-mod-dev puts the sources, as a GOPATH.
const DEBIAN_GOPATH: &str = "/usr/share/gocode";
const ORIGIN: &str = "steward.example/audit";
const SIZE: u64 = 37;
const OLD_SIZE: u64 = 20;
const INDEX: u64 = 13;

/// The built Go verifier, or `None` when Go is missing outside CI (the test is then skipped).
fn go_verifier() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(build_go_verifier).as_deref()
}

fn build_go_verifier() -> Option<PathBuf> {
    let go_installed = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    let x_mod_installed = Path::new(DEBIAN_GOPATH)
        .join("src/golang.org/x/mod/sumdb/tlog")
        .is_dir();
    if !go_installed || !x_mod_installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs Go for the audit interop test: apt-get install golang-go golang-golang-x-mod-dev"
        );
        println!("skipped: go not installed");
        return None;
    }
    let work_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-interop");
    std::fs::create_dir_all(&work_dir).unwrap();
    let binary = work_dir.join("verify");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/verify.go");
    let output = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        // GOPATH mode against the Debian sources; no module proxy, no toolchain download.
        .env("GO111MODULE", "off")
        .env("GOPATH", DEBIAN_GOPATH)
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", work_dir.join("cache"))
        .output()
        .expect("go build should start");
    assert!(
        output.status.success(),
        "go build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(binary)
}

fn run_go(binary: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .output()
        .expect("the Go verifier should start")
}

fn records() -> Vec<Vec<u8>> {
    (0..SIZE)
        .map(|i| format!("{{\"seq\":{i},\"action\":\"consent.use\"}}").into_bytes())
        .collect()
}

fn hash_lines(hashes: &[Hash]) -> String {
    hashes
        .iter()
        .map(|hash| format!("{}\n", BASE64.encode(hash)))
        .collect()
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

/// Writes what a Steward log of 37 records serves: two signed checkpoints and two proofs.
fn write_steward_log(dir: &Path) {
    let signer = NoteSigner::generate(ORIGIN).unwrap();
    let records = records();
    let log = MemoryLog::from_records(&records);
    write(dir, "verifier_key", &format!("{}\n", signer.verifier()));
    let encoded: String = records
        .iter()
        .map(|record| format!("{}\n", BASE64.encode(record)))
        .collect();
    write(dir, "records", &encoded);
    let checkpoint = Checkpoint::new(ORIGIN, SIZE, log.root());
    write(dir, "checkpoint", &checkpoint.sign(&signer).unwrap());
    let old_checkpoint = Checkpoint::new(ORIGIN, OLD_SIZE, log.tree_hash(OLD_SIZE).unwrap());
    write(
        dir,
        "old_checkpoint",
        &old_checkpoint.sign(&signer).unwrap(),
    );
    let inclusion = log.prove_record(SIZE, INDEX).unwrap();
    write(
        dir,
        "inclusion",
        &format!("{INDEX}\n{}", hash_lines(&inclusion)),
    );
    let consistency = log.prove_tree(SIZE, OLD_SIZE).unwrap();
    write(dir, "consistency", &hash_lines(&consistency));
}

fn verify_in_go(binary: &Path, dir: &Path) -> Output {
    run_go(binary, &["verify", dir.to_str().unwrap()])
}

/// Flips one bit of the base64 hash on `line` of file `name`.
fn tamper_hash_line(dir: &Path, name: &str, line: usize) {
    let content = std::fs::read_to_string(dir.join(name)).unwrap();
    let mut lines: Vec<String> = content.lines().map(str::to_owned).collect();
    let mut hash = BASE64.decode(&lines[line]).unwrap();
    hash[7] ^= 0x01;
    lines[line] = BASE64.encode(&hash);
    write(dir, name, &format!("{}\n", lines.join("\n")));
}

#[test]
fn go_accepts_stewards_signed_checkpoints_and_proofs() {
    let Some(binary) = go_verifier() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_steward_log(dir.path());
    let output = verify_in_go(binary, dir.path());
    assert!(
        output.status.success(),
        "Go rejected Steward's log:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What is tampered with, how, and the Go check that must catch it.
type Tampering = (&'static str, fn(&Path), &'static str);

#[test]
fn go_rejects_tampered_proofs_and_checkpoints() {
    let Some(binary) = go_verifier() else { return };
    let tamperings: [Tampering; 5] = [
        (
            "inclusion proof byte",
            |dir| tamper_hash_line(dir, "inclusion", 2),
            "tlog.CheckRecord",
        ),
        (
            "consistency proof byte",
            |dir| tamper_hash_line(dir, "consistency", 0),
            "tlog.CheckTree",
        ),
        (
            "record index",
            |dir| {
                let content = std::fs::read_to_string(dir.join("inclusion")).unwrap();
                let moved = content.replacen(&format!("{INDEX}\n"), &format!("{}\n", INDEX + 1), 1);
                write(dir, "inclusion", &moved);
            },
            "tlog.CheckRecord",
        ),
        (
            "checkpoint size",
            |dir| {
                let content = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
                write(dir, "checkpoint", &content.replacen("\n37\n", "\n38\n", 1));
            },
            "invalid signature",
        ),
        (
            "checkpoint signer",
            |dir| {
                let impostor = NoteSigner::generate(ORIGIN).unwrap();
                write(dir, "verifier_key", &format!("{}\n", impostor.verifier()));
            },
            "no verifiable signatures",
        ),
    ];
    for (what, tamper, expected_failure) in tamperings {
        let dir = tempfile::tempdir().unwrap();
        write_steward_log(dir.path());
        assert!(verify_in_go(binary, dir.path()).status.success());
        tamper(dir.path());
        let output = verify_in_go(binary, dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "Go accepted a tampered {what}:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(
            stderr.contains(expected_failure),
            "tampered {what}: Go failed for another reason: {stderr}"
        );
    }
}

#[test]
fn steward_accepts_gos_signed_checkpoints_and_proofs() {
    let Some(binary) = go_verifier() else { return };
    let dir = tempfile::tempdir().unwrap();
    let records = records();
    let encoded: String = records
        .iter()
        .map(|record| format!("{}\n", BASE64.encode(record)))
        .collect();
    write(dir.path(), "records", &encoded);
    let output = run_go(
        binary,
        &[
            "sign",
            dir.path().to_str().unwrap(),
            &INDEX.to_string(),
            &OLD_SIZE.to_string(),
        ],
    );
    assert!(
        output.status.success(),
        "Go signing failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let parse_hashes = |text: &str| -> Vec<Hash> {
        text.lines()
            .map(|line| BASE64.decode(line).unwrap().try_into().unwrap())
            .collect()
    };

    let verifier = NoteVerifier::parse(read("verifier_key").trim_end()).unwrap();
    let checkpoint =
        Checkpoint::open(read("checkpoint").as_bytes(), "go.example/log", &verifier).unwrap();
    let old_checkpoint = Checkpoint::open(
        read("old_checkpoint").as_bytes(),
        "go.example/log",
        &verifier,
    )
    .unwrap();
    let log = MemoryLog::from_records(&records);
    assert_eq!((checkpoint.size, checkpoint.root_hash), (SIZE, log.root()));
    assert_eq!(old_checkpoint.root_hash, log.tree_hash(OLD_SIZE).unwrap());

    let inclusion_text = read("inclusion");
    let (index_line, proof_lines) = inclusion_text.split_once('\n').unwrap();
    assert_eq!(index_line, INDEX.to_string());
    let inclusion = parse_hashes(proof_lines);
    check_record(
        &inclusion,
        SIZE,
        &checkpoint.root_hash,
        INDEX,
        &leaf_hash(&records[INDEX as usize]),
    )
    .unwrap();
    assert_eq!(inclusion, log.prove_record(SIZE, INDEX).unwrap());

    let consistency = parse_hashes(&read("consistency"));
    check_tree(
        &consistency,
        SIZE,
        &checkpoint.root_hash,
        OLD_SIZE,
        &old_checkpoint.root_hash,
    )
    .unwrap();
    assert_eq!(consistency, log.prove_tree(SIZE, OLD_SIZE).unwrap());
}
