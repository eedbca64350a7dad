//! The operator API: accounts are created and managed out of band, by the operator of the
//! Steward installation, with the operator token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use steward_domain::{Account, AccountId, AccountStatus};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{parse_path_id, OperatorCaller, TtJson, TtPath, TtQuery};
use crate::{ApiError, AppState, ErrorBody};

/// Body of `POST /operator/accounts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountRequest {
    /// Display name of the account (1 to 64 characters).
    name: String,
}

/// A new account and its first user's secret. The secret is shown only in this response.
// No `Debug`: the body carries a credential that must never reach a log.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedAccountResponse {
    /// The account's uuid.
    account: String,
    /// The Super Admin user's uuid.
    user: String,
    /// The Super Admin role's uuid.
    role: String,
    /// The Super Admin user's secret (64 characters); store it now, it cannot be shown again.
    secret: String,
}

/// An account as the operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountResponse {
    /// The account's uuid.
    uuid: String,
    /// Display name.
    name: String,
    /// `active` or `suspended`.
    status: &'static str,
    /// Creation time, Unix seconds.
    created_ts: f64,
    /// Last change, Unix seconds.
    updated_ts: f64,
}

impl From<Account> for AccountResponse {
    fn from(account: Account) -> Self {
        Self {
            uuid: account.id.to_string(),
            name: account.name,
            status: account.status.as_str(),
            created_ts: account.created_ts.as_tt_seconds(),
            updated_ts: account.updated_ts.as_tt_seconds(),
        }
    }
}

/// Paging of `GET /operator/accounts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListAccountsQuery {
    /// Return accounts after this cursor (the `next_cursor` of the previous page).
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    count: Option<u32>,
}

/// One page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountListResponse {
    /// Accounts ordered by uuid.
    accounts: Vec<AccountResponse>,
    /// Cursor of the next page, `null` on the last page.
    next_cursor: Option<String>,
}

const DEFAULT_PAGE_SIZE: u32 = 100;

/// Creates an account with its Super Admin role, user and secret.
#[utoipa::path(post, path = "/operator/accounts", tag = "operator", operation_id = "operator_create_account",
    security(("operator_token" = [])),
    request_body = CreateAccountRequest,
    responses(
        (status = 201, description = "Account created", body = CreatedAccountResponse),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
    ))]
pub(crate) async fn create_account(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtJson(request): TtJson<CreateAccountRequest>,
) -> Result<(StatusCode, Json<CreatedAccountResponse>), ApiError> {
    let created = state.steward.create_account(&request.name).await?;
    let bootstrap = created.bootstrap;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccountResponse {
            account: bootstrap.account.id.to_string(),
            user: bootstrap.admin_user.id.to_string(),
            role: bootstrap.admin_role.id.to_string(),
            secret: created.secret,
        }),
    ))
}

/// Lists accounts, a page at a time.
#[utoipa::path(get, path = "/operator/accounts", tag = "operator", operation_id = "operator_list_accounts",
    security(("operator_token" = [])),
    params(ListAccountsQuery),
    responses(
        (status = 200, description = "A page of accounts", body = AccountListResponse),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
    ))]
pub(crate) async fn list_accounts(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtQuery(query): TtQuery<ListAccountsQuery>,
) -> Result<Json<AccountListResponse>, ApiError> {
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| parse_path_id::<AccountId>(cursor, "cursor"))
        .transpose()?;
    let page = state
        .steward
        .list_accounts(after, query.count.unwrap_or(DEFAULT_PAGE_SIZE))
        .await?;
    Ok(Json(AccountListResponse {
        accounts: page.accounts.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(|id| id.to_string()),
    }))
}

/// Shows one account.
#[utoipa::path(get, path = "/operator/accounts/{account}", tag = "operator", operation_id = "operator_get_account",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 400, description = "The account is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn get_account(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    Ok(Json(state.steward.get_account(account).await?.into()))
}

