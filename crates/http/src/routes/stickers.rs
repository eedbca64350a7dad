//! Stickers: workflow tags on twins.

use axum::Router;
use utoipa::OpenApi;

use crate::AppState;

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(paths(), tags((name = "stickers", description = "Stickers: workflow tags on twins")))]
pub(crate) struct StickersApi;
