//! Atlas errors reach the user with status, errorCode and detail.

mod common;

use common::{USAGE_PATH, bearer_client, body, org, token_path};
use costform_http::Error;
use costform_model::state::ResultFormat;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn api_error(status: u16, code: &str, detail: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error": status, "errorCode": code, "reason": "Reason", "detail": detail, "parameters": []
    }))
}

/// The error a result GET answered with `response` yields, and the server's URL.
async fn read_error(response: ResponseTemplate) -> (String, Error) {
    let (base_url, usage) = common::read_answered(response, ResultFormat::Json).await;
    (base_url, usage.unwrap_err())
}

#[tokio::test]
async fn each_error_status_is_surfaced_with_code_and_detail() {
    for (status, code) in [
        (400, "VALIDATION_ERROR"),
        (401, "NOT_AUTHORIZED"),
        (403, "USER_UNAUTHORIZED"),
        (404, "RESOURCE_NOT_FOUND"),
        (500, "UNEXPECTED_ERROR"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(api_error(status, code, "Something specific."))
            .mount(&server)
            .await;

        let error = bearer_client(&server.uri())
            .create_cost_explorer_query(&org(), &body())
            .await
            .unwrap_err();

        assert_eq!(error.status(), Some(status));
        assert_eq!(error.error_code(), Some(code));
        assert_eq!(error.is_not_found(), status == 404);
        assert_eq!(
            error.to_string(),
            format!(
                "atlas answered {status} {code} for POST {}{USAGE_PATH}: Something specific.",
                server.uri()
            )
        );
    }
}

#[tokio::test]
async fn field_violations_are_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": 400, "errorCode": "VALIDATION_ERROR", "detail": "Invalid request.",
            "badRequestDetail": {"fields": [{"field": "startDate", "description": "must be the first of a month"}]}
        })))
        .mount(&server)
        .await;

    let error = bearer_client(&server.uri())
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        api.fields,
        vec![(
            "startDate".to_owned(),
            "must be the first of a month".to_owned()
        )]
    );
    assert!(
        error
            .to_string()
            .ends_with("(`startDate`: must be the first of a month)"),
        "{error}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_kept_raw() {
    let (_, error) = read_error(
        ResponseTemplate::new(403).set_body_raw("<html>blocked by proxy</html>", "text/html"),
    )
    .await;

    assert_eq!(error.status(), Some(403));
    assert_eq!(error.error_code(), None);
    assert!(
        error
            .to_string()
            .ends_with(": <html>blocked by proxy</html>"),
        "{error}"
    );
}

#[tokio::test]
async fn secrets_never_show_in_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(api_error(401, "NOT_AUTHORIZED", "Bad token."))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    let shown = format!("{error} | {error:?} | {client:?}");
    assert!(!shown.contains("bearer-secret-value"), "{shown}");
    assert!(shown.contains("NOT_AUTHORIZED"), "{shown}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_naming_url_and_attempts() {
    // Bind then drop a listener: nothing listens on the port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = bearer_client(&format!("http://127.0.0.1:{port}"));

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    let Error::Transport { url, attempts, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(url.ends_with(USAGE_PATH), "{url}");
    assert_eq!(client.retries(), 2);
}

#[tokio::test]
async fn a_404_without_an_atlas_body_is_an_error_naming_the_url_not_an_expiry() {
    let (base_url, error) =
        read_error(ResponseTemplate::new(404).set_body_raw("<h1>Not Found</h1>", "text/html"))
            .await;

    assert_eq!(error.status(), Some(404));
    assert!(!error.is_not_found(), "{error}");
    let shown = error.to_string();
    assert!(
        shown.contains(&format!("{base_url}{}", token_path())),
        "{shown}"
    );
    assert!(shown.contains("check the base URL"), "{shown}");
}
