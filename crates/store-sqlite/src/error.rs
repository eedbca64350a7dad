//! Maps sqlx/SQLite errors onto [`StoreError`].
//!
//! Constraint violations only mean something in the context of the statement that raised them,
//! so callers say what a unique or foreign key violation means there; everything else is
//! classified here once.

use sqlx::error::ErrorKind;
use steward_store::{Entity, StoreError};

/// SQLITE_BUSY and SQLITE_LOCKED: another connection held the lock past the busy timeout.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

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

/// Maps a foreign key violation to `NotFound(entity)` (the referenced row is missing) and a
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
            let primary_code = database
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                // Extended result codes carry the primary code in their low byte.
                .map(|code| code & 0xff);
            if matches!(primary_code, Some(SQLITE_BUSY | SQLITE_LOCKED)) {
                return StoreError::Unavailable(format!("database is busy: {database}"));
            }
            StoreError::Backend(format!("sqlite: {database}"))
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Backend(format!("sqlite: {other}")),
    }
}

pub(crate) use steward_store::columns::corrupt;
