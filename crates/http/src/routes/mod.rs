//! One file per resource. Each handler extracts, calls one service method and maps the result.

pub(crate) mod fallback;
pub(crate) mod operator;
pub(crate) mod system;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// Every route of the API.
pub(crate) fn routes() -> Router<AppState> {
    let router = Router::new();
    // A route that panics, so tests can prove panics become 500 / 500000 bodies.
    #[cfg(test)]
    let router = router.route("/__test/panic", get(panicking_handler));
    router
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi_json))
        .route(
            "/operator/accounts",
            post(operator::create_account).get(operator::list_accounts),
        )
        .route("/operator/accounts/{account}", get(operator::get_account))
        .route(
            "/operator/accounts/{account}/suspend",
            post(operator::suspend_account),
        )
        .route(
            "/operator/accounts/{account}/resume",
            post(operator::resume_account),
        )
}

#[cfg(test)]
async fn panicking_handler() -> &'static str {
    panic!("secret detail that must not leak")
}
