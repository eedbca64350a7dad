//! The compiled tree and its evaluator.

use std::borrow::Cow;
use std::sync::Arc;

use crate::ast::BinOp;
use crate::context::Context;
use crate::error::{EvalError, Span};
use crate::limits::Limits;
use crate::regex_support::CompiledRegex;
use crate::statics::Ty;
use crate::value::Value;

/// A compiled expression node.
#[derive(Debug, Clone)]
pub struct Node {
    /// What to do.
    pub kind: NodeKind,
    /// Where it came from.
    pub span: Span,
    /// Its static result type.
    pub ty: Ty,
}

/// The kinds of compiled node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A constant (literal or folded).
    Lit(Value),
    /// A context variable.
    Var(Arc<str>),
    /// A comprehension variable, by scope index.
    Local(usize),
    /// A `$` symbol.
    Builtin(Arc<str>),
    /// Array literal with non-constant members.
    Array(Vec<Node>),
    /// Set literal with non-constant members.
    Set(Vec<Node>),
    /// Mapping literal with non-constant entries.
    Mapping(Vec<(Node, Node)>),
    /// `.name` / `&.name` (they only differ in the build-time check).
    Attr {
        /// Object.
        object: Box<Node>,
        /// Name.
        name: Arc<str>,
    },
    /// `[item]` / `&[item]`.
    Item {
        /// Container.
        object: Box<Node>,
        /// Index or key.
        item: Box<Node>,
        /// `&[`
        safe: bool,
    },
    /// `[start:stop]`.
    Slice {
        /// Container.
        object: Box<Node>,
        /// Start.
        start: Option<Box<Node>>,
        /// Stop.
        stop: Option<Box<Node>>,
        /// `&[`
        safe: bool,
    },
    /// A call.
    Call {
        /// Callee.
        function: Box<Node>,
        /// Arguments.
        args: Vec<Node>,
    },
    /// `-x`
    Neg(Box<Node>),
    /// `not x`
    Not(Box<Node>),
    /// A non-regex binary operator.
    Binary {
        /// Operator.
        op: BinOp,
        /// Left.
        left: Box<Node>,
        /// Right.
        right: Box<Node>,
    },
    /// A regex operator; `compiled` is set when the pattern is a literal.
    Regex {
        /// Operator.
        op: BinOp,
        /// Subject.
        left: Box<Node>,
        /// Pattern.
        right: Box<Node>,
        /// Pre-compiled literal pattern.
        compiled: Option<Arc<CompiledRegex>>,
    },
    /// `c ? a : b`
    Ternary {
        /// Condition.
        condition: Box<Node>,
        /// When true.
        when_true: Box<Node>,
        /// When false.
        when_false: Box<Node>,
    },
    /// `[result for x in iterable if condition]`.
    Comprehension {
        /// Produced value.
        result: Box<Node>,
        /// Iterated value.
        iterable: Box<Node>,
        /// Filter.
        condition: Option<Box<Node>>,
    },
}

/// Per-evaluation state: the context, loop variables, the step budget and `$re_groups`.
pub struct EvalState<'a> {
    /// Limits in force.
    pub limits: &'a Limits,
    /// Where variables come from.
    pub context: &'a dyn Context,
    /// Values of comprehension variables, innermost last.
    pub locals: Vec<Value>,
    /// Steps taken so far.
    pub steps: u64,
    /// Groups of the last successful regex match (`$re_groups`).
    pub re_groups: Value,
    /// Patterns compiled during this evaluation (for patterns that are not literals).
    pub regex_cache: Vec<(Arc<str>, Arc<CompiledRegex>)>,
}

impl<'a> EvalState<'a> {
    /// Fresh state for one evaluation.
    pub fn new(limits: &'a Limits, context: &'a dyn Context) -> EvalState<'a> {
        EvalState {
            limits,
            context,
            locals: Vec::new(),
            steps: 0,
            re_groups: Value::Null,
            regex_cache: Vec::new(),
        }
    }

    /// Counts `n` steps against the budget.
    pub fn tick(&mut self, n: u64) -> Result<(), EvalError> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(EvalError::new(format!(
                "evaluation step limit exceeded (the limit is {})",
                self.limits.max_steps
            )));
        }
        Ok(())
    }

    /// Fails when a produced collection would be too large.
    pub fn check_len(&self, len: usize) -> Result<(), EvalError> {
        if len > self.limits.max_collection_len {
            return Err(EvalError::new(format!(
                "collection is too large ({len} members, the limit is {})",
                self.limits.max_collection_len
            )));
        }
        Ok(())
    }
}

