//! Differential test: Steward's rule engine against the reference implementation.
//!
//! Generates seeded random rules and Trusted-Twin-shaped contexts, evaluates each case with the
//! Python `rule-engine` 4.5.3 (the grammar Trusted Twin documents; run through
//! `differential/reference.py`, which follows the same batch contract as
//! `steward rules eval --batch`) and with [`steward_rules::batch::eval_line`], and requires the
//! same value, or an error of the same kind, for every case outside the documented divergences.
//!
//! Knobs (environment): `STEWARD_RULES_DIFF_CASES` (default 12,000), `STEWARD_RULES_DIFF_SEED`,
//! `STEWARD_RULES_DIFF_DUMP=path.jsonl` (write every case with both answers),
//! `STEWARD_RULES_DIFF_FILE=cases.jsonl` (replay batch lines from a file instead of generating),
//! `STEWARD_RULES_PYENV` (the virtualenv; default `target/pyenv-rules` of the workspace).
//! The virtualenv is created on first use; failing to create it fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/contexts.rs"]
mod contexts;
#[path = "differential/divergences.rs"]
mod divergences;
#[path = "differential/generator.rs"]
mod generator;
#[path = "differential/literals.rs"]
mod literals;
#[path = "differential/pools.rs"]
mod pools;
#[path = "differential/pyenv.rs"]
mod pyenv;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use compare::{Outcome, Value};
use divergences::{Observed, DOCUMENTED_DIVERGENCES, UNRESOLVED};

const DEFAULT_CASES: usize = 12_000;
const DEFAULT_SEED: u64 = 0x5_7e3a_2d00;
const MINIMUM_CASES: usize = 10_000;
const SHOWN_DISAGREEMENTS: usize = 20;

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/reference.py")
}

/// Hand-written cases (Trusted Twin examples, decimal, cross-type, datetime and builtin edge
/// cases, and every disagreement found so far), run before the generated ones.
fn probes_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/probes.jsonl")
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} should be a number, got `{text}`")),
        Err(_) => default,
    }
}

/// Streams every line through one reference process and returns its answers in order.
fn run_reference(python: &Path, lines: &[String]) -> Vec<String> {
    let mut child = Command::new(python)
        .arg(reference_script())
        // set iteration order of strings depends on the hash seed; fix it so runs repeat
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the reference script should start");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input: Vec<String> = lines.to_vec();
    let writer = std::thread::spawn(move || {
        for line in input {
            stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .expect("the reference should accept input");
        }
        // dropping stdin closes it, so the script ends after the last line
    });
    let stdout = child.stdout.take().expect("stdout is piped");
    let answers: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|line| line.expect("the reference output should be UTF-8"))
        .collect();
    writer.join().expect("the writer thread should not panic");
    let status = child.wait().expect("the reference should exit");
    assert!(status.success(), "the reference script failed: {status}");
    assert_eq!(
        answers.len(),
        lines.len(),
        "the reference should answer every line"
    );
    answers
}

