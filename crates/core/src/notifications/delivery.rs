//! When a failed delivery is tried again: exponential back-off from one second up to one hour,
//! then the message is given up (dead-lettered).

use steward_domain::Timestamp;

/// The retry schedule of webhook deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure, in milliseconds (default 1 s).
    pub base_millis: u64,
    /// Longest delay, in milliseconds (default 1 h).
    pub max_millis: u64,
    /// Failed attempts after which the message is dead-lettered (default 15: delays of 1 s,
    /// 2 s, 4 s … 2048 s, then 1 h twice, about 3.2 hours in all).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_millis: 1_000,
            max_millis: 3_600_000,
            max_attempts: 15,
        }
    }
}

/// How long one delivery attempt may take. A dispatcher holds a claimed delivery for the
/// configured lease (`webhook_lease_seconds`, default 30 s, at least 10 s), which must outlast
/// this; a dispatcher that dies mid-delivery releases it to others after the lease.
pub const DELIVERY_TIMEOUT_MILLIS: u64 = 5_000;

impl RetryPolicy {
    /// When to try again after `failed` failed attempts in all, or `None` to give up.
    pub fn next_attempt(&self, failed: u32, now: Timestamp) -> Option<Timestamp> {
        if failed >= self.max_attempts {
            return None;
        }
        let doublings = failed.saturating_sub(1).min(63);
        let delay = self
            .base_millis
            .saturating_mul(1_u64 << doublings)
            .min(self.max_millis);
        Some(now.plus_millis(i64::try_from(delay).unwrap_or(i64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_one_second_to_one_hour_then_gives_up() {
        let policy = RetryPolicy::default();
        let now = Timestamp::from_millis(0);
        let delays: Vec<i64> = (1..=14)
            .map(|failed| policy.next_attempt(failed, now).unwrap().as_millis())
            .collect();
        assert_eq!(&delays[..4], [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(delays[11], 2_048_000);
        assert_eq!(&delays[12..], [3_600_000, 3_600_000]);
        assert_eq!(policy.next_attempt(15, now), None);
        assert_eq!(policy.next_attempt(u32::MAX, now), None);
    }
}
