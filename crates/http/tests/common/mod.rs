//! Shared test helpers: fast retry settings and fixed ids.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use costform_http::{Client, ClientConfig, Credentials, Error, Secret, Usage};
use costform_model::ids::{OrgId, Token};
use costform_model::request::RequestBody;
use costform_model::state::ResultFormat;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A [`Usage`] with its body read, so that tests can compare it whole.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Processing,
    Ready { content_type: String, body: Vec<u8> },
}

pub fn seen(usage: Usage) -> Seen {
    match usage {
        Usage::Processing => Seen::Processing,
        Usage::Ready {
            content_type,
            mut body,
        } => Seen::Ready {
            content_type,
            body: body.head(usize::MAX).unwrap(),
        },
    }
}

pub const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";
pub const USAGE_PATH: &str =
    "/api/atlas/v2/orgs/5f0c8a1b2c3d4e5f6a7b8c9d/billing/costExplorer/usage";
pub const JSON: &str = "application/vnd.atlas.2023-01-01+json";
pub const CSV: &str = "application/vnd.atlas.2023-01-01+csv";

pub fn org() -> OrgId {
    OrgId::parse(ORG).unwrap()
}

pub fn token() -> Token {
    Token::parse(&"ab12".repeat(16)).unwrap()
}

pub fn token_path() -> String {
    format!("{USAGE_PATH}/{}", token())
}

pub fn body() -> RequestBody {
    serde_json::from_str(r#"{"startDate":"2026-10-01","endDate":"2026-11-01","groupBy":"services","services":["Clusters"]}"#)
        .unwrap()
}

/// A config whose retries take milliseconds, not seconds.
pub fn fast_config(base_url: &str, credentials: Credentials) -> ClientConfig {
    let mut config = ClientConfig::new(base_url, credentials).unwrap();
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    config.max_attempts = 3;
    config.request_timeout = Duration::from_secs(5);
    config
}

pub fn bearer_client(base_url: &str) -> Client {
    Client::new(fast_config(
        base_url,
        Credentials::AccessToken(Secret::new("bearer-secret-value")),
    ))
    .unwrap()
}

pub fn created() -> serde_json::Value {
    serde_json::json!({ "token": "ab12".repeat(16) })
}

/// What a result GET in `format` makes of `response`, and the server's URL.
pub async fn read_answered(
    response: ResponseTemplate,
    format: ResultFormat,
) -> (String, Result<Usage, Error>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(token_path()))
        .respond_with(response)
        .mount(&server)
        .await;
    let usage = bearer_client(&server.uri())
        .get_cost_explorer_usage(&org(), &token(), format)
        .await;
    (server.uri(), usage)
}
