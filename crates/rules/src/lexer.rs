//! Tokenizer, following the token rules of rule-engine 4.5.3.
//!
//! Notable reference behaviours kept here: `.` and `&.` are attribute operators only when
//! glued to the previous token and followed by a name; `&[` is the safe item operator only
//! when glued to the previous token; a `#` comment must run to the end of the rule; only
//! space, tab and newline are whitespace; `elif`, `else` and `while` are reserved.

use crate::error::{ParseError, Span};

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A number literal's source text (`12`, `1.5e3`, `0x1f`).
    Number(String),
    /// A string literal's decoded content.
    Str(String),
    /// A bytes literal's decoded content.
    Bytes(Vec<u8>),
    /// A datetime literal's raw content.
    Datetime(String),
    /// A timedelta literal's raw content.
    Timedelta(String),
    /// A name, possibly with a leading `$`.
    Symbol(String),
    /// A keyword or operator, by its text (`and`, `==`, `&[`, `(`...).
    Op(&'static str),
    /// A trailing comment (content without `#`).
    Comment(String),
    /// End of input.
    Eof,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The kind.
    pub tok: Tok,
    /// Its byte span.
    pub span: Span,
}

const KEYWORDS: &[&str] = &[
    "true", "false", "null", "inf", "nan", "and", "or", "not", "in", "for", "if",
];

/// Splits the rule into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0usize;
    while let Some(&c) = bytes.get(pos) {
        let start = pos;
        let glued = pos > 0 && bytes.get(pos - 1).is_some_and(|b| !b.is_ascii_whitespace());
        let next = bytes.get(pos + 1).copied();
        let tok = match c {
            b' ' | b'\t' | b'\n' => {
                pos += 1;
                continue;
            }
            b'#' => {
                let rest = &text[pos + 1..];
                let body = rest.strip_suffix('\n').unwrap_or(rest);
                if body.contains('\n') {
                    return Err(illegal(text, pos));
                }
                pos = text.len();
                Tok::Comment(body.trim().to_string())
            }
            b'0'..=b'9' => {
                pos = scan_number(bytes, pos);
                Tok::Number(text[start..pos].to_string())
            }
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                pos = scan_number(bytes, pos);
                Tok::Number(text[start..pos].to_string())
            }
            b'.' if glued && next.is_some_and(is_name_start) => {
                pos += 1;
                Tok::Op(".")
            }
            b'&' if glued
                && next == Some(b'.')
                && bytes.get(pos + 2).copied().is_some_and(is_name_start) =>
            {
                pos += 2;
                Tok::Op("&.")
            }
            b'&' if glued && next == Some(b'[') => {
                pos += 2;
                Tok::Op("&[")
            }
            b'\'' | b'"' => {
                let (content, end) = scan_quoted(text, pos)?;
                pos = end;
                Tok::Str(decode_string(content, Span::new(start, end))?)
            }
            b'b' | b'd' | b't' | b's' if matches!(next, Some(b'\'' | b'"')) => {
                let (content, end) = scan_quoted(text, pos + 1)?;
                pos = end;
                let span = Span::new(start, end);
                match c {
                    b'b' => Tok::Bytes(decode_bytes(content, span)?),
                    b'd' => Tok::Datetime(content.to_string()),
                    b't' => Tok::Timedelta(content.to_string()),
                    _ => Tok::Str(decode_string(content, span)?),
                }
            }
            b'$' if next.is_some_and(is_name_start) => {
                pos = scan_name(bytes, pos + 1);
                Tok::Symbol(text[start..pos].to_string())
            }
            c if is_name_start(c) => {
                pos = scan_name(bytes, pos);
                let word = &text[start..pos];
                if matches!(word, "elif" | "else" | "while") {
                    return Err(ParseError::new(
                        format!("the `{word}` keyword is reserved for future use"),
                        Span::new(start, pos),
                    ));
                }
                match KEYWORDS.iter().find(|k| **k == word) {
                    Some(keyword) => Tok::Op(keyword),
                    None => Tok::Symbol(word.to_string()),
                }
            }
            _ => {
                let op = operator_at(&text[pos..]).ok_or_else(|| illegal(text, pos))?;
                pos += op.len();
                Tok::Op(op)
            }
        };
        tokens.push(Token {
            tok,
            span: Span::new(start, pos),
        });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(text.len(), text.len()),
    });
    Ok(tokens)
}

const OPERATORS: &[&str] = &[
    "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "=~~", "=~", "!~~", "!~", "+", "-", "*", "/",
    "%", "&", "|", "^", "<", ">", "(", ")", "[", "]", "{", "}", "?", ":", ",",
];

fn operator_at(rest: &str) -> Option<&'static str> {
    // Longest match first: three-character operators, then two, then one.
    (1..=3)
        .rev()
        .filter_map(|len| rest.get(..len))
        .find_map(|prefix| OPERATORS.iter().find(|op| **op == prefix).copied())
}

fn illegal(text: &str, pos: usize) -> ParseError {
    let ch = text[pos..].chars().next().unwrap_or(' ');
    ParseError::new(
        format!("illegal character `{ch}`"),
        Span::new(pos, pos + ch.len_utf8()),
    )
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn scan_name(bytes: &[u8], mut pos: usize) -> usize {
    while bytes
        .get(pos)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        pos += 1;
    }
    pos
}

fn scan_digits(bytes: &[u8], mut pos: usize, ok: fn(u8) -> bool) -> usize {
    while bytes.get(pos).copied().is_some_and(ok) {
        pos += 1;
    }
    pos
}

