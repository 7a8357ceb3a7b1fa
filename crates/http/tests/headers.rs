//! The exact requests the client sends, as Atlas will see them.

mod common;

use common::{
    CSV, JSON, Seen, USAGE_PATH, bearer_client, body, created, org, seen, token, token_path,
};
use costform_model::ids::Token;
use costform_model::state::ResultFormat;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn header<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<missing>")
}

#[tokio::test]
async fn create_posts_the_body_with_versioned_headers_and_returns_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    // A trailing slash on the base URL must not double the slash in the path.
    let client = bearer_client(&format!("{}/", server.uri()));

    let token = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert_eq!(token, common::token());
    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    assert_eq!(header(request, "accept"), JSON);
    assert_eq!(header(request, "content-type"), JSON);
    assert_eq!(
        header(request, "user-agent"),
        concat!("costform/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        header(request, "authorization"),
        "Bearer bearer-secret-value"
    );
    assert_eq!(
        request.body_json::<serde_json::Value>().unwrap(),
        serde_json::Value::Object(body())
    );
}

#[tokio::test]
async fn create_accepts_200_as_well_as_202() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .mount(&server)
        .await;
    let token = bearer_client(&server.uri())
        .create_cost_explorer_query(&org(), &body())
        .await;
    assert_eq!(token.unwrap(), common::token());
}

/// A 202 carrying `token`, and what the client makes of it.
async fn created_with(token: &str) -> (MockServer, Result<Token, costform_http::Error>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({"token": token})))
        .mount(&server)
        .await;
    let created = bearer_client(&server.uri())
        .create_cost_explorer_query(&org(), &body())
        .await;
    (server, created)
}

#[tokio::test]
async fn a_token_of_any_shape_is_kept_and_sent_percent_encoded() {
    let (server, created) = created_with("Short/tok en?é").await;
    let token = created.unwrap();
    assert_eq!(token.as_str(), "Short/tok en?é");
    let encoded = format!("{USAGE_PATH}/Short%2Ftok%20en%3F%C3%A9");
    Mock::given(method("GET"))
        .and(path(encoded.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw("a,b\n1,2\n", CSV))
        .expect(1)
        .mount(&server)
        .await;

    bearer_client(&server.uri())
        .get_cost_explorer_usage(&org(), &token, ResultFormat::Csv)
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn an_empty_huge_or_control_token_is_refused_without_echoing_it() {
    let huge = "A".repeat(10 * 1024);
    for bad in ["", "a\u{1b}[2Jb", huge.as_str()] {
        let (_server, created) = created_with(bad).await;
        let error = created.unwrap_err();
        assert!(
            matches!(error, costform_http::Error::InvalidResponse { .. }),
            "{error:?}"
        );
        let shown = error.to_string();
        assert!(shown.len() < 400, "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
    }
}

#[tokio::test]
async fn get_asks_for_the_envelope_and_the_requested_format() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(200).set_body_raw("a,b\n1,2\n", CSV))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let usage = client
        .get_cost_explorer_usage(&org(), &token(), ResultFormat::Csv)
        .await
        .unwrap();

    assert_eq!(
        seen(usage),
        Seen::Ready {
            content_type: CSV.to_owned(),
            body: b"a,b\n1,2\n".to_vec()
        }
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("envelope=true"));
    assert_eq!(header(&requests[0], "accept"), CSV);
    assert_eq!(header(&requests[0], "content-type"), "<missing>");
    assert_eq!(
        header(&requests[0], "authorization"),
        "Bearer bearer-secret-value"
    );
}
