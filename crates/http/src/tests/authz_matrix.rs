//! Every access operation × role statements: allowed when the statement allows it, 403 / 403535
//! (and nothing changed) when an allow-list omits it or a deny-list names it.

use axum::http::Method;
use serde_json::{json, Value};

use super::{TestAccount, TestApp};

struct Operation {
    id: &'static str,
    method: Method,
    path: &'static str,
    body: Option<fn(&Targets) -> Value>,
    allowed_status: u16,
}

/// Fresh objects for one check: a user holding a secret, and a role nobody holds.
struct Targets {
    user: String,
    role: String,
}

fn operations() -> Vec<Operation> {
    let op = |id, method, path, body, allowed_status| Operation {
        id,
        method,
        path,
        body,
        allowed_status,
    };
    vec![
        op("get_account", Method::GET, "/account", None, 200),
        op(
            "update_account",
            Method::PATCH,
            "/account",
            Some(|_| json!({"resource_access_log": null})),
            200,
        ),
        op("get_users", Method::GET, "/users", None, 200),
        op(
            "create_user",
            Method::POST,
            "/users",
            Some(|t| json!({"name": "Created", "role": t.role})),
            201,
        ),
        op("get_user", Method::GET, "/users/{user}", None, 200),
        op(
            "update_user",
            Method::PATCH,
            "/users/{user}",
            Some(|_| json!({"name": "Renamed"})),
            200,
        ),
        op("delete_user", Method::DELETE, "/users/{user}", None, 200),
        op(
            "get_user_secret",
            Method::GET,
            "/users/{user}/secrets",
            None,
            200,
        ),
        op(
            "create_user_secret_pin",
            Method::POST,
            "/users/{user}/secrets",
            None,
            201,
        ),
        op(
            "update_user_secret",
            Method::PATCH,
            "/users/{user}/secrets",
            Some(|_| json!({"validity_ts": null})),
            200,
        ),
        op(
            "delete_user_secret",
            Method::DELETE,
            "/users/{user}/secrets",
            None,
            200,
        ),
        op("create_user_token", Method::POST, "/token", None, 201),
        op("get_user_roles", Method::GET, "/roles", None, 200),
        op(
            "create_user_role",
            Method::POST,
            "/roles",
            Some(|_| json!({"statement": {"effect": "allow", "actions": []}})),
            201,
        ),
        op("get_user_role", Method::GET, "/roles/{role}", None, 200),
        op(
            "update_user_role",
            Method::PATCH,
            "/roles/{role}",
            Some(|_| json!({"name": "Renamed"})),
            200,
        ),
        op(
            "delete_user_role",
            Method::DELETE,
            "/roles/{role}",
            None,
            200,
        ),
        op("get_account_usage", Method::GET, "/usage", None, 200),
        op("get_user_usage", Method::GET, "/usage/{user}", None, 200),
        op("get_log", Method::GET, "/log", None, 200),
        op("trace", Method::POST, "/trace", None, 201),
    ]
}

async fn created_uuid(reply: super::Reply) -> String {
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    reply.json()["uuid"].as_str().unwrap().to_owned()
}

async fn make_targets(app: &TestApp, admin: &TestAccount) -> Targets {
    let secret = Some(admin.secret.as_str());
    let role = created_uuid(
        app.call(
            Method::POST,
            "/roles",
            secret,
            Some(json!({"name": "Spare", "statement": {"effect": "allow", "actions": []}})),
        )
        .await,
    )
    .await;
    let holder_role = created_uuid(
        app.call(
            Method::POST,
            "/roles",
            secret,
            Some(json!({"name": "Holder", "statement": {"effect": "allow", "actions": []}})),
        )
        .await,
    )
    .await;
    let user = created_uuid(
        app.call(
            Method::POST,
            "/users",
            secret,
            Some(json!({"name": "Target", "role": holder_role})),
        )
        .await,
    )
    .await;
    app.issue_secret(admin, &user).await;
    Targets { user, role }
}

/// A caller whose role has `statement`; returns its secret.
async fn caller_with_statement(app: &TestApp, admin: &TestAccount, statement: Value) -> String {
    app.user_with_statement(admin, statement).await.2
}

async fn call(
    app: &TestApp,
    operation: &Operation,
    targets: &Targets,
    credential: &str,
) -> super::Reply {
    let path = operation
        .path
        .replace("{user}", &targets.user)
        .replace("{role}", &targets.role);
    let body = operation.body.map(|make| make(targets));
    app.call(operation.method.clone(), &path, Some(credential), body)
        .await
}

async fn snapshot(app: &TestApp, admin: &TestAccount) -> (Value, Value) {
    let secret = Some(admin.secret.as_str());
    (
        app.call(Method::GET, "/users", secret, None).await.json(),
        app.call(Method::GET, "/roles", secret, None).await.json(),
    )
}

api_tests! {
    async fn every_access_operation_follows_allow_and_deny_statements(app) {
        let admin = app.create_account("Matrix").await;
        for operation in operations() {
            let allowing = caller_with_statement(
                &app,
                &admin,
                json!({"effect": "allow", "actions": [operation.id]}),
            )
            .await;
            let omitting = caller_with_statement(
                &app,
                &admin,
                json!({"effect": "allow", "actions": ["who_am_i"]}),
            )
            .await;
            let denying = caller_with_statement(
                &app,
                &admin,
                json!({"effect": "deny", "actions": [operation.id]}),
            )
            .await;

            for (label, credential) in [
                ("allow-list without it", &omitting),
                ("deny-list with it", &denying),
            ] {
                let targets = make_targets(&app, &admin).await;
                let before = snapshot(&app, &admin).await;
                let reply = call(&app, &operation, &targets, credential).await;
                assert_eq!(
                    reply.status.as_u16(),
                    403,
                    "{} with {label}: {}",
                    operation.id,
                    reply.text()
                );
                assert_eq!(reply.json()["subcode"], 403_535);
                assert_eq!(
                    snapshot(&app, &admin).await,
                    before,
                    "{} with {label} changed data",
                    operation.id
                );
            }

            let targets = make_targets(&app, &admin).await;
            let reply = call(&app, &operation, &targets, &allowing).await;
            assert_eq!(
                reply.status.as_u16(),
                operation.allowed_status,
                "{} allowed: {}",
                operation.id,
                reply.text()
            );
        }
    }

    async fn who_am_i_needs_no_statement_entry(app) {
        let admin = app.create_account("Matrix").await;
        let nothing =
            caller_with_statement(&app, &admin, json!({"effect": "allow", "actions": []})).await;
        let reply = app.call(Method::GET, "/whoami", Some(&nothing), None).await;
        assert_eq!(reply.status.as_u16(), 200);
        let denied = caller_with_statement(
            &app,
            &admin,
            json!({"effect": "deny", "actions": ["who_am_i"]}),
        )
        .await;
        assert_eq!(
            app.call(Method::GET, "/whoami", Some(&denied), None)
                .await
                .status
                .as_u16(),
            200
        );
    }
}
