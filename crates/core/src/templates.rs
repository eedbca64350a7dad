//! Name templates in Python `str.format` style (`{token}`, with `{{` and `}}` for literal
//! braces, no format specs), as Trusted Twin uses them for topic names and log dimensions. Which
//! tokens exist depends on where the template is used: the caller says which it knows.

/// A piece of a parsed template.
pub(crate) enum Piece<'a> {
    /// Literal text (braces already unescaped).
    Text(String),
    /// A `{token}` to replace.
    Token(&'a str),
}

/// Parses `template`; a token `known` refuses, an unclosed `{` or a lone `}` is an error.
pub(crate) fn parse_template(
    template: &str,
    known: impl Fn(&str) -> bool,
) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(position) = rest.find(['{', '}']) {
        text.push_str(&rest[..position]);
        let tail = &rest[position..];
        if let Some(after) = tail.strip_prefix("{{") {
            text.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            text.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            let end = after
                .find('}')
                .ok_or_else(|| format!("`{template}` has an unclosed `{{`"))?;
            let token = &after[..end];
            if !known(token) {
                return Err(format!("`{{{token}}}` is not a template variable"));
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Token(token));
            rest = &after[end + 1..];
        } else {
            return Err(format!("`{template}` has a lone `}}`"));
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}
