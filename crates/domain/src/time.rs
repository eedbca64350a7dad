//! Timestamps with millisecond precision.
//!
//! Trusted Twin exchanges timestamps as Unix seconds with three decimals (`1707997392.123`).
//! Keeping them as integer milliseconds internally makes equality exact, which write
//! conditions such as `value_changed_ts == 1707997392.123` depend on.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(&self) -> i64 {
        self.0
    }

    /// Builds a timestamp from Trusted Twin seconds, rounding to the nearest millisecond.
    /// Returns `None` for non-finite or out-of-range input.
    pub fn from_tt_seconds(seconds: f64) -> Option<Self> {
        if !seconds.is_finite() {
            return None;
        }
        let millis = (seconds * 1000.0).round();
        // i64 milliseconds cover ±292 million years; anything beyond is garbage input.
        if millis.abs() > 9.0e15 {
            return None;
        }
        Some(Self(millis as i64))
    }

    /// Trusted Twin seconds (three decimals).
    pub fn as_tt_seconds(&self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// This timestamp moved by a number of milliseconds (saturating).
    pub const fn plus_millis(&self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_tt_seconds())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        Self::from_tt_seconds(seconds)
            .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tt_seconds_round_trip_exactly_at_millisecond_precision() {
        let ts = Timestamp::from_tt_seconds(1_707_997_392.123).unwrap();
        assert_eq!(ts.as_millis(), 1_707_997_392_123);
        assert_eq!(serde_json::to_string(&ts).unwrap(), "1707997392.123");
        let back: Timestamp = serde_json::from_str("1707997392.123").unwrap();
        assert_eq!(back, ts);
    }

    #[test]
    fn non_finite_seconds_are_rejected() {
        assert_eq!(Timestamp::from_tt_seconds(f64::NAN), None);
        assert_eq!(Timestamp::from_tt_seconds(f64::INFINITY), None);
        assert_eq!(Timestamp::from_tt_seconds(1e300), None);
    }
}
