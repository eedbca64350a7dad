//! Grammar-aware random generator of rules and Trusted-Twin-shaped contexts.
//!
//! The generator is type directed: it mostly builds well-typed expressions (so a good share of
//! rules evaluate to true or false), deliberately mistypes an operand now and then (evaluation
//! errors), and corrupts a small share of rule texts (parse errors). Contexts follow the Trusted
//! Twin variables (`TWIN`, `USER`, `LEDGER`, `DICT`, `entry_name`, `entry_value`, `now`, ...) with
//! random values and randomly missing keys. Everything is derived from one seed.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::pools::*;

/// One generated case: the rule text and the context as a JSON object (tagged encoding).
pub struct Case {
    pub rule: String,
    pub context: String,
}

/// Intended result type of a generated sub-expression.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ty {
    Bool,
    Num,
    Str,
    Arr,
    Map,
    Set,
    Dt,
    Td,
    Bytes,
    Null,
}

pub(crate) const ALL_TYPES: [Ty; 10] = [
    Ty::Bool,
    Ty::Num,
    Ty::Str,
    Ty::Arr,
    Ty::Map,
    Ty::Set,
    Ty::Dt,
    Ty::Td,
    Ty::Bytes,
    Ty::Null,
];

pub struct Generator {
    pub(crate) rng: StdRng,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn case(&mut self) -> Case {
        let context = self.context();
        let rule = self.rule();
        Case { rule, context }
    }

    // ------------------------------------------------------------------ rules

    pub(crate) fn rule(&mut self) -> String {
        let roll = self.rng.gen_range(0..100);
        let depth = self.rng.gen_range(2..=4);
        let mut rule = if roll < 55 {
            self.expr(Ty::Bool, depth)
        } else if roll < 62 {
            self.tt_style_rule()
        } else {
            let ty = *ALL_TYPES
                .choose(&mut self.rng)
                .expect("types are not empty");
            self.expr(ty, depth)
        };
        if self.rng.gen_bool(0.03) {
            rule.push_str(" # a comment");
        }
        if self.rng.gen_bool(0.02) {
            rule = format!("\n  {rule}\n");
        }
        if self.rng.gen_bool(0.07) {
            rule = self.corrupt(rule);
        }
        rule
    }

    /// Rules shaped like the ones Trusted Twin users write.
    pub(crate) fn tt_style_rule(&mut self) -> String {
        let clauses = [
            "TWIN.kind == \"cat\"".to_string(),
            "entry_name in LEDGER.public".to_string(),
            format!("now < {}", self.rng.gen_range(1_600_000_000..1_900_000_000)),
            format!("USER.level >= {}", self.rng.gen_range(0..6)),
            "account in DICT.allowed".to_string(),
            "TWIN.company == USER.company".to_string(),
            "TWIN.serial == DICT.serial".to_string(),
            "USER.profession == 'accounting'".to_string(),
            "LEDGER.serial > 3".to_string(),
            "value_changed_ts == 1707997392.123".to_string(),
            "entry_value > 30 and twin_status == \"alive\"".to_string(),
            format!("account in ['{}', '{}']", UUIDS[0], UUIDS[1]),
            "$any([x.qty > 5 for x in LEDGER.items])".to_string(),
            "entry_value.user_dict.name == USER.name".to_string(),
        ];
        let count = self.rng.gen_range(1..=4);
        let mut parts = Vec::new();
        for _ in 0..count {
            parts.push(clauses.choose(&mut self.rng).expect("not empty").clone());
        }
        let joiner = if self.rng.gen_bool(0.7) {
            " and "
        } else {
            " or "
        };
        parts.join(joiner)
    }

