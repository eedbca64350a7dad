//! Numbers of the rule language.
//!
//! The reference keeps every number as a Python `Decimal` (28 significant digits), so
//! `0.1 + 0.2 == 0.3` holds and a context number `1707997392.123` compares exactly with the
//! literal `1707997392.123`. We keep finite numbers as [`rust_decimal::Decimal`] (96-bit
//! mantissa, up to 28 fractional digits) and the three specials as their own variants.
//! Every exact result is rounded to 28 significant digits (half-even), like Python's default
//! decimal context. Results outside the decimal range (magnitude above ~7.9e28, or non-zero
//! below 1e-28) continue as binary floats ([`Number::Approx`]), so `2 ** 100` works but with
//! 16-17 significant digits instead of 28; beyond the float range (~1.8e308) they are errors.
//! Both are documented divergences.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::{Decimal, RoundingStrategy};

/// A number value: an exact decimal or one of the IEEE specials.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// A finite decimal number.
    Finite(Decimal),
    /// A finite number outside the exact decimal range (magnitude above ~7.9e28 or below
    /// 1e-28), kept as a binary float: 16-17 significant digits instead of the reference's 28.
    Approx(f64),
    /// Positive infinity (`inf`).
    PosInf,
    /// Negative infinity (`-inf`).
    NegInf,
    /// Not a number (`nan`).
    NaN,
}

/// Why an arithmetic operation failed; rendered as the reference's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithError {
    /// Division or modulo by zero.
    DivisionByZero,
    /// An invalid operation such as `inf - inf` or comparing `nan` by order.
    Invalid,
    /// The result does not fit the decimal representation.
    OutOfRange,
}

impl fmt::Display for ArithError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArithError::DivisionByZero => f.write_str("arithmetic error: division by zero"),
            ArithError::Invalid => f.write_str("arithmetic error"),
            ArithError::OutOfRange => f.write_str("arithmetic error: number out of range"),
        }
    }
}

/// The result of an arithmetic operation.
pub(crate) type ArithResult = Result<Number, ArithError>;

impl Number {
    /// The number zero.
    pub const ZERO: Number = Number::Finite(Decimal::ZERO);

    /// Wraps an integer.
    pub fn from_i64(value: i64) -> Number {
        Number::Finite(Decimal::from(value))
    }

    /// Converts a binary float the way the reference does (`Decimal(repr(value))`): the
    /// shortest decimal text that round-trips, so `0.1` stays `0.1`.
    pub fn from_f64(value: f64) -> Option<Number> {
        if value.is_nan() {
            return Some(Number::NaN);
        }
        if value.is_infinite() {
            return Some(if value > 0.0 {
                Number::PosInf
            } else {
                Number::NegInf
            });
        }
        // Python's repr writes integral floats below 1e16 as `39.0`; the decimal keeps that
        // one fractional digit (visible through `to_str`).
        let mut text = format!("{value}");
        if value.abs() < 1e16 && !text.contains(['.', 'e', 'E']) {
            text.push_str(".0");
        }
        match decimal_from_text(&text) {
            Some(decimal) => Some(Number::Finite(decimal)),
            None => Number::from_approx(value).ok(),
        }
    }

    /// Normalizes a float result: exact decimal when its shortest text fits a decimal,
    /// [`Number::Approx`] otherwise, an error when it overflowed or is undefined.
    pub fn from_approx(value: f64) -> ArithResult {
        if value.is_nan() {
            return Err(ArithError::Invalid);
        }
        if value.is_infinite() {
            return Err(ArithError::OutOfRange);
        }
        if value == 0.0 {
            return Ok(Number::ZERO);
        }
        if value.abs() < 7.9e28 {
            if let Some(decimal) = decimal_from_text(&format!("{value}")) {
                return Ok(Number::Finite(decimal));
            }
        }
        Ok(Number::Approx(value))
    }

