//! Error types: syntax errors (with a byte span) and evaluation errors.

use std::fmt;

/// A half-open byte range `start..end` into the rule text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// Builds a span.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A syntax error: bad token, bad literal, bad regex, unexpected token, or a limit exceeded
/// while parsing. Reported as kind `parse`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", expected.as_ref().map(|e| format!(" (expected {e})")).unwrap_or_default())]
pub struct ParseError {
    /// Lowercase description, user input in backticks.
    pub message: String,
    /// Where in the rule the problem is.
    pub span: Span,
    /// What the parser expected at that point, if known (for example `an expression`).
    pub expected: Option<String>,
}

impl ParseError {
    /// Builds a syntax error.
    pub fn new(message: impl Into<String>, span: Span) -> ParseError {
        ParseError {
            message: message.into(),
            span,
            expected: None,
        }
    }

    /// Adds what was expected.
    pub fn expecting(mut self, expected: impl Into<String>) -> ParseError {
        self.expected = Some(expected.into());
        self
    }

    /// Renders the error with the rule text and a caret line under the span.
    pub fn render(&self, rule: &str) -> String {
        crate::render::render_diagnostic(rule, self)
    }
}

/// The family of an evaluation error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// A type or value error detected by evaluation (kind `eval`).
    Eval,
    /// A regular expression that only became known while evaluating was invalid; the
    /// reference raises its syntax-error family for this, so it is reported as `parse`.
    RegexSyntax,
}

/// An error raised while evaluating (or, for constant sub-expressions and static type
/// checks, while compiling) a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// Lowercase description.
    pub message: String,
    /// The error family.
    pub kind: EvalErrorKind,
    /// The expression that failed, when known.
    pub span: Option<Span>,
}

impl EvalError {
    /// Builds an evaluation error.
    pub fn new(message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            kind: EvalErrorKind::Eval,
            span: None,
        }
    }

    /// The reference's generic type error.
    pub fn mismatch(detail: &str) -> EvalError {
        if detail.is_empty() {
            EvalError::new("data type mismatch")
        } else {
            EvalError::new(format!("data type mismatch ({detail})"))
        }
    }

    /// Attaches a span if none is set yet.
    pub fn at(mut self, span: Span) -> EvalError {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl From<Box<EvalError>> for EvalError {
    fn from(error: Box<EvalError>) -> EvalError {
        *error
    }
}

impl From<crate::number::ArithError> for EvalError {
    fn from(error: crate::number::ArithError) -> EvalError {
        EvalError::new(error.to_string())
    }
}

/// Any error from [`crate::Rule::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The text is not a valid rule (kind `parse`).
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The rule is well formed, but building it failed the way the reference fails while
    /// building: a static type error or an error in a constant sub-expression (kind `eval`).
    #[error("{0}")]
    Eval(#[from] EvalError),
}

impl RuleError {
    /// `"parse"` or `"eval"`, as used by the batch contract.
    pub fn kind_name(&self) -> &'static str {
        match self {
            RuleError::Parse(_) => "parse",
            RuleError::Eval(error) => error.kind_name(),
        }
    }

    /// Renders the error with a caret line when a span is known.
    pub fn render(&self, rule: &str) -> String {
        match self {
            RuleError::Parse(error) => error.render(rule),
            RuleError::Eval(error) => match error.span {
                Some(span) => crate::render::render_diagnostic(
                    rule,
                    &ParseError::new(error.message.clone(), span),
                ),
                None => format!("error: {}", error.message),
            },
        }
    }
}

impl EvalError {
    /// `"parse"` for regex syntax errors, `"eval"` otherwise.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            EvalErrorKind::Eval => "eval",
            EvalErrorKind::RegexSyntax => "parse",
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}
