//! Which failures are retried, how often, and how long the client waits.

mod common;

use std::time::{Duration, Instant};

use common::{bearer_client, body, created, org};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn rate_limited() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_json(serde_json::json!({"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET"}))
}

#[tokio::test]
async fn a_429_waits_at_least_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(rate_limited())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let started = Instant::now();
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn a_500_is_retried_and_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn persistent_503_gives_up_after_max_attempts_with_the_last_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(
                serde_json::json!({"error": 503, "errorCode": "SERVICE_UNAVAILABLE"}),
            ),
        )
        .expect(3)
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(503));
    assert_eq!(error.error_code(), Some("SERVICE_UNAVAILABLE"));
    assert_eq!(client.retries(), 2);
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"error": 400, "errorCode": "VALIDATION_ERROR"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(400));
    assert_eq!(client.retries(), 0);
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_is_retried() {
    // A server that hangs up on the first connection and answers the second.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        let _ = first.read(&mut [0; 4096]).await;
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let _ = second.read(&mut [0; 4096]).await;
        let body = created().to_string();
        let response = format!(
            "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        second.write_all(response.as_bytes()).await.unwrap();
    });
    let client = bearer_client(&format!("http://{address}"));

    let token = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert_eq!(token, common::token());
    assert_eq!(client.retries(), 1);
    server.await.unwrap();
}

/// Rate limiting does not spend the failure budget: the test client allows
/// three attempts, yet four 429s in a row are waited out and the fifth
/// answer is used.
#[tokio::test]
async fn rate_limiting_has_its_own_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(
                    serde_json::json!({"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET"}),
                ),
        )
        .up_to_n_times(4)
        .expect(4)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .expect("429s do not exhaust the three attempts");
    assert_eq!(client.retries(), 4);
}

/// Issue #11 item 4: with a run deadline (`fetch --wait --timeout`), a slow
/// answer is cut at the deadline, body and all, and no retry starts after
/// it: the command ends on time instead of after ten slow attempts.
#[tokio::test]
async fn a_run_deadline_bounds_slow_answers_and_their_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());
    client.set_deadline(Instant::now() + Duration::from_secs(1));

    let started = Instant::now();
    let error = client
        .get_cost_explorer_usage(
            &org(),
            &common::token(),
            costform_model::state::ResultFormat::Json,
        )
        .await
        .expect_err("no answer came in time");

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.to_string().contains("before the run's time limit"),
        "{error}"
    );
}
