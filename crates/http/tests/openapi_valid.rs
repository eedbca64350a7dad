//! The committed OpenAPI document is valid OpenAPI 3.1 according to an independent validator
//! (`openapi-spec-validator`, pinned, in a virtualenv under `target/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const VALIDATOR: &str = "openapi-spec-validator==0.7.1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Creates (once) a virtualenv with the pinned validator and returns its directory.
fn validator_venv() -> PathBuf {
    let venv = workspace_root().join("target/pyenv-openapi");
    let marker = venv.join(format!("installed-{VALIDATOR}"));
    if marker.exists() {
        return venv;
    }
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 should be installed");
    assert!(created.success(), "python3 -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            VALIDATOR,
        ])
        .status()
        .expect("pip should run");
    assert!(installed.success(), "pip install {VALIDATOR} failed");
    std::fs::write(&marker, b"").unwrap();
    venv
}

#[test]
fn committed_openapi_document_passes_an_independent_openapi_3_1_validator() {
    let venv = validator_venv();
    let document = workspace_root().join("docs/openapi.json");
    let output = Command::new(venv.join("bin/openapi-spec-validator"))
        .arg(&document)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("OK"),
        "validator refused docs/openapi.json:\n{stdout}\n{stderr}"
    );
}
