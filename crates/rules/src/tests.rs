//! Semantics tests, each checked against Python rule-engine 4.5.3 with
//! `Context(default_value=None)`.

use serde_json::json;

use crate::json::to_json;
use crate::{MapContext, Rule};

fn ctx(json: serde_json::Value) -> MapContext {
    MapContext::from_json(&json).unwrap()
}

fn eval_json(rule: &str, context: serde_json::Value) -> serde_json::Value {
    match Rule::parse(rule) {
        Ok(rule) => match rule.evaluate(&ctx(context)) {
            Ok(value) => to_json(&value),
            Err(error) => json!({"error": error.kind_name()}),
        },
        Err(error) => json!({"error": error.kind_name()}),
    }
}

fn eval(rule: &str) -> serde_json::Value {
    eval_json(rule, json!({}))
}

#[test]
fn arithmetic_is_decimal_exact() {
    assert_eq!(eval("0.1 + 0.2 == 0.3"), json!(true));
    assert_eq!(eval("1 + 1"), json!(2));
    assert_eq!(eval("7 / 2"), json!(3.5));
    assert_eq!(eval("2 ** 10"), json!(1024));
    assert_eq!(eval("2 ** 3 ** 2"), json!(64));
    assert_eq!(eval("-2 ** 2"), json!(4));
    assert_eq!(eval("0x10 + 0o10 + 0b10"), json!(26));
    assert_eq!(eval("1e3"), json!(1000));
}

#[test]
fn timestamps_compare_exactly() {
    assert_eq!(
        eval_json(
            "value_changed_ts == 1707997392.123",
            json!({"value_changed_ts": 1707997392.123})
        ),
        json!(true)
    );
}

#[test]
fn missing_variables_and_keys_are_null() {
    assert_eq!(eval("missing"), json!(null));
    assert_eq!(eval_json("TWIN.missing", json!({"TWIN": {}})), json!(null));
    assert_eq!(eval("missing.deeper.still"), json!(null));
    assert_eq!(
        eval_json(
            "DICT.serial == TWIN.serial",
            json!({"TWIN": {"serial": "x"}})
        ),
        json!(false)
    );
}

#[test]
fn data_attributes_win_over_keys() {
    assert_eq!(
        eval_json("TWIN.length", json!({"TWIN": {"length": 99}})),
        json!(1)
    );
    assert_eq!(
        eval_json("TWIN['length']", json!({"TWIN": {"length": 99}})),
        json!(99)
    );
    assert_eq!(eval("'Abc'.as_lower"), json!("abc"));
    assert_eq!(eval("[1, 2, 3].length"), json!(3));
}

#[test]
fn ordering_across_types_is_an_error_but_equality_is_false() {
    assert_eq!(
        eval_json("x < 'a'", json!({"x": 1})),
        json!({"error": "eval"})
    );
    assert_eq!(eval_json("x == 'a'", json!({"x": 1})), json!(false));
    assert_eq!(eval("null >= null"), json!(true));
    assert_eq!(eval("[1, 2] < [1, 3]"), json!(true));
}

#[test]
fn build_time_type_errors_are_eval_errors_even_in_untaken_branches() {
    assert_eq!(eval("'a' + 1"), json!({"error": "eval"}));
    assert_eq!(
        eval_json("x ? 1 : 'a' + 1", json!({"x": true})),
        json!({"error": "eval"})
    );
    assert_eq!(
        eval_json("x or 1 / 0", json!({"x": true})),
        json!({"error": "eval"})
    );
    assert_eq!(eval_json("x or y / 0", json!({"x": true})), json!(true));
}

#[test]
fn syntax_errors_are_parse_errors() {
    assert_eq!(eval("1 +"), json!({"error": "parse"}));
    assert_eq!(eval("a == b == c"), json!({"error": "parse"}));
    assert_eq!(eval("d'not a date'"), json!({"error": "parse"}));
    assert_eq!(eval("'a' =~ '(?=a)'"), json!({"error": "parse"}));
    assert_eq!(eval("01"), json!({"error": "parse"}));
}

#[test]
fn regex_operators() {
    assert_eq!(eval("'abc' =~ 'b'"), json!(false));
    assert_eq!(eval("'abc' =~~ 'b'"), json!(true));
    assert_eq!(eval("'abc' !~ 'b'"), json!(true));
    assert_eq!(
        eval_json("x =~ '(a)(b)?' and $re_groups", json!({"x": "ac"})),
        json!(true)
    );
    assert_eq!(
        eval_json("x =~ '(a)(b)?' ? $re_groups : null", json!({"x": "ac"})),
        json!(["a", null])
    );
    assert_eq!(eval("null =~ null"), json!(true));
}

