//! The client against costform's Atlas emulator, in process: every auth
//! mode, faults, processing polls, both result formats and validation errors.

mod common;

use std::time::{Duration, Instant};

use common::{CSV, JSON, ORG, Seen, USAGE_PATH, body, fast_config, org, seen};
use costform_emulator::{
    Config, DEMO_ACCESS_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PRIVATE_API_KEY,
    DEMO_PUBLIC_API_KEY, Emulator, Faults,
};
use costform_http::{Client, Credentials, Error, Secret, Usage};
use costform_model::state::ResultFormat;

async fn start() -> Emulator {
    Emulator::start(Config::demo()).await.unwrap()
}

fn client(emulator: &Emulator, credentials: Credentials) -> Client {
    Client::new(fast_config(&emulator.base_url(), credentials)).unwrap()
}

fn bearer() -> Credentials {
    Credentials::AccessToken(Secret::new(DEMO_ACCESS_TOKEN))
}

fn service_account() -> Credentials {
    Credentials::ServiceAccount {
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: Secret::new(DEMO_CLIENT_SECRET),
    }
}

fn api_key() -> Credentials {
    Credentials::ApiKey {
        public_key: DEMO_PUBLIC_API_KEY.to_owned(),
        private_key: Secret::new(DEMO_PRIVATE_API_KEY),
    }
}

fn expected_json() -> serde_json::Value {
    costform_emulator::synthetic_usage(ORG, &serde_json::Value::Object(body()))
}

/// Creates a query and polls it once processing (the demo config's one
/// processing poll), then returns the ready result.
async fn create_and_read(client: &Client, format: ResultFormat) -> Usage {
    let token = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    let first = client
        .get_cost_explorer_usage(&org(), &token, format)
        .await
        .unwrap();
    assert_eq!(seen(first), Seen::Processing);
    client
        .get_cost_explorer_usage(&org(), &token, format)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_auth_mode_creates_and_reads_a_query() {
    let emulator = start().await;
    for credentials in [bearer(), service_account(), api_key()] {
        let client = client(&emulator, credentials.clone());

        let usage = create_and_read(&client, ResultFormat::Json).await;

        let Seen::Ready { content_type, body } = seen(usage) else {
            panic!("{credentials:?}: still processing")
        };
        assert_eq!(content_type, JSON);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            expected_json()
        );
    }
    let posts: Vec<_> = emulator
        .request_log()
        .into_iter()
        .filter(|r| r.path == USAGE_PATH)
        .collect();
    assert!(
        posts.iter().all(|r| r.header("accept") == Some(JSON)),
        "{posts:?}"
    );
    assert!(
        posts.iter().all(|r| r.header("content-type") == Some(JSON)),
        "{posts:?}"
    );
}

#[tokio::test]
async fn many_concurrent_requests_share_one_oauth_token() {
    let emulator = start().await;
    let client = client(&emulator, service_account());

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let client = client.clone();
        tasks.spawn(async move { client.create_cost_explorer_query(&org(), &body()).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }

    assert_eq!(emulator.oauth_tokens_minted(), 1);
    assert_eq!(emulator.issued_tokens().len(), 16);
}

#[tokio::test]
async fn a_digest_challenge_is_answered_once_and_reused() {
    let emulator = start().await;
    let client = client(&emulator, api_key());

    for _ in 0..3 {
        client
            .create_cost_explorer_query(&org(), &body())
            .await
            .unwrap();
    }

    let statuses: Vec<_> = emulator.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(401), Some(202), Some(202), Some(202)]);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let emulator = start().await;
    let client = client(&emulator, bearer());
    emulator.set_faults(Faults {
        drop_every: Some(2),
        ..Faults::default()
    });

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    assert_eq!(client.retries(), 1);
    let dropped: Vec<_> = emulator.request_log().iter().map(|r| r.dropped).collect();
    assert_eq!(dropped, [false, true, false]);
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after() {
    let emulator = start().await;
    let client = client(&emulator, bearer());
    emulator.set_faults(Faults {
        rate_limit_every: Some(1),
        retry_after_secs: 1,
        ..Faults::default()
    });
    let started = Instant::now();
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.create_cost_explorer_query(&org(), &body()).await }
    });
    // Lift the limit once the first 429 has been answered.
    while emulator.request_log().iter().all(|r| r.status != Some(429)) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    emulator.set_faults(Faults::default());

    request.await.unwrap().unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let emulator = start().await;
    let client = client(&emulator, bearer());
    emulator.set_faults(Faults {
        server_error_every: Some(2),
        ..Faults::default()
    });

    create_and_read(&client, ResultFormat::Json).await;

    // POST ok, GET 500 + retry, GET 500 + retry: every second request fails.
    assert_eq!(client.retries(), 2);
    let statuses: Vec<_> = emulator.request_log().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(202), Some(500), Some(200), Some(500), Some(200)]
    );
}

#[tokio::test]
async fn csv_results_arrive_as_csv() {
    let emulator = start().await;
    let client = client(&emulator, bearer());

    let usage = create_and_read(&client, ResultFormat::Csv).await;

    let expected = costform_emulator::synthetic_usage_csv(ORG, &serde_json::Value::Object(body()));
    assert_eq!(
        seen(usage),
        Seen::Ready {
            content_type: CSV.to_owned(),
            body: expected.into_bytes()
        }
    );
}

#[tokio::test]
async fn a_validation_error_shows_code_and_field() {
    let emulator = start().await;
    let client = client(&emulator, bearer());
    let mut wrong = body();
    wrong.insert("startDate".to_owned(), "2026-10-15".into());

    let error = client
        .create_cost_explorer_query(&org(), &wrong)
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(400));
    assert_eq!(error.error_code(), Some("VALIDATION_ERROR"));
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert!(
        api.fields.iter().any(|(field, _)| field == "startDate"),
        "{error}"
    );
    assert_eq!(client.retries(), 0);
}

#[tokio::test]
async fn an_expired_token_is_not_found() {
    let emulator = start().await;
    let client = client(&emulator, bearer());
    let token = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    assert!(emulator.expire_token(token.as_str()));

    let error = client
        .get_cost_explorer_usage(&org(), &token, ResultFormat::Json)
        .await
        .unwrap_err();

    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn wrong_credentials_fail_without_leaking_them() {
    let emulator = start().await;
    for credentials in [
        Credentials::AccessToken(Secret::new("not-the-token")),
        Credentials::ServiceAccount {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: Secret::new("not-the-secret"),
        },
        Credentials::ApiKey {
            public_key: DEMO_PUBLIC_API_KEY.to_owned(),
            private_key: Secret::new("not-the-key"),
        },
    ] {
        let client = client(&emulator, credentials);

        let error = client
            .create_cost_explorer_query(&org(), &body())
            .await
            .unwrap_err();

        assert_eq!(error.status(), Some(401), "{error}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("not-the-"), "{shown}");
    }
}
