//! Configurable limits that keep parsing and evaluation bounded.

/// Limits applied when parsing and evaluating a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum rule length in characters (default 4,096).
    pub max_rule_chars: usize,
    /// Maximum nesting depth of expressions (default 64).
    pub max_depth: usize,
    /// Maximum number of members a single produced collection may have (`$range`,
    /// comprehensions, `$split`...). Default 100,000.
    pub max_collection_len: usize,
    /// Maximum number of evaluation steps (nodes visited plus loop iterations) for one
    /// evaluation. Default 1,000,000.
    pub max_steps: u64,
    /// Maximum length of a produced string or bytes value. Default 1 MiB.
    pub max_string_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rule_chars: 4096,
            max_depth: 64,
            max_collection_len: 100_000,
            max_steps: 1_000_000,
            max_string_len: 1 << 20,
        }
    }
}