    pub(crate) fn corrupt(&mut self, rule: String) -> String {
        let positions: Vec<usize> = rule
            .char_indices()
            .map(|(i, _)| i)
            .chain([rule.len()])
            .collect();
        let at = *positions.choose(&mut self.rng).expect("at least the end");
        match self.rng.gen_range(0..4) {
            0 => {
                let junk = JUNK_TOKENS.choose(&mut self.rng).expect("not empty");
                format!("{} {junk} {}", &rule[..at], &rule[at..])
            }
            1 => rule[..at].to_string(),
            2 => {
                let bad = BAD_SNIPPETS.choose(&mut self.rng).expect("not empty");
                format!("{rule} == {bad}")
            }
            _ => {
                let bad = BAD_SNIPPETS.choose(&mut self.rng).expect("not empty");
                bad.to_string()
            }
        }
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.choose(&mut self.rng).expect("pools are not empty")
    }

    /// An operand of type `ty`, occasionally of another type to provoke type errors.
    pub(crate) fn operand(&mut self, ty: Ty, depth: u32) -> String {
        if self.chance(0.035) {
            let other = *ALL_TYPES.choose(&mut self.rng).expect("not empty");
            return self.wrapped(other, depth);
        }
        self.wrapped(ty, depth)
    }

    /// A sub-expression, usually parenthesised so the intended structure survives; sometimes
    /// bare so the operator precedence of both engines is exercised.
    pub(crate) fn wrapped(&mut self, ty: Ty, depth: u32) -> String {
        let text = self.expr(ty, depth);
        if is_atomic(&text) || self.chance(0.25) {
            text
        } else {
            format!("({text})")
        }
    }

    /// An object that a postfix (`.attr`, `[i]`, call) can follow.
    pub(crate) fn object(&mut self, ty: Ty, depth: u32) -> String {
        let text = self.expr(ty, depth);
        if is_postfixable(&text) {
            text
        } else {
            format!("({text})")
        }
    }

    pub(crate) fn expr(&mut self, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.chance(0.18) {
            return self.leaf(ty);
        }
        let d = depth - 1;
        // shared families, good for any type
        match self.rng.gen_range(0..100) {
            0..=5 => {
                let c = self.operand(Ty::Bool, d);
                let a = self.operand(ty, d);
                let b = self.operand(ty, d);
                return format!("{c} ? {a} : {b}");
            }
            6..=8 => return self.missing_or_safe(ty, d),
            _ => {}
        }
        match ty {
            Ty::Bool => self.bool_expr(d),
            Ty::Num => self.num_expr(d),
            Ty::Str => self.str_expr(d),
            Ty::Arr => self.arr_expr(d),
            Ty::Map => self.map_expr(d),
            Ty::Set => self.set_expr(d),
            Ty::Dt => self.dt_expr(d),
            Ty::Td => self.td_expr(d),
            Ty::Bytes => self.bytes_expr(d),
            Ty::Null => self.leaf(Ty::Null),
        }
    }

    /// Null-ish access: missing keys, safe navigation, safe items.
    pub(crate) fn missing_or_safe(&mut self, ty: Ty, d: u32) -> String {
        match self.rng.gen_range(0..6) {
            0 => self.pick(&MISSING_PATHS).to_string(),
            1 => format!("{}&.{}", self.pick(&MISSING_PATHS), self.attr_name()),
            2 => format!("{}&[{}]", self.pick(&MISSING_PATHS), self.leaf(Ty::Num)),
            3 => format!("{}&.kind", self.pick(&MAP_PATHS)),
            4 => {
                let obj = self.object(ty, d);
                format!("{obj}&.length")
            }
            _ => format!("null&[{}]", self.leaf(Ty::Str)),
        }
    }

