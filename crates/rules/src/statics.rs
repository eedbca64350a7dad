//! Static result types and the build-time type checks the reference performs.
//!
//! Types carry one level of member types (`ARRAY(FLOAT)`, `MAPPING(STRING, ...)`); the
//! reference tracks them at any depth, so for nested collections we know less and accept
//! more.

use crate::ast::{BinOp, UnaryOp};
use crate::error::EvalError;
use crate::eval::{Node, NodeKind};
use crate::value::Value;

/// A function signature for static checks.
#[derive(Debug, PartialEq, Eq)]
pub struct Signature {
    /// The function's name, for messages.
    pub name: &'static str,
    /// Minimum number of arguments.
    pub min_args: usize,
    /// The declared argument types (the maximum count is their number).
    pub args: &'static [Ty],
    /// The result type.
    pub ret: Ty,
}

/// A member type: the kind of a type without its own member types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// unknown
    Undefined,
    /// null
    Null,
    /// boolean
    Bool,
    /// number
    Float,
    /// string
    String,
    /// bytes
    Bytes,
    /// datetime
    Datetime,
    /// timedelta
    Timedelta,
    /// array (of unknown members)
    Array,
    /// mapping (of unknown keys and values)
    Mapping,
    /// set (of unknown members)
    Set,
    /// function
    Function,
}

/// The statically known type of an expression, with one level of member types (the
/// reference tracks them at any depth; deeper levels are unknown here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Not known before evaluation (variables, most calls).
    Undefined,
    /// null
    Null,
    /// boolean
    Bool,
    /// number
    Float,
    /// string
    String,
    /// bytes
    Bytes,
    /// datetime
    Datetime,
    /// timedelta
    Timedelta,
    /// array with its member type
    Array(Elem),
    /// mapping with its key and value types
    Mapping(Elem, Elem),
    /// set with its member type
    Set(Elem),
    /// function, with its signature when known and, for `starts_with`/`ends_with`, the
    /// receiver's kind and member type (the argument must be compatible with it)
    Function(Option<&'static Signature>, Option<(Elem, Elem)>),
}

/// `ARRAY` with unknown members.
pub const ARRAY: Ty = Ty::Array(Elem::Undefined);

impl Elem {
    /// The full type for a member type.
    pub fn ty(self) -> Ty {
        match self {
            Elem::Undefined => Ty::Undefined,
            Elem::Null => Ty::Null,
            Elem::Bool => Ty::Bool,
            Elem::Float => Ty::Float,
            Elem::String => Ty::String,
            Elem::Bytes => Ty::Bytes,
            Elem::Datetime => Ty::Datetime,
            Elem::Timedelta => Ty::Timedelta,
            Elem::Array => Ty::Array(Elem::Undefined),
            Elem::Mapping => Ty::Mapping(Elem::Undefined, Elem::Undefined),
            Elem::Set => Ty::Set(Elem::Undefined),
            Elem::Function => Ty::Function(None, None),
        }
    }

    fn compatible(self, other: Elem) -> bool {
        self == Elem::Undefined || other == Elem::Undefined || self == other
    }
}

/// The reference's member type of a collection: the kind of the single type shared by all
/// non-null members (collections compare with their member types), otherwise unknown.
pub fn member_elem(types: impl IntoIterator<Item = Ty>) -> Elem {
    let mut found: Option<Ty> = None;
    for ty in types {
        if ty == Ty::Null {
            continue;
        }
        match found {
            None => found = Some(ty),
            Some(existing) if existing == ty => {}
            Some(_) => return Elem::Undefined,
        }
    }
    found.map_or(Elem::Undefined, Ty::elem)
}

impl Ty {
    /// The type of a value (member types computed from the members).
    pub fn of(value: &Value) -> Ty {
        match value {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Number(_) => Ty::Float,
            Value::String(_) => Ty::String,
            Value::Bytes(_) => Ty::Bytes,
            Value::Datetime(_) => Ty::Datetime,
            Value::Timedelta(_) => Ty::Timedelta,
            Value::Array(items) => Ty::Array(member_elem(items.iter().map(Ty::of))),
            Value::Set(items) => Ty::Set(member_elem(items.iter().map(Ty::of))),
            Value::Mapping(entries) => Ty::Mapping(
                member_elem(entries.iter().map(|(k, _)| Ty::of(k))),
                member_elem(entries.iter().map(|(_, v)| Ty::of(v))),
            ),
            Value::Function(f) => Ty::Function(Some(f.signature()), None),
        }
    }

    /// The type of a value without looking at its members (constant time).
    pub fn shallow(value: &Value) -> Ty {
        match value {
            Value::Array(_) => ARRAY,
            Value::Set(_) => Ty::Set(Elem::Undefined),
            Value::Mapping(_) => Ty::Mapping(Elem::Undefined, Elem::Undefined),
            other => Ty::of(other),
        }
    }

