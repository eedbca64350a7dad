//! Parsing and comparing the batch outputs of both engines.
//!
//! Output lines are parsed with a small JSON reader of our own that keeps number text, so
//! numbers are compared as exact decimals (`0.1 + 0.2` must print as `0.3`, not as a float near
//! it). Tagged values are decoded: sets compare unordered, mappings by key, datetimes as instants
//! (the offset a datetime is rendered with does not matter), NaN equals NaN, and any two
//! functions are equal (there is no meaningful way to compare them).

use std::fmt;

/// A JSON value whose numbers keep their text.
#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

pub fn parse_json(text: &str) -> Result<Json, String> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        at: 0,
    };
    let value = reader.value(0)?;
    reader.skip_ws();
    if reader.at != reader.bytes.len() {
        return Err(format!("trailing characters at {}", reader.at));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while self.at < self.bytes.len()
            && matches!(self.bytes[self.at], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > 512 {
            return Err("too deep".into());
        }
        self.skip_ws();
        let Some(&first) = self.bytes.get(self.at) else {
            return Err("unexpected end".into());
        };
        match first {
            b'n' => self.word("null", Json::Null),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'"' => Ok(Json::Str(self.string()?)),
            b'[' => {
                self.at += 1;
                let mut members = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Arr(members));
                }
                loop {
                    members.push(self.value(depth + 1)?);
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Ok(Json::Arr(members));
                    }
                    return Err(format!("expected `,` or `]` at {}", self.at));
                }
            }
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    if !self.eat(b':') {
                        return Err(format!("expected `:` at {}", self.at));
                    }
                    members.push((key, self.value(depth + 1)?));
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(Json::Obj(members));
                    }
                    return Err(format!("expected `,` or `}}` at {}", self.at));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while self.at < self.bytes.len()
                    && matches!(
                        self.bytes[self.at],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.at += 1;
                }
                Ok(Json::Num(self.text[start..self.at].to_string()))
            }
            other => Err(format!("unexpected `{}` at {}", other as char, self.at)),
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at {}", self.at))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(format!("expected a string at {}", self.at));
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let Some(c) = rest.chars().next() else {
                return Err("unterminated string".into());
            };
            self.at += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(escape) = self.text[self.at..].chars().next() else {
                        return Err("unterminated escape".into());
                    };
                    self.at += 1;
                    match escape {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        '/' => out.push('/'),
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        'u' => {
                            let unit = self.hex4()?;
                            if (0xD800..0xDC00).contains(&unit)
                                && self.text[self.at..].starts_with("\\u")
                            {
                                self.at += 2;
                                let low = self.hex4()?;
                                let code = 0x10000
                                    + ((unit - 0xD800) << 10)
                                    + (low.wrapping_sub(0xDC00) & 0x3ff);
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            } else {
                                out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
                            }
                        }
                        other => return Err(format!("bad escape `{other}`")),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .ok_or("short \\u escape")?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|e| e.to_string())
    }
}

/// An exact decimal in canonical form: `digits × 10^exponent`, digits without leading or
/// trailing zeros (empty for zero, which has no sign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut digits = format!("{int_part}{frac_part}");
        let mut exponent = exponent - frac_part.len() as i64;
        let trimmed_start = digits.trim_start_matches('0').len();
        digits = digits[digits.len() - trimmed_start..].to_string();
        while digits.ends_with('0') {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exponent,
        })
    }

    /// Decimal order of magnitude (`floor(log10(|x|))`), None for zero.
    pub fn magnitude(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return None;
        }
        Some(self.digits.len() as i64 - 1 + self.exponent)
    }
}

/// A decoded value of the batch contract.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// The decimal and the text it was read from.
    Num(Decimal, String),
    /// `nan`, `inf`, `-inf`
    Special(String),
    Str(String),
    Bytes(String),
    Arr(Vec<Value>),
    Set(Vec<Value>),
    Map(Vec<(Value, Value)>),
    /// Microseconds since the epoch.
    Datetime(i128),
    Timedelta(Decimal),
    Function,
    /// Something this harness could not decode (kept for the failure output); never equal to
    /// anything.
    #[allow(dead_code)]
    Unknown(String),
}

