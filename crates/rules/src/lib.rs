//! The Trusted Twin rule language. Pure: no IO, no async.
