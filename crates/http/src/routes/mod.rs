//! One file per resource. Each handler extracts, calls one service method and maps the result.

pub(crate) mod account;
pub(crate) mod audit;
pub(crate) mod dto;
pub(crate) mod events;
pub(crate) mod fallback;
pub(crate) mod identities;
pub(crate) mod ledgers;
pub(crate) mod notifications;
pub(crate) mod operator;
pub(crate) mod roles;
pub(crate) mod secrets;
pub(crate) mod stickers;
pub(crate) mod system;
pub(crate) mod tokens;
pub(crate) mod twins;
pub(crate) mod usage;
pub(crate) mod users;

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
        .route(
            "/operator/accounts/{account}/audit-retention",
            get(operator::get_audit_retention).put(operator::set_audit_retention),
        )
        .route(
            "/operator/accounts/{account}/limits",
            get(operator::get_account_limits).put(operator::set_account_limits),
        )
        .route("/whoami", get(account::who_am_i))
        .route(
            "/account",
            get(account::get_account).patch(account::update_account),
        )
        .route("/users", get(users::list_users).post(users::create_user))
        .route(
            "/users/{user}",
            get(users::get_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            "/users/{user}/secrets",
            post(secrets::create_pin)
                .get(secrets::get_secret)
                .patch(secrets::update_secret)
                .delete(secrets::delete_secret),
        )
        .route("/secrets/{account}/{pin}", post(secrets::redeem_pin))
        .route("/token", post(tokens::create_token))
        .route("/token/refresh", post(tokens::refresh_token))
        .route("/roles", get(roles::list_roles).post(roles::create_role))
        .route("/twins", get(twins::scan_twins).post(twins::create_twin))
        .route(
            "/twins/{twin}",
            get(twins::get_twin)
                .patch(twins::update_twin)
                .delete(twins::terminate_twin),
        )
        .route(
            "/twins/{twin}/ledgers/{ledger}",
            get(ledgers::get_ledger)
                .post(ledgers::add_entries)
                .patch(ledgers::update_entries)
                .delete(ledgers::delete_entries),
        )
        .route(
            "/twins/{twin}/ledgers/{ledger}/value",
            get(ledgers::get_values).patch(ledgers::update_values),
        )
        .route(
            "/twins/{twin}/ledgers/{ledger}/history",
            get(ledgers::get_history),
        )
        .route(
            "/roles/{role}",
            get(roles::get_role)
                .patch(roles::update_role)
                .delete(roles::delete_role),
        )
        .merge(identities::routes())
        .merge(stickers::routes())
        .merge(notifications::routes())
        .merge(events::routes())
        .merge(audit::routes())
        .merge(usage::routes())
}

#[cfg(test)]
async fn panicking_handler() -> &'static str {
    panic!("secret detail that must not leak")
}
