//! API tests for identities.
