//! The one place where service errors become HTTP responses with Trusted Twin error bodies.

use std::any::Any;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_core::{Error, ErrorCode};
use utoipa::ToSchema;

/// Trusted Twin's error body (`TTExceptionBodyResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Trusted Twin sub-code; its first three digits are the HTTP status.
    pub subcode: u32,
    /// Unique id of this error instance; also written to the server log.
    pub trace: String,
    /// Human-readable description.
    pub description: Option<String>,
    /// Link to documentation about the error.
    pub help: Option<String>,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl ApiError {
    /// An error with a code and a client-safe message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Error::new(code, message))
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code;
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let trace = uuid::Uuid::new_v4().to_string();
        if status.is_server_error() {
            tracing::error!(%trace, subcode = code.subcode(), message = %self.0.message, "request failed");
        } else {
            tracing::info!(%trace, subcode = code.subcode(), message = %self.0.message, "request refused");
        }
        if !status.is_server_error() {
            // Why the request was refused, for its audit record (server errors stay in logs).
            steward_core::audit::note_refusal(&self.0.message);
        }
        let retry_after = self.0.retry_after_seconds;
        let body = ErrorBody {
            subcode: code.subcode(),
            trace,
            description: Some(self.0.message),
            help: Some(help_link(code)),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(seconds) = retry_after {
            if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Where the documentation of a sub-code lives (relative to the project's docs).
fn help_link(code: ErrorCode) -> String {
    format!("docs/errors.md#{}", code.subcode())
}

/// Turns a caught panic into a 500 / 500000 without leaking what panicked.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    tracing::error!(%detail, "handler panicked");
    let mut response = ApiError::new(ErrorCode::General, "internal server error").into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
