//! API tests for stickers.
