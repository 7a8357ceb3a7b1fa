//! Redirects: followed on the configured origin with credentials computed
//! for the new URL; refused, with nothing sent, anywhere else.

mod common;

use common::{USAGE_PATH, bearer_client, body, created, org, token, token_path};
use costform_http::Error;
use costform_model::state::ResultFormat;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_redirect_to_another_port_is_refused_and_gets_nothing() {
    let atlas = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}{}", elsewhere.uri(), token_path())),
        )
        .mount(&atlas)
        .await;

    let error = bearer_client(&atlas.uri())
        .get_cost_explorer_usage(&org(), &token(), ResultFormat::Json)
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Redirect { .. }), "{error:?}");
    assert!(error.to_string().contains(&elsewhere.uri()), "{error}");
    assert!(
        !error.to_string().contains("bearer-secret-value"),
        "{error}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_credentials_and_body() {
    let atlas = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/moved"))
        .expect(1)
        .mount(&atlas)
        .await;
    Mock::given(method("POST"))
        .and(path("/moved"))
        .and(header("authorization", "Bearer bearer-secret-value"))
        .and(body_string_contains("startDate"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(1)
        .mount(&atlas)
        .await;

    let created = bearer_client(&atlas.uri())
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert_eq!(created, token());
    atlas.verify().await;
}

#[tokio::test]
async fn a_post_redirected_with_see_other_is_not_turned_into_a_get() {
    let atlas = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/elsewhere"))
        .expect(1)
        .mount(&atlas)
        .await;

    let error = bearer_client(&atlas.uri())
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Redirect { .. }), "{error:?}");
    atlas.verify().await;
}
