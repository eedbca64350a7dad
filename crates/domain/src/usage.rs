//! Usage metering and the account log (Trusted Twin's `GET /usage`, `GET /log`, `POST /trace`):
//! hourly bucket keys, the counter names, increments and log messages.

use uuid::Uuid;

use crate::{AccountId, Timestamp};

/// Every authenticated API request of a user, whatever its answer.
pub const REQUEST_COUNT: &str = "request_count";
/// The same count under Trusted Twin's older name, kept for clients that read it.
pub const REST_COUNT: &str = "rest_count";
/// Read operations (`GET` requests) of a user: a count of operations, not money.
pub const DB_READ_COST: &str = "db_read_cost";
/// Write operations (`POST`, `PATCH`, `PUT`, `DELETE` requests) of a user: a count of
/// operations, not money.
pub const DB_WRITE_COST: &str = "db_write_cost";
/// Twins a user created.
pub const TWINS_CREATED: &str = "twins_created";
/// Twins a user terminated.
pub const TWINS_TERMINATED: &str = "twins_terminated";
/// Identities a user attached (newly stored ones only).
pub const IDENTITIES_ADDED: &str = "identities_added";
/// Webhook messages delivered for the topics of an account (account level, no user).
pub const TASK_PUBLISH_TOPIC_COUNT: &str = "task_publish_topic_count";

/// The user of usage that no user caused (background work such as webhook deliveries).
pub const NO_USER: Uuid = Uuid::nil();

/// How long usage buckets are kept: 48 hours.
pub const USAGE_RETENTION_MILLIS: i64 = 48 * 3_600_000;

/// How long account log messages are kept: 7 days.
pub const ACCOUNT_LOG_RETENTION_MILLIS: i64 = 7 * 24 * 3_600_000;

const MILLIS_PER_HOUR: i64 = 3_600_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// Something to add to one usage counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageIncrement {
    /// The account the usage belongs to.
    pub account: AccountId,
    /// The user that caused it, or [`NO_USER`].
    pub user: Uuid,
    /// The hour it happened in ([`usage_bucket`]).
    pub bucket: String,
    /// The counter's name (see the constants of this module).
    pub counter: String,
    /// How much to add.
    pub value: u64,
}

/// One message of an account's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLogMessage {
    /// Its position in the account's log: increasing in commit order, never reused.
    pub seq: u64,
    /// When it was appended.
    pub ts: Timestamp,
    /// The text, starting with its ISO-8601 UTC timestamp.
    pub text: String,
}

/// The calendar fields of a timestamp (UTC): year, month, day, hour, minute, second, millis.
fn civil(ts: Timestamp) -> (i64, u32, u32, i64, i64, i64, i64) {
    let millis = ts.as_millis();
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let of_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = crate::history::civil_from_days(days);
    (
        year,
        month,
        day,
        of_day / MILLIS_PER_HOUR,
        of_day % MILLIS_PER_HOUR / 60_000,
        of_day % 60_000 / 1000,
        of_day % 1000,
    )
}

/// The usage bucket (hour, UTC) of a moment: `YYYY-MM-DD-HH`. Keys sort in time order.
pub fn usage_bucket(ts: Timestamp) -> String {
    let (year, month, day, hour, ..) = civil(ts);
    format!("{year:04}-{month:02}-{day:02}-{hour:02}")
}

/// The bucket of the hour before the one `ts` is in.
pub fn previous_usage_bucket(ts: Timestamp) -> String {
    usage_bucket(ts.plus_millis(-MILLIS_PER_HOUR))
}

/// A moment as ISO-8601 UTC with milliseconds: `2026-11-23T01:02:03.456Z`.
pub fn iso8601_utc(ts: Timestamp) -> String {
    let (year, month, day, hour, minute, second, millis) = civil(ts);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

/// The account log message of a webhook message given up on.
pub fn dead_letter_log_text(ts: Timestamp, message: Uuid, topic: &str, reason: &str) -> String {
    format!(
        "{} Webhook message {message} for topic '{topic}' dead-lettered: {reason}.",
        iso8601_utc(ts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_timestamps_are_utc_calendar_text() {
        // 2026-11-23T01:02:03.456Z
        let ts = Timestamp::from_millis(1_795_395_723_456);
        assert_eq!(iso8601_utc(ts), "2026-11-23T01:02:03.456Z");
        assert_eq!(usage_bucket(ts), "2026-11-23-01");
        assert_eq!(previous_usage_bucket(ts), "2026-11-23-00");
        assert_eq!(
            previous_usage_bucket(Timestamp::from_millis(1_795_392_000_000)),
            "2026-11-22-23"
        );
        assert_eq!(
            iso8601_utc(Timestamp::from_millis(0)),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
