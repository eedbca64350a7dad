//! The conformance cases. Each takes a fresh, empty store and panics on a violation.
//! Every case is listed in [`crate::conformance_tests!`] so each backend runs all of them.

mod accounts;
mod audit;
mod events;
mod exact_json;
mod history;
mod identities;
mod isolation;
mod ledgers;
mod limits;
mod notifications;
mod pins;
mod roles;
mod secrets;
mod settings;
mod stickers;
mod twins;
mod usage;
mod users;

use std::fmt::Debug;

use steward_domain::AccountBootstrap;
use steward_store::{Entity, Store, StoreError};

pub use accounts::*;
pub use audit::*;
pub use events::*;
pub use exact_json::*;
pub use history::*;
pub use identities::*;
pub use isolation::*;
pub use ledgers::*;
pub use limits::*;
pub use notifications::*;
pub use pins::*;
pub use roles::*;
pub use secrets::*;
pub use settings::*;
pub use stickers::*;
pub use twins::*;
pub use usage::*;
pub use users::*;

use crate::fixtures;

/// Stores a fresh account bootstrap and returns it.
async fn new_account(store: &dyn Store, name: &str) -> AccountBootstrap {
    let bootstrap = fixtures::bootstrap(name);
    store
        .create_account(&bootstrap)
        .await
        .expect("creating a fresh account should succeed");
    bootstrap
}

/// Asserts that `result` failed with `NotFound(entity)`.
#[track_caller]
fn assert_not_found<T: Debug>(result: Result<T, StoreError>, entity: Entity) {
    match result {
        Err(StoreError::NotFound(found)) if found == entity => {}
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}

/// Asserts that `result` failed with `AlreadyExists(entity)`.
#[track_caller]
fn assert_already_exists<T: Debug>(result: Result<T, StoreError>, entity: Entity) {
    match result {
        Err(StoreError::AlreadyExists(found)) if found == entity => {}
        other => panic!("expected {entity} already exists, got {other:?}"),
    }
}

/// Asserts that `result` failed with `Conflict(entity)`.
#[track_caller]
fn assert_conflict<T: Debug>(result: Result<T, StoreError>, entity: Entity) {
    match result {
        Err(StoreError::Conflict(found)) if found == entity => {}
        other => panic!("expected {entity} conflict, got {other:?}"),
    }
}
