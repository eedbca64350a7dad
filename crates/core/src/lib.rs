//! Steward's services: the use cases the HTTP layer and the CLI call.
//!
//! Services load and store through [`steward_store::Store`], read time through
//! [`steward_domain::Clock`] and report failures as [`Error`] with one closed set of
//! [`ErrorCode`]s that the HTTP layer maps to Trusted Twin statuses and sub-codes.
//!
//! This crate must not depend on HTTP frameworks or SQL drivers: handlers stay thin and
//! backends stay replaceable.

mod accounts;
pub mod credentials;
mod error;
mod operator;

use std::sync::Arc;

use steward_domain::Clock;
use steward_store::Store;

pub use accounts::{AccountPage, CreatedAccount, SUPER_ADMIN_ROLE_NAME};
pub use error::{Error, ErrorCode};
pub use operator::{OperatorAuth, OperatorTokenSetup};

/// The services of one Steward node, sharing one store and one clock.
#[derive(Clone)]
pub struct Steward {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Steward {
    /// Services over `store`, reading time from `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The store, for readiness checks and shutdown.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers.
    pub async fn database_ready(&self) -> bool {
        self.store.ping().await.is_ok()
    }
}
