//! The syntax tree produced by the parser.

use crate::error::Span;
use crate::number::Number;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~` (regex match at start)
    RegexMatch,
    /// `=~~` (regex search)
    RegexSearch,
    /// `!~`
    RegexNotMatch,
    /// `!~~`
    RegexNotSearch,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinOp {
    /// The operator's source text.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::RegexMatch => "=~",
            BinOp::RegexSearch => "=~~",
            BinOp::RegexNotMatch => "!~",
            BinOp::RegexNotSearch => "!~~",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    /// All operators (used by generators and tests).
    pub const ALL: [BinOp; 26] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::FloorDiv,
        BinOp::Mod,
        BinOp::Pow,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::BitAnd,
        BinOp::BitOr,
        BinOp::BitXor,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::RegexMatch,
        BinOp::RegexSearch,
        BinOp::RegexNotMatch,
        BinOp::RegexNotSearch,
        BinOp::In,
        BinOp::NotIn,
        BinOp::And,
        BinOp::Or,
    ];
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `not`
    Not,
}

/// An expression with its source span. Equality ignores spans.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the rule text.
    pub span: Span,
    /// Height of the tree below (a leaf is 1), kept so depth limits are checked as the tree
    /// is built, never by walking a deep tree.
    height: usize,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

impl Expr {
    /// Builds an expression.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let height = 1 + kind.children().map(|child| child.height).max().unwrap_or(0);
        Expr { kind, span, height }
    }

    /// Height of the tree (a leaf has height 1).
    pub fn height(&self) -> usize {
        self.height
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal (including `inf`, `nan`).
    Number(Number),
    /// A number token the reference only rejects while building the rule (leading zeros,
    /// out-of-range radix literals); compiling it is a syntax error.
    BadNumber(String),
    /// A string literal.
    String(String),
    /// A bytes literal.
    Bytes(Vec<u8>),
    /// A datetime literal; the raw text between the quotes.
    Datetime(String),
    /// A timedelta literal; the raw text between the quotes.
    Timedelta(String),
    /// `[a, b]`
    Array(Vec<Expr>),
    /// `{a, b}`
    Set(Vec<Expr>),
    /// `{k: v}`; `{}` is the empty mapping.
    Mapping(Vec<(Expr, Expr)>),
    /// A variable (`TWIN`) or, with `builtin`, a `$` symbol (`$now`).
    Symbol {
        /// The name without `$`.
        name: String,
        /// Whether it was written with `$`.
        builtin: bool,
    },
    /// `obj.name` or, with `safe`, `obj&.name`.
    Attr {
        /// The object.
        object: Box<Expr>,
        /// The attribute or key name.
        name: String,
        /// Whether `&.` was used.
        safe: bool,
    },
    /// `obj[item]` / `obj&[item]`.
    Item {
        /// The container.
        object: Box<Expr>,
        /// The index or key.
        item: Box<Expr>,
        /// Whether `&[` was used.
        safe: bool,
    },
    /// `obj[start:stop]` / `obj&[start:stop]`.
    Slice {
        /// The container.
        object: Box<Expr>,
        /// The start, if written.
        start: Option<Box<Expr>>,
        /// The stop, if written.
        stop: Option<Box<Expr>>,
        /// Whether `&[` was used.
        safe: bool,
    },
    /// `f(a, b)`.
    Call {
        /// The callee.
        function: Box<Expr>,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `-x` / `not x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a OP b`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `cond ? a : b`.
    Ternary {
        /// The condition.
        condition: Box<Expr>,
        /// Value when true.
        when_true: Box<Expr>,
        /// Value when false.
        when_false: Box<Expr>,
    },
    /// `[result for variable in iterable if condition]`.
    Comprehension {
        /// The produced expression.
        result: Box<Expr>,
        /// The loop variable.
        variable: String,
        /// What is iterated.
        iterable: Box<Expr>,
        /// The optional filter.
        condition: Option<Box<Expr>>,
    },
}

impl ExprKind {
    /// The direct sub-expressions.
    pub fn children(&self) -> impl Iterator<Item = &Expr> {
        let list: Vec<&Expr> = match self {
            ExprKind::Array(items) | ExprKind::Set(items) => items.iter().collect(),
            ExprKind::Mapping(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
            ExprKind::Attr { object, .. } => vec![object],
            ExprKind::Item { object, item, .. } => vec![object, item],
            ExprKind::Slice {
                object,
                start,
                stop,
                ..
            } => std::iter::once(&**object)
                .chain(start.as_deref())
                .chain(stop.as_deref())
                .collect(),
            ExprKind::Call { function, args } => std::iter::once(&**function).chain(args).collect(),
            ExprKind::Unary { operand, .. } => vec![operand],
            ExprKind::Binary { left, right, .. } => vec![left, right],
            ExprKind::Ternary {
                condition,
                when_true,
                when_false,
            } => vec![condition, when_true, when_false],
            ExprKind::Comprehension {
                result,
                iterable,
                condition,
                ..
            } => [&**result, &**iterable]
                .into_iter()
                .chain(condition.as_deref())
                .collect(),
            _ => Vec::new(),
        };
        list.into_iter()
    }
}
