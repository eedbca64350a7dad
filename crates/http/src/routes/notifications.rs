//! Webhook subscriptions and topic access grants (spec §5.10, §6.1).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use steward_core::notifications::subscriptions::{SubscribeRequest, SubscriptionAnswer};
use steward_domain::{AccountId, Subscription};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::extract::{parse_path_id, Caller, TtJson, TtPath, TtQuery};
use crate::{ApiError, AppState, ErrorBody};

/// The routes of this module, merged into the API router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications/webhooks", post(subscribe))
        .route("/notifications/webhooks/access", get(get_access))
        .route(
            "/notifications/webhooks/access/accounts/{account}",
            patch(update_access),
        )
        .route(
            "/notifications/webhooks/{account}",
            get(confirm).patch(refresh).delete(unsubscribe),
        )
}

/// The OpenAPI paths of this module, merged into the API document.
#[derive(OpenApi)]
#[openapi(
    paths(subscribe, confirm, refresh, unsubscribe, get_access, update_access),
    tags((name = "notifications", description = "Webhook subscriptions to topics and topic access grants"))
)]
pub(crate) struct NotificationsApi;

/// `POST /notifications/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeBody {
    /// Where messages are POSTed (http or https, at most 512 characters).
    callback_url: String,
    /// The topic (3–48 letters, digits or `-`).
    topic: String,
    /// 16 characters of A-Z, a-z, 0-9, `-`, `_`: with it, messages carry a `hash`.
    #[serde(default)]
    client_secret: Option<String>,
    /// Lifetime in seconds, 1 to 604800 (default 604800).
    #[serde(default)]
    expires: Option<u64>,
    /// The account whose topic is subscribed (Steward extension; default: the caller's).
    #[serde(default)]
    account: Option<String>,
}

/// A subscription in answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SubscriptionBody {
    topic: String,
    account: String,
    validity_ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsubscribe_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_url: Option<String>,
}

impl SubscriptionBody {
    fn of(subscription: &Subscription, management_url: Option<String>) -> Self {
        Self {
            topic: subscription.topic.clone(),
            account: subscription.topic_account.to_string(),
            validity_ts: subscription.validity_ts.as_tt_seconds(),
            unsubscribe_url: management_url.clone(),
            refresh_url: management_url,
        }
    }
}

/// Answer of subscribe and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SubscribedBody {
    subscription: SubscriptionBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_secret: Option<String>,
}

impl SubscribedBody {
    fn of(answer: SubscriptionAnswer, with_callback: bool) -> Self {
        Self {
            subscription: SubscriptionBody::of(&answer.subscription, answer.management_url),
            callback_url: with_callback.then(|| answer.subscription.callback_url.clone()),
            server_secret: answer.server_secret,
        }
    }
}

/// `?token=` of the management URLs.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenQuery {
    /// The token from the confirmation message.
    token: String,
}

/// Subscribes a webhook to a topic (`webhook_subscribe`); a confirmation message with the
/// confirmation URL is then POSTed to the callback.
#[utoipa::path(post, path = "/notifications/webhooks", tag = "notifications",
    operation_id = "webhook_subscribe",
    security(("user_credential" = [])),
    request_body = SubscribeBody,
    responses(
        (status = 201, description = "The subscription (unconfirmed) and, with a client secret, the server secret", body = SubscribedBody),
        (status = 400, description = "Invalid callback URL (including internal addresses), topic, secret or lifetime (400589)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it, or another account's topic without its grant", body = ErrorBody),
    ))]
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtJson(body): TtJson<SubscribeBody>,
) -> Result<(StatusCode, Json<SubscribedBody>), ApiError> {
    let account = body
        .account
        .as_deref()
        .map(|account| parse_path_id::<AccountId>(account, "account"))
        .transpose()?;
    let answer = state
        .steward
        .webhook_subscribe(
            &principal,
            SubscribeRequest {
                callback_url: body.callback_url,
                topic: body.topic,
                client_secret: body.client_secret,
                expires: body.expires,
                account,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SubscribedBody::of(answer, true))))
}

