//! Compiled rules, cached by rule text, so each distinct rule is parsed once per node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use steward_rules::Rule;

/// Distinct rule texts kept before the cache starts over; bounds memory when many different
/// rules pass through (e.g. scan `match` rules chosen by callers).
const MAX_RULES: usize = 10_000;

/// Parsed rules by text; `None` remembers a text that does not parse.
#[derive(Debug, Default)]
pub(crate) struct RuleCache {
    rules: Mutex<HashMap<String, Option<Arc<Rule>>>>,
}

impl RuleCache {
    /// The compiled rule for `text`, or `None` if it does not parse (fail closed).
    pub(crate) fn get(&self, text: &str) -> Option<Arc<Rule>> {
        if let Ok(rules) = self.rules.lock() {
            if let Some(cached) = rules.get(text) {
                return cached.clone();
            }
        }
        let compiled = Rule::parse(text).ok().map(Arc::new);
        if let Ok(mut rules) = self.rules.lock() {
            if rules.len() >= MAX_RULES {
                rules.clear();
            }
            rules.insert(text.to_owned(), compiled.clone());
        }
        compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_remembers_failures() {
        let cache = RuleCache::default();
        let first = cache.get("1 + 1 == 2").unwrap();
        let second = cache.get("1 + 1 == 2").unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(cache.get("1 +").is_none());
        assert!(cache.get("1 +").is_none());
    }
}
