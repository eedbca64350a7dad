//! Steward's composition root: reads the configuration, opens the chosen store backend,
//! builds the services and the router, serves HTTP and shuts down gracefully.
//!
//! This is the only crate that knows both store backends. It must not contain business rules
//! or HTTP handlers.

mod config;
pub mod dispatcher;
mod serve;

pub use config::{Config, ConfigError, ConfigOverrides, LogFormat, DEFAULT_CONFIG_FILE};
pub use serve::{open_store, serve, shutdown_signal, ServeHandle};
