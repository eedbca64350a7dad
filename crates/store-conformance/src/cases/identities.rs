//! Conformance cases for identities.