#[test]
fn membership() {
    assert_eq!(eval("'b' in 'abc'"), json!(true));
    assert_eq!(eval("2 in [1, 2]"), json!(true));
    assert_eq!(eval("'k' in {'k': 1}"), json!(true));
    assert_eq!(eval("3 not in {1, 2}"), json!(true));
    assert_eq!(eval("1 in 'abc'"), json!({"error": "eval"}));
}

#[test]
fn comprehensions_and_builtins() {
    assert_eq!(
        eval_json(
            "[x.qty for x in items if x.qty > 0]",
            json!({"items": [{"qty": 1}, {"qty": 0}, {"qty": 3}]})
        ),
        json!([1, 3])
    );
    assert_eq!(eval("$sum([1, 2, 3])"), json!(6));
    assert_eq!(eval("$max([1, 5, 3])"), json!(5));
    assert_eq!(eval("$range(3)"), json!([0, 1, 2]));
    assert_eq!(eval("$split('a b  c')"), json!(["a", "b", "c"]));
    assert_eq!(eval("$map($abs, [-1, 2])"), json!([1, 2]));
    assert_eq!(eval("$range(100000000)"), json!({"error": "eval"}));
}

#[test]
fn datetimes_and_timedeltas() {
    assert_eq!(
        eval("d'2024-01-31T10:00:00Z' + t'PT1H'"),
        json!({"$datetime": "2024-01-31T11:00:00+00:00"})
    );
    assert_eq!(
        eval("d'2024-01-02' - d'2024-01-01'"),
        json!({"$timedelta": 86400})
    );
    assert_eq!(eval("d'2024-01-31'.weekday"), json!("Wednesday"));
    assert_eq!(eval("t'P1DT2H'.total_seconds"), json!(93600));
}

#[test]
fn safe_navigation() {
    assert_eq!(eval_json("x&.y", json!({})), json!(null));
    assert_eq!(eval_json("x&['a']", json!({})), json!(null));
    assert_eq!(eval_json("x['a']", json!({})), json!({"error": "eval"}));
    assert_eq!(
        eval_json("x['a']", json!({"x": {}})),
        json!({"error": "eval"})
    );
}

#[test]
fn matches_fails_closed() {
    let rule = Rule::parse("x < 'a'").unwrap();
    assert!(!rule.matches(&ctx(json!({"x": 1}))));
    assert!(Rule::parse("[1]").unwrap().matches(&ctx(json!({}))));
}

#[test]
fn variables_are_listed_without_loop_variables_or_builtins() {
    let rule = Rule::parse("[x for x in items if x > limit] and $now and TWIN.a").unwrap();
    assert_eq!(rule.variables(), ["items", "limit", "TWIN"]);
}

#[test]
fn limits_are_enforced() {
    let long = "1 + ".repeat(2000) + "1";
    assert!(matches!(
        Rule::parse(&long),
        Err(crate::RuleError::Parse(_))
    ));
    let deep = "(".repeat(100) + "1" + &")".repeat(100);
    assert!(matches!(
        Rule::parse(&deep),
        Err(crate::RuleError::Parse(_))
    ));
    let nested = "[[y for y in $range(1000)] for x in $range(1000)]";
    assert_eq!(eval(nested), json!({"error": "eval"}));
}

#[test]
fn not_in_takes_its_left_operand_at_the_precedence_of_not() {
    // rule-engine decides on the `not` token: the ternary is reduced first.
    assert_eq!(eval("true ? 'a' : 'b' not in ['a']"), json!(false));
    assert_eq!(eval("1 == 1 not in [true]"), json!(false));
    assert_eq!(eval("1 not in [2] == true"), json!({"error": "parse"}));
}

#[test]
fn repeated_mapping_keys_only_evaluate_the_last_value() {
    assert_eq!(
        eval("{'a': 1 / x, 'b': 2, 'a': 3}"),
        json!({"a": 3, "b": 2})
    );
}

#[test]
fn member_types_are_checked_while_building() {
    assert_eq!(
        eval_json("x ? 1 : [y > 1 for y in $split('a b')]", json!({"x": true})),
        json!({"error": "eval"})
    );
    assert_eq!(
        eval_json("x ? 1 : [y.name for y in $range(3)]", json!({"x": true})),
        json!({"error": "eval"})
    );
    assert_eq!(eval("$split('a b') > []"), json!({"error": "eval"}));
    assert_eq!(
        eval_json("$max(x)", json!({"x": ["a"]})),
        json!({"error": "eval"})
    );
    assert_eq!(
        eval_json("[y&.name for y in x]", json!({"x": [{"name": "n"}, null]})),
        json!(["n", null])
    );
}

