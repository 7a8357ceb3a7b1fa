//! Each auth mode: bearer, OAuth client credentials, HTTP Digest.

use std::time::Duration;

use costform_emulator::{
    Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PRIVATE_API_KEY, DEMO_PUBLIC_API_KEY,
    JSON_MEDIA_TYPE,
};
use md5::{Digest, Md5};
use reqwest::Response;
use serde_json::Value;

use crate::support::{
    ORG, client, create_token, json, last_quarter, start, start_with, unauthenticated_create,
    usage_url,
};

#[tokio::test]
async fn bearer_token_is_accepted_and_a_wrong_one_refused() {
    let emulator = start().await;
    let client = client();
    create_token(&client, &emulator, &last_quarter()).await;

    let refused = unauthenticated_create(&client, &emulator, ORG, &last_quarter())
        .bearer_auth("not-the-token")
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 401);
    let body = json(refused).await;
    assert_eq!(body["error"], 401);
    assert_eq!(body["errorCode"], "UNAUTHORIZED");
    assert_eq!(
        emulator.issued_tokens().len(),
        1,
        "a refused POST issues no token"
    );
}

#[tokio::test]
async fn missing_credentials_get_a_digest_challenge() {
    let emulator = start().await;
    let url = format!("{}/{}", usage_url(&emulator, ORG), "a".repeat(64));
    let response = client().get(url).send().await.expect("answered");
    assert_eq!(response.status(), 401);
    let challenge = www_authenticate(&response);
    assert!(challenge.starts_with("Digest realm=\"MMS Public API\", domain=\"\", nonce=\""));
    assert!(challenge.ends_with("algorithm=MD5, qop=\"auth\", stale=false"));
}

