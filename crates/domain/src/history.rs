//! Entry history: one record per value change, kept for the entry's retention period.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Timestamp;

/// Most records kept per entry; older ones are dropped.
pub const MAX_HISTORY_RECORDS: usize = 1000;

const MILLIS_PER_DAY: i64 = 86_400_000;

/// How long history records of an entry are kept: `<n>D`, `<n>W`, `<n>M`, `<n>Y` with `n` in
/// 1..=999, or `INF`. Months and years are calendar months and years (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RetentionPeriod {
    /// `n` days.
    Days(u16),
    /// `n` weeks.
    Weeks(u16),
    /// `n` calendar months.
    Months(u16),
    /// `n` calendar years.
    Years(u16),
    /// Kept until the entry is deleted or history is turned off.
    Infinite,
}

impl RetentionPeriod {
    /// Parses `7D`, `3M`, `INF`, ...; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "INF" {
            return Some(Self::Infinite);
        }
        let unit = text.chars().last()?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty()
            || digits.len() > 3
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let count: u16 = digits.parse().ok()?;
        if count == 0 {
            return None;
        }
        match unit {
            'D' => Some(Self::Days(count)),
            'W' => Some(Self::Weeks(count)),
            'M' => Some(Self::Months(count)),
            'Y' => Some(Self::Years(count)),
            _ => None,
        }
    }

    /// When a record written at `recorded` expires; `None` for `INF`.
    pub fn expiry(&self, recorded: Timestamp) -> Option<Timestamp> {
        let millis = recorded.as_millis();
        match *self {
            Self::Days(days) => Some(recorded.plus_millis(i64::from(days) * MILLIS_PER_DAY)),
            Self::Weeks(weeks) => Some(recorded.plus_millis(i64::from(weeks) * 7 * MILLIS_PER_DAY)),
            Self::Months(months) => Some(Timestamp::from_millis(add_months(
                millis,
                i64::from(months),
            ))),
            Self::Years(years) => Some(Timestamp::from_millis(add_months(
                millis,
                i64::from(years) * 12,
            ))),
            Self::Infinite => None,
        }
    }
}

/// Adds calendar months to a UTC instant, clamping the day to the target month's length
/// (31 January + 1 month = 28 or 29 February).
fn add_months(millis: i64, months: i64) -> i64 {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let time_of_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + i64::from(month - 1) + months;
    let (year, month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day)
        .saturating_mul(MILLIS_PER_DAY)
        .saturating_add(time_of_day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Civil-calendar conversions after Howard Hinnant's public-domain `days_from_civil` and
// `civil_from_days` algorithms (proleptic Gregorian, days since 1970-01-01).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One stored value of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// When the value was written (the entry's `value_changed_ts` at that write).
    pub ts: Timestamp,
    /// The value written.
    pub value: Value,
}

/// A value change to record, written in the same transaction as the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryAppend {
    /// The entry.
    pub entry: String,
    /// The record.
    pub record: HistoryRecord,
    /// When the record expires (`None` = kept until the entry's history is dropped).
    pub expires_ts: Option<Timestamp>,
}

/// The history side of one ledger write. Applied in the same transaction as the ledger.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryWrite {
    /// Entries whose stored records are all deleted first: deleted entries and entries whose
    /// history was turned off.
    pub purge: Vec<String>,
    /// Entries whose retention changed: their stored records get new expiry times.
    pub retention_changes: Vec<(String, RetentionPeriod)>,
    /// New records. After appending, only the newest [`MAX_HISTORY_RECORDS`] of each entry
    /// are kept.
    pub appends: Vec<HistoryAppend>,
}

impl HistoryWrite {
    /// Whether the write changes no history.
    pub fn is_empty(&self) -> bool {
        self.purge.is_empty() && self.retention_changes.is_empty() && self.appends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i64, month: u32, day: u32) -> Timestamp {
        Timestamp::from_millis(days_from_civil(year, month, day) * MILLIS_PER_DAY + 1234)
    }

    #[test]
    fn retention_periods_parse_only_the_documented_forms() {
        assert_eq!(RetentionPeriod::parse("7D"), Some(RetentionPeriod::Days(7)));
        assert_eq!(
            RetentionPeriod::parse("999Y"),
            Some(RetentionPeriod::Years(999))
        );
        assert_eq!(
            RetentionPeriod::parse("1W"),
            Some(RetentionPeriod::Weeks(1))
        );
        assert_eq!(
            RetentionPeriod::parse("3M"),
            Some(RetentionPeriod::Months(3))
        );
        assert_eq!(
            RetentionPeriod::parse("INF"),
            Some(RetentionPeriod::Infinite)
        );
        for bad in [
            "", "0D", "07D", "1000D", "D", "7d", "7H", "inf", "-1D", "+1D", " 7D", "٣D",
        ] {
            assert_eq!(RetentionPeriod::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn calendar_arithmetic_round_trips_and_clamps() {
        for days in [-800_000, -1, 0, 59, 60, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        let jan31 = at(2024, 1, 31);
        assert_eq!(
            RetentionPeriod::Months(1).expiry(jan31),
            Some(at(2024, 2, 29))
        );
        assert_eq!(
            RetentionPeriod::Months(13).expiry(jan31),
            Some(at(2025, 2, 28))
        );
        assert_eq!(
            RetentionPeriod::Years(1).expiry(at(2024, 2, 29)),
            Some(at(2025, 2, 28))
        );
        assert_eq!(
            RetentionPeriod::Days(7).expiry(at(2024, 12, 30)),
            Some(at(2025, 1, 6))
        );
        assert_eq!(
            RetentionPeriod::Weeks(2).expiry(at(2024, 2, 20)),
            Some(at(2024, 3, 5))
        );
        assert_eq!(RetentionPeriod::Infinite.expiry(jan31), None);
    }
}
