//! Datetime and timedelta parsing and formatting (ISO-8601, as `dateutil.isoparse` and the
//! reference's timedelta regex accept them). Naive datetimes are UTC.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::value::Timedelta;

/// Parses an ISO-8601 datetime the way `dateutil.parser.isoparse` does (the reference's
/// parser): dates `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD`, week dates `YYYY-Www[-D]` and
/// ordinal dates `YYYY-DDD`; then any single separator character and a time
/// `HH[:MM[:SS[.ffffff]]]` (colons optional) with an optional zone `Z`, `±HH`, `±HHMM`,
/// `±HH:MM`. `24:00` is the next midnight. Naive datetimes are UTC.
pub fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    if !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    let (date, pos) = parse_date_common(bytes).or_else(|| parse_date_uncommon(bytes))??;
    let mut clock = [0i64; 4];
    let mut offset = None;
    if bytes.len() > pos {
        (clock, offset) = parse_clock(bytes.get(pos + 1..)?)?;
    }
    let utc = FixedOffset::east_opt(0)?;
    let [hour, minute, second, micros] = clock;
    let (date, hour) = if hour == 24 {
        (date.succ_opt()?, 0)
    } else {
        (date, hour)
    };
    let time = NaiveTime::from_hms_micro_opt(
        u32::try_from(hour).ok()?,
        u32::try_from(minute).ok()?,
        u32::try_from(second).ok()?,
        u32::try_from(micros).ok()?,
    )?;
    offset
        .unwrap_or(utc)
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
}

