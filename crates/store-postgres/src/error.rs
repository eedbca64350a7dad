//! Maps sqlx/PostgreSQL errors onto [`StoreError`].
//!
//! Constraint violations only mean something in the context of the statement that raised them,
//! so callers say what a unique or foreign key violation means there; everything else is
//! classified here once.

use sqlx::error::ErrorKind;
use steward_store::{Entity, StoreError};

/// Maps an error that no statement-specific meaning applies to.
pub(crate) fn database_error(error: sqlx::Error) -> StoreError {
    map_violation(error, |_| None)
}

/// Maps a unique violation to `AlreadyExists(entity)`, anything else as [`database_error`].
pub(crate) fn unique_means_exists(entity: Entity) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| {
        map_violation(error, |kind| {
            (kind == ErrorKind::UniqueViolation).then_some(StoreError::AlreadyExists(entity))
        })
    }
}

/// Maps a foreign key violation to `NotFound(missing)` (the referenced row is missing) and a
/// unique violation to `AlreadyExists(existing)`.
pub(crate) fn foreign_key_means_missing(
    missing: Entity,
    existing: Entity,
) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| {
        map_violation(error, |kind| match kind {
            ErrorKind::ForeignKeyViolation => Some(StoreError::NotFound(missing)),
            ErrorKind::UniqueViolation => Some(StoreError::AlreadyExists(existing)),
            _ => None,
        })
    }
}

/// Maps a constraint violation through `meaning`; falls back to availability or backend errors.
pub(crate) fn map_violation(
    error: sqlx::Error,
    meaning: impl FnOnce(ErrorKind) -> Option<StoreError>,
) -> StoreError {
    match error {
        sqlx::Error::Database(database) => {
            if let Some(mapped) = meaning(database.kind()) {
                return mapped;
            }
            let sqlstate = database
                .code()
                .map(|code| code.into_owned())
                .unwrap_or_default();
            if is_transient(&sqlstate) {
                return StoreError::Unavailable(format!("postgres {sqlstate}: {database}"));
            }
            StoreError::Backend(format!("postgres {sqlstate}: {database}"))
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Backend(format!("postgres: {other}")),
    }
}

/// SQLSTATEs after which retrying later may succeed: connection exceptions (08), insufficient
/// resources (53), operator intervention such as a shutdown (57P), and serialization failures
/// or deadlocks (40001, 40P01).
fn is_transient(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || sqlstate.starts_with("57P")
        || sqlstate == "40001"
        || sqlstate == "40P01"
}

pub(crate) use steward_store::columns::corrupt;