impl Node {
    /// Whether every direct input of this node is a constant (so the reference would fold it).
    pub fn children_are_literals(&self) -> bool {
        let is_lit = |n: &Node| matches!(n.kind, NodeKind::Lit(_));
        match &self.kind {
            NodeKind::Array(items) | NodeKind::Set(items) => items.iter().all(is_lit),
            NodeKind::Mapping(entries) => entries.iter().all(|(k, v)| is_lit(k) && is_lit(v)),
            NodeKind::Attr { object, .. } => is_lit(object),
            NodeKind::Item { object, item, .. } => is_lit(object) && is_lit(item),
            NodeKind::Slice {
                object,
                start,
                stop,
                ..
            } => {
                is_lit(object)
                    && start.as_deref().is_none_or(is_lit)
                    && stop.as_deref().is_none_or(is_lit)
            }
            NodeKind::Call { function, args } => is_lit(function) && args.iter().all(is_lit),
            NodeKind::Neg(x) | NodeKind::Not(x) => is_lit(x),
            NodeKind::Binary { left, right, .. } | NodeKind::Regex { left, right, .. } => {
                is_lit(left) && is_lit(right)
            }
            _ => false,
        }
    }

    /// Evaluates the node.
    pub fn eval<'r>(&'r self, state: &mut EvalState<'r>) -> Result<Value, Box<EvalError>> {
        state.tick(1)?;
        // The error is boxed so results passed up the tree stay small.
        self.eval_inner(state)
            .map_err(|e| Box::new(e.at(self.span)))
    }

    /// Evaluates, borrowing constants instead of cloning them.
    ///
    /// Constants, context variables (when the context can lend them) and key lookups on
    /// borrowed mappings are borrowed, which saves reference-count traffic on hot paths such
    /// as `TWIN.company == USER.company`.
    pub fn eval_ref<'r>(
        &'r self,
        state: &mut EvalState<'r>,
    ) -> Result<Cow<'r, Value>, Box<EvalError>> {
        match &self.kind {
            NodeKind::Lit(value) => Ok(Cow::Borrowed(value)),
            NodeKind::Var(name) => {
                state.tick(1)?;
                let context = state.context;
                match context.resolve_ref(name) {
                    Some(value) => Ok(Cow::Borrowed(value)),
                    None => Ok(Cow::Owned(context.resolve(name).unwrap_or(Value::Null))),
                }
            }
            NodeKind::Attr { object, name } if !crate::attrs::is_mapping_attribute(name) => {
                let value = object.eval_ref(state)?;
                if let Cow::Borrowed(Value::Mapping(entries)) = value {
                    state.tick(1 + weight_len(entries.len()))?;
                    if let Some(found) = Value::mapping_get_str(entries, name) {
                        return Ok(Cow::Borrowed(found));
                    }
                }
                state.tick(weight(&value))?;
                crate::attrs::get_attribute(value.into_owned(), name)
                    .map(Cow::Owned)
                    .map_err(|e| Box::new(e.at(self.span)))
            }
            _ => self.eval(state).map(Cow::Owned),
        }
    }

    fn eval_inner<'r>(&'r self, state: &mut EvalState<'r>) -> Result<Value, EvalError> {
        match &self.kind {
            NodeKind::Lit(value) => Ok(value.clone()),
            NodeKind::Var(name) => Ok(state.context.resolve(name).unwrap_or(Value::Null)),
            NodeKind::Local(index) => Ok(state.locals.get(*index).cloned().unwrap_or(Value::Null)),
            NodeKind::Builtin(name) => crate::builtins::resolve_builtin(name, state),
            NodeKind::Array(items) => Ok(Value::array(eval_all(items, state)?)),
            NodeKind::Set(items) => {
                let members = eval_all(items, state)?;
                if let Some(bad) = members.iter().find(|m| !m.is_hashable()) {
                    return Err(EvalError::new(format!(
                        "the {} data type may not be used as a set member",
                        bad.value_type()
                    )));
                }
                Ok(Value::set(members))
            }
            NodeKind::Mapping(entries) => {
                // Like the reference: all keys first; a repeated key keeps its first position
                // but takes the last value expression, and only those are evaluated.
                let mut slots: Vec<(Value, &Node)> = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key = key.eval(state)?;
                    if !key.is_hashable() {
                        return Err(EvalError::new(format!(
                            "the {} data type may not be used for mapping keys",
                            key.value_type()
                        )));
                    }
                    match slots
                        .iter_mut()
                        .find(|(existing, _)| existing.loose_eq(&key))
                    {
                        Some(slot) => slot.1 = value,
                        None => slots.push((key, value)),
                    }
                }
                let mut out = Vec::with_capacity(slots.len());
                for (key, value) in slots {
                    out.push((key, value.eval(state)?));
                }
                Ok(Value::Mapping(std::sync::Arc::new(out)))
            }
            NodeKind::Attr { object, name } => {
                let value = object.eval(state)?;
                if let Value::Mapping(entries) = &value {
                    if !crate::attrs::is_mapping_attribute(name) {
                        // Fast path for the common `TWIN.company`: a plain key lookup.
                        state.tick(weight(&value))?;
                        if let Some(found) = Value::mapping_get_str(entries, name) {
                            return Ok(found.clone());
                        }
                    }
                }
                state.tick(weight(&value))?;
                crate::attrs::get_attribute(value, name)
            }
            NodeKind::Item { object, item, safe } => {
                let container = object.eval(state)?;
                if matches!(container, Value::Null) {
                    if *safe {
                        return Ok(Value::Null);
                    }
                    return Err(EvalError::mismatch("container is null"));
                }
                let key = item.eval(state)?;
                crate::ops::get_item(&container, &key, *safe)
            }
            NodeKind::Slice {
                object,
                start,
                stop,
                safe,
            } => {
                let container = object.eval(state)?;
                if matches!(container, Value::Null) {
                    if *safe {
                        return Ok(Value::Null);
                    }
                    return Err(EvalError::mismatch(""));
                }
                let start = match start {
                    Some(node) => node.eval(state)?,
                    None => Value::int(0),
                };
                let stop = match stop {
                    Some(node) => node.eval(state)?,
                    None => Value::Null,
                };
                crate::ops::get_slice(&container, &start, &stop)
            }
            NodeKind::Call { function, args } => {
                let callee = function.eval(state)?;
                let Value::Function(callee) = callee else {
                    return Err(EvalError::mismatch("not a callable value"));
                };
                let args = eval_all(args, state)?;
                state.tick(args.iter().map(weight).sum())?;
                let typed = match function.ty {
                    Ty::Function(Some(signature), receiver) => Some((signature, receiver)),
                    _ => None,
                };
                callee.call(args, state, typed)
            }
            NodeKind::Neg(operand) => crate::ops::negate(operand.eval(state)?),
            NodeKind::Not(operand) => Ok(Value::Bool(!operand.eval(state)?.is_truthy())),
            NodeKind::Binary { op, left, right } => match op {
                BinOp::And => {
                    let l = left.eval_ref(state)?.is_truthy();
                    Ok(Value::Bool(l && right.eval_ref(state)?.is_truthy()))
                }
                BinOp::Or => {
                    let l = left.eval_ref(state)?.is_truthy();
                    Ok(Value::Bool(l || right.eval_ref(state)?.is_truthy()))
                }
                BinOp::In | BinOp::NotIn => {
                    // The reference evaluates the container first, then the member.
                    let container = right.eval_ref(state)?;
                    let member = left.eval_ref(state)?;
                    state.tick(weight(&container))?;
                    let found = crate::ops::contains(&container, &member)?;
                    Ok(Value::Bool(if *op == BinOp::In { found } else { !found }))
                }
                _ => {
                    let l = left.eval_ref(state)?;
                    let r = right.eval_ref(state)?;
                    state.tick(weight(&l).saturating_add(weight(&r)))?;
                    crate::ops::binary(*op, &l, &r, state.limits)
                }
            },
            NodeKind::Regex {
                op,
                left,
                right,
                compiled,
            } => crate::regex_support::eval_regex(*op, left, right, compiled.as_deref(), state),
            NodeKind::Ternary {
                condition,
                when_true,
                when_false,
            } => {
                if condition.eval(state)?.is_truthy() {
                    Ok(when_true.eval(state)?)
                } else {
                    Ok(when_false.eval(state)?)
                }
            }
            NodeKind::Comprehension {
                result,
                iterable,
                condition,
            } => {
                let source = iterable.eval(state)?;
                if !Ty::shallow(&source).is_iterable_or_unknown() {
                    return Err(EvalError::mismatch("comprehension requires an iterable"));
                }
                let members = crate::ops::iterate(&source)?;
                let mut out = Vec::new();
                for member in members {
                    state.tick(1)?;
                    state.locals.push(member);
                    let keep = match condition {
                        Some(condition) => condition.eval(state).map(|v| v.is_truthy()),
                        None => Ok(true),
                    };
                    let produced = match keep {
                        Ok(true) => result.eval(state).map(Some),
                        Ok(false) => Ok(None),
                        Err(error) => Err(error),
                    };
                    state.locals.pop();
                    if let Some(value) = produced? {
                        out.push(value);
                        state.check_len(out.len())?;
                    }
                }
                Ok(Value::array(out))
            }
        }
    }
}

/// The work an operation over this value may do, counted against the step budget so that
/// linear operations inside loops cannot multiply into unbounded work.
fn weight_len(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

fn weight(value: &Value) -> u64 {
    let len = match value {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Array(items) | Value::Set(items) => items.len(),
        Value::Mapping(entries) => entries.len(),
        _ => 0,
    };
    u64::try_from(len).unwrap_or(u64::MAX)
}

fn eval_all<'r>(nodes: &'r [Node], state: &mut EvalState<'r>) -> Result<Vec<Value>, EvalError> {
    nodes
        .iter()
        .map(|n| n.eval(state).map_err(EvalError::from))
        .collect()
}
