//! Bad input gets a Trusted Twin error body with the right sub-code, and the server keeps
//! serving.

use axum::body::Body;
use axum::http::{header, Method, Request};

use super::{TestApp, OPERATOR_TOKEN};

fn create_account_request(body: Vec<u8>) -> Request<Body> {
    Request::post("/operator/accounts")
        .header(header::AUTHORIZATION, OPERATOR_TOKEN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn every_bad_body_gets_its_subcode_a_unique_trace_and_the_next_request_is_served() {
    let app = TestApp::new().await;
    let too_large = {
        let mut body = b"{\"name\": \"".to_vec();
        body.extend(std::iter::repeat_n(b'a', 70_000));
        body.extend(b"\"}");
        body
    };
    let cases: Vec<(&str, Vec<u8>, u16, u64)> = vec![
        ("over 64 kB", too_large, 400, 400_141),
        (
            "invalid utf-8",
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
            400,
            400_314,
        ),
        ("not json", b"name=acme".to_vec(), 400, 400_415),
        ("truncated json", b"{\"name\": ".to_vec(), 400, 400_415),
        ("wrong type", b"{\"name\": 42}".to_vec(), 400, 400_589),
        (
            "unknown field",
            b"{\"name\": \"a\", \"x\": 1}".to_vec(),
            400,
            400_589,
        ),
        ("invalid name", b"{\"name\": \"\"}".to_vec(), 400, 400_589),
    ];
    let mut traces = std::collections::HashSet::new();
    for (label, body, status, subcode) in cases {
        let reply = app.send(create_account_request(body)).await;
        let trace = reply.assert_tt_error(status, subcode);
        assert!(traces.insert(trace), "{label}: traces must be unique");
        let health = app.get("/healthz").await;
        assert_eq!(health.status.as_u16(), 200, "{label}: server keeps serving");
    }
}

#[tokio::test]
async fn body_of_exactly_64_kib_is_accepted_and_one_byte_more_is_refused() {
    let app = TestApp::new().await;
    let frame = b"{\"name\": \"a\"}";
    let padding = crate::MAX_BODY_BYTES - frame.len();
    // JSON allows trailing whitespace, so padding keeps the body valid at any size.
    let mut exact = frame.to_vec();
    exact.extend(std::iter::repeat_n(b' ', padding));
    assert_eq!(exact.len(), 65_536);
    let reply = app.send(create_account_request(exact.clone())).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    exact.push(b' ');
    let reply = app.send(create_account_request(exact)).await;
    reply.assert_tt_error(400, 400_141);
}

#[tokio::test]
async fn unknown_route_and_unsupported_method_are_404653() {
    let app = TestApp::new().await;
    app.get("/no/such/route")
        .await
        .assert_tt_error(404, 404_653);
    let reply = app
        .send(Request::delete("/healthz").body(Body::empty()).unwrap())
        .await;
    reply.assert_tt_error(404, 404_653);
}

#[tokio::test]
async fn panic_becomes_500000_without_leaking_and_server_keeps_serving() {
    let app = TestApp::new().await;
    let reply = app.get("/__test/panic").await;
    reply.assert_tt_error(500, 500_000);
    assert!(!reply.text().contains("secret detail"));
    assert_eq!(app.get("/healthz").await.status.as_u16(), 200);
}

#[tokio::test]
async fn malformed_id_is_400589_and_unknown_id_is_404653() {
    let app = TestApp::new().await;
    app.operator(Method::GET, "/operator/accounts/not-a-uuid", None)
        .await
        .assert_tt_error(400, 400_589);
    app.operator(
        Method::GET,
        "/operator/accounts/00000000-0000-4000-8000-000000000000",
        None,
    )
    .await
    .assert_tt_error(404, 404_653);
    app.operator(Method::GET, "/operator/accounts?count=abc", None)
        .await
        .assert_tt_error(400, 400_589);
}

#[tokio::test]
async fn path_segments_that_do_not_decode_are_400589_with_a_body() {
    let app = TestApp::new().await;
    let admin = app.create_account("Paths").await;
    let twin = app
        .call(Method::POST, "/twins", Some(&admin.secret), None)
        .await
        .json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/twins/%FF".to_owned(),
        "/resolve/%FF%FE".to_owned(),
        format!("/twins/{twin}/identities/RFID%23%FF"),
        format!("/twins/{twin}/stickers/%C3%28"),
        format!("/twins/{twin}/ledgers/%FF/value"),
        "/users/%FF".to_owned(),
    ] {
        let reply = app
            .call(Method::GET, &path, Some(&admin.secret), None)
            .await;
        reply.assert_tt_error(400, 400_589);
        let description = reply.json()["description"].as_str().unwrap().to_owned();
        assert!(description.contains("path"), "{path}: {description}");
    }
    app.get("/healthz").await;
}
