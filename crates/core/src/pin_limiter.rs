//! Limits failed PIN redemptions per account, so a six-character PIN cannot be brute-forced.
//!
//! Every attempt is counted *before* it is tried (and forgiven if it succeeds), so concurrent
//! guesses cannot slip past the limit. Once an account has `max_attempts` counted attempts
//! within the window, every redemption for that account (even with the right PIN) is refused
//! until the oldest one leaves the window. The count is per node; with several nodes an attacker
//! gets at most `nodes × max_attempts` guesses per window, still far below the 36⁶ PIN space.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use steward_domain::{AccountId, Timestamp};

/// Accounts tracked at once; beyond this the oldest-looking state is dropped wholesale. Bounds
/// memory under requests for made-up account ids (the PIN route needs no credentials).
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

#[derive(Debug, Default)]
pub(crate) struct PinLimiter {
    attempts: Mutex<HashMap<AccountId, VecDeque<Timestamp>>>,
}

impl PinLimiter {
    /// Counts an attempt for `account` if the limit allows it; else how many seconds to wait.
    pub(crate) fn begin_attempt(
        &self,
        account: AccountId,
        now: Timestamp,
        max_attempts: u32,
        window_millis: i64,
    ) -> Result<(), u64> {
        let Ok(mut attempts) = self.attempts.lock() else {
            return Err(1);
        };
        if attempts.len() >= MAX_TRACKED_ACCOUNTS && !attempts.contains_key(&account) {
            attempts.retain(|_, recent| {
                recent
                    .back()
                    .is_some_and(|last| now.as_millis() - last.as_millis() < window_millis)
            });
            if attempts.len() >= MAX_TRACKED_ACCOUNTS {
                attempts.clear();
            }
        }
        let recent = attempts.entry(account).or_default();
        while recent
            .front()
            .is_some_and(|oldest| now.as_millis() - oldest.as_millis() >= window_millis)
        {
            recent.pop_front();
        }
        if recent.len() >= usize::try_from(max_attempts).unwrap_or(usize::MAX) {
            let oldest = recent.front().map_or(now.as_millis(), Timestamp::as_millis);
            let wait_millis = (oldest + window_millis - now.as_millis()).max(1_000);
            return Err(u64::try_from(wait_millis / 1_000).unwrap_or(1));
        }
        recent.push_back(now);
        Ok(())
    }

    /// Takes back an attempt that succeeded, so only failures count against the account.
    pub(crate) fn forgive_attempt(&self, account: AccountId, at: Timestamp) {
        if let Ok(mut attempts) = self.attempts.lock() {
            if let Some(recent) = attempts.get_mut(&account) {
                if let Some(position) = recent.iter().rposition(|attempt| *attempt == at) {
                    recent.remove(position);
                }
                if recent.is_empty() {
                    attempts.remove(&account);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_attempts_until_the_window_passes() {
        let limiter = PinLimiter::default();
        let account = AccountId::new_random();
        let other = AccountId::new_random();
        let start = Timestamp::from_millis(1_000_000);
        for _ in 0..3 {
            assert!(limiter.begin_attempt(account, start, 3, 60_000).is_ok());
        }
        assert_eq!(limiter.begin_attempt(account, start, 3, 60_000), Err(60));
        assert!(
            limiter.begin_attempt(other, start, 3, 60_000).is_ok(),
            "per account"
        );
        assert!(limiter
            .begin_attempt(account, start.plus_millis(60_000), 3, 60_000)
            .is_ok());
    }

    #[test]
    fn successful_attempts_are_forgiven() {
        let limiter = PinLimiter::default();
        let account = AccountId::new_random();
        let now = Timestamp::from_millis(5_000);
        for _ in 0..5 {
            assert!(limiter.begin_attempt(account, now, 2, 60_000).is_ok());
            limiter.forgive_attempt(account, now);
        }
        assert!(limiter.attempts.lock().unwrap().is_empty());
    }
}