/// Confirms a subscription (`webhook_confirm_subscription`); needs no credentials, the token
/// from the confirmation message is the proof.
#[utoipa::path(get, path = "/notifications/webhooks/{account}", tag = "notifications",
    operation_id = "webhook_confirm_subscription",
    params(("account" = String, Path, description = "The account whose topic is subscribed"), TokenQuery),
    responses(
        (status = 200, description = "The confirmed subscription with its refresh and unsubscribe URLs", body = SubscribedBody),
        (status = 400, description = "Malformed account or query (400589)", body = ErrorBody),
        (status = 404, description = "No subscription with this token, or it expired", body = ErrorBody),
    ))]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    TtQuery(query): TtQuery<TokenQuery>,
) -> Result<Json<SubscribedBody>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let answer = state.steward.webhook_confirm(account, &query.token).await?;
    Ok(Json(SubscribedBody::of(answer, false)))
}

/// Extends a confirmed subscription by its lifetime (`webhook_refresh_subscription`).
#[utoipa::path(patch, path = "/notifications/webhooks/{account}", tag = "notifications",
    operation_id = "webhook_refresh_subscription",
    params(("account" = String, Path, description = "The account whose topic is subscribed"), TokenQuery),
    responses(
        (status = 200, description = "The refreshed subscription", body = SubscribedBody),
        (status = 400, description = "Not confirmed yet (400897), or malformed input (400589)", body = ErrorBody),
        (status = 404, description = "No subscription with this token, or it expired", body = ErrorBody),
    ))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    TtQuery(query): TtQuery<TokenQuery>,
) -> Result<Json<SubscribedBody>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let answer = state.steward.webhook_refresh(account, &query.token).await?;
    Ok(Json(SubscribedBody::of(answer, true)))
}

/// Ends a subscription and drops its undelivered messages (`webhook_unsubscribe`).
#[utoipa::path(delete, path = "/notifications/webhooks/{account}", tag = "notifications",
    operation_id = "webhook_unsubscribe",
    params(("account" = String, Path, description = "The account whose topic is subscribed"), TokenQuery),
    responses(
        (status = 200, description = "The ended subscription", body = SubscriptionBody),
        (status = 400, description = "Malformed input (400589)", body = ErrorBody),
        (status = 404, description = "No subscription with this token", body = ErrorBody),
    ))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    TtPath(account): TtPath<String>,
    TtQuery(query): TtQuery<TokenQuery>,
) -> Result<Json<SubscriptionBody>, ApiError> {
    let account = parse_path_id::<AccountId>(&account, "account")?;
    let ended = state
        .steward
        .webhook_unsubscribe(account, &query.token)
        .await?;
    Ok(Json(SubscriptionBody::of(&ended, None)))
}

/// Topics granted to one account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct TopicsBody {
    topics: Vec<String>,
}

/// The grants of the caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccessBody {
    accounts: BTreeMap<String, TopicsBody>,
}

/// The topics the caller's account lets other accounts subscribe to
/// (`get_notifications_access`).
#[utoipa::path(get, path = "/notifications/webhooks/access", tag = "notifications",
    operation_id = "get_notifications_access",
    security(("user_credential" = [])),
    responses(
        (status = 200, description = "Topics by grantee account", body = AccessBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
    ))]
pub(crate) async fn get_access(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<AccessBody>, ApiError> {
    let granted = state.steward.get_notifications_access(&principal).await?;
    Ok(Json(AccessBody {
        accounts: granted
            .into_iter()
            .map(|(account, topics)| (account.to_string(), TopicsBody { topics }))
            .collect(),
    }))
}

/// Replaces the topics another account may subscribe to (`update_notifications_account_access`);
/// an empty list revokes.
#[utoipa::path(patch, path = "/notifications/webhooks/access/accounts/{account}", tag = "notifications",
    operation_id = "update_notifications_account_access",
    security(("user_credential" = [])),
    params(("account" = String, Path, description = "The account granted access")),
    request_body = TopicsBody,
    responses(
        (status = 200, description = "The granted topics", body = TopicsBody),
        (status = 400, description = "Invalid account or topics (400589)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 403, description = "The role does not allow it", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
pub(crate) async fn update_access(
    State(state): State<AppState>,
    Caller(principal): Caller,
    TtPath(account): TtPath<String>,
    TtJson(body): TtJson<TopicsBody>,
) -> Result<Json<TopicsBody>, ApiError> {
    let grantee = parse_path_id::<AccountId>(&account, "account")?;
    let topics = state
        .steward
        .update_notifications_access(&principal, grantee, body.topics)
        .await?;
    Ok(Json(TopicsBody { topics }))
}
