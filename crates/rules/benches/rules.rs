//! Criterion benchmarks of the rule language (issue 3, point 8).
//!
//! * `parse_compile/b`: parse + compile of rule (b);
//! * `evaluate/a`: `TWIN.kind == "cat" and entry_name in LEDGER.public`;
//! * `evaluate/b`: a 4-clause rule mixing comparisons, `in` and `now`;
//! * `evaluate/c_comprehension_20`: a comprehension over 20 items.
//!
//! The same rules and context are timed in the reference by `reference_bench.py`; `run.sh`
//! runs both and prints the ratio. Figures go to `BENCHMARKS.md` (never gate CI on them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use steward_rules::{MapContext, Rule, Value};

const RULE_A: &str = r#"TWIN.kind == "cat" and entry_name in LEDGER.public"#;
const RULE_B: &str =
    r#"TWIN.kind == "cat" and now < 1900000000 and USER.level >= 3 and account in DICT.allowed"#;
const RULE_C: &str = "[x for x in LEDGER.items if x.qty > 5].length >= 3";

const ACCOUNT: &str = "9891264d-a8b5-4e0a-9fbb-1c8f1b3c6a01";

/// The context of `reference_bench.py`, built once (evaluation is what is measured).
fn context() -> MapContext {
    let items: Vec<serde_json::Value> = (0..20)
        .map(|i| serde_json::json!({"qty": i % 10, "name": format!("item{i}")}))
        .collect();
    let json = serde_json::json!({
        "account": ACCOUNT,
        "now": 1707997392.123,
        "entry_name": "temp",
        "TWIN": {"kind": "cat", "company": "acme", "serial": "SN-1"},
        "USER": {"level": 4, "company": "acme"},
        "DICT": {"allowed": [
            "e834214a-0cbe-4b6e-8f6a-2f2f7a1d9b02",
            "1f0e3c52-77aa-4c1d-b2b4-5d6e7f809a03",
            ACCOUNT,
        ]},
        "LEDGER": {
            "public": ["serial", "gdansk", "humidity", "pressure", "temp", "door", "battery"],
            "items": items,
        },
    });
    MapContext::from_json(&json).expect("the benchmark context should be valid")
}

fn benchmarks(c: &mut Criterion) {
    let context = context();
    let rules = [
        ("evaluate/a", Rule::parse(RULE_A).unwrap()),
        ("evaluate/b", Rule::parse(RULE_B).unwrap()),
        ("evaluate/c_comprehension_20", Rule::parse(RULE_C).unwrap()),
    ];
    for (_, rule) in &rules {
        assert!(
            matches!(rule.evaluate(&context), Ok(Value::Bool(true))),
            "benchmark rule `{}` should hold on the benchmark context",
            rule.text()
        );
    }

    c.bench_function("parse_compile/b", |b| {
        b.iter(|| Rule::parse(black_box(RULE_B)).unwrap())
    });
    for (name, rule) in &rules {
        c.bench_function(name, |b| b.iter(|| rule.matches(black_box(&context))));
    }
}

criterion_group!(rules, benchmarks);
criterion_main!(rules);
