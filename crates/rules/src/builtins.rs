//! `$` builtins and callable values.

use std::sync::Arc;

use base64::Engine as _;
use chrono::Timelike;

use crate::error::EvalError;
use crate::eval::{EvalState, Node};
use crate::number::Number;
use crate::statics::{Elem, Signature, Ty, ARRAY};
use crate::value::Value;

/// A builtin function reachable as `$name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinFn {
    /// `$abs(x)`
    Abs,
    /// `$all(array)`
    All,
    /// `$any(array)`
    Any,
    /// `$sum(array)`
    Sum,
    /// `$max(array)`
    Max,
    /// `$min(array)`
    Min,
    /// `$map(function, array)`
    Map,
    /// `$filter(function, array)`
    Filter,
    /// `$parse_datetime(string)`
    ParseDatetime,
    /// `$parse_float(string)`
    ParseFloat,
    /// `$parse_timedelta(string)`
    ParseTimedelta,
    /// `$random([boundary])`
    Random,
    /// `$range(start[, stop[, step]])`
    Range,
    /// `$split(string[, sep[, maxsplit]])`
    Split,
}

/// A method bound to a value by a data attribute (`'abc'.starts_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `.starts_with(prefix)`
    StartsWith,
    /// `.ends_with(suffix)`
    EndsWith,
    /// `bytes.decode(encoding)`
    Decode,
    /// `string.encode(encoding)`
    Encode,
}

/// A callable value.
#[derive(Debug, Clone)]
pub enum Function {
    /// A `$` builtin.
    Builtin(BuiltinFn),
    /// A bound data attribute.
    Method {
        /// Which method.
        method: Method,
        /// The value it is bound to.
        receiver: Value,
    },
}

macro_rules! sig {
    ($name:literal, $min:expr, [$($arg:expr),*], $ret:expr) => {{
        const S: Signature = Signature { name: $name, min_args: $min, args: &[$($arg),*], ret: $ret };
        &S
    }};
}

impl BuiltinFn {
    fn from_name(name: &str) -> Option<BuiltinFn> {
        Some(match name {
            "abs" => BuiltinFn::Abs,
            "all" => BuiltinFn::All,
            "any" => BuiltinFn::Any,
            "sum" => BuiltinFn::Sum,
            "max" => BuiltinFn::Max,
            "min" => BuiltinFn::Min,
            "map" => BuiltinFn::Map,
            "filter" => BuiltinFn::Filter,
            "parse_datetime" => BuiltinFn::ParseDatetime,
            "parse_float" => BuiltinFn::ParseFloat,
            "parse_timedelta" => BuiltinFn::ParseTimedelta,
            "random" => BuiltinFn::Random,
            "range" => BuiltinFn::Range,
            "split" => BuiltinFn::Split,
            _ => return None,
        })
    }

    /// The static signature.
    pub fn signature(self) -> &'static Signature {
        use Ty::*;
        match self {
            BuiltinFn::Abs => sig!("abs", 1, [Float], Float),
            BuiltinFn::All => sig!("all", 1, [ARRAY], Bool),
            BuiltinFn::Any => sig!("any", 1, [ARRAY], Bool),
            BuiltinFn::Sum => sig!("sum", 1, [Array(Elem::Float)], Float),
            BuiltinFn::Max => sig!("max", 1, [Array(Elem::Float)], Float),
            BuiltinFn::Min => sig!("min", 1, [Array(Elem::Float)], Float),
            BuiltinFn::Map => sig!("map", 2, [Function(None, None), ARRAY], ARRAY),
            BuiltinFn::Filter => sig!("filter", 2, [Function(None, None), ARRAY], ARRAY),
            BuiltinFn::ParseDatetime => sig!("parse_datetime", 1, [String], Datetime),
            BuiltinFn::ParseFloat => sig!("parse_float", 1, [String], Float),
            BuiltinFn::ParseTimedelta => sig!("parse_timedelta", 1, [String], Timedelta),
            BuiltinFn::Random => sig!("random", 0, [Float], Float),
            BuiltinFn::Range => sig!("range", 1, [Float, Float, Float], Array(Elem::Float)),
            BuiltinFn::Split => sig!("split", 1, [String, String, Float], Array(Elem::String)),
        }
    }
}

impl Method {
    /// The static signature.
    pub fn signature(self) -> &'static Signature {
        use Ty::*;
        match self {
            Method::StartsWith => sig!("starts_with", 1, [Undefined], Bool),
            Method::EndsWith => sig!("ends_with", 1, [Undefined], Bool),
            Method::Decode => sig!("decode", 1, [String], String),
            Method::Encode => sig!("encode", 1, [String], Bytes),
        }
    }
}

/// The static type of a `$` symbol.
pub fn builtin_type(name: &str) -> Ty {
    match name {
        "e" | "pi" => Ty::Float,
        "now" | "today" => Ty::Datetime,
        "re_groups" => Ty::Array(Elem::String),
        other => BuiltinFn::from_name(other)
            .map_or(Ty::Undefined, |f| Ty::Function(Some(f.signature()), None)),
    }
}

