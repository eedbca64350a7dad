#!/usr/bin/env python3
"""Batch evaluator backed by the reference implementation (`rule-engine` 4.5.3).

Reads JSON lines `{"rule": "...", "context": {...}}` from stdin and writes one line per input:
`{"value": <json>}` or `{"error": {"kind": "parse" | "eval", "message": "..."}}`.

This mirrors the contract of `steward rules eval --batch` so the differential test can compare
the two line by line. Trusted Twin evaluates with missing values resolving to null, so the
context uses `default_value=None`; naive datetimes are UTC.

Error kinds: the reference's syntax-error family raised while building the rule is `parse`;
anything else raised while building the rule (type errors between literals, even in a branch
that never runs) and everything raised while evaluating is `eval`.

Value encoding (input context and output): plain JSON plus the tagged forms
`{"$datetime": "ISO-8601"}`, `{"$timedelta": seconds}`, `{"$set": [sorted members]}`,
`{"$float": "nan" | "inf" | "-inf"}`, `{"$bytes": "base64"}`. Numbers are exact decimals:
integral values are written as JSON integers, others as JSON numbers with all their digits.
Mappings whose keys are not all strings (possible with rule literals such as `{1: 2}`) are
written as `{"$mapping": [[key, value], ...]}`; functions (e.g. the value of `$abs`) as
`{"$function": "name"}`.
"""

import base64
import collections.abc
import datetime
import decimal
import json
import sys

import dateutil.tz
import rule_engine
import rule_engine.parser.utilities
import rule_engine.errors as errors

UTC = datetime.timezone.utc


# ---------------------------------------------------------------- decoding (JSON -> Python)

def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _decode_tagged(obj):
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$datetime" and isinstance(value, str):
            # the same parser (and time zone objects) as the reference uses for `d"..."`
            return rule_engine.parser.utilities.parse_datetime(value, dateutil.tz.tzutc())
        if key == "$timedelta" and isinstance(value, decimal.Decimal):
            return datetime.timedelta(microseconds=int(value.scaleb(6).to_integral_value()))
        if key == "$set" and isinstance(value, list):
            return set(_hashable(v) for v in value)
        if key == "$float" and value in ("nan", "inf", "-inf"):
            return decimal.Decimal({"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[value])
        if key == "$bytes" and isinstance(value, str):
            return base64.b64decode(value)
    return obj


def _float_number(text):
    # Trusted Twin stores JSON numbers as binary floats and the reference turns a float into
    # `Decimal(repr(value))`; so does this harness (`1707997392.123` stays exact, `39.0` keeps
    # its `.0`)
    return decimal.Decimal(repr(float(text)))


def decode_line(line):
    return json.loads(
        line,
        parse_float=_float_number,
        parse_int=decimal.Decimal,
        object_hook=_decode_tagged,
    )


# ---------------------------------------------------------------- encoding (Python -> JSON)

def _encode_decimal(value):
    if value.is_nan():
        return '{"$float": "nan"}'
    if value.is_infinite():
        return '{"$float": "-inf"}' if value < 0 else '{"$float": "inf"}'
    if value == value.to_integral_value():
        return str(int(value))
    text = str(value)
    # str() of a Decimal is already a valid JSON number ("0.1", "1E-7", "-3.5")
    return text


def _encode_timedelta(value):
    whole = decimal.Decimal(value.days * 86400 + value.seconds)
    seconds = whole + decimal.Decimal(value.microseconds).scaleb(-6)
    return _encode_decimal(seconds)


def _sort_key(encoded):
    return encoded


def encode(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, decimal.Decimal):
        return _encode_decimal(value)
    if isinstance(value, (int, float)):
        return _encode_decimal(decimal.Decimal(repr(value)))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return '{"$bytes": ' + json.dumps(base64.b64encode(value).decode("ascii")) + "}"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return '{"$datetime": ' + json.dumps(value.isoformat()) + "}"
    if isinstance(value, datetime.date):
        return '{"$datetime": ' + json.dumps(datetime.datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()) + "}"
    if isinstance(value, datetime.timedelta):
        return '{"$timedelta": ' + _encode_timedelta(value) + "}"
    if isinstance(value, (set, frozenset)):
        members = sorted(encode(v) for v in value)
        return '{"$set": [' + ", ".join(members) + "]}"
    if isinstance(value, collections.abc.Mapping):
        if all(isinstance(k, str) for k in value.keys()):
            items = (json.dumps(k, ensure_ascii=False) + ": " + encode(v) for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        pairs = ("[" + encode(k) + ", " + encode(v) + "]" for k, v in value.items())
        return '{"$mapping": [' + ", ".join(pairs) + "]}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(encode(v) for v in value) + "]"
    if callable(value):
        name = getattr(value, "__name__", None) or getattr(getattr(value, "func", None), "__name__", "?")
        return '{"$function": ' + json.dumps(name) + "}"
    raise TypeError("can not encode value of type " + type(value).__name__)


def error_line(kind, message):
    return json.dumps({"error": {"kind": kind, "message": message}}, ensure_ascii=False)


def describe(error):
    message = getattr(error, "message", None) or str(error)
    return type(error).__name__ + ": " + str(message)


# ---------------------------------------------------------------- one case

def evaluate_line(line):
    try:
        case = decode_line(line)
        rule_text = case["rule"]
        context = case.get("context") or {}
    except Exception as error:  # a broken input line is a harness bug, not a rule outcome
        return json.dumps({"harness_error": describe(error)})

    # a fresh context per case: `$re_groups` lives in the context's thread-local storage
    engine_context = rule_engine.Context(default_value=None, default_timezone="utc")
    try:
        rule = rule_engine.Rule(rule_text, context=engine_context)
    except errors.SyntaxError as error:
        return error_line("parse", describe(error))
    except RecursionError as error:
        return error_line("eval", "internal RecursionError: " + str(error))
    except Exception as error:  # EvaluationError family and anything else while building
        return error_line("eval", describe(error))

    try:
        value = rule.evaluate(context)
    except RecursionError as error:
        return error_line("eval", "internal RecursionError: " + str(error))
    except Exception as error:
        return error_line("eval", describe(error))

    try:
        return '{"value": ' + encode(value) + "}"
    except Exception as error:
        return json.dumps({"harness_error": "encode: " + describe(error)})


def main():
    sys.setrecursionlimit(10000)
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        out.write(evaluate_line(line))
        out.write("\n")
        out.flush()


if __name__ == "__main__":
    assert rule_engine.__version__ == "4.5.3", rule_engine.__version__
    main()
