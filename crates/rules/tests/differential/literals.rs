//! Literals of every kind and the less common value types (mappings, sets, datetimes,
//! timedeltas, bytes), plus the decimal and cross-type probes, for [`Generator`].

use rand::seq::SliceRandom;
use rand::Rng;

use crate::generator::{Generator, Ty, ALL_TYPES};
use crate::pools::*;

impl Generator {
    pub(crate) fn num_literal(&mut self) -> String {
        match self.rng.gen_range(0..20) {
            0..=6 => self.rng.gen_range(0..12).to_string(),
            7 => format!(
                "{}.{}",
                self.rng.gen_range(0..100),
                self.rng.gen_range(0..1000)
            ),
            8 => self
                .pick(&["0.1", "0.2", "0.3", "2.5", "1.25", "3.14159"])
                .into(),
            9 => self
                .pick(&["1707997392.123", "1700000000", "1735689600", "1900000000"])
                .into(),
            10 => self
                .pick(&["1e3", "2.5E-2", "1e-7", "6.02e23", "1E+2", "123e-2"])
                .into(),
            11 => self.pick(&["0x1F", "0xff", "0o17", "0b101", "0x0"]).into(),
            12 => self.pick(&[".5", "5.", "007", "0.000"]).into(),
            13 => self
                .pick(&["inf", "nan", "inf", "-inf", "nan", "inf", "1e400"])
                .into(),
            14 => format!("-{}", self.rng.gen_range(1..20)),
            15 => self.pick(&["$pi", "$e"]).into(),
            _ => self.rng.gen_range(0..1000).to_string(),
        }
    }

