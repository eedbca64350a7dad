//! Extractors that turn malformed input into Trusted Twin errors instead of axum's defaults.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use steward_core::ErrorCode;

use crate::{ApiError, AppState};

/// A JSON body, checked in the order a client can fix: size (400141), UTF-8 (400314),
/// JSON syntax (400415), then shape (400589).
#[derive(Debug, Clone)]
pub struct TtJson<T>(pub T);

impl<S, T> FromRequest<S> for TtJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse_json_body(&bytes).map(TtJson)
    }
}

/// Parses a request body with Trusted Twin's error precedence.
pub(crate) fn parse_json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::new(
            ErrorCode::InvalidCharacters,
            "request body contains invalid characters",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            ErrorCode::NotAValidJson,
            format!("request body is not valid json: {error}"),
        )
    })?;
    serde_json::from_value(value).map_err(|error| {
        ApiError::new(
            ErrorCode::RequestFormat,
            format!("request body has the wrong format: {error}"),
        )
    })
}

/// Reads the whole body within the limit; too large is 400 / 400141.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::QuotaViolation,
                    format!(
                        "request body is larger than {} bytes",
                        crate::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::new(
                    ErrorCode::CorruptedRequest,
                    "request body could not be read",
                )
            }
        })
}

/// A JSON body that may be absent: an empty body gives `T::default()` (Trusted Twin makes
/// several bodies optional, e.g. `POST /token` and `POST /users/{user}/secrets`).
#[derive(Debug, Clone)]
pub struct TtJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for TtJsonOrEmpty<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        parse_json_body(&bytes).map(TtJsonOrEmpty)
    }
}

/// The authenticated caller: `Authorization` (secret or token, optionally after `Bearer `)
/// plus the optional `X-TrustedTwin` dictionary.
#[derive(Debug, Clone)]
pub struct Caller(pub steward_core::Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let authorization = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "invalid credentials"))?,
            ),
            None => None,
        };
        let dict = match parts.headers.get("x-trustedtwin") {
            Some(value) => Some(value.to_str().map_err(|_| {
                ApiError::new(
                    ErrorCode::CorruptedRequest,
                    "`X-TrustedTwin` header is not valid base64",
                )
            })?),
            None => None,
        };
        // Fair sharing (see `steward_core::limits`): an authenticated request takes a token
        // from its account's bucket; a failed authentication from its client address's.
        let client = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let principal = match state.steward.authenticate(authorization, dict).await {
            Ok(principal) => principal,
            Err(error) => {
                if error.code == ErrorCode::Unauthorized {
                    state.steward.charge_failed_authentication(client)?;
                }
                return Err(error.into());
            }
        };
        state.steward.admit_request(principal.account).await?;
        Ok(Caller(principal))
    }
}

/// Query parameters; a malformed query is 400 / 400589.
#[derive(Debug, Clone)]
pub struct TtQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for TtQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| TtQuery(value))
            .map_err(|rejection| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("invalid query: {}", rejection.body_text()),
                )
            })
    }
}

/// Path parameters; a segment that does not decode (invalid UTF-8 after percent-decoding, for
/// example) is 400 / 400589 with a Trusted Twin body instead of axum's plain-text answer.
#[derive(Debug, Clone)]
pub struct TtPath<T>(pub T);

impl<S, T> FromRequestParts<S> for TtPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| TtPath(value))
            .map_err(|rejection| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("invalid path: {}", rejection.body_text()),
                )
            })
    }
}

/// Deserializes a present field as `Some`, so `Option<Option<T>>` tells an absent field
/// (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Converts a Trusted Twin timestamp (Unix seconds) from a request; 400 / 400589 if absurd.
pub(crate) fn timestamp_field(
    field: &str,
    seconds: Option<f64>,
) -> Result<Option<steward_domain::Timestamp>, ApiError> {
    seconds
        .map(|seconds| {
            steward_domain::Timestamp::from_tt_seconds(seconds).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::RequestFormat,
                    format!("`{field}` is not a valid timestamp"),
                )
            })
        })
        .transpose()
}

/// Parses an id from a path segment; a malformed id is 400 / 400589.
pub(crate) fn parse_path_id<Id: FromStr>(raw: &str, what: &str) -> Result<Id, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::RequestFormat,
            format!("`{raw}` is not a valid {what} uuid"),
        )
    })
}

/// Proof that the request carries the operator token (`Authorization: <token>` or
/// `Authorization: Bearer <token>`).
#[derive(Debug, Clone, Copy)]
pub struct OperatorCaller;

impl FromRequestParts<AppState> for OperatorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim());
        match presented {
            Some(token) if !token.is_empty() && state.operator.verify(token) => {
                steward_core::audit::note_operator();
                Ok(OperatorCaller)
            }
            _ => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "missing or invalid operator token",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }

    fn code_of(bytes: &[u8]) -> ErrorCode {
        parse_json_body::<Named>(bytes).unwrap_err().0.code
    }

    #[test]
    fn body_errors_follow_trusted_twin_precedence() {
        assert_eq!(code_of(b"\xff\xfe{"), ErrorCode::InvalidCharacters);
        assert_eq!(code_of(b"{\"name\": "), ErrorCode::NotAValidJson);
        assert_eq!(code_of(b"[1, 2]"), ErrorCode::RequestFormat);
        assert_eq!(code_of(b"{\"name\": 5}"), ErrorCode::RequestFormat);
        assert!(parse_json_body::<Named>(b"{\"name\": \"ok\"}").is_ok());
    }
}
