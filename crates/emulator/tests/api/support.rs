//! Shared helpers: an emulator with the demo credentials and a client that
//! sends the headers costform sends.

use costform_emulator::{Config, DEMO_ACCESS_TOKEN, Emulator, JSON_MEDIA_TYPE};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";
pub const OTHER_ORG: &str = "65a1b2c3d4e5f6a7b8c9d0e1";

pub async fn start() -> Emulator {
    start_with(Config::demo()).await
}

pub async fn start_with(config: Config) -> Emulator {
    Emulator::start(config)
        .await
        .expect("emulator starts on loopback")
}

pub fn client() -> Client {
    Client::builder().build().expect("reqwest client")
}

pub fn usage_url(emulator: &Emulator, org: &str) -> String {
    format!(
        "{}/api/atlas/v2/orgs/{org}/billing/costExplorer/usage",
        emulator.base_url()
    )
}

pub fn last_quarter() -> Value {
    json!({"startDate": "2024-07-01", "endDate": "2024-10-01", "groupBy": "services"})
}

/// A create-query POST with the versioned headers and no credentials.
pub fn unauthenticated_create(
    client: &Client,
    emulator: &Emulator,
    org: &str,
    body: &Value,
) -> RequestBuilder {
    client
        .post(usage_url(emulator, org))
        .header("Accept", JSON_MEDIA_TYPE)
        .header("Content-Type", JSON_MEDIA_TYPE)
        .body(body.to_string())
}

/// A create-query POST with the demo bearer token and the versioned headers.
pub fn create_request(
    client: &Client,
    emulator: &Emulator,
    org: &str,
    body: &Value,
) -> RequestBuilder {
    unauthenticated_create(client, emulator, org, body).bearer_auth(DEMO_ACCESS_TOKEN)
}

/// A result GET with the demo bearer token, JSON accepted.
pub fn read_request(
    client: &Client,
    emulator: &Emulator,
    org: &str,
    token: &str,
    query: &str,
) -> RequestBuilder {
    read_request_as(client, emulator, org, token, query, JSON_MEDIA_TYPE)
}

/// A result GET with the demo bearer token accepting `accept`.
pub fn read_request_as(
    client: &Client,
    emulator: &Emulator,
    org: &str,
    token: &str,
    query: &str,
    accept: &str,
) -> RequestBuilder {
    client
        .get(format!("{}/{token}{query}", usage_url(emulator, org)))
        .bearer_auth(DEMO_ACCESS_TOKEN)
        .header("Accept", accept)
}

pub async fn json(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// Creates a query and returns its token, asserting the 202.
pub async fn create_token(client: &Client, emulator: &Emulator, body: &Value) -> String {
    let response = create_request(client, emulator, ORG, body)
        .send()
        .await
        .expect("POST answered");
    assert_eq!(response.status(), 202);
    let body = json(response).await;
    body["token"].as_str().expect("a token").to_owned()
}

/// The `errorCode` and the violated field names of an ApiError body.
pub fn violations(body: &Value) -> (String, Vec<String>) {
    let code = body["errorCode"].as_str().unwrap_or_default().to_owned();
    let fields = body["badRequestDetail"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|field| field["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (code, fields)
}
