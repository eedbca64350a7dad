//! Pratt parser for the rule-engine 4.x grammar.
//!
//! Binding powers, lowest first (the reference's precedence table): `or`, `and`, `not`,
//! `|`, `^`, `&`, `? :` (right), comparisons (non-associative), `+ -`, `<< >>`,
//! `* / // %`, `**` (left-associative, as in the reference), unary `-`, then the postfix
//! operators `.`, `&.`, `[]`, `&[]` and calls. Attribute and item access only apply to
//! "objects" (names, literals other than numbers and booleans, groups and postfix results),
//! exactly as in the reference grammar, so `1.x` and `true[0]` are syntax errors.

use crate::ast::{BinOp, Expr, ExprKind, UnaryOp};
use crate::error::{ParseError, Span};
use crate::lexer::{tokenize, Tok, Token};
use crate::limits::Limits;
use crate::number::Number;

const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_NOT: u8 = 3;
const PREC_BITOR: u8 = 4;
const PREC_BITXOR: u8 = 5;
const PREC_BITAND: u8 = 6;
const PREC_TERNARY: u8 = 7;
const PREC_COMPARE: u8 = 8;
const PREC_ADD: u8 = 9;
const PREC_SHIFT: u8 = 10;
const PREC_MUL: u8 = 11;
const PREC_POW: u8 = 12;
const PREC_NEG: u8 = 13;
const PREC_POSTFIX: u8 = 14;

/// The result of parsing: the expression and the trailing comment, if any.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The rule's expression.
    pub expr: Expr,
    /// The text of a trailing `#` comment.
    pub comment: Option<String>,
}

/// Parses a rule under the given limits.
pub fn parse(text: &str, limits: &Limits) -> Result<Parsed, ParseError> {
    let chars = text.chars().count();
    if chars > limits.max_rule_chars {
        return Err(ParseError::new(
            format!(
                "rule is too long ({chars} characters, the limit is {})",
                limits.max_rule_chars
            ),
            Span::new(0, text.len()),
        ));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        max_depth: limits.max_depth,
    };
    let expr = parser.expression(0)?;
    let mut comment = None;
    if let Tok::Comment(text) = &parser.peek().tok {
        comment = Some(text.clone());
        parser.pos += 1;
    }
    if parser.peek().tok != Tok::Eof {
        return Err(parser.unexpected("an operator or the end of the rule"));
    }
    let height = expr.height();
    if height > limits.max_depth {
        return Err(ParseError::new(
            format!(
                "rule is nested too deeply ({height} levels, the limit is {})",
                limits.max_depth
            ),
            expr.span,
        ));
    }
    Ok(Parsed { expr, comment })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    max_depth: usize,
}