/// Suspends an account: its credentials are refused until it is resumed.
#[utoipa::path(post, path = "/operator/accounts/{account}/suspend", tag = "operator", operation_id = "operator_suspend_account",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    responses(
        (status = 200, description = "The suspended account", body = AccountResponse),
        (status = 400, description = "The account is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn suspend_account(
    operator: OperatorCaller,
    state: State<AppState>,
    account: TtPath<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    change_status(operator, state, account, AccountStatus::Suspended).await
}

/// Resumes a suspended account.
#[utoipa::path(post, path = "/operator/accounts/{account}/resume", tag = "operator", operation_id = "operator_resume_account",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    responses(
        (status = 200, description = "The resumed account", body = AccountResponse),
        (status = 400, description = "The account is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn resume_account(
    operator: OperatorCaller,
    state: State<AppState>,
    account: TtPath<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    change_status(operator, state, account, AccountStatus::Active).await
}

async fn change_status(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    status: AccountStatus,
) -> Result<Json<AccountResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    Ok(Json(
        state
            .steward
            .set_account_status(account, status)
            .await?
            .into(),
    ))
}

/// Body of `PUT /operator/accounts/{account}/audit-retention`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditRetentionRequest {
    /// Days the account's audit records are kept (0: forever, at most 36500); `null` removes
    /// the account's own retention, so the server's `audit_retention_days` applies.
    days: Option<u32>,
}

/// An account's audit retention.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditRetentionResponse {
    /// The account's uuid.
    account: String,
    /// The account's own retention in days (0: forever), or `null` for the server's default.
    days: Option<u32>,
    /// The retention that applies, in days (0: forever). A record is deleted once it is older
    /// than the retention of both its data owner's and its actor's account.
    effective_days: u32,
}

fn retention_response(
    account: AccountId,
    setting: steward_core::audit::retention::RetentionSetting,
) -> Json<AuditRetentionResponse> {
    Json(AuditRetentionResponse {
        account: account.to_string(),
        days: setting.days,
        effective_days: setting.effective_days,
    })
}

/// Shows how long an account's audit records are kept (Steward extension).
#[utoipa::path(get, path = "/operator/accounts/{account}/audit-retention", tag = "operator",
    operation_id = "operator_get_audit_retention",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    responses(
        (status = 200, description = "The account's audit retention", body = AuditRetentionResponse),
        (status = 400, description = "The account is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn get_audit_retention(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
) -> Result<Json<AuditRetentionResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let setting = state.steward.audit_retention(account).await?;
    Ok(retention_response(account, setting))
}

/// Sets how long an account's audit records are kept (Steward extension). Records are deleted
/// once older than the retention of both accounts that can read them (owner and actor), and
/// only once a signed checkpoint covers them; the log keeps verifying.
#[utoipa::path(put, path = "/operator/accounts/{account}/audit-retention", tag = "operator",
    operation_id = "operator_set_audit_retention",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    request_body = AuditRetentionRequest,
    responses(
        (status = 200, description = "The account's audit retention", body = AuditRetentionResponse),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn set_audit_retention(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    TtJson(request): TtJson<AuditRetentionRequest>,
) -> Result<Json<AuditRetentionResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let setting = state
        .steward
        .set_audit_retention(account, request.days)
        .await?;
    Ok(retention_response(account, setting))
}

/// An account's own limits (Steward extension): body of
/// `PUT /operator/accounts/{account}/limits` and the `limits` of its answer. The document
/// replaces the account's previous limits whole; an absent or `null` field takes the server's
/// default (`rate_limit_per_second`, …, `quota_max_stored_bytes` in the configuration), and 0
/// is unlimited.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountLimitsDocument {
    /// Sustained API requests per second (token bucket refill; 0 to 1000000, 0: unlimited).
    rate_limit_per_second: Option<u32>,
    /// Requests that may arrive at once (token bucket size; 0: one second's worth).
    rate_limit_burst: Option<u32>,
    /// Alive twins the account may own (0: unlimited).
    max_twins: Option<u64>,
    /// Entries one ledger of the account may hold (0: unlimited).
    max_ledger_entries: Option<u32>,
    /// Bytes the entries of all the account's ledgers may take together (0: unlimited).
    max_stored_bytes: Option<u64>,
}

