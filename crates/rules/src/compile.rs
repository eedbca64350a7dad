//! Turns the syntax tree into the evaluated form, doing what the reference does while it
//! *builds* a rule: static type checks on operands whose types are known, and folding of
//! constant sub-expressions (so `true or 1/0` fails to build, like in the reference).

use std::sync::Arc;

use crate::ast::{BinOp, Expr, ExprKind, UnaryOp};
use crate::builtins::{builtin_type, Function, Method};
use crate::context::EmptyContext;
use crate::error::{EvalError, ParseError, RuleError, Span};
use crate::eval::{EvalState, Node, NodeKind};
use crate::limits::Limits;
use crate::regex_support::{compile_regex, RegexError};
use crate::statics::{check_binary, check_unary, member_elem, Elem, Ty, ARRAY};
use crate::temporal::{parse_datetime, parse_timedelta};
use crate::value::Value;

/// Compiles a parsed expression; `names` receives the referenced context variables in
/// order of first appearance in the text.
pub fn compile(expr: &Expr, limits: &Limits, names: &mut Vec<String>) -> Result<Node, RuleError> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut compiler = Compiler {
        limits,
        scopes: Vec::new(),
        names: &mut found,
    };
    let node = compiler.node(expr)?;
    // Compilation follows the reference's build order (`in` visits its container first),
    // so sort by position in the text.
    found.sort_by_key(|(start, _)| *start);
    for (_, name) in found {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(node)
}

struct Compiler<'a> {
    limits: &'a Limits,
    scopes: Vec<(String, Ty)>,
    names: &'a mut Vec<(usize, String)>,
}

fn lit(value: Value, span: Span) -> Node {
    let ty = Ty::of(&value);
    Node {
        kind: NodeKind::Lit(value),
        span,
        ty,
    }
}

