//! API keys: HTTP Digest challenge, response, reuse and stale nonces.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{USAGE_PATH, body, created, fast_config, org};
use costform_http::{Client, Credentials, Secret};
use md5::{Digest as _, Md5};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const USER: &str = "public-key";
const PASSWORD: &str = "private-key-secret";
const REALM: &str = "MMS Public API";

fn md5(text: &str) -> String {
    format!("{:x}", Md5::digest(text.as_bytes()))
}

/// The parameters of a `Digest ...` header.
fn params(header: &str) -> BTreeMap<String, String> {
    let challenges = http_auth::parse_challenges(header).unwrap();
    challenges[0]
        .params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_unescaped()))
        .collect()
}

/// A Digest server with one current nonce that checks every response with
/// its own MD5 computation.
#[derive(Clone, Default)]
struct DigestServer {
    nonce: Arc<Mutex<String>>,
    seen: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

impl DigestServer {
    fn rotate(&self, nonce: &str) {
        nonce.clone_into(&mut self.nonce.lock().unwrap());
    }

    fn challenge(nonce: &str, stale: bool) -> ResponseTemplate {
        ResponseTemplate::new(401)
            .insert_header(
                "www-authenticate",
                format!(r#"Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale={stale}"#),
            )
            .set_body_json(serde_json::json!({"error": 401, "errorCode": "NOT_AUTHORIZED"}))
    }
}

impl Respond for DigestServer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let current = self.nonce.lock().unwrap().clone();
        let Some(header) = request.headers.get("authorization") else {
            return Self::challenge(&current, false);
        };
        let p = params(header.to_str().unwrap());
        self.seen.lock().unwrap().push(p.clone());
        if p["nonce"] != current {
            return Self::challenge(&current, true);
        }
        let ha1 = md5(&format!("{USER}:{REALM}:{PASSWORD}"));
        let ha2 = md5(&format!("{}:{}", request.method, p["uri"]));
        let expected = md5(&format!(
            "{ha1}:{}:{}:{}:{}:{ha2}",
            p["nonce"], p["nc"], p["cnonce"], p["qop"]
        ));
        if p["response"] == expected && p["username"] == USER && p["realm"] == REALM {
            ResponseTemplate::new(202).set_body_json(created())
        } else {
            Self::challenge(&current, false)
        }
    }
}

async fn start() -> (MockServer, DigestServer, Client) {
    let server = MockServer::start().await;
    let digest = DigestServer::default();
    digest.rotate("nonce-one");
    Mock::given(wiremock::matchers::path(USAGE_PATH))
        .respond_with(digest.clone())
        .mount(&server)
        .await;
    let credentials = Credentials::ApiKey {
        public_key: USER.to_owned(),
        private_key: Secret::new(PASSWORD),
    };
    let client = Client::new(fast_config(&server.uri(), credentials)).unwrap();
    (server, digest, client)
}

#[tokio::test]
async fn the_challenge_is_answered_with_path_and_query_as_uri() {
    let (server, digest, client) = start().await;

    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    let seen = digest.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["username"], USER);
    assert_eq!(seen[0]["realm"], REALM);
    assert_eq!(seen[0]["uri"], USAGE_PATH);
    assert_eq!(seen[0]["qop"], "auth");
    assert_eq!(seen[0]["nc"], "00000001");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_challenge_is_reused_then_renewed_when_stale() {
    let (server, digest, client) = start().await;
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();

    // Reused: no new 401 round trip, the nonce count goes up.
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(digest.seen.lock().unwrap()[1]["nc"], "00000002");

    // Stale: one redo with the new nonce.
    digest.rotate("nonce-two");
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap();
    let seen = digest.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[2]["nonce"], "nonce-one");
    assert_eq!(seen[3]["nonce"], "nonce-two");
    assert_eq!(seen[3]["nc"], "00000001");
}

#[tokio::test]
async fn a_wrong_key_fails_after_one_answer_without_looping() {
    let server = MockServer::start().await;
    let digest = DigestServer::default();
    digest.rotate("nonce-one");
    Mock::given(wiremock::matchers::path(USAGE_PATH))
        .respond_with(digest.clone())
        .expect(2)
        .mount(&server)
        .await;
    let credentials = Credentials::ApiKey {
        public_key: USER.to_owned(),
        private_key: Secret::new("wrong-private-key"),
    };
    let client = Client::new(fast_config(&server.uri(), credentials)).unwrap();

    let error = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(401));
    assert_eq!(error.error_code(), Some("NOT_AUTHORIZED"));
    assert!(!format!("{error} {error:?} {client:?}").contains("wrong-private-key"));
}