/// Evaluates a `$` symbol; unknown names are null (the context's default value).
pub fn resolve_builtin(name: &str, state: &mut EvalState<'_>) -> Result<Value, EvalError> {
    let decimal =
        |text: &str| Value::Number(Number::parse_decimal_text(text).unwrap_or(Number::NaN));
    Ok(match name {
        "e" => decimal("2.718281828459045"),
        "pi" => decimal("3.141592653589793"),
        "now" => Value::Datetime(state.context.now()),
        "today" => {
            let now = state.context.now();
            let midnight = now
                .with_hour(0)
                .and_then(|d| d.with_minute(0))
                .and_then(|d| d.with_second(0))
                .and_then(|d| d.with_nanosecond(0))
                .unwrap_or(now);
            Value::Datetime(midnight)
        }
        "re_groups" => state.re_groups.clone(),
        other => match BuiltinFn::from_name(other) {
            Some(function) => Value::Function(Arc::new(Function::Builtin(function))),
            None => Value::Null,
        },
    })
}

/// The argument types a call checks against: the signature's, except for
/// `starts_with`/`ends_with`, whose argument must match the receiver's type.
fn expected_arg(signature: &Signature, receiver: Option<(Elem, Elem)>, index: usize) -> Ty {
    match receiver {
        Some((kind, member)) => match kind {
            Elem::Array => Ty::Array(member),
            other => other.ty(),
        },
        None => signature.args.get(index).copied().unwrap_or(Ty::Undefined),
    }
}

/// Checks argument types against a known function type (at build time with static types,
/// at evaluation with the values' types).
pub fn check_args(
    signature: &Signature,
    receiver: Option<(Elem, Elem)>,
    args: &[Ty],
) -> Result<(), EvalError> {
    check_arity(signature, args.len())?;
    for (position, arg) in args.iter().enumerate() {
        if !arg.compatible(expected_arg(signature, receiver, position)) {
            return Err(EvalError::new(format!(
                "function call failed: `{}`: data type mismatch (argument #{})",
                signature.name,
                position + 1
            )));
        }
    }
    Ok(())
}

/// The build-time check of a call when the callee's type is known.
pub fn check_call_static(function: &Node, args: &[Node]) -> Result<Ty, EvalError> {
    match function.ty {
        Ty::Undefined | Ty::Function(None, _) => Ok(Ty::Undefined),
        Ty::Function(Some(signature), receiver) => {
            let types: Vec<Ty> = args.iter().map(|a| a.ty).collect();
            check_args(signature, receiver, &types)?;
            Ok(signature.ret)
        }
        _ => Err(EvalError::mismatch("not a callable value")),
    }
}

fn check_arity(signature: &Signature, count: usize) -> Result<(), EvalError> {
    if count < signature.min_args {
        return Err(EvalError::new(format!(
            "function call failed: `{}` expected at least {} positional arguments",
            signature.name, signature.min_args
        )));
    }
    if count > signature.args.len() {
        return Err(EvalError::new(format!(
            "function call failed: `{}` expected at most {} positional arguments",
            signature.name,
            signature.args.len()
        )));
    }
    Ok(())
}

impl Function {
    /// The static signature.
    pub fn signature(&self) -> &'static Signature {
        match self {
            Function::Builtin(f) => f.signature(),
            Function::Method { method, .. } => method.signature(),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &'static str {
        self.signature().name
    }

    /// Calls the function with already evaluated arguments; `typed` carries the callee's
    /// static type when it was known, in which case the reference checks the arguments'
    /// types first.
    pub fn call(
        &self,
        args: Vec<Value>,
        state: &mut EvalState<'_>,
        typed: Option<(&'static Signature, Option<(Elem, Elem)>)>,
    ) -> Result<Value, EvalError> {
        if let Some((signature, receiver)) = typed {
            let types: Vec<Ty> = args.iter().map(Ty::of).collect();
            check_args(signature, receiver, &types)?;
        } else {
            check_arity(self.signature(), args.len())?;
        }
        let result = match self {
            Function::Builtin(f) => crate::builtins_impl::call_builtin(*f, args, state),
            Function::Method { method, receiver } => {
                crate::builtins_impl::call_method(*method, receiver, args)
            }
        };
        let value = result.map_err(|e| {
            if e.message.starts_with("function call failed") {
                e
            } else {
                EvalError::new(format!(
                    "function call failed: `{}`: {}",
                    self.name(),
                    e.message
                ))
            }
        })?;
        if let Some((signature, _)) = typed {
            // The reference checks the returned value against the declared type too
            // (`$max([null])` returns None where a number is declared).
            if !Ty::shallow(&value).compatible(signature.ret) {
                return Err(EvalError::new(format!(
                    "function call failed: `{}`: data type mismatch on returned value",
                    signature.name
                )));
            }
        }
        Ok(value)
    }
}

/// Encodes bytes as standard base64 (used by `.decode('base64')` and JSON output).
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