/// Cases from a JSONL file of batch lines (`{"rule": ..., "context": ...}`), to replay a
/// disagreement or probe the engines by hand (`STEWARD_RULES_DIFF_FILE`, an absolute path).
fn read_cases(path: &Path) -> Vec<generator::Case> {
    let text = std::fs::read_to_string(path).expect("the cases file should be readable");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let json: serde_json::Value =
                serde_json::from_str(line).expect("each line should be JSON");
            generator::Case {
                rule: json["rule"]
                    .as_str()
                    .expect("`rule` should be a string")
                    .to_string(),
                context: json
                    .get("context")
                    .map_or_else(|| "{}".to_string(), |c| c.to_string()),
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    reference_true: usize,
    reference_false: usize,
    reference_other_value: usize,
    reference_parse: usize,
    reference_eval: usize,
    agreed: usize,
    excluded: Vec<(&'static str, usize)>,
    unresolved: Vec<(&'static str, usize)>,
}

impl Tally {
    fn count_reference(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Value(Value::Bool(true)) => self.reference_true += 1,
            Outcome::Value(Value::Bool(false)) => self.reference_false += 1,
            Outcome::Value(_) => self.reference_other_value += 1,
            Outcome::Error { kind, .. } if kind == "parse" => self.reference_parse += 1,
            Outcome::Error { .. } => self.reference_eval += 1,
            Outcome::Malformed(_) => {}
        }
    }

    fn bump(list: &mut Vec<(&'static str, usize)>, name: &'static str) {
        match list.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => list.push((name, 1)),
        }
    }
}

fn describe(observed: &Observed) -> String {
    format!(
        "rule:      {}\ncontext:   {}\nreference: {}\nsteward:   {}\n",
        observed.rule, observed.context, observed.reference_line, observed.steward_line
    )
}

#[test]
fn steward_agrees_with_the_reference_rule_engine() {
    let cases = env_number("STEWARD_RULES_DIFF_CASES", DEFAULT_CASES);
    let seed = env_number("STEWARD_RULES_DIFF_SEED", DEFAULT_SEED);
    let python = pyenv::ensure_reference_venv();

    let generated = match std::env::var_os("STEWARD_RULES_DIFF_FILE") {
        Some(path) => read_cases(Path::new(&path)),
        None => {
            // hand-written probes of every family first, then the generated cases
            let mut all = read_cases(&probes_file());
            let mut generator = generator::Generator::new(seed);
            all.extend((0..cases).map(|_| generator.case()));
            all
        }
    };
    let cases = generated.len();
    let lines: Vec<String> = generated
        .iter()
        .map(|case| {
            format!(
                "{{\"rule\": {}, \"context\": {}}}",
                contexts::quote(&case.rule),
                case.context
            )
        })
        .collect();

    let started = Instant::now();
    let reference_answers = run_reference(&python, &lines);
    let reference_time = started.elapsed();
    let started = Instant::now();
    // a panic is a disagreement like any other, reported with its rule and context
    let steward_answers: Vec<String> = lines
        .iter()
        .map(|line| {
            std::panic::catch_unwind(|| steward_rules::batch::eval_line(line))
                .unwrap_or_else(|_| "{\"panic\": \"steward panicked\"}".to_string())
        })
        .collect();
    let steward_time = started.elapsed();

    let mut tally = Tally::default();
    let mut disagreements = Vec::new();
    let mut dump = std::env::var_os("STEWARD_RULES_DIFF_DUMP")
        .map(|path| std::fs::File::create(path).expect("the dump file should be creatable"));
    for (index, case) in generated.iter().enumerate() {
        let observed = Observed {
            rule: &case.rule,
            context: &case.context,
            reference_line: &reference_answers[index],
            steward_line: &steward_answers[index],
            reference: Outcome::from_line(&reference_answers[index]),
            steward: Outcome::from_line(&steward_answers[index]),
        };
        if let Outcome::Malformed(line) = &observed.reference {
            panic!("the reference harness broke on case {index}: {line}");
        }
        tally.count_reference(&observed.reference);
        let steward_broke = matches!(observed.steward, Outcome::Malformed(_));
        let verdict = if observed.reference.agrees_with(&observed.steward) {
            tally.agreed += 1;
            "agree".to_string()
        } else if steward_broke {
            disagreements.push(describe(&observed));
            "disagree".to_string()
        } else if let Some(divergence) = DOCUMENTED_DIVERGENCES
            .iter()
            .find(|d| (d.applies)(&observed))
        {
            Tally::bump(&mut tally.excluded, divergence.name);
            format!("divergence: {}", divergence.name)
        } else if let Some(bug) = UNRESOLVED.iter().find(|d| (d.applies)(&observed)) {
            Tally::bump(&mut tally.unresolved, bug.name);
            format!("unresolved: {}", bug.name)
        } else {
            disagreements.push(describe(&observed));
            "disagree".to_string()
        };
        if let Some(file) = dump.as_mut() {
            writeln!(
                file,
                "{{\"verdict\": {}, \"rule\": {}, \"context\": {}, \"reference\": {}, \"steward\": {}}}",
                contexts::quote(&verdict),
                contexts::quote(&case.rule),
                case.context,
                observed.reference_line,
                contexts::quote(observed.steward_line)
            )
            .expect("the dump should be writable");
        }
    }

    let compared = cases;
    println!(
        "differential: {compared} cases (seed {seed:#x}); reference outcomes: {} true, {} false, \
         {} other values, {} eval errors, {} parse errors",
        tally.reference_true,
        tally.reference_false,
        tally.reference_other_value,
        tally.reference_eval,
        tally.reference_parse
    );
    println!(
        "differential: {} agreed ({:.2}%), {} disagreed; reference {:.1?}, steward {:.1?}",
        tally.agreed,
        100.0 * tally.agreed as f64 / compared as f64,
        disagreements.len(),
        reference_time,
        steward_time
    );
    for (name, count) in &tally.excluded {
        println!("differential: {count} excluded as documented divergence `{name}`");
    }
    for (name, count) in &tally.unresolved {
        println!("differential: {count} excluded as UNRESOLVED `{name}` (to fix or document)");
    }
    for disagreement in disagreements.iter().take(SHOWN_DISAGREEMENTS) {
        println!("--- disagreement\n{disagreement}");
    }

    assert!(
        compared >= MINIMUM_CASES
            || std::env::var_os("STEWARD_RULES_DIFF_CASES").is_some()
            || std::env::var_os("STEWARD_RULES_DIFF_FILE").is_some(),
        "the differential test should run at least {MINIMUM_CASES} cases"
    );
    // keep the generator honest: a generator that only produces errors proves little
    let share = |n: usize| n as f64 / compared as f64;
    if compared >= MINIMUM_CASES {
        assert!(share(tally.reference_true) > 0.08, "too few true rules");
        assert!(share(tally.reference_false) > 0.08, "too few false rules");
        assert!(
            share(tally.reference_eval) > 0.05,
            "too few evaluation errors"
        );
        assert!(share(tally.reference_parse) > 0.03, "too few parse errors");
    }
    assert!(
        disagreements.is_empty(),
        "{} of {compared} cases disagree with the reference (first {} shown above)",
        disagreements.len(),
        disagreements.len().min(SHOWN_DISAGREEMENTS)
    );
}

/// The comparison rules themselves, without Python: exact decimals, unordered sets, NaN, and
/// datetimes compared as instants.
#[test]
fn comparison_treats_equal_values_as_equal() {
    let same = |a: &str, b: &str| Outcome::from_line(a).agrees_with(&Outcome::from_line(b));
    assert!(same(r#"{"value": 0.30}"#, r#"{"value": 3E-1}"#));
    assert!(same(r#"{"value": 100}"#, r#"{"value": 1e2}"#));
    assert!(!same(
        r#"{"value": 0.3}"#,
        r#"{"value": 0.30000000000000004}"#
    ));
    assert!(same(
        r#"{"value": {"$set": [1, "a", null]}}"#,
        r#"{"value": {"$set": [null, "a", 1.0]}}"#
    ));
    assert!(same(
        r#"{"value": {"$float": "nan"}}"#,
        r#"{"value": {"$float": "nan"}}"#
    ));
    assert!(same(
        r#"{"value": {"$datetime": "2024-01-31T12:00:00+02:00"}}"#,
        r#"{"value": {"$datetime": "2024-01-31T10:00:00Z"}}"#
    ));
    assert!(same(
        r#"{"value": {"b": 1, "a": [true]}}"#,
        r#"{"value": {"a": [true], "b": 1}}"#
    ));
    assert!(same(
        r#"{"error": {"kind": "eval", "message": "x"}}"#,
        r#"{"error": {"kind": "eval", "message": "y"}}"#
    ));
    assert!(!same(
        r#"{"error": {"kind": "eval", "message": "x"}}"#,
        r#"{"error": {"kind": "parse", "message": "x"}}"#
    ));
    assert!(!same(r#"{"value": true}"#, r#"{"value": 1}"#));
    assert!(!same(r#"{"value": [1, 2]}"#, r#"{"value": [2, 1]}"#));
}

/// The generator is deterministic: the same seed gives the same cases.
#[test]
fn generator_is_deterministic_for_a_seed() {
    let mut first = generator::Generator::new(42);
    let mut second = generator::Generator::new(42);
    for _ in 0..200 {
        let (a, b) = (first.case(), second.case());
        assert_eq!(a.rule, b.rule);
        assert_eq!(a.context, b.context);
    }
}
