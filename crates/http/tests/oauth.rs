//! Service accounts: one OAuth token per client, renewed when refused.

mod common;

use std::time::Duration;

use common::{USAGE_PATH, body, created, fast_config, org};
use costform_http::{Client, Credentials, Error, Secret};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn service_account(server: &MockServer) -> Client {
    let credentials = Credentials::ServiceAccount {
        client_id: "mdb_sa_id_123".to_owned(),
        client_secret: Secret::new("mdb_sa_sk_secret"),
    };
    Client::new(fast_config(&server.uri(), credentials)).unwrap()
}

/// A server minting `token` and accepting every query; the service account
/// client pointed at it.
async fn minting(server: &MockServer, token: &str) -> Client {
    Mock::given(path("/api/oauth/token"))
        .respond_with(token_response(token))
        .mount(server)
        .await;
    Mock::given(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(server)
        .await;
    service_account(server)
}

fn token_response(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": token, "token_type": "Bearer", "expires_in": 3600
    }))
}

#[tokio::test]
async fn twenty_concurrent_requests_mint_exactly_one_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        // base64("mdb_sa_id_123:mdb_sa_sk_secret")
        .and(header(
            "authorization",
            "Basic bWRiX3NhX2lkXzEyMzptZGJfc2Ffc2tfc2VjcmV0",
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("accept", "application/json"))
        .and(body_string("grant_type=client_credentials"))
        // Slow enough that every request is waiting on the first mint.
        .respond_with(token_response("minted-once").set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(USAGE_PATH))
        .and(header("authorization", "Bearer minted-once"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(20)
        .mount(&server)
        .await;
    let client = service_account(&server);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.spawn(async move { client.create_cost_explorer_query(&org(), &body()).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    server.verify().await;
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_request_resent() {
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(token_response("revoked"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(token_response("fresh"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(USAGE_PATH))
        .and(header("authorization", "Bearer revoked"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": 401, "errorCode": "NOT_AUTHORIZED", "detail": "token revoked"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(USAGE_PATH))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(2)
        .mount(&server)
        .await;
    let client = service_account(&server);

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    // The replacement is cached: no third mint.
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_token_endpoint_refusal_is_an_auth_error_without_the_secret() {
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client", "error_description": "Invalid client credentials"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = service_account(&server);

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{error:?}"
    );
    let shown = format!("{error} {error:?} {client:?}");
    assert!(shown.contains("Invalid client credentials"), "{shown}");
    assert!(!shown.contains("mdb_sa_sk_secret"), "{shown}");
}

#[tokio::test]
async fn a_failed_mint_is_tried_once_per_run_and_reported_once() {
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "invalid_client"}))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(0)
        .mount(&server)
        .await;
    let client = service_account(&server);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..9 {
        let client = client.clone();
        tasks.spawn(async move { client.create_cost_explorer_query(&org(), &body()).await });
    }
    let mut errors = Vec::new();
    while let Some(result) = tasks.join_next().await {
        errors.push(result.unwrap().unwrap_err());
    }
    let later = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    let full: Vec<String> = errors
        .iter()
        .filter(|error| matches!(error, Error::Auth { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(full.len(), 1, "{errors:?}");
    for variable in [
        "MONGODB_ATLAS_CLIENT_ID",
        "MONGODB_ATLAS_CLIENT_SECRET",
        "invalid_client",
    ] {
        assert!(full[0].contains(variable), "{}", full[0]);
    }
    assert!(
        matches!(later, Error::CredentialsFailedEarlier { .. }),
        "{later:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn client_id_and_secret_are_form_encoded_before_basic() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        // base64("id%3Aone:se+cr%25et%2B")
        .and(header(
            "authorization",
            "Basic aWQlM0FvbmU6c2UrY3IlMjVldCUyQg==",
        ))
        .respond_with(token_response("minted"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let credentials = Credentials::ServiceAccount {
        client_id: "id:one".to_owned(),
        client_secret: Secret::new("se cr%et+"),
    };
    let client = Client::new(fast_config(&server.uri(), credentials)).unwrap();

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn close_revokes_the_minted_token_once() {
    let server = MockServer::start().await;
    let client = minting(&server, "to/revoke").await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/revoke"))
        .and(header(
            "authorization",
            "Basic bWRiX3NhX2lkXzEyMzptZGJfc2Ffc2tfc2VjcmV0",
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("token=to%2Frevoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    client.close().await;
    client.close().await;
    server.verify().await;
}

#[tokio::test]
async fn close_neither_revokes_nothing_nor_fails_on_a_refused_revoke() {
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/revoke"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let client = minting(&server, "minted").await;

    // Nothing minted yet: nothing to revoke, no request.
    client.close().await;
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    // A 500 from the revoke endpoint is not retried and not an error.
    client.close().await;
    server.verify().await;
}

#[tokio::test]
async fn an_absurd_expires_in_is_survived_without_a_panic() {
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "forever", "token_type": "Bearer", "expires_in": u64::MAX
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(USAGE_PATH))
        .and(header("authorization", "Bearer forever"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(2)
        .mount(&server)
        .await;
    let client = service_account(&server);

    for _ in 0..2 {
        client
            .create_cost_explorer_query(&org(), &body())
            .await
            .unwrap();
    }
    server.verify().await;
}
