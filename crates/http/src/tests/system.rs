//! Health, readiness, metrics, request ids and the OpenAPI document.

use axum::body::Body;
use axum::http::Request;

use super::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_ok_while_the_database_is_up() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status.as_u16(), 200);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status.as_u16(), 200);
    assert_eq!(ready.json(), serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_is_503_once_the_database_is_gone_but_healthz_stays_200() {
    let app = TestApp::new().await;
    app.steward.store().close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status.as_u16(), 503);
    assert_eq!(ready.json()["status"], "unavailable");
    assert_eq!(app.get("/healthz").await.status.as_u16(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::new().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/operator/accounts/00000000-0000-4000-8000-000000000000")
        .await;
    app.get("/nowhere").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status.as_u16(), 200);
    let text = metrics.text();
    assert!(
        text.contains(
            r#"steward_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    // Ids never become label values: the template is used.
    assert!(text.contains(r#"route="/operator/accounts/{account}",status="401""#));
    assert!(text.contains(r#"route="unmatched",status="404""#));
    assert!(text.contains("steward_http_request_duration_seconds_bucket"));
    assert!(!text.contains("00000000-0000-4000-8000-000000000000"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let app = TestApp::new().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let request = Request::get("/healthz")
        .header("x-request-id", "caller-chosen-id")
        .body(Body::empty())
        .unwrap();
    let kept = app.send(request).await;
    assert_eq!(kept.headers["x-request-id"], "caller-chosen-id");
}

#[tokio::test]
async fn openapi_document_is_openapi_3_1_and_matches_the_committed_copy() {
    let app = TestApp::new().await;
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status.as_u16(), 200);
    let document = reply.json();
    assert_eq!(document["openapi"], "3.1.0");
    for path in ["/healthz", "/readyz", "/metrics", "/operator/accounts"] {
        assert!(document["paths"].get(path).is_some(), "{path} documented");
    }
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == reply.text(),
        "docs/openapi.json differs from the served document; review the API change and run \
         `cargo run -q -- openapi > docs/openapi.json`"
    );
}