    /// The kind of this type.
    pub fn elem(self) -> Elem {
        match self {
            Ty::Undefined => Elem::Undefined,
            Ty::Null => Elem::Null,
            Ty::Bool => Elem::Bool,
            Ty::Float => Elem::Float,
            Ty::String => Elem::String,
            Ty::Bytes => Elem::Bytes,
            Ty::Datetime => Elem::Datetime,
            Ty::Timedelta => Elem::Timedelta,
            Ty::Array(_) => Elem::Array,
            Ty::Mapping(..) => Elem::Mapping,
            Ty::Set(_) => Elem::Set,
            Ty::Function(..) => Elem::Function,
        }
    }

    /// Whether a value of this type is known.
    pub fn is_known(self) -> bool {
        self != Ty::Undefined
    }

    /// The reference's `DataType.is_compatible`: unknown matches anything; collections
    /// match when their member types do.
    pub fn compatible(self, other: Ty) -> bool {
        match (self, other) {
            (Ty::Undefined, _) | (_, Ty::Undefined) => true,
            (Ty::Function(..), Ty::Function(..)) => true,
            (Ty::Array(a), Ty::Array(b)) | (Ty::Set(a), Ty::Set(b)) => a.compatible(b),
            (Ty::Mapping(k1, v1), Ty::Mapping(k2, v2)) => k1.compatible(k2) && v1.compatible(v2),
            (a, b) => a == b,
        }
    }

    /// Whether the type is a compound (collection) type.
    pub fn is_compound(self) -> bool {
        matches!(self, Ty::Array(_) | Ty::Mapping(..) | Ty::Set(_))
    }

    /// Whether a comprehension may iterate over it (or it is unknown).
    pub fn is_iterable_or_unknown(self) -> bool {
        // Like the reference, strings and bytes are not iterable here.
        matches!(
            self,
            Ty::Undefined | Ty::Array(_) | Ty::Mapping(..) | Ty::Set(_)
        )
    }

    /// The type of the members a comprehension iterates over (mapping keys).
    pub fn iterable_member(self) -> Ty {
        match self {
            Ty::Array(m) | Ty::Set(m) | Ty::Mapping(m, _) => m.ty(),
            _ => Ty::Undefined,
        }
    }
}

const DEFAULT_COMPATIBLE: &[Elem] = &[
    Elem::Array,
    Elem::Bool,
    Elem::Datetime,
    Elem::Timedelta,
    Elem::Float,
    Elem::Mapping,
    Elem::Null,
    Elem::Set,
    Elem::String,
];

fn require(ty: Ty, allowed: &[Elem]) -> Result<(), EvalError> {
    if !ty.is_known() || allowed.contains(&ty.elem()) {
        Ok(())
    } else {
        Err(EvalError::mismatch(""))
    }
}

fn literal_number_is_natural(node: &Node) -> Result<(), EvalError> {
    if let NodeKind::Lit(Value::Number(n)) = &node.kind {
        if !n.is_natural() {
            return Err(EvalError::mismatch("not a natural number"));
        }
    }
    Ok(())
}

