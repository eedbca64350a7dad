//! `**` for numbers: exact integer powers, decimal `exp`/`ln` for fractional ones with
//! exact roots recognised, and the float fallback beyond the decimal range.

use std::cmp::Ordering;

use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::{Decimal, MathematicalOps};

use crate::number::{from_scaled, ArithError, ArithResult, Number};

/// The largest exponent accepted by `**` for an exact integer power; anything larger
/// overflows the representation long before, so this only bounds the work done.
const MAX_INTEGER_EXPONENT: i64 = 512;

impl Number {
    /// Power (`**`). Integer exponents are exact (by repeated squaring, bounded);
    /// fractional exponents go through `f64` and are therefore approximate.
    pub fn pow(&self, other: &Number) -> ArithResult {
        if let (Number::Finite(base), Some(exponent)) = (self, other.to_i64()) {
            return integer_power(*base, exponent);
        }
        if self.is_nan() || other.is_nan() {
            return Ok(Number::NaN);
        }
        if let Number::Finite(base) = self {
            if base.is_sign_negative() && !base.is_zero() && !other.is_integer() {
                return Err(ArithError::Invalid);
            }
        }
        if !self.is_truthy() && other.try_cmp(&Number::ZERO) == Ok(Ordering::Less) {
            return Ok(Number::PosInf);
        }
        if let (Number::Finite(base), Number::Finite(exponent)) = (self, other) {
            if base.is_zero() {
                return Ok(Number::ZERO);
            }
            // Decimal exp/ln gives ~27 correct digits, close to the reference's 28; keep it to
            // moderate operands where it is known to be well behaved.
            let moderate = |d: &Decimal, limit: Decimal| d.abs() <= limit;
            let base_ok = base.is_sign_positive()
                && *base >= Decimal::new(1, 10)
                && moderate(base, Decimal::from(10_000_000_000i64));
            if base_ok && moderate(exponent, Decimal::from(100)) {
                if let Some(result) = base.checked_powd(*exponent) {
                    return Ok(exact_root(*base, *exponent, result));
                }
            }
        }
        Number::from_approx(self.to_f64().powf(other.to_f64()))
    }
}

/// Python's decimal returns exact results for exact powers (`100 ** 0.5` is `10`); `exp`/`ln`
/// only come close. When `exponent * k` is an integer `n` for a small `k`, check whether the
/// rounded candidate `c` satisfies `c ** k == base ** n` exactly.
fn exact_root(base: Decimal, exponent: Decimal, approximate: Decimal) -> Number {
    let candidate = approximate.round_dp(12).normalize();
    for k in 1..=8i64 {
        let Some(scaled) = exponent.checked_mul(Decimal::from(k)) else {
            break;
        };
        if !scaled.fract().is_zero() {
            continue;
        }
        let Some(n) = scaled.to_i64() else { break };
        if n.abs() > 64 {
            break;
        }
        let lhs = integer_power(candidate, k);
        let rhs = integer_power(base, n);
        if let (Ok(lhs), Ok(rhs)) = (lhs, rhs) {
            if lhs.numeric_eq(&rhs) {
                return Number::Finite(candidate);
            }
        }
        break;
    }
    Number::exact(approximate)
}

fn integer_power(base: Decimal, exponent: i64) -> ArithResult {
    if base.is_zero() {
        // Python's decimal: 0 ** 0 is undefined, 0 ** -n is infinite.
        return match exponent.cmp(&0) {
            Ordering::Equal => Err(ArithError::Invalid),
            Ordering::Less => Ok(Number::PosInf),
            Ordering::Greater => Ok(Number::ZERO),
        };
    }
    if exponent == 0 {
        return Ok(Number::Finite(Decimal::ONE));
    }
    let magnitude = exponent.unsigned_abs();
    let approximate = || {
        let exponent =
            i32::try_from(exponent).unwrap_or(if exponent < 0 { i32::MIN } else { i32::MAX });
        Number::from_approx(Number::Finite(base).to_f64().powi(exponent))
    };
    if magnitude > MAX_INTEGER_EXPONENT as u64 {
        // Exact repeated squaring would overflow long before; the float result (or its
        // overflow error) is the answer.
        return approximate();
    }
    let mut result = Decimal::ONE;
    let mut factor = base;
    let mut remaining = magnitude;
    while remaining > 0 {
        if remaining & 1 == 1 {
            match result.checked_mul(factor) {
                Some(product) => result = product,
                None => return approximate(),
            }
        }
        remaining >>= 1;
        if remaining > 0 {
            match factor.checked_mul(factor) {
                Some(square) => factor = square,
                None => return approximate(),
            }
        }
    }
    if exponent < 0 {
        return match Decimal::ONE.checked_div(result) {
            Some(inverse) if !inverse.is_zero() && !Number::lost_precision(&inverse) => {
                Ok(Number::exact(inverse))
            }
            _ => approximate(),
        };
    }
    if Number::lost_precision(&result) || (result.is_zero() && !base.is_zero()) {
        // Exact digits with an exponent beyond the decimal's reach: round once, correctly.
        let exact = u32::try_from(magnitude).ok().and_then(|n| {
            base.mantissa()
                .checked_pow(n)
                .map(|m| (m, u64::from(base.scale()) * u64::from(n)))
        });
        return match exact {
            Some((mantissa, scale)) => from_scaled(mantissa, scale),
            None => approximate(),
        };
    }
    Ok(Number::exact(result))
}