    /// Wraps an exact result, rounding it to 28 significant digits like Python's decimal
    /// context.
    pub(crate) fn exact(value: Decimal) -> Number {
        // Decimal's own significant-figure rounding can yield an out-of-range scale, so round
        // by hand.
        let digits = value
            .mantissa()
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |d| d + 1);
        let excess = digits.saturating_sub(28);
        if excess == 0 {
            return Number::Finite(value);
        }
        if value.scale() >= excess {
            let rounded = value.round_dp_with_strategy(
                value.scale() - excess,
                RoundingStrategy::MidpointNearestEven,
            );
            return Number::Finite(rounded);
        }
        // An integer with more than 28 digits: round away the low digits (`1e28 + 1` is
        // `1e28`, as in Python).
        let drop = excess - value.scale();
        let divisor = 10i128.pow(drop);
        let mantissa = value.mantissa();
        let (quotient, remainder) = (mantissa / divisor, mantissa % divisor);
        let half = divisor / 2;
        let round_up = remainder.abs() > half || (remainder.abs() == half && quotient % 2 != 0);
        let quotient = if round_up {
            quotient + mantissa.signum()
        } else {
            quotient
        };
        quotient
            .checked_mul(divisor)
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 0).ok())
            .map_or(Number::Finite(value), Number::Finite)
    }

    /// Whether an exact result lost significant digits to the 28-decimal-places limit (a tiny
    /// result such as `0.025 ** 10`), in which case the float path is more faithful.
    pub(crate) fn lost_precision(value: &Decimal) -> bool {
        let digits = value
            .mantissa()
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |d| d + 1);
        value.scale() == 28 && !value.is_zero() && digits < 16
    }

    /// Redoes an operation in binary floating point when the exact one overflowed.
    fn fallback(a: &Number, b: &Number, op: fn(f64, f64) -> f64) -> ArithResult {
        Number::from_approx(op(a.to_f64(), b.to_f64()))
    }

    /// Parses decimal text such as `12`, `1.5`, `1e3`, `.5`, `1.` (no sign handling
    /// beyond a leading `-`).
    pub fn parse_decimal_text(text: &str) -> Option<Number> {
        let text = text.trim();
        let normalized = if let Some(stripped) = text.strip_suffix('.') {
            stripped.to_string()
        } else if text.starts_with('.') {
            format!("0{text}")
        } else {
            text.replace(".e", "e").replace(".E", "E")
        };
        let exact = if normalized.contains(['e', 'E']) {
            Decimal::from_scientific(&normalized).ok()
        } else {
            normalized.parse::<Decimal>().ok()
        };
        match exact {
            Some(decimal) => Some(Number::exact(decimal)),
            None => {
                let approx: f64 = normalized.parse().ok()?;
                Number::from_approx(approx).ok()
            }
        }
    }

    /// Whether this is a finite number without a fractional part.
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Finite(d) => d.fract().is_zero(),
            Number::Approx(f) => f.fract() == 0.0,
            _ => false,
        }
    }

    /// Whether this is an integer `>= 0`.
    pub fn is_natural(&self) -> bool {
        match self {
            // `-0` counts as natural, as in Python (`Decimal('-0') < 0` is false).
            Number::Finite(d) => d.fract().is_zero() && (d.is_zero() || !d.is_sign_negative()),
            Number::Approx(f) => f.fract() == 0.0 && *f >= 0.0,
            _ => false,
        }
    }

    /// The integer value, if this is an integer that fits `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Number::Finite(d) if d.fract().is_zero() => d.to_i64(),
            _ => None,
        }
    }

    /// A binary float approximation (used only for output and non-integer powers).
    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Finite(d) => d.to_string().parse().unwrap_or(f64::NAN),
            Number::Approx(f) => *f,
            Number::PosInf => f64::INFINITY,
            Number::NegInf => f64::NEG_INFINITY,
            Number::NaN => f64::NAN,
        }
    }

    /// Whether the number is `nan`.
    pub fn is_nan(&self) -> bool {
        matches!(self, Number::NaN)
    }

    /// Truthiness: zero is false, everything else (including `nan`) is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Number::Finite(d) => !d.is_zero(),
            Number::Approx(f) => *f != 0.0,
            _ => true,
        }
    }

    /// Numeric equality; `nan` equals nothing.
    pub fn numeric_eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Finite(a), Number::Finite(b)) => a == b,
            (Number::PosInf, Number::PosInf) | (Number::NegInf, Number::NegInf) => true,
            (Number::Approx(_), Number::Finite(_) | Number::Approx(_))
            | (Number::Finite(_), Number::Approx(_)) => self.to_f64() == other.to_f64(),
            _ => false,
        }
    }

    /// Ordering; comparing with `nan` is an invalid operation, as in Python's decimal.
    pub fn try_cmp(&self, other: &Number) -> Result<Ordering, ArithError> {
        if let (Number::Finite(a), Number::Finite(b)) = (self, other) {
            // Same scale: compare the mantissas without rescaling.
            if a.scale() == b.scale() {
                return Ok(a.mantissa().cmp(&b.mantissa()));
            }
            return Ok(a.cmp(b));
        }
        if self.is_nan() || other.is_nan() {
            return Err(ArithError::Invalid);
        }
        self.to_f64()
            .partial_cmp(&other.to_f64())
            .ok_or(ArithError::Invalid)
    }

    /// A total order used only for sorting set members in output (nan sorts last).
    pub fn sort_cmp(&self, other: &Number) -> Ordering {
        match self.try_cmp(other) {
            Ok(order) => order,
            Err(_) => self.is_nan().cmp(&other.is_nan()),
        }
    }

    fn sign_of_infinity(&self) -> Option<i8> {
        match self {
            Number::PosInf => Some(1),
            Number::NegInf => Some(-1),
            _ => None,
        }
    }

    fn infinity(sign: i8) -> Number {
        if sign >= 0 {
            Number::PosInf
        } else {
            Number::NegInf
        }
    }

    pub(crate) fn signum(&self) -> i8 {
        match self {
            Number::Finite(d) if d.is_zero() => 0,
            Number::Finite(d) if d.is_sign_negative() => -1,
            Number::Approx(f) if *f < 0.0 => -1,
            Number::Finite(_) | Number::Approx(_) | Number::PosInf => 1,
            Number::NegInf => -1,
            Number::NaN => 0,
        }
    }

    /// Negation.
    pub fn neg(&self) -> Number {
        match self {
            // Python's decimal negates zero to positive zero.
            Number::Finite(d) if d.is_zero() => Number::Finite(d.abs()),
            Number::Finite(d) => Number::Finite(-*d),
            Number::Approx(f) => Number::Approx(-*f),
            Number::PosInf => Number::NegInf,
            Number::NegInf => Number::PosInf,
            Number::NaN => Number::NaN,
        }
    }

    /// Addition.
    pub fn add(&self, other: &Number) -> ArithResult {
        match (self, other) {
            (Number::NaN, _) | (_, Number::NaN) => Ok(Number::NaN),
            (Number::Finite(a), Number::Finite(b)) => match a.checked_add(*b) {
                Some(mut sum) => {
                    // Python keeps the finer exponent (`0.000 + 8` is `8.000`).
                    let scale = a.scale().max(b.scale());
                    if sum.scale() < scale {
                        sum.rescale(scale);
                    }
                    Ok(Number::exact(sum))
                }
                None => Number::fallback(self, other, |x, y| x + y),
            },
            (Number::Finite(_) | Number::Approx(_), Number::Finite(_) | Number::Approx(_)) => {
                Number::fallback(self, other, |x, y| x + y)
            }
            (Number::Finite(_) | Number::Approx(_), inf)
            | (inf, Number::Finite(_) | Number::Approx(_)) => Ok(*inf),
            (a, b) if a.sign_of_infinity() == b.sign_of_infinity() => Ok(*a),
            _ => Err(ArithError::Invalid),
        }
    }

    /// Subtraction.
    pub fn sub(&self, other: &Number) -> ArithResult {
        self.add(&other.neg())
    }

    /// Multiplication.
    pub fn mul(&self, other: &Number) -> ArithResult {
        match (self, other) {
            (Number::NaN, _) | (_, Number::NaN) => Ok(Number::NaN),
            (Number::Finite(a), Number::Finite(b)) => match a.checked_mul(*b) {
                Some(product) if !Number::lost_precision(&product) => Ok(Number::exact(product)),
                _ => match a.mantissa().checked_mul(b.mantissa()) {
                    Some(mantissa) => from_scaled(mantissa, u64::from(a.scale() + b.scale())),
                    None => Number::fallback(self, other, |x, y| x * y),
                },
            },
            (Number::Finite(_) | Number::Approx(_), Number::Finite(_) | Number::Approx(_)) => {
                Number::fallback(self, other, |x, y| x * y)
            }
            (a, b) => {
                let sign = a.signum() * b.signum();
                if sign == 0 {
                    Err(ArithError::Invalid)
                } else {
                    Ok(Number::infinity(sign))
                }
            }
        }
    }

    /// True division (`/`).
    pub fn div(&self, other: &Number) -> ArithResult {
        match (self, other) {
            (Number::NaN, _) | (_, Number::NaN) => Ok(Number::NaN),
            (Number::Finite(_) | Number::Approx(_), Number::Finite(_) | Number::Approx(_)) => {
                if !other.is_truthy() {
                    return Err(if self.is_truthy() {
                        ArithError::DivisionByZero
                    } else {
                        ArithError::Invalid
                    });
                }
                match (self, other) {
                    (Number::Finite(a), Number::Finite(b)) => match a.checked_div(*b) {
                        Some(quotient) if !Number::lost_precision(&quotient) => {
                            Ok(Number::exact(quotient))
                        }
                        _ => Number::fallback(self, other, |x, y| x / y),
                    },
                    _ => Number::fallback(self, other, |x, y| x / y),
                }
            }
            (Number::Finite(_) | Number::Approx(_), _) => Ok(Number::ZERO),
            (_, Number::PosInf | Number::NegInf) => Err(ArithError::Invalid),
            (inf, divisor) => {
                if !divisor.is_truthy() {
                    return Err(ArithError::DivisionByZero);
                }
                Ok(Number::infinity(inf.signum() * divisor.signum()))
            }
        }
    }

    /// Floor division (`//`); like Python's `Decimal`, it truncates toward zero.
    pub fn floor_div(&self, other: &Number) -> ArithResult {
        match (self, other) {
            (Number::NaN, _) | (_, Number::NaN) => Ok(Number::NaN),
            (Number::Finite(_) | Number::Approx(_), Number::Finite(_) | Number::Approx(_)) => {
                if !other.is_truthy() {
                    return Err(if self.is_truthy() {
                        ArithError::DivisionByZero
                    } else {
                        ArithError::Invalid
                    });
                }
                self.check_integer_quotient(other)?;
                match (self, other) {
                    (Number::Finite(a), Number::Finite(b)) => match a.checked_div(*b) {
                        Some(quotient) => Ok(Number::Finite(quotient.trunc())),
                        None => Number::fallback(self, other, |x, y| (x / y).trunc()),
                    },
                    _ => Number::fallback(self, other, |x, y| (x / y).trunc()),
                }
            }
            (Number::Finite(_) | Number::Approx(_), _) => Ok(Number::ZERO),
            (Number::PosInf | Number::NegInf, Number::Finite(_) | Number::Approx(_)) => {
                // `inf // 0` is infinite too in Python's decimal.
                let sign = if other.signum() < 0 { -1 } else { 1 };
                Ok(Number::infinity(self.signum() * sign))
            }
            _ => Err(ArithError::Invalid),
        }
    }

    /// Python's decimal refuses `//` and `%` when the integer quotient would need more than
    /// 28 digits ("division impossible").
    fn check_integer_quotient(&self, other: &Number) -> Result<(), ArithError> {
        let quotient = (self.to_f64() / other.to_f64()).trunc().abs();
        if quotient >= 1e28 {
            return Err(ArithError::Invalid);
        }
        Ok(())
    }

    /// Remainder (`%`); the sign follows the dividend, as in Python's `Decimal`.
    pub fn rem(&self, other: &Number) -> ArithResult {
        match (self, other) {
            (Number::NaN, _) | (_, Number::NaN) => Ok(Number::NaN),
            (Number::Finite(a), Number::Finite(b)) => {
                if b.is_zero() {
                    return Err(ArithError::Invalid);
                }
                self.check_integer_quotient(other)?;
                // Python keeps the finer exponent of the operands (`5 % 2.000` is `1.000`).
                let scale = a.scale().max(b.scale());
                a.checked_rem(*b)
                    .map(|mut r| {
                        r.rescale(scale);
                        Number::exact(r)
                    })
                    .ok_or(ArithError::OutOfRange)
            }
            (Number::Finite(_) | Number::Approx(_), Number::Finite(_) | Number::Approx(_)) => {
                if !other.is_truthy() {
                    return Err(ArithError::Invalid);
                }
                self.check_integer_quotient(other)?;
                Number::fallback(self, other, |x, y| x % y)
            }
            (Number::Finite(_) | Number::Approx(_), _) => Ok(*self),
            _ => Err(ArithError::Invalid),
        }
    }

    /// Rounds toward negative infinity (specials are returned unchanged).
    pub fn floor(&self) -> Number {
        match self {
            Number::Finite(d) => Number::Finite(d.floor()),
            Number::Approx(f) => Number::Approx(f.floor()),
            other => *other,
        }
    }

    /// Rounds toward positive infinity (specials are returned unchanged).
    pub fn ceiling(&self) -> Number {
        match self {
            Number::Finite(d) => Number::Finite(d.ceil()),
            Number::Approx(f) => Number::Approx(f.ceil()),
            other => *other,
        }
    }

    /// Absolute value.
    pub fn abs(&self) -> Number {
        match self {
            Number::Finite(d) => Number::Finite(d.abs()),
            Number::Approx(f) => Number::Approx(f.abs()),
            Number::NegInf => Number::PosInf,
            other => *other,
        }
    }
}

