//! Requests that no route takes.

use axum::http::{Method, Uri};
use steward_core::ErrorCode;

use crate::ApiError;

/// 404 / 404653 for unknown paths, and for known paths with a method they do not support
/// (Trusted Twin has no sub-code for 405).
pub(crate) async fn route_not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no route for `{method} {}`", uri.path()),
    )
}
