//! Arbitrary bytes → UTF-8 rule → parse → evaluate against a fixed Trusted-Twin-shaped context.
//! Any panic (or stack overflow, or runaway allocation) is a bug: parsing and evaluation must be
//! total and bounded for every input.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use steward_rules::{MapContext, Rule};

fn context() -> &'static MapContext {
    static CONTEXT: OnceLock<MapContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let json = serde_json::json!({
            "account": "9891264d-a8b5-4e0a-9fbb-1c8f1b3c6a01",
            "user": "e834214a-0cbe-4b6e-8f6a-2f2f7a1d9b02",
            "twin": "1f0e3c52-77aa-4c1d-b2b4-5d6e7f809a03",
            "now": 1707997392.123,
            "twin_status": "alive",
            "entry_name": "temp",
            "entry_value": {"items": [{"qty": 3, "name": "bolt"}, {"qty": 7}], "user_list": ["a", "b"]},
            "value_changed_ts": 1707997392.123,
            "TWIN": {"kind": "cat", "company": "acme", "level": 3, "tags": ["x", "y"],
                     "created": {"$datetime": "2024-01-31T10:00:00Z"}, "ttl": {"$timedelta": 90.5},
                     "flags": {"$set": [1, 3]}, "blob": {"$bytes": "Y2F0"}, "special": {"$float": "nan"}},
            "USER": {"level": 4, "company": "acme", "groups": ["admins"]},
            "LEDGER": {"public": ["temp", "serial"], "serial": 5, "counts": [1, 2, 3]},
            "DICT": {"serial": "SN-1", "allowed": ["9891264d-a8b5-4e0a-9fbb-1c8f1b3c6a01"]},
        });
        MapContext::from_json(&json).expect("the fuzz context should be valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rule) = Rule::parse(text) else {
        return;
    };
    let _ = rule.variables();
    let _ = rule.evaluate(context());
    let _ = rule.matches(context());
});
