//! The closed set of service errors. Each [`ErrorCode`] has exactly one HTTP status and one
//! Trusted Twin sub-code; the HTTP layer maps them in one place.

use steward_store::{Entity, StoreError};

/// What went wrong, in Trusted Twin's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Request body or resulting ledger larger than allowed (400 / 400141).
    QuotaViolation,
    /// Request body is not valid UTF-8 (400 / 400314).
    InvalidCharacters,
    /// The operation was already performed (400 / 400358).
    IdempotencyViolation,
    /// Request body is not JSON (400 / 400415).
    NotAValidJson,
    /// A field fails validation: schema, regex, range, rule syntax (400 / 400589).
    RequestFormat,
    /// Something must happen first (400 / 400592).
    OperationOrderViolation,
    /// The request is malformed, e.g. an undecodable header (400 / 400793).
    CorruptedRequest,
    /// The operation is not allowed in the resource's state (400 / 400897).
    OperationNotAllowed,
    /// Missing, invalid or expired credentials (401 / 401000).
    Unauthorized,
    /// The role or a rule forbids the operation (403 / 403535).
    AccessForbidden,
    /// The resource does not exist or is invisible to the caller (404 / 404653).
    NotFound,
    /// Too many attempts; retry later (429 / 429000, a Steward extension of the sub-codes).
    TooManyRequests,
    /// The server failed; details are only in the logs (500 / 500000).
    General,
    /// The database cannot be reached right now (503 / 503159).
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status of this code.
    pub const fn http_status(&self) -> u16 {
        match self {
            Self::QuotaViolation
            | Self::InvalidCharacters
            | Self::IdempotencyViolation
            | Self::NotAValidJson
            | Self::RequestFormat
            | Self::OperationOrderViolation
            | Self::CorruptedRequest
            | Self::OperationNotAllowed => 400,
            Self::Unauthorized => 401,
            Self::AccessForbidden => 403,
            Self::NotFound => 404,
            Self::TooManyRequests => 429,
            Self::General => 500,
            Self::Unavailable => 503,
        }
    }

    /// The Trusted Twin sub-code of this code.
    pub const fn subcode(&self) -> u32 {
        match self {
            Self::QuotaViolation => 400_141,
            Self::InvalidCharacters => 400_314,
            Self::IdempotencyViolation => 400_358,
            Self::NotAValidJson => 400_415,
            Self::RequestFormat => 400_589,
            Self::OperationOrderViolation => 400_592,
            Self::CorruptedRequest => 400_793,
            Self::OperationNotAllowed => 400_897,
            Self::Unauthorized => 401_000,
            Self::AccessForbidden => 403_535,
            Self::NotFound => 404_653,
            Self::TooManyRequests => 429_000,
            Self::General => 500_000,
            Self::Unavailable => 503_159,
        }
    }
}

/// A service failure: a code plus a message safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Lowercase, product words, user input in backticks; never SQL, paths or secrets.
    pub message: String,
    /// For [`ErrorCode::TooManyRequests`]: seconds until a retry can succeed.
    pub retry_after_seconds: Option<u64>,
}

impl Error {
    /// An error with a code and a client-safe message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    /// 429 with the number of seconds after which a retry can succeed.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: u64) -> Self {
        Self {
            retry_after_seconds: Some(retry_after_seconds),
            ..Self::new(ErrorCode::TooManyRequests, message)
        }
    }

    /// 404 for a missing or invisible thing.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// 400 / 400589 for invalid input.
    pub fn request_format(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::RequestFormat, message)
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(entity) => Self::not_found(entity.as_str()),
            StoreError::AlreadyExists(entity) => Self::new(
                ErrorCode::IdempotencyViolation,
                format!("{entity} already exists"),
            ),
            StoreError::InUse { entity, reason } => Self::new(
                ErrorCode::OperationNotAllowed,
                format!("{entity} is in use: {reason}"),
            ),
            StoreError::Conflict(entity) => {
                // Services retry conflicts; one that still conflicts is safe to retry later.
                Self::new(
                    ErrorCode::Unavailable,
                    format!("{entity} is being changed by another request; retry"),
                )
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                Self::new(ErrorCode::Unavailable, "database temporarily unavailable")
            }
            StoreError::Backend(detail) => {
                // The detail may name tables or SQL; it goes to the log only.
                tracing::error!(%detail, "storage failure");
                Self::new(ErrorCode::General, "internal server error")
            }
        }
    }
}

impl From<Entity> for Error {
    fn from(entity: Entity) -> Self {
        Self::not_found(entity.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_start_with_their_http_status() {
        let all = [
            ErrorCode::QuotaViolation,
            ErrorCode::InvalidCharacters,
            ErrorCode::IdempotencyViolation,
            ErrorCode::NotAValidJson,
            ErrorCode::RequestFormat,
            ErrorCode::OperationOrderViolation,
            ErrorCode::CorruptedRequest,
            ErrorCode::OperationNotAllowed,
            ErrorCode::Unauthorized,
            ErrorCode::AccessForbidden,
            ErrorCode::NotFound,
            ErrorCode::TooManyRequests,
            ErrorCode::General,
            ErrorCode::Unavailable,
        ];
        for code in all {
            assert_eq!(
                u32::from(code.http_status()),
                code.subcode() / 1000,
                "{code:?}"
            );
        }
    }

    #[test]
    fn backend_failures_never_leak_their_detail() {
        let error = Error::from(StoreError::Backend(
            "no such table: secrets at /var/lib/x.db".into(),
        ));
        assert_eq!(error.code, ErrorCode::General);
        assert!(!error.message.contains("secrets"));
        assert!(!error.message.contains("/var"));
    }
}