/// Python's `int()` on a byte slice: surrounding whitespace, an optional sign, digits with
/// single underscores between them.
fn py_int(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let valid = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !valid {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

fn slice(bytes: &[u8], from: usize, len: usize) -> &[u8] {
    bytes
        .get(from..(from + len).min(bytes.len()))
        .unwrap_or(&[])
}

/// A date Python's `datetime` accepts (years 1 to 9999).
fn ymd(year: i64, month: i64, day: i64) -> Option<NaiveDate> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
}

/// `None`: the common forms do not parse (try the uncommon ones); `Some(None)`: they parse
/// but name no valid date, which fails without a fallback, as in dateutil.
fn parse_date_common(b: &[u8]) -> Option<Option<(NaiveDate, usize)>> {
    if b.len() < 4 {
        return None;
    }
    let year = py_int(slice(b, 0, 4))?;
    let mut pos = 4;
    if pos >= b.len() {
        return Some(ymd(year, 1, 1).map(|d| (d, pos)));
    }
    let has_sep = b.get(pos) == Some(&b'-');
    if has_sep {
        pos += 1;
    }
    if b.len() - pos < 2 {
        return None;
    }
    let month = py_int(slice(b, pos, 2))?;
    pos += 2;
    if pos >= b.len() {
        return if has_sep {
            Some(ymd(year, month, 1).map(|d| (d, pos)))
        } else {
            None
        };
    }
    if has_sep {
        if b.get(pos) != Some(&b'-') {
            return None;
        }
        pos += 1;
    }
    if b.len().saturating_sub(pos) < 2 {
        return None;
    }
    let day = py_int(slice(b, pos, 2))?;
    Some(ymd(year, month, day).map(|d| (d, pos + 2)))
}

fn parse_date_uncommon(b: &[u8]) -> Option<Option<(NaiveDate, usize)>> {
    if b.len() < 4 {
        return None;
    }
    let year = i32::try_from(py_int(slice(b, 0, 4))?).ok()?;
    if !(1..=9999).contains(&year) {
        return Some(None);
    }
    let has_sep = b.get(4) == Some(&b'-');
    let mut pos = 4 + usize::from(has_sep);
    if b.get(pos) == Some(&b'W') {
        pos += 1;
        let week = py_int(slice(b, pos, 2))?;
        pos += 2;
        let mut day = 1;
        if b.len() > pos {
            if (b.get(pos) == Some(&b'-')) != has_sep {
                return None;
            }
            pos += usize::from(has_sep);
            day = py_int(slice(b, pos, 1))?;
            pos += 1;
        }
        if !(1..54).contains(&week) || !(1..8).contains(&day) {
            return None;
        }
        let jan4 = NaiveDate::from_ymd_opt(year, 1, 4)?;
        let week1 = jan4.checked_sub_days(chrono::Days::new(u64::from(
            jan4.weekday().num_days_from_monday(),
        )))?;
        let offset = u64::try_from((week - 1) * 7 + (day - 1)).ok()?;
        return Some(
            week1
                .checked_add_days(chrono::Days::new(offset))
                .map(|d| (d, pos)),
        );
    }
    if b.len().saturating_sub(pos) < 3 {
        return None;
    }
    let ordinal = py_int(slice(b, pos, 3))?;
    pos += 3;
    let days_in_year = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    if !(1..=days_in_year).contains(&ordinal) {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let offset = u64::try_from(ordinal - 1).ok()?;
    Some(
        first
            .checked_add_days(chrono::Days::new(offset))
            .map(|d| (d, pos)),
    )
}

type Clock = ([i64; 4], Option<FixedOffset>);

fn parse_clock(t: &[u8]) -> Option<Clock> {
    if t.len() < 2 {
        return None;
    }
    let mut parts = [0i64; 4];
    let mut offset = None;
    let mut pos = 0;
    let mut component = 0usize;
    let mut has_sep = false;
    while pos < t.len() && component < 5 {
        let current = t.get(pos).copied();
        if matches!(current, Some(b'-' | b'+' | b'Z' | b'z')) {
            offset = Some(parse_zone(t.get(pos..)?)?);
            pos = t.len();
            break;
        }
        if component == 1 && current == Some(b':') {
            has_sep = true;
            pos += 1;
        } else if component == 2 && has_sep {
            if current != Some(b':') {
                return None;
            }
            pos += 1;
        }
        if component < 3 {
            *parts.get_mut(component)? = py_int(slice(t, pos, 2))?;
            pos += 2;
        }
        if component == 3 {
            let rest = t.get(pos..).unwrap_or(&[]);
            if matches!(rest.first(), Some(b'.' | b',')) {
                let digits = rest
                    .iter()
                    .skip(1)
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits > 0 {
                    let kept = slice(rest, 1, digits.min(6));
                    let value = py_int(kept)?;
                    parts[3] = value * 10i64.pow(u32::try_from(6 - kept.len()).ok()?);
                    pos += 1 + digits;
                }
            }
        }
        component += 1;
    }
    if pos < t.len() {
        return None;
    }
    if parts[0] == 24 && parts[1..].iter().any(|p| *p != 0) {
        return None;
    }
    Some((parts, offset))
}

fn parse_zone(zone: &[u8]) -> Option<FixedOffset> {
    if zone == b"Z" || zone == b"z" {
        return FixedOffset::east_opt(0);
    }
    if ![3, 5, 6].contains(&zone.len()) {
        return None;
    }
    let sign = match zone.first() {
        Some(b'-') => -1,
        Some(b'+') => 1,
        _ => return None,
    };
    let hours = py_int(slice(zone, 1, 2))?;
    let minutes = if zone.len() == 3 {
        0
    } else {
        let from = if zone.get(3) == Some(&b':') { 4 } else { 3 };
        py_int(zone.get(from..)?)?
    };
    if hours == 0 && minutes == 0 {
        return FixedOffset::east_opt(0);
    }
    if minutes > 59 || hours > 23 {
        return None;
    }
    FixedOffset::east_opt(i32::try_from(sign * (hours * 60 + minutes) * 60).ok()?)
}

/// Parses an ISO-8601 duration without years and months: `P1W2DT3H4M5.5S` (a decimal comma
/// is accepted too, as in the reference).
pub fn parse_timedelta(text: &str) -> Option<Timedelta> {
    let body = text.strip_prefix('P')?;
    if body.is_empty() {
        return None;
    }
    let (date_part, time_part) = match body.find('T') {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    let mut total = Decimal::ZERO;
    let mut rest = date_part;
    for (unit, seconds) in [('W', 604_800i64), ('D', 86_400)] {
        rest = take_component(rest, unit, seconds, &mut total)?;
    }
    if !rest.is_empty() {
        return None;
    }
    if let Some(time) = time_part {
        let mut rest = time;
        for (unit, seconds) in [('H', 3_600i64), ('M', 60), ('S', 1)] {
            rest = take_component(rest, unit, seconds, &mut total)?;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    let micros = total
        .checked_mul(Decimal::from(1_000_000))?
        .round()
        .to_i64()?;
    Timedelta::from_micros(micros)
}

fn take_component<'a>(
    text: &'a str,
    unit: char,
    seconds: i64,
    total: &mut Decimal,
) -> Option<&'a str> {
    let Some(index) = text.find(unit) else {
        return Some(text);
    };
    let number = &text[..index];
    let valid = !number.is_empty()
        && number.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && number.bytes().last().is_some_and(|b| b.is_ascii_digit())
        && number.bytes().filter(|b| *b == b'.' || *b == b',').count() <= 1
        && number
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',');
    if !valid {
        return None;
    }
    let value: Decimal = number.replace(',', ".").parse().ok()?;
    *total = total.checked_add(value.checked_mul(Decimal::from(seconds))?)?;
    Some(&text[index + 1..])
}

/// Formats like Python's `datetime.isoformat()`: microseconds only when non-zero, and the
/// offset as `+HH:MM`.
pub fn format_datetime(value: &DateTime<FixedOffset>) -> String {
    let micros = value.timestamp_subsec_micros();
    let base = if micros == 0 {
        value.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", value.format("%Y-%m-%dT%H:%M:%S"))
    };
    format!("{base}{}", value.format("%:z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_with_and_without_zone() {
        let utc = parse_datetime("2024-01-31T10:00:00Z").unwrap();
        assert_eq!(format_datetime(&utc), "2024-01-31T10:00:00+00:00");
        let naive = parse_datetime("2024-01-31T10:00:00").unwrap();
        assert_eq!(naive, utc);
        let offset = parse_datetime("2024-01-31T11:00:00.5+01:00").unwrap();
        assert_eq!(format_datetime(&offset), "2024-01-31T11:00:00.500000+01:00");
        assert_eq!(
            parse_datetime("2024-01-31")
                .map(|d| format_datetime(&d))
                .unwrap(),
            "2024-01-31T00:00:00+00:00"
        );
        assert!(parse_datetime("2024-13-01").is_none());
        assert!(parse_datetime("yesterday").is_none());
        let midnight = parse_datetime("2024-03-10T24:00:00").unwrap();
        assert_eq!(format_datetime(&midnight), "2024-03-11T00:00:00+00:00");
        assert!(parse_datetime("2024-03-10T24:00:01").is_none());
    }

    #[test]
    fn timedeltas_parse_like_the_reference() {
        assert_eq!(parse_timedelta("P1D").unwrap().micros, 86_400_000_000);
        assert_eq!(parse_timedelta("PT1H30M").unwrap().micros, 5_400_000_000);
        assert_eq!(parse_timedelta("P1W").unwrap().micros, 604_800_000_000);
        assert_eq!(parse_timedelta("PT0,5S").unwrap().micros, 500_000);
        assert!(parse_timedelta("P").is_none());
        assert!(parse_timedelta("P1Y").is_none());
        assert!(parse_timedelta("PT").is_some());
    }
}
