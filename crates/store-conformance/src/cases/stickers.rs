//! Conformance cases for stickers.