impl Compiler<'_> {
    fn node(&mut self, expr: &Expr) -> Result<Node, RuleError> {
        let span = expr.span;
        let node = match &expr.kind {
            ExprKind::Null => lit(Value::Null, span),
            ExprKind::Bool(b) => lit(Value::Bool(*b), span),
            ExprKind::Number(n) => lit(Value::Number(*n), span),
            ExprKind::BadNumber(text) => {
                return Err(crate::parser::parse_number_literal(text, span)
                    .err()
                    .unwrap_or_else(|| {
                        ParseError::new(format!("invalid floating point literal `{text}`"), span)
                    })
                    .into())
            }
            ExprKind::String(s) => lit(Value::string(s.as_str()), span),
            ExprKind::Bytes(b) => lit(Value::Bytes(b.as_slice().into()), span),
            ExprKind::Datetime(text) => {
                let value = parse_datetime(text).ok_or_else(|| {
                    ParseError::new(format!("invalid datetime literal `{text}`"), span)
                        .expecting("an ISO-8601 datetime such as `2024-01-31T10:00:00Z`")
                })?;
                lit(Value::Datetime(value), span)
            }
            ExprKind::Timedelta(text) => {
                let value = parse_timedelta(text).ok_or_else(|| {
                    ParseError::new(format!("invalid timedelta literal `{text}`"), span)
                        .expecting("an ISO-8601 duration such as `P1DT2H`")
                })?;
                lit(Value::Timedelta(value), span)
            }
            ExprKind::Array(items) => {
                let items = self.nodes(items)?;
                let ty = Ty::Array(member_elem(items.iter().map(|n| n.ty)));
                self.fold(NodeKind::Array(items), span, ty)?
            }
            ExprKind::Set(items) => {
                let items = self.nodes(items)?;
                let ty = Ty::Set(member_elem(items.iter().map(|n| n.ty)));
                self.fold(NodeKind::Set(items), span, ty)?
            }
            ExprKind::Mapping(entries) => {
                let mut compiled = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    compiled.push((self.node(key)?, self.node(value)?));
                }
                let ty = Ty::Mapping(
                    member_elem(compiled.iter().map(|(k, _)| k.ty)),
                    member_elem(compiled.iter().map(|(_, v)| v.ty)),
                );
                self.fold(NodeKind::Mapping(compiled), span, ty)?
            }
            ExprKind::Symbol {
                name,
                builtin: true,
            } => Node {
                kind: NodeKind::Builtin(Arc::from(name.as_str())),
                span,
                ty: builtin_type(name),
            },
            ExprKind::Symbol {
                name,
                builtin: false,
            } => {
                if let Some(index) = self.scopes.iter().rposition(|(s, _)| s == name) {
                    Node {
                        kind: NodeKind::Local(index),
                        span,
                        ty: self.scopes.get(index).map_or(Ty::Undefined, |(_, ty)| *ty),
                    }
                } else {
                    self.names.push((span.start, name.clone()));
                    Node {
                        kind: NodeKind::Var(Arc::from(name.as_str())),
                        span,
                        ty: Ty::Undefined,
                    }
                }
            }
            ExprKind::Attr { object, name, safe } => {
                let object = self.node(object)?;
                let ty = crate::attrs::static_attr_type(object.ty, name, *safe)
                    .map_err(|e| e.at(span))?;
                let kind = NodeKind::Attr {
                    object: Box::new(object),
                    name: Arc::from(name.as_str()),
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Item { object, item, safe } => {
                let object = self.node(object)?;
                let item = self.node(item)?;
                let ty = crate::statics::check_item(object.ty, item.ty, *safe)
                    .map_err(|e| e.at(span))?;
                if let Ty::Mapping(key, _) = object.ty {
                    // The reference folds a safe lookup with an impossible key type to null.
                    if *safe && !item.ty.compatible(key.ty()) {
                        return Ok(lit(Value::Null, span));
                    }
                }
                let kind = NodeKind::Item {
                    object: Box::new(object),
                    item: Box::new(item),
                    safe: *safe,
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Slice {
                object,
                start,
                stop,
                safe,
            } => {
                // The reference builds the bounds before the container.
                let start = match start {
                    Some(start) => Some(Box::new(self.node(start)?)),
                    None => None,
                };
                let stop = match stop {
                    Some(stop) => Some(Box::new(self.node(stop)?)),
                    None => None,
                };
                let object = self.node(object)?;
                let ty = crate::statics::check_slice(object.ty, *safe).map_err(|e| e.at(span))?;
                let kind = NodeKind::Slice {
                    object: Box::new(object),
                    start,
                    stop,
                    safe: *safe,
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Call { function, args } => {
                let function = self.node(function)?;
                let args = self.nodes(args)?;
                let ty =
                    crate::builtins::check_call_static(&function, &args).map_err(|e| e.at(span))?;
                let kind = NodeKind::Call {
                    function: Box::new(function),
                    args,
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Unary { op, operand } => {
                let operand = self.node(operand)?;
                let ty = check_unary(*op, &operand).map_err(|e| e.at(span))?;
                let kind = match op {
                    UnaryOp::Neg => NodeKind::Neg(Box::new(operand)),
                    UnaryOp::Not => NodeKind::Not(Box::new(operand)),
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Binary { op, left, right } => {
                // For `in` the reference builds the container (right) before the member.
                let (left, right) = if matches!(op, BinOp::In | BinOp::NotIn) {
                    let right = self.node(right)?;
                    (self.node(left)?, right)
                } else {
                    let left = self.node(left)?;
                    (left, self.node(right)?)
                };
                let ty = check_binary(*op, &left, &right).map_err(|e| e.at(span))?;
                let kind = if is_regex(*op) {
                    let compiled = match &right.kind {
                        NodeKind::Lit(Value::String(pattern)) => Some(
                            compile_regex(pattern).map_err(|e| regex_parse_error(e, right.span))?,
                        ),
                        _ => None,
                    };
                    NodeKind::Regex {
                        op: *op,
                        left: Box::new(left),
                        right: Box::new(right),
                        compiled,
                    }
                } else {
                    NodeKind::Binary {
                        op: *op,
                        left: Box::new(left),
                        right: Box::new(right),
                    }
                };
                self.fold(kind, span, ty)?
            }
            ExprKind::Ternary {
                condition,
                when_true,
                when_false,
            } => {
                let condition = self.node(condition)?;
                let when_true = self.node(when_true)?;
                let when_false = self.node(when_false)?;
                if let NodeKind::Lit(value) = &condition.kind {
                    // The reference folds a constant condition to the chosen branch.
                    return Ok(if value.is_truthy() {
                        when_true
                    } else {
                        when_false
                    });
                }
                let ty = match (when_true.ty, when_false.ty) {
                    (a, b) if a == b => a,
                    (Ty::Array(_), Ty::Array(_)) => ARRAY,
                    _ => Ty::Undefined,
                };
                Node {
                    kind: NodeKind::Ternary {
                        condition: Box::new(condition),
                        when_true: Box::new(when_true),
                        when_false: Box::new(when_false),
                    },
                    span,
                    ty,
                }
            }
            ExprKind::Comprehension {
                result,
                variable,
                iterable,
                condition,
            } => {
                let iterable = self.node(iterable)?;
                if !iterable.ty.is_iterable_or_unknown() {
                    return Err(EvalError::mismatch("comprehension requires an iterable")
                        .at(span)
                        .into());
                }
                self.scopes
                    .push((variable.clone(), iterable.ty.iterable_member()));
                let condition = condition.as_ref().map(|condition| self.node(condition));
                let result = self.node(result);
                self.scopes.pop();
                let condition = condition.transpose()?.map(Box::new);
                let result = result?;
                let ty = Ty::Array(result.ty.elem());
                Node {
                    kind: NodeKind::Comprehension {
                        result: Box::new(result),
                        iterable: Box::new(iterable),
                        condition,
                    },
                    span,
                    ty,
                }
            }
        };
        Ok(node)
    }

    fn nodes(&mut self, exprs: &[Expr]) -> Result<Vec<Node>, RuleError> {
        exprs.iter().map(|e| self.node(e)).collect()
    }

    /// Evaluates the node now when all its inputs are constants, as the reference does.
    fn fold(&mut self, kind: NodeKind, span: Span, ty: Ty) -> Result<Node, RuleError> {
        let node = Node { kind, span, ty };
        if !node.children_are_literals() {
            return Ok(node);
        }
        let mut state = EvalState::new(self.limits, &EmptyContext);
        let value = node.eval(&mut state).map_err(|e| e.at(span))?;
        let mut folded = lit(value, span);
        if let NodeKind::Lit(Value::Function(function)) = &folded.kind {
            // A folded bound method keeps its receiver for argument checks.
            let receiver = match &**function {
                Function::Method {
                    method: Method::StartsWith | Method::EndsWith,
                    receiver,
                } => {
                    let ty = Ty::of(receiver);
                    let member = match ty {
                        Ty::Array(m) => m,
                        _ => Elem::Undefined,
                    };
                    Some((ty.elem(), member))
                }
                _ => None,
            };
            folded.ty = Ty::Function(Some(function.signature()), receiver);
        }
        Ok(folded)
    }
}

fn is_regex(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::RegexMatch | BinOp::RegexSearch | BinOp::RegexNotMatch | BinOp::RegexNotSearch
    )
}

fn regex_parse_error(error: RegexError, span: Span) -> RuleError {
    RuleError::Parse(ParseError::new(error.to_string(), span))
}