/// Mirrors the reference's FLOAT token: `0b…`, `0o…`, `0x…`, or decimal with optional
/// fraction and exponent.
fn scan_number(bytes: &[u8], pos: usize) -> usize {
    if bytes.get(pos) == Some(&b'0') {
        let radix_digits: Option<fn(u8) -> bool> = match bytes.get(pos + 1) {
            Some(b'b') => Some(|c| c == b'0' || c == b'1'),
            Some(b'o') => Some(|c| (b'0'..=b'7').contains(&c)),
            Some(b'x') => Some(|c| c.is_ascii_hexdigit()),
            _ => None,
        };
        if let Some(ok) = radix_digits {
            let end = scan_digits(bytes, pos + 2, ok);
            if end > pos + 2 {
                return end;
            }
        }
    }
    let mut end = scan_digits(bytes, pos, |c| c.is_ascii_digit());
    if bytes.get(end) == Some(&b'.') {
        end = scan_digits(bytes, end + 1, |c| c.is_ascii_digit());
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exp = end + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_end = scan_digits(bytes, exp, |c| c.is_ascii_digit());
        if exp_end > exp {
            end = exp_end;
        }
    }
    end
}

/// Finds the closing quote; a raw newline ends the literal with an error.
fn scan_quoted(text: &str, quote_pos: usize) -> Result<(&str, usize), ParseError> {
    let bytes = text.as_bytes();
    let quote = bytes.get(quote_pos).copied().unwrap_or(b'"');
    let mut pos = quote_pos + 1;
    loop {
        match bytes.get(pos) {
            None | Some(b'\n') => {
                return Err(ParseError::new(
                    "unterminated string literal",
                    Span::new(quote_pos, pos),
                )
                .expecting(format!("a closing `{}`", quote as char)))
            }
            Some(b'\\') => {
                if matches!(bytes.get(pos + 1), None | Some(b'\n')) {
                    pos += 1;
                    continue;
                }
                pos += 2;
                while pos < text.len() && !text.is_char_boundary(pos) {
                    pos += 1;
                }
            }
            Some(&c) if c == quote => {
                return Ok((&text[quote_pos + 1..pos], pos + 1));
            }
            Some(_) => pos += 1,
        }
    }
}

/// Decodes Python `unicode_escape` sequences; unknown escapes stay as written.
fn decode_string(content: &str, span: Span) -> Result<String, ParseError> {
    let mut out = String::with_capacity(content.len());
    let mut chars = content.chars().peekable();
    let bad = || ParseError::new("invalid string literal", span);
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err(bad());
        };
        match e {
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0'..='7' => {
                let mut code = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(code).ok_or_else(bad)?);
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut code = 0u32;
                for _ in 0..len {
                    let digit = chars.next().and_then(|d| d.to_digit(16)).ok_or_else(bad)?;
                    code = code * 16 + digit;
                }
                out.push(char::from_u32(code).ok_or_else(bad)?);
            }
            // Named escapes need the Unicode name table; reject them rather than guess.
            'N' => return Err(bad()),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Decodes a Python bytes literal body: ASCII only, with `\xhh` and the usual escapes.
fn decode_bytes(content: &str, span: Span) -> Result<Vec<u8>, ParseError> {
    if !content.is_ascii() {
        return Err(ParseError::new("invalid bytes literal", span));
    }
    let mut out = Vec::with_capacity(content.len());
    let bytes = content.as_bytes();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = bytes.get(i) else {
            return Err(ParseError::new("invalid bytes literal", span));
        };
        i += 1;
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'x' => {
                let hex = content.get(i..i + 2).unwrap_or("");
                let value = u8::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or_else(|| ParseError::new("invalid bytes literal", span))?;
                out.push(value);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut code = u32::from(e - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            code = code * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((code & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn attribute_dot_must_be_glued() {
        assert_eq!(
            kinds("a.b"),
            vec![
                Tok::Symbol("a".into()),
                Tok::Op("."),
                Tok::Symbol("b".into()),
                Tok::Eof
            ]
        );
        assert!(tokenize("a .b").is_err());
    }

    #[test]
    fn safe_operators_and_bitwise_and() {
        assert_eq!(kinds("a&.b")[1], Tok::Op("&."));
        assert_eq!(kinds("a&[0]")[1], Tok::Op("&["));
        assert_eq!(kinds("a & [0]")[1], Tok::Op("&"));
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(kinds("b'\\x00a'")[0], Tok::Bytes(vec![0, b'a']));
        assert_eq!(
            kinds("d'2024-01-01'")[0],
            Tok::Datetime("2024-01-01".into())
        );
        assert_eq!(kinds("t'P1D'")[0], Tok::Timedelta("P1D".into()));
        assert_eq!(kinds("s'x\\n'")[0], Tok::Str("x\n".into()));
        assert_eq!(kinds("'a\\d'")[0], Tok::Str("a\\d".into()));
    }

    #[test]
    fn numbers_follow_the_reference_token() {
        assert_eq!(kinds("0x1F")[0], Tok::Number("0x1F".into()));
        assert_eq!(kinds("1.5e-3")[0], Tok::Number("1.5e-3".into()));
        assert_eq!(kinds(".5")[0], Tok::Number(".5".into()));
        assert_eq!(kinds("1e")[1], Tok::Symbol("e".into()));
    }

    #[test]
    fn comments_must_end_the_rule() {
        assert_eq!(kinds("1 # one")[1], Tok::Comment("one".into()));
        assert!(tokenize("1 # one\n2").is_err());
    }

    #[test]
    fn reserved_words_and_illegal_characters() {
        let error = tokenize("x else y").unwrap_err();
        assert_eq!(error.span, Span::new(2, 6));
        let error = tokenize("1 @ 2").unwrap_err();
        assert_eq!(error.message, "illegal character `@`");
        assert_eq!(error.span, Span::new(2, 3));
        assert!(tokenize("'abc").is_err());
    }
}
