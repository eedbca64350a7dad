//! Regular expressions with the linear-time `regex` crate.
//!
//! `=~` / `!~` anchor at the start (Python `re.match`), `=~~` / `!~~` search anywhere
//! (`re.search`). Patterns the engine cannot run in linear time (look-around,
//! back-references) are rejected with a clear message.

use regex::{Regex, RegexBuilder};

use crate::ast::BinOp;
use crate::error::{EvalError, EvalErrorKind};
use crate::eval::{EvalState, Node};
use crate::value::Value;

/// Upper bound on the compiled size of one pattern, so a rule cannot make the engine
/// allocate without bound.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Steps charged for compiling a pattern that is only known at evaluation time.
const REGEX_COMPILE_STEPS: u64 = 10_000;

/// Patterns computed at evaluation time kept compiled during one evaluation.
const REGEX_CACHE_ENTRIES: usize = 8;

/// A pattern compiled for both match (anchored) and search.
#[derive(Debug)]
pub struct CompiledRegex {
    anchored: Regex,
    search: Regex,
}

/// A pattern that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegexError(pub String);

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Compiles a pattern.
pub fn compile_regex(pattern: &str) -> Result<std::sync::Arc<CompiledRegex>, RegexError> {
    let describe = |error: regex::Error| {
        let text = error.to_string();
        if text.contains("look-around") {
            RegexError(format!(
                "regular expression `{pattern}` uses look-around, which is not supported (patterns must run in linear time)"
            ))
        } else if text.contains("backreference") {
            RegexError(format!(
                "regular expression `{pattern}` uses a back-reference, which is not supported (patterns must run in linear time)"
            ))
        } else if text.contains("size limit") {
            RegexError(format!("regular expression `{pattern}` is too large"))
        } else {
            let first_line = text.lines().last().unwrap_or("").trim().to_string();
            RegexError(format!(
                "invalid regular expression `{pattern}`: {first_line}"
            ))
        }
    };
    let search = build(pattern).map_err(describe)?;
    let anchored = build(&format!(r"\A(?:{pattern})")).map_err(describe)?;
    Ok(std::sync::Arc::new(CompiledRegex { anchored, search }))
}

/// Evaluates a regex operator.
pub fn eval_regex<'r>(
    op: BinOp,
    left: &'r Node,
    right: &'r Node,
    compiled: Option<&CompiledRegex>,
    state: &mut EvalState<'r>,
) -> Result<Value, EvalError> {
    let subject = left.eval(state)?;
    match &subject {
        // Matching is linear in the subject; count it against the step budget.
        Value::String(text) => state.tick(u64::try_from(text.len()).unwrap_or(u64::MAX))?,
        Value::Null => {}
        _ => return Err(EvalError::mismatch("")),
    }
    let runtime;
    let regex = match compiled {
        Some(regex) => Some(regex),
        None => match right.eval(state)? {
            Value::String(pattern) => {
                runtime = match state.regex_cache.iter().find(|(p, _)| *p == pattern) {
                    Some((_, cached)) => cached.clone(),
                    None => {
                        // Compiling costs far more than a step; charge for it so a loop over
                        // changing patterns stays bounded.
                        state.tick(REGEX_COMPILE_STEPS)?;
                        let compiled = compile_regex(&pattern).map_err(|e| EvalError {
                            message: e.0,
                            kind: EvalErrorKind::RegexSyntax,
                            span: Some(right.span),
                        })?;
                        if state.regex_cache.len() >= REGEX_CACHE_ENTRIES {
                            state.regex_cache.remove(0);
                        }
                        state.regex_cache.push((pattern.clone(), compiled.clone()));
                        compiled
                    }
                };
                Some(&*runtime)
            }
            Value::Null => None,
            _ => return Err(EvalError::mismatch("")),
        },
    };
    let negated = matches!(op, BinOp::RegexNotMatch | BinOp::RegexNotSearch);
    let (Value::String(text), Some(regex)) = (&subject, regex) else {
        // Mirrors the reference: `null =~ null` is true, `null =~ 'x'` is false.
        let same = matches!(subject, Value::Null) && regex.is_none();
        return Ok(Value::Bool(if negated { !same } else { same }));
    };
    let engine = match op {
        BinOp::RegexMatch | BinOp::RegexNotMatch => &regex.anchored,
        _ => &regex.search,
    };
    let found = match engine.captures(text) {
        Some(captures) => {
            // The anchored pattern wraps the original in a non-capturing group, so group
            // numbering is unchanged.
            let groups = captures
                .iter()
                .skip(1)
                .map(|m| m.map_or(Value::Null, |m| Value::string(m.as_str())))
                .collect();
            state.re_groups = Value::array(groups);
            true
        }
        None => false,
    };
    Ok(Value::Bool(found != negated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_around_and_backreferences_are_rejected_clearly() {
        let error = compile_regex("a(?=b)").unwrap_err();
        assert!(error.0.contains("look-around"), "{}", error.0);
        let error = compile_regex(r"(a)\1").unwrap_err();
        assert!(error.0.contains("back-reference"), "{}", error.0);
    }

    #[test]
    fn anchored_form_matches_only_at_start() {
        let regex = compile_regex("b").unwrap();
        assert!(!regex.anchored.is_match("ab"));
        assert!(regex.search.is_match("ab"));
    }
}
