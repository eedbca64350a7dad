//! `steward rules` through the real binary: exit codes, diagnostics and the batch contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn steward(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn check_prints_variables_or_exits_2_with_a_caret_under_the_problem() {
    let ok = steward(
        &[
            "rules",
            "check",
            "TWIN.kind == 'cat' and entry_name in LEDGER.public",
        ],
        None,
    );
    assert_eq!(ok.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    for variable in ["TWIN", "entry_name", "LEDGER"] {
        assert!(stdout.contains(variable), "{stdout}");
    }
    let bad = steward(&["rules", "check", "TWIN.kind == "], None);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("TWIN.kind == "), "{stderr}");
    assert!(stderr.contains('^'), "{stderr}");
}

#[test]
fn eval_with_a_context_file_prints_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let context = dir.path().join("context.json");
    std::fs::write(
        &context,
        r#"{"value_changed_ts": 1707997392.123, "TWIN": {"kind": "cat"}}"#,
    )
    .unwrap();
    let output = steward(
        &[
            "rules",
            "eval",
            "--rule",
            "value_changed_ts == 1707997392.123 and TWIN.kind == 'cat'",
            "--context",
            context.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value, json!(true));
}

#[test]
fn batch_answers_one_line_per_input_line_with_values_tagged_forms_and_error_kinds() {
    let input = [
        json!({"rule": "1 + 1", "context": {}}),
        json!({"rule": "'a' +", "context": {}}),
        json!({"rule": "'a' + 1", "context": {}}),
        json!({"rule": "LEDGER.missing", "context": {"LEDGER": {}}}),
        json!({"rule": "{3, 1, 2}", "context": {}}),
        json!({"rule": "d'2024-01-31T10:00:00Z' + t'PT1H'", "context": {}}),
        json!({"rule": "x > 1", "context": {"x": {"$float": "inf"}}}),
        json!({"rule": "b'hi'", "context": {}}),
        json!({"rule": "t'P1D'", "context": {}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let output = steward(&["rules", "eval", "--batch", "-"], Some(&input));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(lines[0], json!({"value": 2}));
    assert_eq!(lines[1]["error"]["kind"], "parse");
    assert_eq!(lines[2]["error"]["kind"], "eval");
    assert!(lines[2]["error"]["message"].is_string());
    assert_eq!(lines[3], json!({"value": null}));
    assert_eq!(lines[4], json!({"value": {"$set": [1, 2, 3]}}));
    let datetime = lines[5]["value"]["$datetime"].as_str().unwrap();
    assert!(datetime.starts_with("2024-01-31T11:00:00"), "{datetime}");
    assert_eq!(lines[6], json!({"value": true}));
    assert_eq!(lines[7], json!({"value": {"$bytes": "aGk="}}));
    assert_eq!(lines[8], json!({"value": {"$timedelta": 86400}}));
}
