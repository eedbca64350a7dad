//! Prints an expression back as rule text that parses to the same tree.
//!
//! Operators are fully parenthesised so precedence never has to be reconstructed.

use std::fmt::{self, Write};

use crate::ast::{Expr, ExprKind, UnaryOp};
use crate::number::Number;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

fn is_object(expr: &Expr) -> bool {
    !matches!(
        expr.kind,
        ExprKind::Number(_)
            | ExprKind::Bool(_)
            | ExprKind::Unary { .. }
            | ExprKind::Binary { .. }
            | ExprKind::Ternary { .. }
    )
}

fn write_object(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    if is_object(expr) {
        write_expr(f, expr)
    } else {
        f.write_char('(')?;
        write_expr(f, expr)?;
        f.write_char(')')
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write_expr(f, item)?;
    }
    Ok(())
}

fn write_expr(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    match &expr.kind {
        ExprKind::Null => f.write_str("null"),
        ExprKind::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
        ExprKind::Number(number) => match number {
            Number::Finite(d) if d.is_sign_negative() && !d.is_zero() => {
                write!(f, "(-{})", d.abs())
            }
            Number::NegInf => f.write_str("(-inf)"),
            Number::Approx(x) if *x < 0.0 => write!(f, "(-{:e})", -x),
            Number::Approx(x) => write!(f, "{x:e}"),
            other => write!(f, "{other}"),
        },
        ExprKind::BadNumber(text) => f.write_str(text),
        ExprKind::String(text) => write_string(f, text),
        ExprKind::Bytes(bytes) => {
            f.write_str("b'")?;
            for byte in bytes {
                match byte {
                    b'\\' => f.write_str("\\\\")?,
                    b'\'' => f.write_str("\\'")?,
                    0x20..=0x7e => f.write_char(char::from(*byte))?,
                    _ => write!(f, "\\x{byte:02x}")?,
                }
            }
            f.write_char('\'')
        }
        ExprKind::Datetime(text) => write!(f, "d'{text}'"),
        ExprKind::Timedelta(text) => write!(f, "t'{text}'"),
        ExprKind::Array(items) => {
            f.write_char('[')?;
            write_list(f, items)?;
            f.write_char(']')
        }
        ExprKind::Set(items) => {
            f.write_char('{')?;
            write_list(f, items)?;
            if items.is_empty() {
                // An empty set has no literal form; this keeps the output parseable.
                f.write_str("null")?;
            }
            f.write_char('}')
        }
        ExprKind::Mapping(entries) => {
            f.write_char('{')?;
            for (index, (key, value)) in entries.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, key)?;
                f.write_str(": ")?;
                write_expr(f, value)?;
            }
            f.write_char('}')
        }
        ExprKind::Symbol { name, builtin } => {
            if *builtin {
                f.write_char('$')?;
            }
            f.write_str(name)
        }
        ExprKind::Attr { object, name, safe } => {
            write_object(f, object)?;
            f.write_str(if *safe { "&." } else { "." })?;
            f.write_str(name)
        }
        ExprKind::Item { object, item, safe } => {
            write_object(f, object)?;
            f.write_str(if *safe { "&[" } else { "[" })?;
            write_expr(f, item)?;
            f.write_char(']')
        }
        ExprKind::Slice {
            object,
            start,
            stop,
            safe,
        } => {
            write_object(f, object)?;
            f.write_str(if *safe { "&[" } else { "[" })?;
            if let Some(start) = start {
                write_expr(f, start)?;
            }
            f.write_char(':')?;
            if let Some(stop) = stop {
                write_expr(f, stop)?;
            }
            f.write_char(']')
        }
        ExprKind::Call { function, args } => {
            write_object(f, function)?;
            f.write_char('(')?;
            write_list(f, args)?;
            f.write_char(')')
        }
        ExprKind::Unary { op, operand } => {
            f.write_str(match op {
                UnaryOp::Neg => "(-",
                UnaryOp::Not => "(not ",
            })?;
            write_expr(f, operand)?;
            f.write_char(')')
        }
        ExprKind::Binary { op, left, right } => {
            f.write_char('(')?;
            write_expr(f, left)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, right)?;
            f.write_char(')')
        }
        ExprKind::Ternary {
            condition,
            when_true,
            when_false,
        } => {
            f.write_char('(')?;
            write_expr(f, condition)?;
            f.write_str(" ? ")?;
            write_expr(f, when_true)?;
            f.write_str(" : ")?;
            write_expr(f, when_false)?;
            f.write_char(')')
        }
        ExprKind::Comprehension {
            result,
            variable,
            iterable,
            condition,
        } => {
            f.write_char('[')?;
            write_expr(f, result)?;
            write!(f, " for {variable} in ")?;
            write_expr(f, iterable)?;
            if let Some(condition) = condition {
                f.write_str(" if ")?;
                write_expr(f, condition)?;
            }
            f.write_char(']')
        }
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}
