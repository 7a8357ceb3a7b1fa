//! Retries are logged for `-v` users, and no log line ever carries a secret.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{USAGE_PATH, body, created, fast_config, org};
use costform_http::{Client, Credentials, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_retry_is_logged_with_method_url_attempt_and_reason_but_no_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::start().await;
    Mock::given(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "minted-access-token", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
            "error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(USAGE_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let credentials = Credentials::ServiceAccount {
        client_id: "sa-id".to_owned(),
        client_secret: Secret::new("sa-client-secret"),
    };
    let client = Client::new(fast_config(&server.uri(), credentials)).unwrap();

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let retry = logs
        .lines()
        .find(|line| line.contains("retrying atlas request"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(retry.contains(" INFO "), "{retry}");
    assert!(retry.contains("method=POST"), "{retry}");
    assert!(
        retry.contains(&format!("{}{USAGE_PATH}", server.uri())),
        "{retry}"
    );
    assert!(retry.contains("attempt=2"), "{retry}");
    // A 429 is a request to wait, not a failure: the failure budget is untouched.
    assert!(retry.contains("failures=0/3"), "{retry}");
    assert!(retry.contains("429 RATE_LIMITED_TOKEN_BUCKET"), "{retry}");
    assert!(retry.contains("delay_ms="), "{retry}");
    for secret in [
        "sa-client-secret",
        "minted-access-token",
        "c2EtaWQ6c2EtY2xpZW50LXNlY3JldA",
    ] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}
