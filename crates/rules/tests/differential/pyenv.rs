//! The Python virtualenv holding the reference implementation.
//!
//! Created under the workspace `target/` directory with `rule-engine` pinned, and reused while
//! it still has the pinned version. Any failure here fails the test: the differential test must
//! never silently skip (it runs in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

pub const REFERENCE_PACKAGE: &str = "rule-engine";
pub const REFERENCE_VERSION: &str = "4.5.3";

/// `target/pyenv-rules` of the workspace, or `STEWARD_RULES_PYENV` when set.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STEWARD_RULES_PYENV") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("target")
        .join("pyenv-rules")
}

pub fn python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn installed_version(venv: &Path) -> Option<String> {
    let output = Command::new(python(venv))
        .args(["-c", "import rule_engine; print(rule_engine.__version__)"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Returns the path of the venv's python with the pinned reference installed, creating or
/// repairing the venv when needed. Panics (fails the test) with the tool output on failure.
pub fn ensure_reference_venv() -> PathBuf {
    let venv = venv_dir();
    if installed_version(&venv).as_deref() == Some(REFERENCE_VERSION) {
        return python(&venv);
    }
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).expect("the target directory should be creatable");
    }
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(python(&venv))
            .args(["-m", "pip", "install", "--quiet"])
            .arg(format!("{REFERENCE_PACKAGE}=={REFERENCE_VERSION}")),
        "pip install rule-engine",
    );
    let version = installed_version(&venv);
    assert_eq!(
        version.as_deref(),
        Some(REFERENCE_VERSION),
        "the venv at {} should have {REFERENCE_PACKAGE} {REFERENCE_VERSION}",
        venv.display()
    );
    python(&venv)
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what} could not start: {error}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
