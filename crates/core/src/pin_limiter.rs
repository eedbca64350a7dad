//! Limits failed PIN redemptions per account, so a six-character PIN cannot be brute-forced.
//!
//! Once an account has `max_failures` failures within the window, every redemption for that
//! account is refused (even with the right PIN) until the oldest failure leaves the window.
//! The count is per node; with several nodes an attacker gets at most `nodes × max_failures`
//! guesses per window, still far below the 36⁶ PIN space.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use steward_domain::{AccountId, Timestamp};

#[derive(Debug, Default)]
pub(crate) struct PinLimiter {
    failures: Mutex<HashMap<AccountId, VecDeque<Timestamp>>>,
}

impl PinLimiter {
    /// `Ok` when an attempt may be made now, else how many seconds to wait.
    pub(crate) fn check(
        &self,
        account: AccountId,
        now: Timestamp,
        max_failures: u32,
        window_millis: i64,
    ) -> Result<(), u64> {
        let Ok(mut failures) = self.failures.lock() else {
            return Err(1);
        };
        let Some(recent) = failures.get_mut(&account) else {
            return Ok(());
        };
        while recent
            .front()
            .is_some_and(|oldest| now.as_millis() - oldest.as_millis() >= window_millis)
        {
            recent.pop_front();
        }
        if recent.len() < usize::try_from(max_failures).unwrap_or(usize::MAX) {
            return Ok(());
        }
        let oldest = recent.front().map_or(now.as_millis(), Timestamp::as_millis);
        let wait_millis = (oldest + window_millis - now.as_millis()).max(1_000);
        Err(u64::try_from(wait_millis / 1_000).unwrap_or(1))
    }

    /// Records a failed attempt.
    pub(crate) fn record_failure(&self, account: AccountId, now: Timestamp) {
        if let Ok(mut failures) = self.failures.lock() {
            let recent = failures.entry(account).or_default();
            recent.push_back(now);
            // Nothing beyond the limit is ever needed; keep memory bounded per account.
            while recent.len() > 1_000 {
                recent.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_until_the_window_passes() {
        let limiter = PinLimiter::default();
        let account = AccountId::new_random();
        let other = AccountId::new_random();
        let start = Timestamp::from_millis(1_000_000);
        for _ in 0..3 {
            assert!(limiter.check(account, start, 3, 60_000).is_ok());
            limiter.record_failure(account, start);
        }
        let wait = limiter.check(account, start, 3, 60_000).unwrap_err();
        assert_eq!(wait, 60);
        assert!(
            limiter.check(other, start, 3, 60_000).is_ok(),
            "per account"
        );
        assert!(limiter
            .check(account, start.plus_millis(60_000), 3, 60_000)
            .is_ok());
    }
}