    pub(crate) fn str_literal(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0 => {
                let escaped = self.pick(&[
                    "'a\\nb'",
                    "\"tab\\there\"",
                    "'quote\\'s'",
                    "\"dq\\\"\"",
                    "'back\\\\slash'",
                    "'\\x41'",
                    "'\\u00e9t\\u00e9'",
                    "'\\d'",
                ]);
                escaped.into()
            }
            1 => format!("s'{}'", self.pick(&KINDS)),
            2 => format!("'{}'", self.pick(&UUIDS)),
            3 => format!("\"{}\"", self.pick(&ENTRY_NAMES)),
            4 => format!("'{}'", self.pick(&COMPANIES)),
            _ => {
                let word = self.pick(&WORDS);
                if self.chance(0.5) {
                    format!("'{word}'")
                } else {
                    format!("\"{word}\"")
                }
            }
        }
    }

    pub(crate) fn array_literal(&mut self, depth: u32) -> String {
        let len = self.rng.gen_range(0..5);
        let member_ty = if self.chance(0.7) {
            *[Ty::Num, Ty::Str, Ty::Num, Ty::Bool, Ty::Null]
                .choose(&mut self.rng)
                .expect("not empty")
        } else {
            *ALL_TYPES.choose(&mut self.rng).expect("not empty")
        };
        let mut members = Vec::new();
        for _ in 0..len {
            let ty = if self.chance(0.15) {
                Ty::Null
            } else {
                member_ty
            };
            members.push(self.expr(ty, depth.min(1)));
        }
        let trailing = if len > 0 && self.chance(0.1) { "," } else { "" };
        format!("[{}{trailing}]", members.join(", "))
    }

    pub(crate) fn map_literal(&mut self, depth: u32) -> String {
        let len = self.rng.gen_range(0..4);
        if len == 0 {
            return "{}".into();
        }
        let mut members = Vec::new();
        for _ in 0..len {
            let key = if self.chance(0.8) {
                format!(
                    "'{}'",
                    self.pick(&["kind", "a", "b", "length", "keys", "name"])
                )
            } else {
                {
                    let ty = *[Ty::Num, Ty::Null, Ty::Bool]
                        .choose(&mut self.rng)
                        .expect("x");
                    self.leaf(ty)
                }
            };
            let ty = *[Ty::Num, Ty::Str, Ty::Arr, Ty::Bool]
                .choose(&mut self.rng)
                .expect("not empty");
            let value = self.expr(ty, depth.min(1));
            members.push(format!("{key}: {value}"));
        }
        format!("{{{}}}", members.join(", "))
    }

    pub(crate) fn set_literal(&mut self, depth: u32) -> String {
        let len = self.rng.gen_range(1..5);
        let ty = *[Ty::Num, Ty::Str, Ty::Num]
            .choose(&mut self.rng)
            .expect("x");
        let mut members = Vec::new();
        for _ in 0..len {
            let member = if self.chance(0.1) {
                "null".to_string()
            } else {
                self.expr(ty, depth.min(1))
            };
            members.push(member);
        }
        format!("{{{}}}", members.join(", "))
    }

    /// `==`, `!=` and membership between values of different types (`1 == true`, `1 in [true]`,
    /// `'1' == 1`, `null in [false]`).
    pub(crate) fn cross_type_equality(&mut self) -> String {
        let scalars = [
            "1",
            "0",
            "1.0",
            "true",
            "false",
            "null",
            "'1'",
            "''",
            "b'1'",
            "[]",
            "{}",
            "[1]",
            "{1}",
            "{'1': 1}",
            "nan",
            "inf",
            "t'PT0S'",
            "d'1970-01-01'",
            "0.000",
        ];
        let a = self.pick(&scalars);
        let b = self.pick(&scalars);
        match self.rng.gen_range(0..4) {
            0 => format!("{a} == {b}"),
            1 => format!("{a} != {b}"),
            2 => format!("{a} in [{b}, {}]", self.pick(&scalars)),
            _ => format!(
                "{a} in {{{b}, {}}}",
                self.pick(&["1", "'a'", "null", "true", "2.5"])
            ),
        }
    }

    /// Decimal semantics: these hold in exact decimal arithmetic and fail in binary floats,
    /// or the other way round (`1 / 3 * 3 == 1` is false with 28 digits).
    pub(crate) fn decimal_identity(&mut self) -> String {
        match self.rng.gen_range(0..4) {
            0 => {
                let a = self.rng.gen_range(1..20);
                let b = self.rng.gen_range(1..10);
                format!("{a} / {b} * {b} == {a}")
            }
            1 => {
                let x = self.pick(&["0.1", "0.2", "1.1", "2.675", "1707997392.123"]);
                let y = self.pick(&["0.2", "0.7", "2.2", "0.005", "0.001"]);
                let sum = self.pick(&["0.3", "0.9", "3.3", "2.68", "1707997392.124"]);
                format!("{x} + {y} == {sum}")
            }
            2 => {
                let path = self.pick(&["now", "value_changed_ts", "TWIN.ratio", "USER.age"]);
                let factor = self.pick(&["3", "0.1", "7", "1000"]);
                format!("{path} * {factor} / {factor} == {path}")
            }
            _ => {
                let a = self.pick(&["10", "7.5", "-7", "2.5", "1e3"]);
                let b = self.pick(&["3", "0.5", "-2", "4"]);
                let op = self.pick(&["%", "//"]);
                format!("{a} {op} {b} == {}", self.num_literal())
            }
        }
    }

    pub(crate) fn slice(&mut self) -> String {
        let bound = |g: &mut Self| g.pick(&["", "0", "1", "-1", "2", "-3", "10"]).to_string();
        let start = bound(self);
        let end = bound(self);
        format!("{start}:{end}")
    }

    pub(crate) fn map_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..4) {
            0 | 1 => self.map_literal(d),
            2 => format!("LEDGER.items[{}]", self.rng.gen_range(0..3)),
            _ => format!("{}.meta", self.pick(&MAP_PATHS)),
        }
    }

    pub(crate) fn set_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..4) {
            0 => self.set_literal(d),
            1 => {
                let ty = *[Ty::Arr, Ty::Str, Ty::Bytes]
                    .choose(&mut self.rng)
                    .expect("x");
                format!("{}.to_set", self.object(ty, d))
            }
            _ => {
                let op = self.pick(&["&", "|", "^", "-"]);
                let a = self.operand(Ty::Set, d);
                let b = self.operand(Ty::Set, d);
                format!("{a} {op} {b}")
            }
        }
    }

    pub(crate) fn dt_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..5) {
            0 => {
                let op = self.pick(&["+", "-"]);
                let a = self.operand(Ty::Dt, d);
                let b = self.operand(Ty::Td, d);
                format!("{a} {op} {b}")
            }
            1 => format!("{} + {}", self.operand(Ty::Td, d), self.operand(Ty::Dt, d)),
            2 => format!(
                "$parse_datetime({})",
                self.pick(&[
                    "'2024-01-31'",
                    "'2024-01-31T10:00:00+01:00'",
                    "'bad'",
                    "'2024-02-30'",
                    "'20240131T101112'"
                ])
            ),
            3 => format!("{}.date", self.object(Ty::Dt, d)),
            _ => self.leaf(Ty::Dt),
        }
    }

    pub(crate) fn td_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..5) {
            0 => format!("{} - {}", self.operand(Ty::Dt, d), self.operand(Ty::Dt, d)),
            1 => {
                let op = self.pick(&["+", "-"]);
                format!(
                    "{} {op} {}",
                    self.operand(Ty::Td, d),
                    self.operand(Ty::Td, d)
                )
            }
            2 => format!(
                "$parse_timedelta({})",
                self.pick(&["'P1D'", "'PT2H30M'", "'P1Y'", "'bad'", "'PT0.5S'"])
            ),
            3 => format!("-{}", self.operand(Ty::Td, d)),
            _ => self.leaf(Ty::Td),
        }
    }

    pub(crate) fn bytes_expr(&mut self, d: u32) -> String {
        match self.rng.gen_range(0..4) {
            0 => format!(
                "{} + {}",
                self.operand(Ty::Bytes, d),
                self.operand(Ty::Bytes, d)
            ),
            1 => {
                let s = self.object(Ty::Str, d);
                let encoding = self.pick(&["'utf-8'", "'ascii'", "'latin-1'", "'nope'"]);
                format!("{s}.encode({encoding})")
            }
            2 => {
                let b = self.object(Ty::Bytes, d);
                format!("{b}[{}]", self.slice())
            }
            _ => self.leaf(Ty::Bytes),
        }
    }
}
