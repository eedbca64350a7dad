#!/usr/bin/env python3
"""Times the benchmark rules of `benches/rules.rs` in the reference (`rule-engine` 4.5.3).

Same rules and the same context as the criterion benchmarks, evaluated the way Trusted Twin
does (missing values are null, naive datetimes UTC, numbers as `Decimal`). Prints one line per
benchmark: `<name> <nanoseconds per operation>`; `run.sh` puts them next to the Rust figures.
"""

import decimal
import sys
import timeit

import rule_engine

RULE_A = 'TWIN.kind == "cat" and entry_name in LEDGER.public'
RULE_B = 'TWIN.kind == "cat" and now < 1900000000 and USER.level >= 3 and account in DICT.allowed'
RULE_C = '[x for x in LEDGER.items if x.qty > 5].length >= 3'

ACCOUNT = "9891264d-a8b5-4e0a-9fbb-1c8f1b3c6a01"


def context():
    d = decimal.Decimal
    return {
        "account": ACCOUNT,
        "now": d("1707997392.123"),
        "entry_name": "temp",
        "TWIN": {"kind": "cat", "company": "acme", "serial": "SN-1"},
        "USER": {"level": d(4), "company": "acme"},
        "DICT": {
            "allowed": [
                "e834214a-0cbe-4b6e-8f6a-2f2f7a1d9b02",
                "1f0e3c52-77aa-4c1d-b2b4-5d6e7f809a03",
                ACCOUNT,
            ]
        },
        "LEDGER": {
            "public": ["serial", "gdansk", "humidity", "pressure", "temp", "door", "battery"],
            "items": [{"qty": d(i % 10), "name": "item%d" % i} for i in range(20)],
        },
    }


def per_op_ns(statement, min_seconds=1.0):
    timer = timeit.Timer(statement)
    number, _ = timer.autorange()
    # repeat until at least min_seconds of work, report the best of the repeats
    repeats = max(3, int(min_seconds / max(timer.timeit(number) , 1e-9)))
    best = min(timer.repeat(repeat=min(repeats, 7), number=number))
    return best / number * 1e9


def main():
    assert rule_engine.__version__ == "4.5.3", rule_engine.__version__
    thing = context()

    def engine_context():
        return rule_engine.Context(default_value=None, default_timezone="utc")

    rules = {}
    for name, text in (("a", RULE_A), ("b", RULE_B), ("c", RULE_C)):
        rules[name] = rule_engine.Rule(text, context=engine_context())
    assert rules["a"].matches(thing) is True
    assert rules["b"].matches(thing) is True
    assert rules["c"].matches(thing) is True

    shared_context = engine_context()
    results = [
        ("parse_compile/b", per_op_ns(lambda: rule_engine.Rule(RULE_B, context=shared_context))),
        ("evaluate/a", per_op_ns(lambda: rules["a"].matches(thing))),
        ("evaluate/b", per_op_ns(lambda: rules["b"].matches(thing))),
        ("evaluate/c_comprehension_20", per_op_ns(lambda: rules["c"].matches(thing))),
    ]
    for name, ns in results:
        print("%s %.0f" % (name, ns))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
