//! Python virtualenvs for the interop tests: created under the target directory with pinned
//! requirements, reused while the requirements file is unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Runs a command to completion, failing the test with its output if it fails.
pub fn run_checked(command: &mut Command, what: &str) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{what}: could not start {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    output
}

/// Creates the virtualenv `venv` and installs `requirements` into it, unless a marker says
/// that exactly these requirements are installed there already; returns its interpreter.
/// `what` names the packages in messages. `STEWARD_TEST_PYTHON` names another interpreter than
/// `python3`. A missing interpreter or a failed install fails the test.
pub fn virtualenv(venv: &Path, requirements_path: &Path, what: &str) -> PathBuf {
    let requirements = std::fs::read_to_string(requirements_path).unwrap();
    let marker = venv.join("steward-requirements.txt");
    let python = venv.join("bin/python");
    let up_to_date = python.exists()
        && std::fs::read_to_string(&marker).is_ok_and(|installed| installed == requirements);
    if up_to_date {
        return python;
    }
    let started = Instant::now();
    if venv.exists() {
        std::fs::remove_dir_all(venv).unwrap();
    }
    let interpreter = std::env::var("STEWARD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    run_checked(
        Command::new(&interpreter).arg("-m").arg("venv").arg(venv),
        &format!("creating the virtualenv for {what}"),
    );
    run_checked(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-r",
            ])
            .arg(requirements_path),
        &format!("installing {what}"),
    );
    // Written last: an interrupted install is redone next time.
    std::fs::write(&marker, &requirements).unwrap();
    eprintln!(
        "installed {what} into {} in {:.1?}",
        venv.display(),
        started.elapsed()
    );
    python
}
