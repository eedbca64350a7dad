//! The Trusted Twin rule language: the grammar and semantics of Python `rule-engine` 4.5.3,
//! evaluated as with `Context(default_value=None)` (missing variables and keys are null).
//!
//! This crate is pure: no IO, no async (only the default [`Context::now`] reads the clock). It
//! must not depend on any other Steward crate. `docs/rules.md` is the user's guide, including
//! every divergence from the reference.
//!
//! # API summary
//!
//! ```
//! use steward_rules::{MapContext, Rule, Value};
//!
//! let rule = Rule::parse("TWIN.kind == 'cat' and entry_name in LEDGER.public").unwrap();
//! assert_eq!(rule.variables(), ["TWIN", "entry_name", "LEDGER"]);
//! let context = MapContext::from_json(&serde_json::json!({
//!     "TWIN": {"kind": "cat"},
//!     "entry_name": "weight",
//!     "LEDGER": {"public": ["weight"]},
//! })).unwrap();
//! assert!(rule.matches(&context));
//! assert!(matches!(rule.evaluate(&context), Ok(Value::Bool(true))));
//! ```
//!
//! * [`Rule::parse`] / [`Rule::parse_with_limits`] parse and compile once; errors are
//!   [`RuleError::Parse`] (syntax, kind `parse`, with a byte span; render with
//!   [`RuleError::render`]) or [`RuleError::Eval`] (what the reference reports while
//!   building a rule, kind `eval`).
//! * [`Rule::evaluate`] returns a [`Value`] or an [`EvalError`]; [`Rule::matches`] is the
//!   fail-closed boolean (any error is `false`).
//! * [`Rule::variables`] lists the context variables a rule mentions; [`Context`] supplies
//!   them lazily ([`MapContext`] is a ready-made map, best built with
//!   [`MapContext::from_json_str`], which keeps key order like Python; closures
//!   `Fn(&str) -> Option<Value>` work too). Implement [`Context::resolve_ref`] to lend values
//!   without cloning, and [`Context::now`]/[`Context::random`] for repeatable `$now`/`$random`.
//! * [`json`] converts values to and from JSON with tagged forms; [`batch::eval_line`]
//!   implements the `steward rules eval --batch` line contract.
//! * [`Limits`] bounds rule length, nesting depth, evaluation steps and collection sizes.
//! * [`Rule::parse_expr`] gives the syntax tree ([`Expr`]); its `Display` prints rule text
//!   that parses back to the same tree.

mod ast;
mod attrs;
pub mod batch;
mod builtins;
mod builtins_impl;
mod compile;
mod context;
mod error;
mod eval;
pub mod json;
mod json_text;
mod lexer;
mod limits;
mod number;
mod number_pow;
mod ops;
mod parser;
mod printer;
mod regex_support;
mod render;
mod statics;
mod temporal;
mod value;

pub use ast::{BinOp, Expr, ExprKind, UnaryOp};
pub use context::{Context, EmptyContext, FnvHasher, MapContext, VariableMap};
pub use error::{EvalError, EvalErrorKind, ParseError, RuleError, Span};
pub use limits::Limits;
pub use number::Number;
pub use value::{Timedelta, Value, ValueType};

use eval::{EvalState, Node};

/// A parsed and compiled rule, ready to be evaluated many times (it is `Send + Sync`, so a
/// cache can share it between threads).
#[derive(Debug, Clone)]
pub struct Rule {
    text: String,
    expr: Expr,
    comment: Option<String>,
    root: Node,
    variables: Vec<String>,
    limits: Limits,
}

impl Rule {
    /// Parses and compiles a rule with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        Rule::parse_with_limits(text, Limits::default())
    }

    /// Parses and compiles a rule with the given limits.
    pub fn parse_with_limits(text: &str, limits: Limits) -> Result<Rule, RuleError> {
        let parsed = parser::parse(text, &limits)?;
        let mut variables = Vec::new();
        let root = compile::compile(&parsed.expr, &limits, &mut variables)?;
        Ok(Rule {
            text: text.to_string(),
            expr: parsed.expr,
            comment: parsed.comment,
            root,
            variables,
            limits,
        })
    }

    /// Parses only (no type checks, no constant folding): the syntax tree of a rule.
    pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
        parser::parse(text, &Limits::default()).map(|parsed| parsed.expr)
    }

    /// The rule text as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The trailing `#` comment, if any.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// The context variables the rule mentions, in order of first use (comprehension loop
    /// variables and `$` builtins are not included).
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Evaluates the rule.
    pub fn evaluate(&self, context: &dyn Context) -> Result<Value, EvalError> {
        let mut state = EvalState::new(&self.limits, context);
        self.root.eval(&mut state).map_err(|error| *error)
    }

    /// Whether the rule holds: the truthiness of its value; any error is `false` (fail
    /// closed).
    pub fn matches(&self, context: &dyn Context) -> bool {
        self.evaluate(context).is_ok_and(|value| value.is_truthy())
    }
}

impl std::fmt::Display for Rule {
    /// Prints the rule text as given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests;