/// The build-time check of a binary operator; returns the result type.
pub fn check_binary(op: BinOp, left: &Node, right: &Node) -> Result<Ty, EvalError> {
    let (l, r) = (left.ty, right.ty);
    let both = l.is_known() && r.is_known();
    match op {
        BinOp::Add => {
            let allowed = &[
                Elem::Bytes,
                Elem::Float,
                Elem::String,
                Elem::Datetime,
                Elem::Timedelta,
            ];
            require(l, allowed)?;
            require(r, allowed)?;
            if !both {
                return Ok(Ty::Undefined);
            }
            match l {
                Ty::Datetime if r == Ty::Timedelta => Ok(Ty::Datetime),
                Ty::Timedelta if matches!(r, Ty::Datetime | Ty::Timedelta) => Ok(r),
                Ty::Datetime | Ty::Timedelta => Err(EvalError::mismatch("")),
                _ if l == r => Ok(l),
                _ => Err(EvalError::mismatch("")),
            }
        }
        BinOp::Sub => {
            let allowed = &[Elem::Float, Elem::Datetime, Elem::Timedelta];
            require(l, allowed)?;
            require(r, allowed)?;
            if !both {
                return Ok(Ty::Undefined);
            }
            match (l, r) {
                (Ty::Datetime, Ty::Datetime) => Ok(Ty::Timedelta),
                (Ty::Datetime, Ty::Timedelta) => Ok(Ty::Datetime),
                (Ty::Timedelta, Ty::Timedelta) => Ok(Ty::Timedelta),
                (Ty::Datetime | Ty::Timedelta, _) => Err(EvalError::mismatch("")),
                _ if l == r => Ok(l),
                _ => Err(EvalError::mismatch("")),
            }
        }
        BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod | BinOp::Pow => {
            require(l, &[Elem::Float])?;
            require(r, &[Elem::Float])?;
            Ok(Ty::Float)
        }
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
            let shift = matches!(op, BinOp::Shl | BinOp::Shr);
            let allowed: &[Elem] = if shift {
                &[Elem::Float]
            } else {
                &[Elem::Float, Elem::Set]
            };
            require(l, allowed)?;
            require(r, allowed)?;
            if both && l.elem() != r.elem() {
                return Err(EvalError::mismatch(""));
            }
            let mut ty = if shift { Ty::Float } else { Ty::Undefined };
            if l == Ty::Float {
                literal_number_is_natural(left)?;
                ty = Ty::Float;
            }
            if r == Ty::Float {
                literal_number_is_natural(right)?;
                ty = Ty::Float;
            }
            if let Ty::Set(_) = l {
                ty = Ty::Set(Elem::Undefined);
            } else if let Ty::Set(_) = r {
                ty = Ty::Set(Elem::Undefined);
            }
            Ok(ty)
        }
        BinOp::And | BinOp::Or | BinOp::Eq | BinOp::Ne => {
            require(l, DEFAULT_COMPATIBLE)?;
            require(r, DEFAULT_COMPATIBLE)?;
            Ok(Ty::Bool)
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let allowed = &[
                Elem::Array,
                Elem::Bool,
                Elem::Datetime,
                Elem::Timedelta,
                Elem::Float,
                Elem::Null,
                Elem::String,
            ];
            require(l, allowed)?;
            require(r, allowed)?;
            if both && l != r {
                return Err(EvalError::mismatch(""));
            }
            Ok(Ty::Bool)
        }
        BinOp::RegexMatch | BinOp::RegexSearch | BinOp::RegexNotMatch | BinOp::RegexNotSearch => {
            require(l, &[Elem::Null, Elem::String])?;
            require(r, &[Elem::Null, Elem::String])?;
            Ok(Ty::Bool)
        }
        BinOp::In | BinOp::NotIn => {
            // `member in container`: left is the member, right the container.
            match r {
                Ty::String | Ty::Bytes if l.is_known() && l != r => {
                    return Err(EvalError::mismatch(""));
                }
                Ty::String | Ty::Bytes | Ty::Undefined => {}
                container if !container.is_compound() => return Err(EvalError::mismatch("")),
                _ => {}
            }
            Ok(Ty::Bool)
        }
    }
}

/// The build-time check of a unary operator; returns the result type.
pub fn check_unary(op: UnaryOp, operand: &Node) -> Result<Ty, EvalError> {
    match op {
        UnaryOp::Not => Ok(Ty::Bool),
        UnaryOp::Neg => {
            if let NodeKind::Lit(value) = &operand.kind {
                if !matches!(value, Value::Number(_) | Value::Timedelta(_)) {
                    return Err(EvalError::mismatch("not a float or timedelta expression"));
                }
            }
            Ok(operand.ty)
        }
    }
}

/// The build-time check of `container[item]`.
pub fn check_item(container: Ty, item: Ty, safe: bool) -> Result<Ty, EvalError> {
    match container {
        Ty::Bytes | Ty::String | Ty::Array(_) => {
            if !item.compatible(Ty::Float) {
                return Err(EvalError::mismatch("not an integer number"));
            }
            Ok(match container {
                Ty::Bytes => Ty::Float,
                Ty::String => Ty::String,
                Ty::Array(member) => member.ty(),
                _ => Ty::Undefined,
            })
        }
        Ty::Mapping(key, value) => {
            if !safe && !item.compatible(key.ty()) {
                return Err(EvalError::new("lookup error: the key type does not match"));
            }
            Ok(value.ty())
        }
        Ty::Undefined => Ok(Ty::Undefined),
        Ty::Set(_) => Err(EvalError::mismatch("container is a set")),
        Ty::Null if safe => Ok(Ty::Undefined),
        _ => Err(EvalError::mismatch("")),
    }
}

/// The build-time check of `container[start:stop]`.
pub fn check_slice(container: Ty, safe: bool) -> Result<Ty, EvalError> {
    match container {
        Ty::Bytes | Ty::String | Ty::Array(_) => Ok(container),
        Ty::Undefined => Ok(Ty::Undefined),
        Ty::Set(_) => Err(EvalError::mismatch("container is a set")),
        Ty::Null if safe => Ok(Ty::Undefined),
        _ => Err(EvalError::mismatch("")),
    }
}
