//! Stickers: workflow tags on twins.