async fn mint(emulator: &costform_emulator::Emulator, id: &str, secret: &str) -> Response {
    client()
        .post(format!("{}/api/oauth/token", emulator.base_url()))
        .basic_auth(id, Some(secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token endpoint answered")
}

#[tokio::test]
async fn oauth_token_is_minted_and_then_accepted() {
    let emulator = start().await;
    let response = mint(&emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access_token = body["access_token"].as_str().expect("access token");
    assert_eq!(emulator.oauth_tokens_minted(), 1);

    let created = unauthenticated_create(&client(), &emulator, ORG, &last_quarter())
        .bearer_auth(access_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(created.status(), 202);
}

#[tokio::test]
async fn a_revoked_oauth_token_is_refused() {
    let emulator = start().await;
    let body = json(mint(&emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).await).await;
    let access_token = body["access_token"].as_str().expect("access token");
    let revoke = |id: &str, secret: &str| {
        client()
            .post(format!("{}/api/oauth/revoke", emulator.base_url()))
            .basic_auth(id, Some(secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("token={access_token}"))
            .send()
    };

    let refused = revoke(DEMO_CLIENT_ID, "wrong").await.expect("answered");
    assert_eq!(refused.status(), 401);
    let accepted = unauthenticated_create(&client(), &emulator, ORG, &last_quarter())
        .bearer_auth(access_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(accepted.status(), 202, "a refused revoke keeps the token");

    let revoked = revoke(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .await
        .expect("answered");
    assert_eq!(revoked.status(), 200);
    let created = unauthenticated_create(&client(), &emulator, ORG, &last_quarter())
        .bearer_auth(access_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(created.status(), 401);
}

#[tokio::test]
async fn oauth_client_credentials_are_form_urldecoded() {
    let emulator = start_with(Config {
        auth: costform_emulator::AuthConfig {
            service_accounts: vec![("id:one".to_owned(), "se cr%et+".to_owned())],
            ..costform_emulator::AuthConfig::default()
        },
        ..Config::demo()
    })
    .await;
    assert_eq!(
        mint(&emulator, "id%3Aone", "se+cr%25et%2B").await.status(),
        200
    );
    assert_eq!(
        mint(&emulator, "id%3Aone", "se+cr%25et+").await.status(),
        401
    );
}

#[tokio::test]
async fn oauth_refuses_a_wrong_secret() {
    let emulator = start().await;
    let response = mint(&emulator, DEMO_CLIENT_ID, "wrong").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        json(response).await,
        serde_json::json!({"error": "invalid_client"})
    );
    assert_eq!(emulator.oauth_tokens_minted(), 0);
}

#[tokio::test]
async fn expired_oauth_token_is_refused() {
    let emulator = start_with(Config {
        oauth_token_lifetime: Duration::ZERO,
        ..Config::demo()
    })
    .await;
    let body = json(mint(&emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).await).await;
    let access_token = body["access_token"].as_str().expect("access token");
    let response = client()
        .get(format!("{}/{}", usage_url(&emulator, ORG), "a".repeat(64)))
        .bearer_auth(access_token)
        .header("Accept", JSON_MEDIA_TYPE)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 401);
}

fn www_authenticate(response: &Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .expect("a WWW-Authenticate header")
        .to_owned()
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// What a Digest client sends for `method uri` after a challenge with `nonce`.
fn digest_authorization(password: &str, method: &str, uri: &str, nonce: &str) -> String {
    counted_digest_authorization(password, method, uri, nonce, 1)
}

/// The same, with nonce count `nc`.
fn counted_digest_authorization(
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: u32,
) -> String {
    let user = DEMO_PUBLIC_API_KEY;
    let ha1 = md5_hex(&format!("{user}:MMS Public API:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:{nc:08x}:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm=MD5, qop=auth, nc={nc:08x}, cnonce=\"c0ffee\", response=\"{response}\""
    )
}

/// The nonce of a 401's Digest challenge.
fn challenge_nonce(response: &Response) -> String {
    www_authenticate(response)
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a nonce")
        .to_owned()
}

/// Sends a Digest-authenticated GET for `token` after fetching a challenge.
async fn digest_get(
    emulator: &costform_emulator::Emulator,
    password: &str,
    token: &str,
) -> Response {
    let client = client();
    let url = format!("{}/{token}?envelope=true", usage_url(emulator, ORG));
    let challenge = client.get(&url).send().await.expect("challenge");
    let nonce = challenge_nonce(&challenge);
    let uri = format!("/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage/{token}?envelope=true");
    client
        .get(&url)
        .header(
            "Authorization",
            digest_authorization(password, "GET", &uri, &nonce),
        )
        .header("Accept", JSON_MEDIA_TYPE)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn digest_response_over_path_and_query_is_accepted() {
    let emulator = start().await;
    let token = create_token(&client(), &emulator, &last_quarter()).await;
    let response = digest_get(&emulator, DEMO_PRIVATE_API_KEY, &token).await;
    assert_eq!(response.status(), 200);
    let body: Value = json(response).await;
    assert_eq!(body["status"], 102, "the first poll is still processing");
}

#[tokio::test]
async fn digest_with_a_wrong_private_key_is_refused() {
    let emulator = start().await;
    let response = digest_get(&emulator, "not-the-key", &"b".repeat(64)).await;
    assert_eq!(response.status(), 401);
    assert!(www_authenticate(&response).ends_with("stale=false"));
}

#[tokio::test]
async fn expired_nonce_is_answered_with_a_stale_challenge() {
    let emulator = start_with(Config {
        nonce_lifetime: Duration::ZERO,
        ..Config::demo()
    })
    .await;
    let response = digest_get(&emulator, DEMO_PRIVATE_API_KEY, &"c".repeat(64)).await;
    assert_eq!(response.status(), 401);
    assert!(www_authenticate(&response).ends_with("stale=true"));
}

#[tokio::test]
async fn digest_signed_post_creates_a_query() {
    let emulator = start().await;
    let client = client();
    let challenge = unauthenticated_create(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("challenge");
    assert_eq!(challenge.status(), 401);
    let nonce = challenge_nonce(&challenge);
    let uri = format!("/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage");
    let created = unauthenticated_create(&client, &emulator, ORG, &last_quarter())
        .header(
            "Authorization",
            digest_authorization(DEMO_PRIVATE_API_KEY, "POST", &uri, &nonce),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(created.status(), 202);
}

/// The statuses of POSTs signed with one nonce and counts `counts`, in order.
async fn posts_with_counts(config: Config, counts: &[u32]) -> Vec<u16> {
    let emulator = start_with(config).await;
    let client = client();
    let challenge = unauthenticated_create(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("challenge");
    let nonce = challenge_nonce(&challenge);
    let uri = format!("/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage");
    let mut statuses = Vec::new();
    for &nc in counts {
        let response = unauthenticated_create(&client, &emulator, ORG, &last_quarter())
            .header(
                "Authorization",
                counted_digest_authorization(DEMO_PRIVATE_API_KEY, "POST", &uri, &nonce, nc),
            )
            .send()
            .await
            .expect("answered");
        if response.status() == 401 {
            assert!(
                www_authenticate(&response).ends_with("stale=false"),
                "a refused count gets a fresh, non-stale challenge"
            );
            assert_ne!(challenge_nonce(&response), nonce);
        }
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn strict_nonce_counts_refuse_replays_and_overtaken_counts() {
    let strict = Config {
        strict_nonce_count: true,
        ..Config::demo()
    };
    assert_eq!(
        posts_with_counts(strict, &[1, 1, 3, 2, 4]).await,
        vec![202, 401, 202, 401, 202]
    );
}

#[tokio::test]
async fn lenient_nonce_counts_accept_replays_by_default() {
    assert_eq!(
        posts_with_counts(Config::demo(), &[1, 1, 3, 2]).await,
        vec![202, 202, 202, 202]
    );
}
