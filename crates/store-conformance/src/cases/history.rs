//! Conformance cases for history.
