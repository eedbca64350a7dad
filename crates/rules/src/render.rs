//! Renders a syntax error under the rule text with a caret line.

use crate::error::ParseError;

/// Formats `error: message` followed by the offending line of the rule and a caret line
/// under the span (at least one caret), plus what was expected.
pub fn render_diagnostic(rule: &str, error: &ParseError) -> String {
    let start = floor_char_boundary(rule, error.span.start.min(rule.len()));
    let end = floor_char_boundary(rule, error.span.end.min(rule.len())).max(start);
    let line_start = rule
        .get(..start)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = rule
        .get(start..)
        .and_then(|s| s.find('\n'))
        .map_or(rule.len(), |i| start + i);
    let line = rule.get(line_start..line_end).unwrap_or("");
    let column = rule.get(line_start..start).map_or(0, |s| s.chars().count());
    let width = rule
        .get(start..end.min(line_end))
        .map_or(0, |s| s.chars().count())
        .max(1);
    let mut out = format!(
        "error: {}\n  | {line}\n  | {}{}",
        error.message,
        " ".repeat(column),
        "^".repeat(width)
    );
    if let Some(expected) = &error.expected {
        out.push_str(&format!(" expected {expected}"));
    }
    out
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Span;

    #[test]
    fn caret_sits_under_the_span() {
        let error = ParseError::new("unexpected `)`", Span::new(4, 5)).expecting("an expression");
        let text = render_diagnostic("1 + )", &error);
        assert_eq!(
            text,
            "error: unexpected `)`\n  | 1 + )\n  |     ^ expected an expression"
        );
    }

    #[test]
    fn end_of_input_gets_one_caret() {
        let error = ParseError::new("unexpected end of rule", Span::new(3, 3));
        assert!(render_diagnostic("1 +", &error).ends_with("  |    ^"));
    }
}
