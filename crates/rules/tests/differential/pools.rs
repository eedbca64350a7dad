//! Value pools shared by the rule and context generators. Small pools keep equality
//! comparisons and membership tests hitting often.

/// Small pools keep equality comparisons hitting often.
pub(crate) const UUIDS: [&str; 4] = [
    "9891264d-a8b5-4e0a-9fbb-1c8f1b3c6a01",
    "e834214a-0cbe-4b6e-8f6a-2f2f7a1d9b02",
    "1f0e3c52-77aa-4c1d-b2b4-5d6e7f809a03",
    "c0ffee00-1234-4abc-8def-0123456789ab",
];
pub(crate) const ENTRY_NAMES: [&str; 7] = [
    "temp", "serial", "gdansk", "public", "_private", "a-b", "qty",
];
pub(crate) const KINDS: [&str; 5] = ["cat", "dog", "Cat", "", "bird"];
pub(crate) const COMPANIES: [&str; 4] = ["acme", "ACME", "globex", "initech"];
pub(crate) const WORDS: [&str; 20] = [
    "cat",
    "dog",
    "Cat",
    "",
    "a",
    "Gdansk",
    "12",
    "1.5",
    "-7",
    "a,b,c",
    "zażółć",
    "x y  z",
    "straße",
    "İstanbul",
    "🐈 cat",
    "1_000",
    " 7 ",
    "1e3",
    "-0",
    "Infinity",
];

/// Paths into the context, by the type they usually have. Some of them are missing in a given
/// context (then they are null), and some have another type on purpose (`entry_value`).
pub(crate) const NUM_PATHS: [&str; 14] = [
    "now",
    "value_changed_ts",
    "entry_created_ts",
    "TWIN.level",
    "TWIN.ratio",
    "USER.level",
    "USER.age",
    "LEDGER.serial",
    "LEDGER.temp",
    "TWIN['length']",
    "entry_value",
    "TWIN.meta.owner.level",
    "LEDGER.items[0].qty",
    "LEDGER['serial']",
];
pub(crate) const STR_PATHS: [&str; 17] = [
    "account",
    "user",
    "role",
    "twin",
    "ledger",
    "identity",
    "twin_status",
    "entry_name",
    "TWIN.kind",
    "TWIN.company",
    "USER.company",
    "USER.profession",
    "USER.name",
    "LEDGER.gdansk",
    "DICT.serial",
    "TWIN.meta.owner.name",
    "TWIN['keys']",
];
pub(crate) const ARR_PATHS: [&str; 8] = [
    "LEDGER.public",
    "TWIN.tags",
    "USER.groups",
    "LEDGER.items",
    "LEDGER.counts",
    "DICT.allowed",
    "entry_value.user_list",
    "entry_value.items",
];
pub(crate) const MAP_PATHS: [&str; 9] = [
    "TWIN",
    "USER",
    "LEDGER",
    "DICT",
    "TWIN.meta",
    "entry_value",
    "entry_value.user_dict",
    "LEDGER.nested",
    "LEDGER.items[1]",
];
pub(crate) const MISSING_PATHS: [&str; 9] = [
    "TWIN.missing",
    "USER.nope",
    "DICT.serial2",
    "nothing",
    "LEDGER.x.y",
    "TWIN.meta.none.deeper",
    "entry_value.user_dict.missing",
    "old_value",
    "TWIN['absent']",
];
pub(crate) const REGEXES: [&str; 19] = [
    "^c",
    "c.t",
    "[a-z]+",
    "\\\\d+",
    "a|b",
    "(a)(t)",
    ".*",
    "Gd",
    "^$",
    "(?i)cat",
    "[A-Z]",
    "^[0-9a-f-]+$",
    "(\\\\w+),(\\\\w+)",
    "t$",
    "\\\\s",
    "ż",
    "c(?=a)",
    "(a)\\\\1",
    "a$",
];
/// Valid literals of the less common kinds.
pub(crate) const DATETIMES: [&str; 9] = [
    "d\"2024-01-31T10:00:00Z\"",
    "d'2024-01-31'",
    "d\"2024-01-31 10:00\"",
    "d\"2024-01-31T10:00:00.123456+02:00\"",
    "d\"2024-02-29T23:59:59\"",
    "d\"1970-01-01T00:00:00Z\"",
    "d\"2023-12-31T23:00:00-05:00\"",
    "d\"2030-06-15T12:30:45.5Z\"",
    "d'2000-01-01T00:00:00+00:00'",
];
pub(crate) const TIMEDELTAS: [&str; 9] = [
    "t\"P1D\"",
    "t\"PT1H\"",
    "t\"P1DT2H3M4S\"",
    "t\"PT1.5S\"",
    "t\"P1W\"",
    "t\"PT0S\"",
    "t'PT90M'",
    "t\"P2DT0.25S\"",
    "t\"PT36H\"",
];
pub(crate) const BYTES: [&str; 6] = [
    "b'abc'",
    "b\"\\x00\\xff\"",
    "b''",
    "b'cat'",
    "b\"a\\nb\"",
    "b'\\x41BC'",
];
/// Bad literals and other syntax errors spliced into otherwise valid rules.
pub(crate) const BAD_SNIPPETS: [&str; 24] = [
    "d\"2024-13-01\"",
    "d\"nope\"",
    "d\"2023-02-29\"",
    "t\"P1Y\"",
    "t\"1D\"",
    "t\"P\"",
    "b'ż'",
    "0x",
    "1e",
    "'unterminated",
    "\"also unterminated",
    "elif",
    "else",
    "while",
    "@",
    "1 2",
    "( )",
    "[1,,2]",
    "{1: }",
    "x.",
    "$",
    "a ? b",
    "'a' =~ '('",
    "'\\N{NOPE}'",
];
pub(crate) const JUNK_TOKENS: [&str; 20] = [
    ")", "(", ",", "]", "[", "?", ":", "==", "and", "@", "~", ";", "'", "\"", ".", "&", "in", "$",
    "not", "}",
];
