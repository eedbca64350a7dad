//! Property tests: printing a syntax tree and parsing it back gives the same tree, and
//! compiling and evaluating any tree never panics and always terminates.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rust_decimal::Decimal;
use steward_rules::{
    BinOp, Expr, ExprKind, Limits, MapContext, Number, Rule, Span, UnaryOp, Value,
};

const NAMES: &[&str] = &[
    "TWIN",
    "USER",
    "LEDGER",
    "DICT",
    "entry_name",
    "entry_value",
    "now",
    "x",
    "y",
    "s",
    "b",
    "d",
    "t",
];
const ATTRS: &[&str] = &[
    "length", "keys", "values", "company", "kind", "as_lower", "to_int", "year", "is_empty", "a",
    "b",
];
const BUILTINS: &[&str] = &[
    "now",
    "today",
    "pi",
    "e",
    "re_groups",
    "abs",
    "all",
    "any",
    "sum",
    "max",
    "min",
    "map",
    "filter",
    "range",
    "split",
    "parse_float",
    "parse_datetime",
    "parse_timedelta",
    "random",
    "unknown",
];
const DATETIMES: &[&str] = &[
    "2024-01-31T10:00:00Z",
    "2024-01-31",
    "2023-12-31T23:59:59.5+01:00",
    "bad",
];
const TIMEDELTAS: &[&str] = &["P1D", "PT1H30M", "P1W2DT3H4M5.5S", "PT", "P1Y"];

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn boxed(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(e(ExprKind::Null)),
        any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
        (0u32..100_000, 0u32..4).prop_map(|(m, scale)| e(ExprKind::Number(Number::Finite(
            Decimal::new(i64::from(m), scale)
        )))),
        prop_oneof![Just(Number::PosInf), Just(Number::NaN)].prop_map(|n| e(ExprKind::Number(n))),
        "[ -~]{0,6}|\\PC{0,3}|[\\n\\t\\\\'\"]{0,3}".prop_map(|s| e(ExprKind::String(s))),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|b| e(ExprKind::Bytes(b))),
        proptest::sample::select(DATETIMES).prop_map(|d| e(ExprKind::Datetime(d.to_string()))),
        proptest::sample::select(TIMEDELTAS).prop_map(|t| e(ExprKind::Timedelta(t.to_string()))),
        proptest::sample::select(NAMES).prop_map(|n| e(ExprKind::Symbol {
            name: n.to_string(),
            builtin: false
        })),
        proptest::sample::select(BUILTINS).prop_map(|n| e(ExprKind::Symbol {
            name: n.to_string(),
            builtin: true
        })),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        let name = proptest::sample::select(ATTRS).prop_map(str::to_string);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| e(ExprKind::Array(v))),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(|v| e(ExprKind::Set(v))),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..3)
                .prop_map(|v| e(ExprKind::Mapping(v))),
            (inner.clone(), name, any::<bool>()).prop_map(|(o, name, safe)| e(ExprKind::Attr {
                object: boxed(o),
                name,
                safe
            })),
            (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(o, i, safe)| e(
                ExprKind::Item {
                    object: boxed(o),
                    item: boxed(i),
                    safe
                }
            )),
            (
                inner.clone(),
                proptest::option::of(inner.clone()),
                proptest::option::of(inner.clone()),
                any::<bool>()
            )
                .prop_map(|(o, start, stop, safe)| e(ExprKind::Slice {
                    object: boxed(o),
                    start: start.map(boxed),
                    stop: stop.map(boxed),
                    safe
                })),
            (
                inner.clone(),
                proptest::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(f, args)| e(ExprKind::Call {
                    function: boxed(f),
                    args
                })),
            (inner.clone(), any::<bool>()).prop_map(|(x, neg)| e(ExprKind::Unary {
                op: if neg { UnaryOp::Neg } else { UnaryOp::Not },
                operand: boxed(x)
            })),
            (
                inner.clone(),
                inner.clone(),
                proptest::sample::select(BinOp::ALL.to_vec())
            )
                .prop_map(|(l, r, op)| e(ExprKind::Binary {
                    op,
                    left: boxed(l),
                    right: boxed(r)
                })),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| e(
                ExprKind::Ternary {
                    condition: boxed(c),
                    when_true: boxed(a),
                    when_false: boxed(b)
                }
            )),
            (
                inner.clone(),
                inner.clone(),
                proptest::option::of(inner),
                proptest::sample::select(&["x", "item", "k"][..])
            )
                .prop_map(|(result, iterable, condition, variable)| e(
                    ExprKind::Comprehension {
                        result: boxed(result),
                        variable: variable.to_string(),
                        iterable: boxed(iterable),
                        condition: condition.map(boxed),
                    }
                )),
        ]
    })
}

fn context() -> MapContext {
    let json = serde_json::json!({
        "TWIN": {"company": "acme", "kind": "cat", "length": 3, "a": [1, 2, 3]},
        "USER": {"company": "acme"},
        "LEDGER": {"public": ["weight"], "serial": 7},
        "entry_name": "weight",
        "entry_value": {"items": [{"qty": 1}, {"qty": 2}]},
        "now": 1707997392.123,
        "x": [1, 2, 3],
        "y": {"$set": [1, 2]},
        "s": "Hello",
        "b": {"$bytes": "AAE="},
        "d": {"$datetime": "2024-01-31T10:00:00Z"},
        "t": {"$timedelta": 60},
    });
    let mut context = MapContext::from_json(&json).unwrap();
    context.random = Some(0.25);
    context
}

proptest! {
    // 2,000 cases by default; `PROPTEST_CASES` raises it for longer runs.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(tree in expr()) {
        let text = tree.to_string();
        let reparsed = Rule::parse_expr(&text);
        prop_assert!(reparsed.is_ok(), "`{}` did not parse: {:?}", text, reparsed);
        prop_assert_eq!(reparsed.unwrap(), tree, "text: {}", text);
    }

    #[test]
    fn evaluation_never_panics_and_terminates(tree in expr()) {
        let text = tree.to_string();
        let limits = Limits { max_steps: 20_000, max_collection_len: 1_000, ..Limits::default() };
        if let Ok(rule) = Rule::parse_with_limits(&text, limits) {
            let context = context();
            let _ = rule.evaluate(&context);
            let _ = rule.matches(&context);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}|[a-z0-9 .()\\[\\]{}'\"&|^<>=!~?:,$#+*/%-]{0,40}") {
        if let Ok(rule) = Rule::parse(&text) {
            let _ = rule.evaluate(&context());
        }
    }
}

#[test]
fn printed_rules_keep_precedence() {
    let tree = Rule::parse_expr("a or b and not c == 1 + 2 * -3 ** 2").unwrap();
    assert_eq!(
        tree.to_string(),
        "(a or (b and (not (c == (1 + (2 * ((-3) ** 2)))))))"
    );
    assert!(matches!(Value::Null, Value::Null));
}