#[test]
fn zone_names_follow_the_reference() {
    assert_eq!(eval("d'2024-01-31T10:00:00Z'.zone_name"), json!("UTC"));
    assert_eq!(
        eval("d'2024-01-31T10:00:00+01:00'.zone_name"),
        json!({"error": "eval"})
    );
}

#[test]
fn encodings_follow_python_codecs() {
    assert_eq!(eval("'é'.encode('latin-1')"), json!({"$bytes": "6Q=="}));
    assert_eq!(eval("b''.decode('nope')"), json!(""));
    assert_eq!(eval("''.encode('nope')"), json!({"error": "eval"}));
    assert_eq!(eval("'6869'.encode('hex').decode('utf8')"), json!("hi"));
}

#[test]
fn json_text_keeps_key_order_and_python_float_semantics() {
    let context = MapContext::from_json_str(r#"{"m": {"b": 1, "a": 39.0}}"#).unwrap();
    let rule = Rule::parse("[m.keys, m.a.to_str]").unwrap();
    assert_eq!(
        to_json(&rule.evaluate(&context).unwrap()),
        json!([["b", "a"], "39.0"])
    );
}

#[test]
fn linear_operations_count_against_the_step_budget() {
    let limits = crate::Limits {
        max_steps: 50_000,
        ..crate::Limits::default()
    };
    let rule = Rule::parse_with_limits("[1000 in x for y in x]", limits).unwrap();
    let big: Vec<i64> = (0..1000).collect();
    assert!(rule.evaluate(&ctx(json!({"x": big}))).is_err());
}

#[test]
fn powers_of_zero_follow_decimal_rules() {
    assert_eq!(eval("0 ** -1"), json!({"$float": "inf"}));
    assert_eq!(eval("0 ** 0"), json!({"error": "eval"}));
    assert_eq!(eval("7 % 2.000"), json!(1));
    assert_eq!(eval("(7 % 2.000).to_str"), json!("1.000"));
}

#[test]
fn long_operator_chains_are_rejected_without_deep_recursion() {
    let limits = crate::Limits {
        max_rule_chars: 2_000_000,
        ..crate::Limits::default()
    };
    let chain = "1 + ".repeat(300_000) + "1";
    let error = Rule::parse_with_limits(&chain, limits).unwrap_err();
    assert!(error.to_string().contains("nested too deeply"), "{error}");
    let calls = "f".to_string() + &"()".repeat(300_000);
    assert!(Rule::parse_with_limits(&calls, limits).is_err());
    let parens = "(".repeat(300_000) + "1" + &")".repeat(300_000);
    assert!(Rule::parse_with_limits(&parens, limits).is_err());
}

#[test]
fn safe_lookups_with_impossible_key_types_fold_to_null() {
    assert_eq!(eval_json("{'a': x}&[1]", json!({"x": 1})), json!(null));
    assert_eq!(
        eval_json("{'a': x}[1]", json!({"x": 1})),
        json!({"error": "eval"})
    );
}

#[test]
fn computed_patterns_are_cached_and_charged() {
    let same = eval_json(
        "$any([s =~ p for x in $range(500)])",
        json!({"p": "a", "s": "b"}),
    );
    assert_eq!(same, json!(false));
    let patterns: Vec<String> = (0..200).map(|i| format!("a{{{i}}}")).collect();
    let many = eval_json(
        "[s =~ p for p in patterns]",
        json!({"s": "a", "patterns": patterns}),
    );
    assert_eq!(many, json!({"error": "eval"}));
}

#[test]
fn datetime_literals_are_read_like_dateutil_isoparse() {
    assert_eq!(
        eval("d'2024-W05'"),
        json!({"$datetime": "2024-01-29T00:00:00+00:00"})
    );
    assert_eq!(
        eval("d'2024-031'"),
        json!({"$datetime": "2024-01-31T00:00:00+00:00"})
    );
    assert_eq!(
        eval("d'2024-01-31X1030'"),
        json!({"$datetime": "2024-01-31T10:30:00+00:00"})
    );
    assert_eq!(
        eval("d'2024-01-3 & 1'"),
        json!({"$datetime": "2024-01-03T01:00:00+00:00"})
    );
    assert_eq!(
        eval("d'2024-01-31T24:00'"),
        json!({"$datetime": "2024-02-01T00:00:00+00:00"})
    );
    assert_eq!(eval("d'2023-366'"), json!({"error": "parse"}));
    assert_eq!(eval("d'0000-01-01'"), json!({"error": "parse"}));
}