    pub(crate) fn attr_name(&mut self) -> &'static str {
        self.pick(&[
            "kind", "length", "keys", "values", "name", "missing", "level", "to_str", "is_empty",
        ])
    }

    pub(crate) fn leaf(&mut self, ty: Ty) -> String {
        match ty {
            Ty::Bool => match self.rng.gen_range(0..4) {
                0 => "true".into(),
                1 => "false".into(),
                _ => self.comparison(0),
            },
            Ty::Num => {
                if self.chance(0.4) {
                    self.pick(&NUM_PATHS).to_string()
                } else {
                    self.num_literal()
                }
            }
            Ty::Str => {
                if self.chance(0.5) {
                    self.pick(&STR_PATHS).to_string()
                } else {
                    self.str_literal()
                }
            }
            Ty::Arr => {
                if self.chance(0.5) {
                    self.pick(&ARR_PATHS).to_string()
                } else {
                    self.array_literal(0)
                }
            }
            Ty::Map => {
                if self.chance(0.6) {
                    self.pick(&MAP_PATHS).to_string()
                } else {
                    self.map_literal(0)
                }
            }
            Ty::Set => {
                if self.chance(0.3) {
                    "TWIN.flags".into()
                } else {
                    self.set_literal(0)
                }
            }
            Ty::Dt => {
                if self.chance(0.3) {
                    self.pick(&["TWIN.created", "USER.birthday"]).to_string()
                } else {
                    self.pick(&DATETIMES).to_string()
                }
            }
            Ty::Td => {
                if self.chance(0.3) {
                    "TWIN.ttl".into()
                } else {
                    self.pick(&TIMEDELTAS).to_string()
                }
            }
            Ty::Bytes => {
                if self.chance(0.3) {
                    "TWIN.blob".into()
                } else {
                    self.pick(&BYTES).to_string()
                }
            }
            Ty::Null => {
                if self.chance(0.5) {
                    "null".into()
                } else {
                    self.pick(&MISSING_PATHS).to_string()
                }
            }
        }
    }

    pub(crate) fn comparison(&mut self, d: u32) -> String {
        let ty = *[
            Ty::Num,
            Ty::Num,
            Ty::Str,
            Ty::Str,
            Ty::Dt,
            Ty::Td,
            Ty::Bool,
            Ty::Null,
            Ty::Arr,
        ]
        .choose(&mut self.rng)
        .expect("not empty");
        let op = self.pick(&["==", "!=", "<", "<=", ">", ">=", "==", "!="]);
        let a = self.operand(ty, d);
        let b = self.operand(ty, d);
        format!("{a} {op} {b}")
    }

    pub(crate) fn bool_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..25) {
            0..=4 => self.comparison(d),
            24 => self.cross_type_equality(),
            22 => self.decimal_identity(),
            23 => {
                let container = self.object(Ty::Arr, d);
                let index = self.pick(&["0", "1", "-1", "7", "'a'"]);
                let op = self.pick(&["==", "!="]);
                format!("{container}&[{index}] {op} {}", self.leaf(Ty::Str))
            }
            5 => {
                let a = self.operand(Ty::Str, d);
                let op = self.pick(&["=~", "=~~", "!~", "!~~"]);
                let pattern = if self.chance(0.85) {
                    format!("'{}'", self.pick(&REGEXES))
                } else {
                    self.operand(Ty::Str, d)
                };
                format!("{a} {op} {pattern}")
            }
            6..=7 => {
                let container_ty = *[Ty::Arr, Ty::Arr, Ty::Str, Ty::Map, Ty::Set]
                    .choose(&mut self.rng)
                    .expect("x");
                let member_ty = if container_ty == Ty::Arr || container_ty == Ty::Set {
                    *[Ty::Num, Ty::Str].choose(&mut self.rng).expect("x")
                } else {
                    Ty::Str
                };
                let member = self.operand(member_ty, d);
                let container = self.operand(container_ty, d);
                let op = if self.chance(0.75) { "in" } else { "not in" };
                format!("{member} {op} {container}")
            }
            8..=10 => {
                let a = self.operand(Ty::Bool, d);
                let b = self.operand(Ty::Bool, d);
                let op = self.pick(&["and", "or"]);
                format!("{a} {op} {b}")
            }
            11 => format!("not {}", self.operand(Ty::Bool, d)),
            12 => {
                let s = self.object(Ty::Str, d);
                let method = self.pick(&["starts_with", "ends_with"]);
                let arg = self.operand(Ty::Str, d);
                format!("{s}.{method}({arg})")
            }
            13 => {
                let f = self.pick(&["$all", "$any"]);
                let arr = self.bool_array(d);
                format!("{f}({arr})")
            }
            14 => {
                let ty = *[Ty::Str, Ty::Arr, Ty::Map, Ty::Set, Ty::Bytes]
                    .choose(&mut self.rng)
                    .expect("x");
                format!("{}.is_empty", self.object(ty, d))
            }
            15 => format!("{}.is_nan", self.object(Ty::Num, d)),
            16 => {
                // the value of a comparison of a whole mapping or array
                let ty = *[Ty::Map, Ty::Arr, Ty::Set]
                    .choose(&mut self.rng)
                    .expect("x");
                let a = self.operand(ty, d);
                let b = self.operand(ty, d);
                let op = self.pick(&["==", "!="]);
                format!("{a} {op} {b}")
            }
            17 => {
                let s = self.object(Ty::Arr, d);
                let method = self.pick(&["starts_with", "ends_with"]);
                format!("{s}.{method}({})", self.array_literal(0))
            }
            18 => {
                let a = self.operand(Ty::Str, d);
                let pattern = self.pick(&["(a)(t)", "(\\\\w+),(\\\\w+)", "c(.)t", "(x)?y"]);
                let index = self.rng.gen_range(0..3);
                format!(
                    "({a} =~~ '{pattern}') and $re_groups[{index}] == {}",
                    self.str_literal()
                )
            }
            19 => {
                // truthiness of any value through `not` / `and`
                let ty = *ALL_TYPES.choose(&mut self.rng).expect("x");
                let value = self.operand(ty, d);
                self.pick(&["not ", "not not "]).to_string() + &value
            }
            _ => {
                let arr = self.operand(Ty::Arr, d);
                format!("$any([x > {} for x in {arr}])", self.num_literal())
            }
        }
    }

    pub(crate) fn bool_array(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..3) {
            0 => {
                let var = self.pick(&["x", "item", "e"]);
                let source = self.operand(Ty::Arr, d);
                let cond = self.comprehension_condition(var);
                format!("[{cond} for {var} in {source}]")
            }
            1 => {
                let members: Vec<String> = (0..self.rng.gen_range(0..4))
                    .map(|_| self.expr(Ty::Bool, d.min(1)))
                    .collect();
                format!("[{}]", members.join(", "))
            }
            _ => self.operand(Ty::Arr, d),
        }
    }

    pub(crate) fn comprehension_condition(&mut self, var: &str) -> String {
        match self.rng.gen_range(0..6) {
            0 => format!("{var} > {}", self.num_literal()),
            1 => format!("{var}.qty > {}", self.rng.gen_range(0..10)),
            2 => format!("{var} == {}", self.str_literal()),
            3 => format!("{var} in {}", self.pick(&ARR_PATHS)),
            4 => format!("{var} != null"),
            _ => format!("{var}&.name == {}", self.str_literal()),
        }
    }

    /// A chain of numeric operators without parentheses, to test precedence.
    pub(crate) fn num_chain(&mut self, d: u32) -> String {
        let len = self.rng.gen_range(2..5);
        let mut text = self.operand(Ty::Num, d.min(1));
        for _ in 1..len {
            let op = self.pick(&["+", "-", "*", "/", "//", "%", "+", "-", "*"]);
            let rhs = self.operand(Ty::Num, d.min(1));
            text = format!("{text} {op} {rhs}");
        }
        text
    }

    pub(crate) fn num_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..26) {
            0..=5 => {
                let op = self.pick(&["+", "-", "*", "/", "//", "%", "+", "-"]);
                let a = self.operand(Ty::Num, d);
                let b = self.operand(Ty::Num, d);
                format!("{a} {op} {b}")
            }
            6..=7 => self.num_chain(d),
            8 => {
                let base = self.operand(Ty::Num, d);
                let exponent = self.pick(&["2", "0", "-1", "0.5", "3", "10", "-2"]);
                format!("{base} ** {exponent}")
            }
            9 => {
                let op = self.pick(&["<<", ">>", "&", "|", "^"]);
                let a = self.operand(Ty::Num, d);
                let b = self.rng.gen_range(0..40).to_string();
                format!("{a} {op} {b}")
            }
            10 => format!("-{}", self.operand(Ty::Num, d)),
            11 => {
                let ty = *[Ty::Str, Ty::Arr, Ty::Map, Ty::Set, Ty::Bytes]
                    .choose(&mut self.rng)
                    .expect("x");
                format!("{}.length", self.object(ty, d))
            }
            12 => format!("$abs({})", self.operand(Ty::Num, d)),
            13 => {
                let f = self.pick(&["$sum", "$max", "$min"]);
                let arr = self.num_array(d);
                format!("{f}({arr})")
            }
            14 => {
                let attr = self.pick(&["to_int", "to_flt"]);
                format!("{}.{attr}", self.object(Ty::Str, d))
            }
            15 => {
                let attr = self.pick(&["ceiling", "floor", "to_int", "to_flt"]);
                format!("{}.{attr}", self.object(Ty::Num, d))
            }
            16 => {
                let attr = self.pick(&[
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                    "weekday",
                    "to_epoch",
                    "microsecond",
                    "millisecond",
                ]);
                format!("{}.{attr}", self.object(Ty::Dt, d))
            }
            17 => {
                let attr = self.pick(&["days", "seconds", "total_seconds", "microseconds"]);
                format!("{}.{attr}", self.object(Ty::Td, d))
            }
            18 => format!(
                "$parse_float({})",
                self.pick(&["'1.5'", "'abc'", "'1e3'", "'-0.25'", "' 7 '", "'nan'"])
            ),
            19 => {
                let arr = self.object(Ty::Arr, d);
                let index = self.pick(&["0", "1", "-1", "0", "1", "-1", "5", "0.5", "'a'"]);
                format!("{arr}[{index}]")
            }
            20 => {
                let arr = self.num_array(d);
                format!("{arr}[{}]", self.rng.gen_range(-3..4))
            }
            21 => format!("LEDGER.items[{}].qty", self.rng.gen_range(-2..2)),
            22 => format!("{}.to_epoch", self.object(Ty::Dt, d)),
            _ => {
                let op = self.pick(&["+", "-", "*"]);
                format!("{} {op} {}", self.pick(&NUM_PATHS), self.num_literal())
            }
        }
    }

    pub(crate) fn num_array(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..5) {
            0 => "LEDGER.counts".into(),
            1 => "[x.qty for x in LEDGER.items]".into(),
            2 => format!("$range({})", self.rng.gen_range(0..8)),
            3 => {
                let members: Vec<String> = (0..self.rng.gen_range(0..5))
                    .map(|_| self.expr(Ty::Num, d.min(1)))
                    .collect();
                format!("[{}]", members.join(", "))
            }
            _ => self.operand(Ty::Arr, d),
        }
    }

    pub(crate) fn str_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..14) {
            0..=2 => {
                let a = self.operand(Ty::Str, d);
                let b = self.operand(Ty::Str, d);
                format!("{a} + {b}")
            }
            3 => {
                let attr = self.pick(&["as_lower", "as_upper", "to_str"]);
                format!("{}.{attr}", self.object(Ty::Str, d))
            }
            4 => format!("{}.to_str", self.object(Ty::Num, d)),
            5 => {
                let s = self.object(Ty::Str, d);
                let index = self.pick(&["0", "-1", "1", "0", "-1", "1", "10", "0.0", "1.5"]);
                format!("{s}[{index}]")
            }
            6 => {
                let s = self.object(Ty::Str, d);
                let slice = self.slice();
                format!("{s}[{slice}]")
            }
            7 => {
                let s = self.object(Ty::Str, d);
                let args = self.pick(&["", ", ','", ", ',', 1", ", null", ", 'a', -1"]);
                format!("$split({s}{args})[{}]", self.rng.gen_range(0..3))
            }
            8 => {
                let b = self.object(Ty::Bytes, d);
                let encoding = self.pick(&["'utf-8'", "'ascii'", "'latin-1'", "'nope'"]);
                format!("{b}.decode({encoding})")
            }
            9 => {
                let map = self.object(Ty::Map, d);
                let key = self.pick(&["'kind'", "'name'", "'missing'", "entry_name", "1"]);
                format!("{map}[{key}]")
            }
            10 => format!("{}.zone_name", self.object(Ty::Dt, d)),
            11 => format!("{}.kind", self.object(Ty::Map, d)),
            _ => {
                let s = self.object(Ty::Arr, d);
                format!("{s}[{}]", self.rng.gen_range(0..3))
            }
        }
    }

    pub(crate) fn arr_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..14) {
            0..=2 => self.array_literal(d),
            3..=4 => {
                let var = self.pick(&["x", "item", "e"]);
                let source = self.operand(Ty::Arr, d);
                let value = match self.rng.gen_range(0..4) {
                    0 => var.to_string(),
                    1 => format!("{var}.qty"),
                    2 => format!("{var} * 2"),
                    _ => format!("{var}&.name"),
                };
                if self.chance(0.6) {
                    let cond = self.comprehension_condition(var);
                    format!("[{value} for {var} in {source} if {cond}]")
                } else {
                    format!("[{value} for {var} in {source}]")
                }
            }
            5 => {
                let a = self.object(Ty::Arr, d);
                format!("{a}[{}]", self.slice())
            }
            6 => {
                // not sets: their iteration order is the reference's hash order
                let ty = *[Ty::Str, Ty::Bytes].choose(&mut self.rng).expect("x");
                format!("{}.to_ary", self.object(ty, d))
            }
            7 => {
                let attr = self.pick(&["keys", "values"]);
                format!("{}.{attr}", self.object(Ty::Map, d))
            }
            8 => {
                let args = match self.rng.gen_range(0..4) {
                    0 => format!("{}", self.rng.gen_range(0..6)),
                    1 => format!(
                        "{}, {}",
                        self.rng.gen_range(-2..3),
                        self.rng.gen_range(0..6)
                    ),
                    2 => format!(
                        "{}, {}, {}",
                        self.rng.gen_range(0..10),
                        self.rng.gen_range(-5..5),
                        self.pick(&["-2", "2", "1", "0", "0.5"])
                    ),
                    _ => self.pick(&["1.5", "'a'", "null", "-3"]).to_string(),
                };
                format!("$range({args})")
            }
            9 => {
                let s = self.operand(Ty::Str, d);
                format!("$split({s})")
            }
            10 => {
                let f = self.pick(&["$map", "$filter"]);
                let func = self.pick(&["$abs", "$abs", "'x'.starts_with"]);
                let arr = self.num_array(d);
                format!("{f}({func}, {arr})")
            }
            11 => "$re_groups".to_string(),
            _ => {
                let a = self.operand(Ty::Arr, d);
                let b = self.operand(Ty::Arr, d);
                format!("{a} + {b}")
            }
        }
    }
}

/// A token-like text that needs no parentheses as an operand.
fn is_atomic(text: &str) -> bool {
    !text.contains(' ') || (text.starts_with('(') && balanced_group(text))
}

/// Whether `.attr`, `[i]` or a call may follow `text` directly in the 4.x grammar: symbols,
/// paths, strings, containers and parenthesised groups (not bare numbers or booleans).
fn is_postfixable(text: &str) -> bool {
    if text.contains(' ') && !(text.starts_with('(') && balanced_group(text)) {
        return false;
    }
    let first = text.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || first == '-' || first == '.' {
        return false;
    }
    !matches!(text, "true" | "false" | "inf" | "nan")
}

fn balanced_group(text: &str) -> bool {
    // true when the leading `(` closes at the very end (a single group)
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i + 1 != text.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}
