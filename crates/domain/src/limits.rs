//! Per-account limits (fair sharing between tenants): a request rate and quotas on what an
//! account stores. Each field is the account's own setting; `None` means the server's default
//! applies, and 0 means unlimited.

/// An account's own limits, as stored; `None` fields take the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountLimits {
    /// Sustained API requests per second (token bucket refill rate); 0: unlimited.
    pub rate_limit_per_second: Option<u32>,
    /// Requests that may arrive at once (token bucket size); 0: the per-second rate.
    pub rate_limit_burst: Option<u32>,
    /// Alive twins the account may own; 0: unlimited.
    pub max_twins: Option<u64>,
    /// Entries one ledger of the account may hold; 0: unlimited.
    pub max_ledger_entries: Option<u32>,
    /// Bytes all ledgers of the account may hold together (their entries' JSON); 0: unlimited.
    pub max_stored_bytes: Option<u64>,
}

impl AccountLimits {
    /// Whether no field is set (the account has no limits of its own).
    pub const fn is_empty(&self) -> bool {
        self.rate_limit_per_second.is_none()
            && self.rate_limit_burst.is_none()
            && self.max_twins.is_none()
            && self.max_ledger_entries.is_none()
            && self.max_stored_bytes.is_none()
    }
}