fn binary_op(tok: &Tok) -> Option<(BinOp, u8)> {
    let Tok::Op(op) = tok else { return None };
    let found = match *op {
        "or" => (BinOp::Or, PREC_OR),
        "and" => (BinOp::And, PREC_AND),
        "|" => (BinOp::BitOr, PREC_BITOR),
        "^" => (BinOp::BitXor, PREC_BITXOR),
        "&" => (BinOp::BitAnd, PREC_BITAND),
        "==" => (BinOp::Eq, PREC_COMPARE),
        "!=" => (BinOp::Ne, PREC_COMPARE),
        "<" => (BinOp::Lt, PREC_COMPARE),
        "<=" => (BinOp::Le, PREC_COMPARE),
        ">" => (BinOp::Gt, PREC_COMPARE),
        ">=" => (BinOp::Ge, PREC_COMPARE),
        "=~" => (BinOp::RegexMatch, PREC_COMPARE),
        "=~~" => (BinOp::RegexSearch, PREC_COMPARE),
        "!~" => (BinOp::RegexNotMatch, PREC_COMPARE),
        "!~~" => (BinOp::RegexNotSearch, PREC_COMPARE),
        "in" => (BinOp::In, PREC_COMPARE),
        "+" => (BinOp::Add, PREC_ADD),
        "-" => (BinOp::Sub, PREC_ADD),
        "<<" => (BinOp::Shl, PREC_SHIFT),
        ">>" => (BinOp::Shr, PREC_SHIFT),
        "*" => (BinOp::Mul, PREC_MUL),
        "/" => (BinOp::Div, PREC_MUL),
        "//" => (BinOp::FloorDiv, PREC_MUL),
        "%" => (BinOp::Mod, PREC_MUL),
        "**" => (BinOp::Pow, PREC_POW),
        _ => return None,
    };
    Some(found)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Number(text) => format!("number `{text}`"),
        Tok::Str(_) => "a string".to_string(),
        Tok::Bytes(_) => "a bytes literal".to_string(),
        Tok::Datetime(_) => "a datetime literal".to_string(),
        Tok::Timedelta(_) => "a timedelta literal".to_string(),
        Tok::Symbol(name) => format!("`{name}`"),
        Tok::Op(op) => format!("`{op}`"),
        Tok::Comment(_) => "a comment".to_string(),
        Tok::Eof => "end of rule".to_string(),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> &Token {
        // The token list always ends with Eof, so clamping keeps us on it.
        let index = (self.pos + offset).min(self.tokens.len().saturating_sub(1));
        &self.tokens[index]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        let token = self.peek();
        ParseError::new(
            format!("syntax error: unexpected {}", describe(&token.tok)),
            token.span,
        )
        .expecting(expected)
    }

    fn expect(&mut self, op: &str) -> Result<Span, ParseError> {
        if self.is_op(op) {
            Ok(self.advance().span)
        } else {
            Err(self.unexpected(&format!("`{op}`")))
        }
    }

    /// Rejects a tree taller than the limit as soon as it is built, so long operator chains
    /// (`1+1+1…`) never produce a tree deeper than the limit.
    fn check_height(&self, expr: &Expr) -> Result<(), ParseError> {
        if expr.height() > self.max_depth {
            return Err(ParseError::new(
                format!(
                    "rule is nested too deeply ({} levels, the limit is {})",
                    expr.height(),
                    self.max_depth
                ),
                expr.span,
            ));
        }
        Ok(())
    }

    fn expression(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            let span = self.peek().span;
            return Err(ParseError::new(
                format!(
                    "rule is nested too deeply (the limit is {})",
                    self.max_depth
                ),
                span,
            ));
        }
        let result = self.expression_inner(min_prec);
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        let (mut left, mut is_object) = self.prefix()?;
        let mut previous_was_comparison = false;
        loop {
            let token = self.peek().clone();
            if PREC_POSTFIX >= min_prec {
                if let Some(expr) = self.postfix(&left, is_object)? {
                    self.check_height(&expr)?;
                    left = expr;
                    is_object = true;
                    previous_was_comparison = false;
                    continue;
                }
            }
            // `not in` takes its left operand at the precedence of `not` (the reference's
            // parser decides on the `not` token), and its right one like a comparison.
            let (op, prec) = if matches!(token.tok, Tok::Op("not"))
                && matches!(self.peek_at(1).tok, Tok::Op("in"))
            {
                (BinOp::NotIn, PREC_NOT)
            } else if matches!(token.tok, Tok::Op("?")) {
                if PREC_TERNARY < min_prec {
                    break;
                }
                self.advance();
                let when_true = self.expression(0)?;
                self.expect(":")?;
                let when_false = self.expression(PREC_TERNARY)?;
                let span = left.span.to(when_false.span);
                left = Expr::new(
                    ExprKind::Ternary {
                        condition: Box::new(left),
                        when_true: Box::new(when_true),
                        when_false: Box::new(when_false),
                    },
                    span,
                );
                self.check_height(&left)?;
                is_object = false;
                previous_was_comparison = false;
                continue;
            } else if let Some(found) = binary_op(&token.tok) {
                found
            } else {
                break;
            };
            if prec < min_prec {
                break;
            }
            if prec == PREC_COMPARE && previous_was_comparison && op != BinOp::NotIn {
                return Err(ParseError::new(
                    "syntax error: comparison operators cannot be chained",
                    token.span,
                )
                .expecting("parentheses around the first comparison"));
            }
            self.advance();
            if op == BinOp::NotIn {
                self.advance();
            }
            let right_prec = if op == BinOp::NotIn {
                PREC_COMPARE
            } else {
                prec
            } + 1;
            let right = self.expression(right_prec)?;
            let span = left.span.to(right.span);
            left = Expr::new(
                ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            );
            self.check_height(&left)?;
            is_object = false;
            previous_was_comparison = prec == PREC_COMPARE || op == BinOp::NotIn;
        }
        Ok(left)
    }

    /// Parses a prefix operator or a primary; returns whether the result is an "object".
    fn prefix(&mut self) -> Result<(Expr, bool), ParseError> {
        let token = self.advance();
        let span = token.span;
        let literal = |kind| Ok((Expr::new(kind, span), true));
        match token.tok {
            Tok::Op("-") | Tok::Op("not") => {
                let (op, prec) = if token.tok == Tok::Op("-") {
                    (UnaryOp::Neg, PREC_NEG)
                } else {
                    (UnaryOp::Not, PREC_NOT)
                };
                let operand = self.expression(prec)?;
                let span = span.to(operand.span);
                let kind = ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                };
                Ok((Expr::new(kind, span), false))
            }
            Tok::Number(text) => {
                // Invalid numbers (`007`) are reported while compiling, in the reference's
                // build order, because another build error may come first there.
                let kind = match parse_number_literal(&text, span) {
                    Ok(number) => ExprKind::Number(number),
                    Err(_) => ExprKind::BadNumber(text),
                };
                Ok((Expr::new(kind, span), false))
            }
            Tok::Op("inf") => Ok((Expr::new(ExprKind::Number(Number::PosInf), span), false)),
            Tok::Op("nan") => Ok((Expr::new(ExprKind::Number(Number::NaN), span), false)),
            Tok::Op("true") => Ok((Expr::new(ExprKind::Bool(true), span), false)),
            Tok::Op("false") => Ok((Expr::new(ExprKind::Bool(false), span), false)),
            Tok::Op("null") => literal(ExprKind::Null),
            Tok::Str(text) => literal(ExprKind::String(text)),
            Tok::Bytes(bytes) => literal(ExprKind::Bytes(bytes)),
            Tok::Datetime(text) => literal(ExprKind::Datetime(text)),
            Tok::Timedelta(text) => literal(ExprKind::Timedelta(text)),
            Tok::Symbol(name) => {
                let kind = match name.strip_prefix('$') {
                    Some(stripped) => ExprKind::Symbol {
                        name: stripped.to_string(),
                        builtin: true,
                    },
                    None => ExprKind::Symbol {
                        name,
                        builtin: false,
                    },
                };
                literal(kind)
            }
            Tok::Op("(") => {
                let inner = self.expression(0)?;
                let close = self.expect(")")?;
                Ok((Expr::new(inner.kind, span.to(close)), true))
            }
            Tok::Op("[") => self.array_or_comprehension(span).map(|e| (e, true)),
            Tok::Op("{") => self.set_or_mapping(span).map(|e| (e, true)),
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(self.unexpected("an expression"))
            }
        }
    }

    fn postfix(&mut self, left: &Expr, is_object: bool) -> Result<Option<Expr>, ParseError> {
        let token = self.peek().clone();
        let Tok::Op(op) = token.tok else {
            return Ok(None);
        };
        match op {
            "(" => {
                self.advance();
                let (args, close) = self.members(")", false)?;
                let kind = ExprKind::Call {
                    function: Box::new(left.clone()),
                    args,
                };
                Ok(Some(Expr::new(kind, left.span.to(close))))
            }
            "." | "&." | "[" | "&[" if !is_object => Err(ParseError::new(
                format!("syntax error: unexpected `{op}`"),
                token.span,
            )
            .expecting("an operator (wrap the value in parentheses to use it)")),
            "." | "&." => {
                self.advance();
                let name_token = self.advance();
                let Tok::Symbol(name) = name_token.tok else {
                    return Err(ParseError::new(
                        "syntax error: expected a name",
                        name_token.span,
                    ));
                };
                let kind = ExprKind::Attr {
                    object: Box::new(left.clone()),
                    name,
                    safe: op == "&.",
                };
                Ok(Some(Expr::new(kind, left.span.to(name_token.span))))
            }
            "[" | "&[" => {
                self.advance();
                let object = Box::new(left.clone());
                let safe = op == "&[";
                let start = if self.is_op(":") {
                    None
                } else {
                    Some(Box::new(self.expression(0)?))
                };
                if self.is_op(":") {
                    self.advance();
                    let stop = if self.is_op("]") {
                        None
                    } else {
                        Some(Box::new(self.expression(0)?))
                    };
                    let close = self.expect("]")?;
                    let kind = ExprKind::Slice {
                        object,
                        start,
                        stop,
                        safe,
                    };
                    return Ok(Some(Expr::new(kind, left.span.to(close))));
                }
                let close = self.expect("]")?;
                let Some(item) = start else {
                    return Err(self.unexpected("an expression"));
                };
                let kind = ExprKind::Item { object, item, safe };
                Ok(Some(Expr::new(kind, left.span.to(close))))
            }
            _ => Ok(None),
        }
    }

    /// Parses comma separated expressions up to `close`; returns them and the close span.
    fn members(
        &mut self,
        close: &str,
        trailing_comma: bool,
    ) -> Result<(Vec<Expr>, Span), ParseError> {
        let mut items = Vec::new();
        if self.is_op(close) {
            return Ok((items, self.advance().span));
        }
        loop {
            items.push(self.expression(0)?);
            if self.is_op(",") {
                self.advance();
                if trailing_comma && self.is_op(close) {
                    break;
                }
                continue;
            }
            break;
        }
        let span = self.expect(close)?;
        Ok((items, span))
    }

    fn array_or_comprehension(&mut self, open: Span) -> Result<Expr, ParseError> {
        if self.is_op("]") {
            let close = self.advance().span;
            return Ok(Expr::new(ExprKind::Array(Vec::new()), open.to(close)));
        }
        let first = self.expression(0)?;
        if self.is_op("for") {
            self.advance();
            let variable_token = self.advance();
            let Tok::Symbol(variable) = variable_token.tok else {
                return Err(ParseError::new(
                    "syntax error: expected a loop variable name",
                    variable_token.span,
                ));
            };
            if variable.starts_with('$') {
                return Err(ParseError::new(
                    "syntax error: a loop variable cannot start with `$`",
                    variable_token.span,
                ));
            }
            self.expect("in")?;
            let iterable = self.expression(0)?;
            let condition = if self.is_op("if") {
                self.advance();
                Some(Box::new(self.expression(0)?))
            } else {
                None
            };
            let close = self.expect("]")?;
            let kind = ExprKind::Comprehension {
                result: Box::new(first),
                variable,
                iterable: Box::new(iterable),
                condition,
            };
            return Ok(Expr::new(kind, open.to(close)));
        }
        let mut items = vec![first];
        let close = if self.is_op(",") {
            self.advance();
            let (rest, close) = self.members("]", true)?;
            items.extend(rest);
            close
        } else {
            self.expect("]")?
        };
        Ok(Expr::new(ExprKind::Array(items), open.to(close)))
    }

    fn set_or_mapping(&mut self, open: Span) -> Result<Expr, ParseError> {
        if self.is_op("}") {
            let close = self.advance().span;
            return Ok(Expr::new(ExprKind::Mapping(Vec::new()), open.to(close)));
        }
        let first = self.expression(0)?;
        if !self.is_op(":") {
            let mut items = vec![first];
            let close = if self.is_op(",") {
                self.advance();
                if self.is_op("}") {
                    self.advance().span
                } else {
                    let (rest, close) = self.members("}", true)?;
                    items.extend(rest);
                    close
                }
            } else {
                self.expect("}")?
            };
            return Ok(Expr::new(ExprKind::Set(items), open.to(close)));
        }
        self.advance();
        let mut entries = vec![(first, self.expression(0)?)];
        loop {
            if self.is_op(",") {
                self.advance();
                if self.is_op("}") {
                    break;
                }
                let key = self.expression(0)?;
                self.expect(":")?;
                let value = self.expression(0)?;
                entries.push((key, value));
                continue;
            }
            break;
        }
        let close = self.expect("}")?;
        Ok(Expr::new(ExprKind::Mapping(entries), open.to(close)))
    }
}

/// Parses a number token like the reference's `parse_float`.
pub fn parse_number_literal(text: &str, span: Span) -> Result<Number, ParseError> {
    let bad = |detail: &str| {
        ParseError::new(
            format!("invalid floating point literal `{text}`{detail}"),
            span,
        )
    };
    let radix = match text.get(..2) {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = text.get(2..).unwrap_or("");
        let value = i128::from_str_radix(digits, radix).map_err(|_| bad(""))?;
        let value = i64::try_from(value).map_err(|_| bad(" (out of range)"))?;
        return Ok(Number::from_i64(value));
    }
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'0') && bytes.get(1).is_some_and(u8::is_ascii_digit) {
        return Err(bad(
            " (leading zeros in decimal literals are not permitted)",
        ));
    }
    Number::parse_decimal_text(text).ok_or_else(|| bad(" (out of range)"))
}