/// The limits that apply to an account: its own where set, else the server's defaults; 0 is
/// unlimited.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EffectiveLimitsResponse {
    /// Requests per second (0: not limited).
    rate_limit_per_second: u32,
    /// Token bucket size (0 when the rate is not limited).
    rate_limit_burst: u32,
    /// Alive twins the account may own.
    max_twins: u64,
    /// Entries per ledger.
    max_ledger_entries: u32,
    /// Bytes of all the account's ledgers.
    max_stored_bytes: u64,
}

/// An account's limits.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountLimitsResponse {
    /// The account's uuid.
    account: String,
    /// The account's own settings; `null` fields take the server's default.
    limits: AccountLimitsDocument,
    /// What applies now on this node (other nodes apply a change within 5 seconds).
    effective: EffectiveLimitsResponse,
}

fn limits_response(
    account: AccountId,
    setting: steward_core::limits::LimitsSetting,
) -> Json<AccountLimitsResponse> {
    let own = setting.own;
    let effective = setting.effective;
    Json(AccountLimitsResponse {
        account: account.to_string(),
        limits: AccountLimitsDocument {
            rate_limit_per_second: own.rate_limit_per_second,
            rate_limit_burst: own.rate_limit_burst,
            max_twins: own.max_twins,
            max_ledger_entries: own.max_ledger_entries,
            max_stored_bytes: own.max_stored_bytes,
        },
        effective: EffectiveLimitsResponse {
            rate_limit_per_second: effective.rate_limit_per_second,
            rate_limit_burst: effective.rate_limit_burst,
            max_twins: effective.max_twins,
            max_ledger_entries: effective.max_ledger_entries,
            max_stored_bytes: effective.max_stored_bytes,
        },
    })
}

/// Shows an account's request rate limit and quotas (Steward extension).
#[utoipa::path(get, path = "/operator/accounts/{account}/limits", tag = "operator",
    operation_id = "operator_get_account_limits",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    responses(
        (status = 200, description = "The account's limits", body = AccountLimitsResponse),
        (status = 400, description = "The account is not a uuid", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn get_account_limits(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
) -> Result<Json<AccountLimitsResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let setting = state.steward.account_limits(account).await?;
    Ok(limits_response(account, setting))
}

/// Replaces an account's request rate limit and quotas (Steward extension). Over the rate a
/// request gets 429 / 429000 with `Retry-After`; a write over a quota gets 400 / 400141.
/// This node applies the change at once, other nodes within 5 seconds.
#[utoipa::path(put, path = "/operator/accounts/{account}/limits", tag = "operator",
    operation_id = "operator_set_account_limits",
    security(("operator_token" = [])),
    params(("account" = String, Path, description = "Account uuid")),
    request_body = AccountLimitsDocument,
    responses(
        (status = 200, description = "The account's limits", body = AccountLimitsResponse),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid operator token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn set_account_limits(
    _operator: OperatorCaller,
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    TtJson(request): TtJson<AccountLimitsDocument>,
) -> Result<Json<AccountLimitsResponse>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let own = steward_domain::AccountLimits {
        rate_limit_per_second: request.rate_limit_per_second,
        rate_limit_burst: request.rate_limit_burst,
        max_twins: request.max_twins,
        max_ledger_entries: request.max_ledger_entries,
        max_stored_bytes: request.max_stored_bytes,
    };
    let setting = state.steward.set_account_limits(account, own).await?;
    Ok(limits_response(account, setting))
}
