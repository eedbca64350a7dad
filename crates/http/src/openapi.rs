//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    account, audit, events, identities, ledgers, notifications, operator, roles, secrets, stickers,
    system, tokens, twins, usage, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward",
        description = "Self-hostable server for operational data sharing between partner \
                       organisations; compatible with the Trusted Twin API 3.18.",
        license(name = "Apache-2.0"),
    ),
    paths(
        system::healthz,
        system::readyz,
        system::metrics,
        system::openapi_json,
        operator::create_account,
        operator::list_accounts,
        operator::get_account,
        operator::suspend_account,
        operator::resume_account,
        operator::get_audit_retention,
        operator::set_audit_retention,
        operator::get_account_limits,
        operator::set_account_limits,
        account::who_am_i,
        account::get_account,
        account::update_account,
        users::list_users,
        users::create_user,
        users::get_user,
        users::update_user,
        users::delete_user,
        secrets::create_pin,
        secrets::redeem_pin,
        secrets::get_secret,
        secrets::update_secret,
        secrets::delete_secret,
        tokens::create_token,
        tokens::refresh_token,
        roles::list_roles,
        roles::create_role,
        roles::get_role,
        roles::update_role,
        roles::delete_role,
        twins::create_twin,
        twins::get_twin,
        twins::update_twin,
        twins::terminate_twin,
        twins::scan_twins,
        ledgers::get_ledger,
        ledgers::add_entries,
        ledgers::update_entries,
        ledgers::delete_entries,
        ledgers::get_values,
        ledgers::update_values,
        ledgers::get_history,
    ),
    components(schemas(crate::ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "system", description = "Health, readiness, metrics and this document"),
        (name = "operator", description = "Account management by the installation's operator"),
        (name = "account", description = "The caller's account and identity"),
        (name = "users", description = "Users of the caller's account"),
        (name = "secrets", description = "User secrets and the PIN flow"),
        (name = "tokens", description = "User tokens"),
        (name = "roles", description = "Roles: statements and rules"),
        (name = "twins", description = "Twins: the shared objects"),
        (name = "ledgers", description = "Ledgers and their entries"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "user_credential",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "A user secret or token, raw (as Trusted Twin clients send it) or after `Bearer `",
            ))),
        );
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The operator token, raw or after `Bearer `",
            ))),
        );
    }
}

/// The OpenAPI document as pretty-printed JSON, built once per process.
pub fn openapi_document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = ApiDoc::openapi();
        document.merge(identities::IdentitiesApi::openapi());
        document.merge(stickers::StickersApi::openapi());
        document.merge(notifications::NotificationsApi::openapi());
        document.merge(events::EventsApi::openapi());
        document.merge(audit::AuditApi::openapi());
        document.merge(usage::UsageApi::openapi());
        // The crate version would make the committed copy change on every release bump.
        document.info.version = "3.18.0-steward".to_owned();
        serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_owned()) + "\n"
    })
}