pub fn decode(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Num(text) => match Decimal::parse(text) {
            Some(d) => Value::Num(d, text.clone()),
            None => Value::Unknown(format!("number {text}")),
        },
        Json::Str(s) => Value::Str(s.clone()),
        Json::Arr(members) => Value::Arr(members.iter().map(decode).collect()),
        Json::Obj(members) => {
            if members.len() == 1 {
                let (key, inner) = &members[0];
                if let Some(tagged) = decode_tagged(key, inner) {
                    return tagged;
                }
            }
            Value::Map(
                members
                    .iter()
                    .map(|(k, v)| (Value::Str(k.clone()), decode(v)))
                    .collect(),
            )
        }
    }
}

fn decode_tagged(key: &str, inner: &Json) -> Option<Value> {
    match (key, inner) {
        ("$datetime", Json::Str(text)) => Some(match parse_datetime_micros(text) {
            Some(micros) => Value::Datetime(micros),
            None => Value::Unknown(format!("datetime {text}")),
        }),
        ("$timedelta", Json::Num(text)) => Decimal::parse(text).map(Value::Timedelta),
        ("$set", Json::Arr(members)) => Some(Value::Set(members.iter().map(decode).collect())),
        ("$float", Json::Str(text)) => Some(Value::Special(text.clone())),
        ("$bytes", Json::Str(text)) => Some(Value::Bytes(text.clone())),
        ("$function", _) => Some(Value::Function),
        ("$mapping", Json::Arr(pairs)) => {
            let mut entries = Vec::new();
            for pair in pairs {
                match pair {
                    Json::Arr(kv) if kv.len() == 2 => {
                        entries.push((decode(&kv[0]), decode(&kv[1])))
                    }
                    _ => return None,
                }
            }
            Some(Value::Map(entries))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH:MM[:SS]]` → microseconds since the epoch (UTC).
pub fn parse_datetime_micros(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse().ok() };
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let mut at = 10;
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0i64);
    if matches!(b.get(at), Some(b'T') | Some(b' ')) {
        hour = num(at + 1..at + 3)?;
        minute = num(at + 4..at + 6)?;
        at += 6;
        if b.get(at) == Some(&b':') {
            second = num(at + 1..at + 3)?;
            at += 3;
        }
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            let mut fraction = text[start..end].to_string();
            fraction.truncate(6);
            while fraction.len() < 6 {
                fraction.push('0');
            }
            micros = fraction.parse().ok()?;
            at = end;
        }
    }
    let offset_seconds = match b.get(at) {
        None => 0,
        Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = num(at + 1..at + 3)?;
            let minutes = num(at + 4..at + 6)?;
            let seconds = if b.get(at + 6) == Some(&b':') {
                num(at + 7..at + 9)?
            } else {
                0
            };
            let total = hours * 3600 + minutes * 60 + seconds;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        Some(_) => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds as i128 * 1_000_000 + micros as i128)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn values_equal(a: &Value, b: &Value) -> bool {
    equal(a, b, false)
}

/// Like [`values_equal`], but numbers only need to agree to about 15 significant digits (for
/// results Steward computes in binary floating point).
pub fn values_equal_loosely(a: &Value, b: &Value) -> bool {
    equal(a, b, true)
}

/// Like [`values_equal`], with `true`/`false` equal to `1`/`0` (they are equal in the rule
/// language, so a set may keep either of them).
pub fn values_equal_bools_as_numbers(a: &Value, b: &Value) -> bool {
    values_equal(&bools_as_numbers(a), &bools_as_numbers(b))
}

fn bools_as_numbers(value: &Value) -> Value {
    match value {
        Value::Bool(b) => {
            let text = if *b { "1" } else { "0" };
            Value::Num(
                Decimal::parse(text).expect("a digit is a decimal"),
                text.to_string(),
            )
        }
        Value::Arr(members) => Value::Arr(members.iter().map(bools_as_numbers).collect()),
        Value::Set(members) => Value::Set(members.iter().map(bools_as_numbers).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (bools_as_numbers(k), bools_as_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn close(x: &str, y: &str) -> bool {
    match (x.parse::<f64>(), y.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b || (a - b).abs() <= 1e-15 * a.abs().max(b.abs()),
        _ => false,
    }
}

fn equal(a: &Value, b: &Value, loose: bool) -> bool {
    use Value::*;
    let values_equal = |p: &Value, q: &Value| equal(p, q, loose);
    match (a, b) {
        (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (Num(x, x_text), Num(y, y_text)) => {
            x == y || same_binary_float(x_text, y_text) || (loose && close(x_text, y_text))
        }
        (Special(x), Special(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Bytes(x), Bytes(y)) => x == y,
        (Datetime(x), Datetime(y)) => x == y,
        (Timedelta(x), Timedelta(y)) => x == y,
        (Function, Function) => true,
        (Arr(x), Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q)),
        (Set(x), Set(y)) => same_members(x, y, loose),
        (Map(x), Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(key, value)| {
                    y.iter().any(|(other_key, other_value)| {
                        values_equal(key, other_key) && values_equal(value, other_value)
                    })
                })
        }
        _ => false,
    }
}

/// The batch contract writes non-integral numbers (and integers beyond 64 bits) as JSON
/// floats, so an exact decimal from one side and its nearest binary float from the other are
/// the same answer. Arithmetic done in binary floats still differs (`0.1 + 0.2` gives
/// `0.30000000000000004`, whose nearest float is not that of `0.3`).
fn same_binary_float(x: &str, y: &str) -> bool {
    match (x.parse::<f64>(), y.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.is_finite() && a == b,
        _ => false,
    }
}

fn same_members(x: &[Value], y: &[Value], loose: bool) -> bool {
    if x.len() != y.len() {
        return false;
    }
    let mut used = vec![false; y.len()];
    for member in x {
        let found = y
            .iter()
            .enumerate()
            .position(|(i, other)| !used[i] && equal(member, other, loose));
        match found {
            Some(i) => used[i] = true,
            None => return false,
        }
    }
    true
}

/// One engine's answer for one case.
#[derive(Debug, Clone)]
pub enum Outcome {
    Value(Value),
    Error {
        kind: String,
        message: String,
    },
    /// The line did not follow the contract.
    Malformed(String),
}

impl Outcome {
    pub fn from_line(line: &str) -> Outcome {
        let json = match parse_json(line) {
            Ok(json) => json,
            Err(error) => return Outcome::Malformed(format!("{error}: {line}")),
        };
        let Json::Obj(members) = &json else {
            return Outcome::Malformed(line.to_string());
        };
        match members.as_slice() {
            [(key, value)] if key == "value" => Outcome::Value(decode(value)),
            [(key, Json::Obj(error))] if key == "error" => {
                let field = |name: &str| {
                    error
                        .iter()
                        .find(|(k, _)| k == name)
                        .and_then(|(_, v)| match v {
                            Json::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                };
                match (field("kind"), field("message")) {
                    (Some(kind), Some(message)) if kind == "parse" || kind == "eval" => {
                        Outcome::Error { kind, message }
                    }
                    _ => Outcome::Malformed(line.to_string()),
                }
            }
            _ => Outcome::Malformed(line.to_string()),
        }
    }

    pub fn agrees_with(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Value(a), Outcome::Value(b)) => values_equal(a, b),
            (Outcome::Error { kind: a, .. }, Outcome::Error { kind: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Value(v) => write!(f, "value {v:?}"),
            Outcome::Error { kind, message } => write!(f, "{kind} error: {message}"),
            Outcome::Malformed(line) => write!(f, "malformed line: {line}"),
        }
    }
}
