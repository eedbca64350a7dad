//! API tests on the real router over real stores, driven in-process. Tests written inside
//! [`api_tests!`] run on SQLite always and on PostgreSQL whenever `STEWARD_TEST_POSTGRES_URL` is
//! set (each in a fresh database); their names start with `sqlite::` or `postgres::`.

/// Expands each `async fn name(app) { ... }` into `sqlite::name` and `postgres::name` tests,
/// with `app` a [`TestApp`] on that backend.
macro_rules! api_tests {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = crate::tests::TestApp::new().await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    crate::tests::on_postgres(|$app| async move $body).await;
                }
            )*
        }
    };
}

mod access;
mod audit;
mod authz_matrix;
mod errors;
mod events;
mod history;
mod identities;
mod isolation;
mod isolation_matrix;
mod ledgers;
mod limits;
mod notifications;
mod operator;
mod references;
mod scan;
mod security;
mod stickers;
mod system;
mod transactions;
mod twins;
mod usage;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use steward_core::{OperatorAuth, Steward};
use steward_domain::{Clock as _, ManualClock, SystemClock};
use steward_store_sqlite::SqliteStore;
use tower::ServiceExt as _;

use crate::{router, AppState};

const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// A router over a fresh SQLite database; keep the returned dir alive for the test.
struct TestApp {
    router: Router,
    steward: Steward,
    clock: Arc<ManualClock>,
    _dir: Option<tempfile::TempDir>,
}

/// An account created through the operator API: ids and the admin's secret.
#[derive(Debug, Clone)]
struct TestAccount {
    account: String,
    user: String,
    role: String,
    secret: String,
}

/// Runs `case` against a fresh PostgreSQL database, dropped afterwards even when the case
/// panics; says it was skipped when `STEWARD_TEST_POSTGRES_URL` is not set.
async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    steward_store_postgres::testing::run_in_temporary_database(|url| async move {
        let store = steward_store_postgres::PostgresStore::connect_with_max_connections(&url, 4)
            .await
            .expect("fresh postgres database should connect and migrate");
        let app = TestApp::on_store(Arc::new(store), None).await;
        let store = app.steward.store().clone();
        case(app).await;
        store.close().await;
    })
    .await;
}

impl TestApp {
    /// A router over a fresh SQLite database.
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        Self::on_store(Arc::new(store), Some(dir)).await
    }

    /// A router over `store`; `dir` is kept alive as long as the app.
    async fn on_store(
        store: Arc<dyn steward_store::Store>,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        let (signer, _) =
            steward_core::audit::seal::AuditSigner::generate("steward.test/audit").unwrap();
        let settings = steward_core::ServiceSettings {
            audit_signer: Some(signer),
            ..Default::default()
        };
        Self::on_store_with(store, dir, settings).await
    }

    /// A router over `store` with non-default service settings.
    async fn on_store_with(
        store: Arc<dyn steward_store::Store>,
        dir: Option<tempfile::TempDir>,
        settings: steward_core::ServiceSettings,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let steward = Steward::start(store, clock.clone(), settings)
            .await
            .unwrap();
        let state = AppState::new(steward.clone(), OperatorAuth::for_token(OPERATOR_TOKEN));
        Self {
            router: router(state),
            steward,
            clock,
            _dir: dir,
        }
    }

    /// Creates an account through the operator API.
    async fn create_account(&self, name: &str) -> TestAccount {
        let body = serde_json::json!({ "name": name }).to_string();
        let reply = self
            .operator(Method::POST, "/operator/accounts", Some(&body))
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        let created = reply.json();
        let field = |key: &str| created[key].as_str().unwrap().to_owned();
        TestAccount {
            account: field("account"),
            user: field("user"),
            role: field("role"),
            secret: field("secret"),
        }
    }

    /// Runs the PIN flow for `user` of `admin`'s account and returns the user's new secret.
    async fn issue_secret(&self, admin: &TestAccount, user: &str) -> String {
        let pin = self
            .call(
                Method::POST,
                &format!("/users/{user}/secrets"),
                Some(&admin.secret),
                None,
            )
            .await;
        assert_eq!(pin.status.as_u16(), 201, "{}", pin.text());
        let pin = pin.json()["pin"].as_str().unwrap().to_owned();
        let redeemed = self
            .call(
                Method::POST,
                &format!("/secrets/{}/{pin}", admin.account),
                None,
                None,
            )
            .await;
        assert_eq!(redeemed.status.as_u16(), 201, "{}", redeemed.text());
        redeemed.json()["secret"].as_str().unwrap().to_owned()
    }

    /// Creates a role with `statement`, a user holding it and that user's secret; returns
    /// (role, user, secret).
    async fn user_with_statement(
        &self,
        admin: &TestAccount,
        statement: serde_json::Value,
    ) -> (String, String, String) {
        let role = self
            .call(
                Method::POST,
                "/roles",
                Some(&admin.secret),
                Some(serde_json::json!({"name": "Limited", "statement": statement})),
            )
            .await;
        assert_eq!(role.status.as_u16(), 201, "{}", role.text());
        let role = role.json()["uuid"].as_str().unwrap().to_owned();
        let user = self
            .call(
                Method::POST,
                "/users",
                Some(&admin.secret),
                Some(serde_json::json!({"name": "Limited User", "role": role})),
            )
            .await;
        assert_eq!(user.status.as_u16(), 201, "{}", user.text());
        let user = user.json()["uuid"].as_str().unwrap().to_owned();
        let secret = self.issue_secret(admin, &user).await;
        (role, user, secret)
    }

    /// A Trusted Twin call with a credential (`None` = no `Authorization`) and a JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        credential: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(credential) = credential {
            request = request.header(header::AUTHORIZATION, credential);
        }
        let body = body.map_or_else(Body::empty, |json| Body::from(json.to_string()));
        self.send(request.body(body).unwrap()).await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: bytes.to_vec(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn operator(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, OPERATOR_TOKEN)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |text| Body::from(text.to_owned())))
            .unwrap();
        self.send(request).await
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not json ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a Trusted Twin error body with this status and sub-code; returns its trace.
    fn assert_tt_error(&self, status: u16, subcode: u64) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["subcode"].as_u64(), Some(subcode), "{body}");
        let object = body.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["description", "help", "subcode", "trace"]);
        let trace = body["trace"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&trace).is_ok(), "trace is a uuid");
        trace
    }
}

/// Gives `who`'s admin a role that sees every twin and entry the rules let it.
async fn partner_role(app: &TestApp, who: &TestAccount) {
    let role = app
        .call(
            Method::POST,
            "/roles",
            Some(&who.secret),
            Some(serde_json::json!({"name": "Partner", "rules": {"twin_rule": "true", "entry_rule": "true"}})),
        )
        .await
        .json()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(
            Method::PATCH,
            &format!("/users/{}", who.user),
            Some(&who.secret),
            Some(serde_json::json!({"role": role})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
}