/// `mantissa × 10^-scale`, correctly rounded to the nearest float when it does not fit a
/// decimal exactly.
pub(crate) fn from_scaled(mantissa: i128, scale: u64) -> ArithResult {
    let value: f64 = format!("{mantissa}e-{scale}")
        .parse()
        .map_err(|_| ArithError::OutOfRange)?;
    Number::from_approx(value)
}

/// Parses plain decimal text only when it fits exactly (at most 28 fractional digits);
/// `Decimal`'s parser would silently round longer fractions.
fn decimal_from_text(text: &str) -> Option<Decimal> {
    let fraction = text.split_once('.').map_or(0, |(_, f)| f.len());
    if fraction > 28 {
        return None;
    }
    text.parse::<Decimal>().ok()
}

impl PartialEq for Number {
    /// Structural equality (used for syntax trees): `nan` equals `nan` here, unlike
    /// [`Number::numeric_eq`].
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Finite(a), Number::Finite(b)) => a == b,
            (Number::Approx(a), Number::Approx(b)) => a == b,
            (Number::PosInf, Number::PosInf)
            | (Number::NegInf, Number::NegInf)
            | (Number::NaN, Number::NaN) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Number {
    /// Prints the way the reference's `to_str` does for common values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Finite(d) => write!(f, "{d}"),
            Number::Approx(x) => {
                let text = format!("{x:e}").replace('e', "E");
                match text.split_once('E') {
                    Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                        write!(f, "{mantissa}E+{exponent}")
                    }
                    _ => f.write_str(&text),
                }
            }
            Number::PosInf => f.write_str("inf"),
            Number::NegInf => f.write_str("-inf"),
            Number::NaN => f.write_str("nan"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse_decimal_text(text).unwrap()
    }

    #[test]
    fn decimal_addition_is_exact() {
        assert!(n("0.1").add(&n("0.2")).unwrap().numeric_eq(&n("0.3")));
    }

    #[test]
    fn floats_convert_through_shortest_repr() {
        assert!(Number::from_f64(1707997392.123)
            .unwrap()
            .numeric_eq(&n("1707997392.123")));
    }

    #[test]
    fn floor_division_truncates_toward_zero_like_decimal() {
        assert_eq!(n("-7").floor_div(&n("2")).unwrap().to_i64(), Some(-3));
        assert_eq!(n("-7").rem(&n("2")).unwrap().to_i64(), Some(-1));
    }

    #[test]
    fn division_by_zero_is_an_error() {
        assert_eq!(n("1").div(&n("0")).unwrap_err(), ArithError::DivisionByZero);
    }

    #[test]
    fn infinities_follow_decimal_rules() {
        assert!(matches!(Number::PosInf.add(&n("1")), Ok(Number::PosInf)));
        assert_eq!(
            Number::PosInf.add(&Number::NegInf).unwrap_err(),
            ArithError::Invalid
        );
        assert_eq!(
            Number::PosInf.mul(&n("0")).unwrap_err(),
            ArithError::Invalid
        );
        assert!(Number::NaN.try_cmp(&n("1")).is_err());
    }

    #[test]
    fn huge_powers_fail_instead_of_allocating() {
        assert_eq!(
            n("2").pow(&n("1000000")).unwrap_err(),
            ArithError::OutOfRange
        );
        assert_eq!(n("2").pow(&n("10")).unwrap().to_i64(), Some(1024));
        assert!(n("1").pow(&n("1e20")).unwrap().numeric_eq(&n("1")));
    }

    #[test]
    fn results_beyond_the_decimal_range_continue_as_floats() {
        let big = n("2").pow(&n("100")).unwrap();
        assert!(matches!(big, Number::Approx(_)));
        assert_eq!(big.to_f64(), 2f64.powi(100));
        assert_eq!(big.to_string(), "1.2676506002282294E+30");
        let back = big.div(&n("2").pow(&n("90")).unwrap()).unwrap();
        assert_eq!(back.to_i64(), Some(1024));
    }

    #[test]
    fn results_round_to_28_significant_digits() {
        let third = n("10").div(&n("3")).unwrap();
        assert_eq!(third.to_string(), "3.333333333333333333333333333");
    }

    #[test]
    fn scientific_literals_parse() {
        assert_eq!(n("1e3").to_i64(), Some(1000));
        assert!(n(".5").numeric_eq(&n("0.5")));
        assert_eq!(n("1.").to_i64(), Some(1));
    }
}
