//! One test per documented divergence from rule-engine 4.5.3 (see `docs/rules.md`).

#![allow(clippy::unwrap_used)]

use serde_json::json;
use steward_rules::json::to_json;
use steward_rules::{Limits, MapContext, Rule, RuleError};

fn eval(rule: &str) -> serde_json::Value {
    let context = MapContext::from_json(&json!({"s": "Hello\n", "x": "a"})).unwrap();
    match Rule::parse(rule) {
        Ok(rule) => match rule.evaluate(&context) {
            Ok(value) => to_json(&value),
            Err(error) => json!({"error": error.kind_name()}),
        },
        Err(error) => json!({"error": error.kind_name()}),
    }
}

#[test]
fn look_around_and_back_references_are_rejected_at_parse_time() {
    // Reference: `'ab' =~ 'a(?=b)'` is true.
    let error = Rule::parse("'ab' =~ 'a(?=b)'").unwrap_err();
    assert!(matches!(error, RuleError::Parse(_)));
    assert!(error.to_string().contains("look-around"), "{error}");
    let error = Rule::parse(r"'aa' =~ '(a)\\1'").unwrap_err();
    assert!(error.to_string().contains("back-reference"), "{error}");
}

#[test]
fn non_literal_unsupported_patterns_fail_when_evaluated() {
    let context = MapContext::from_json(&json!({"p": "a(?=b)"})).unwrap();
    let error = Rule::parse("'ab' =~ p")
        .unwrap()
        .evaluate(&context)
        .unwrap_err();
    assert_eq!(error.kind_name(), "parse");
}

#[test]
fn dollar_does_not_match_before_a_final_newline() {
    // Reference (`re.search`): `'Hello\n' =~~ 'o$'` is true.
    assert_eq!(eval("s =~~ 'o$'"), json!(false));
}

#[test]
fn numbers_beyond_the_decimal_range_are_binary_floats() {
    // Reference: Decimal('1.267650600228229401496703205E+30'); the JSON value is the same.
    assert_eq!(eval("2 ** 100"), json!(1.2676506002282294e30));
    // Reference: false (28 significant digits resolve the added 1000).
    assert_eq!(eval("2 ** 100 + 1000 == 2 ** 100"), json!(true));
}

#[test]
fn numbers_beyond_the_float_range_are_errors() {
    // Reference: Decimal('1.071508607186267320948425049E+301') ** 2 is fine.
    assert_eq!(eval("(2 ** 1000) ** 2"), json!({"error": "eval"}));
}

#[test]
fn to_str_does_not_keep_exponent_form() {
    // Reference: '1E+3'.
    assert_eq!(eval("(1e3).to_str"), json!("1000"));
}

#[test]
fn named_unicode_escapes_are_rejected() {
    // Reference: '\N{BULLET}' is '•'.
    assert_eq!(eval(r"'\N{BULLET}'"), json!({"error": "parse"}));
}

#[test]
fn set_iteration_follows_insertion_order() {
    // Reference: hash order, which for these strings differs from run to run.
    assert_eq!(eval("{'b', 'a', 'c'}.to_ary"), json!(["b", "a", "c"]));
}

#[test]
fn fractional_powers_have_about_26_correct_digits() {
    // Reference: 1.414213562373095048801688724; both print as the same binary float.
    assert_eq!(eval("2 ** 0.5"), json!(std::f64::consts::SQRT_2));
    assert_eq!(
        eval("(2 ** 0.5).to_str"),
        json!("1.414213562373095048801688724")
    );
}

#[test]
fn literals_beyond_the_float_range_are_syntax_errors() {
    // Reference: Decimal('1E+400').
    assert_eq!(eval("1e400"), json!({"error": "parse"}));
}

#[test]
fn to_str_of_small_results_keeps_at_most_28_decimal_places() {
    // Reference: '0.09950248756218905472636815920' (28 significant digits).
    assert_eq!(
        eval("(2 / 20.1).to_str"),
        json!("0.0995024875621890547263681592")
    );
}

#[test]
fn very_long_timedeltas_are_errors() {
    // Reference: fine up to 999,999,999 days.
    assert_eq!(eval("t'P200000000D'"), json!({"error": "parse"}));
}

#[test]
fn naive_datetimes_are_utc() {
    assert_eq!(
        eval("d'2024-01-31T10:00:00'"),
        json!({"$datetime": "2024-01-31T10:00:00+00:00"})
    );
}

#[test]
fn resource_limits_apply() {
    // Reference: no limits.
    assert_eq!(eval("$range(1000000).length"), json!({"error": "eval"}));
    let long = format!("'{}'", "a".repeat(5000));
    assert!(matches!(Rule::parse(&long), Err(RuleError::Parse(_))));
    let tight = Limits {
        max_steps: 10,
        ..Limits::default()
    };
    let rule = Rule::parse_with_limits("[x for x in [1, 2, 3, 4, 5, 6]]", tight).unwrap();
    assert!(rule.evaluate(&MapContext::new()).is_err());
}

#[test]
fn groups_that_did_not_take_part_in_a_match_are_null() {
    // Reference: a symbol type error (`None` is not a rule-engine value), so the rule fails.
    let context = MapContext::from_json(&json!({"s": "qty"})).unwrap();
    let rule = Rule::parse("(s =~~ '(x)?y') and $re_groups[0] == null").unwrap();
    assert_eq!(to_json(&rule.evaluate(&context).unwrap()), json!(true));
}

#[test]
fn a_set_keeps_the_first_of_two_equal_members() {
    // Reference: `{1, true}` keeps `true` (Python sets keep the first inserted, but the
    // reference evaluates set literal members in an arbitrary order).
    assert_eq!(eval("{1, true}"), json!({"$set": [1]}));
}
