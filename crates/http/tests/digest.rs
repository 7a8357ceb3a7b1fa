//! API keys: HTTP Digest challenge, response, reuse and stale nonces.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{USAGE_PATH, body, created, fast_config, org};
use costform_http::{Client, Credentials, Error, Secret};
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

/// A server whose nonces are good for one request each, as MongoDB's own Go
/// transport expects: every reuse is answered with a fresh challenge. The
/// challenges are slow, so parallel requests all hold one at the same time.
#[derive(Clone, Default)]
struct SingleUseNonces {
    issued: Arc<Mutex<u32>>,
    used: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

impl Respond for SingleUseNonces {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let fresh = || {
            let mut issued = self.issued.lock().unwrap();
            *issued += 1;
            DigestServer::challenge(&format!("nonce-{issued}"), false)
                .set_delay(std::time::Duration::from_millis(50))
        };
        let Some(header) = request.headers.get("authorization") else {
            return fresh();
        };
        let p = params(header.to_str().unwrap());
        if !self.used.lock().unwrap().insert(p["nonce"].clone()) {
            return fresh();
        }
        ResponseTemplate::new(202).set_body_json(created())
    }
}

fn api_key(server: &MockServer, private_key: &str) -> Client {
    let credentials = Credentials::ApiKey {
        public_key: USER.to_owned(),
        private_key: Secret::new(private_key),
    };
    Client::new(fast_config(&server.uri(), credentials)).unwrap()
}

/// Sends `count` queries, at most `parallelism` in flight, as `apply` does;
/// their outcomes.
async fn parallel_creates(
    client: &Client,
    count: usize,
    parallelism: usize,
) -> Vec<Result<(), Error>> {
    let slots = Arc::new(tokio::sync::Semaphore::new(parallelism));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let client = client.clone();
        let slot = Arc::clone(&slots).acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let outcome = client
                .create_cost_explorer_query(&org(), &body())
                .await
                .map(drop);
            drop(slot);
            outcome
        });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        outcomes.push(outcome.unwrap());
    }
    outcomes
}

async fn start() -> (MockServer, DigestServer, Client) {
    start_with_key(PASSWORD).await
}

/// A Digest server with nonce `nonce-one` and a client using `private_key`.
async fn start_with_key(private_key: &str) -> (MockServer, DigestServer, Client) {
    let server = MockServer::start().await;
    let digest = DigestServer::default();
    digest.rotate("nonce-one");
    Mock::given(wiremock::matchers::path(USAGE_PATH))
        .respond_with(digest.clone())
        .mount(&server)
        .await;
    let client = api_key(&server, private_key);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_each_answer_their_own_fresh_challenge() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path(USAGE_PATH))
        .respond_with(SingleUseNonces::default())
        .mount(&server)
        .await;
    let client = api_key(&server, PASSWORD);

    for round in 0..2 {
        let outcomes = parallel_creates(&client, 16, 16).await;
        let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert!(failed.is_empty(), "round {round}: {failed:?}");
    }
    // Each request: at most one refused answer, one accepted.
    let sent = server.received_requests().await.unwrap().len();
    assert!(sent <= 2 * 32, "{sent} requests for 32 queries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_keys_are_reported_once_and_stop_the_run() {
    let (server, _digest, client) = start_with_key("wrong-private-key").await;

    let outcomes = parallel_creates(&client, 16, 16).await;
    let sent = server.received_requests().await.unwrap().len();
    let later = client
        .create_cost_explorer_query(&org(), &body())
        .await
        .unwrap_err();

    let full: Vec<String> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Err(error @ Error::KeyRefused { .. }) => Some(error.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(full.len(), 1, "{outcomes:?}");
    assert!(
        full[0].contains("MONGODB_ATLAS_PUBLIC_API_KEY") && full[0].contains("NOT_AUTHORIZED"),
        "{}",
        full[0]
    );
    assert!(
        outcomes.iter().all(|outcome| matches!(
            outcome,
            Err(Error::KeyRefused { .. } | Error::CredentialsFailedEarlier { .. })
        )),
        "{outcomes:?}"
    );
    assert!(
        matches!(later, Error::CredentialsFailedEarlier { .. }),
        "{later:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        sent,
        "nothing is sent once the keys are known wrong"
    );
}

/// The figures the issue asks for: 256 queries, 16 in flight, against the
/// emulator refusing reused or overtaken nonce counts. Requests overtake each
/// other on the shared nonce, and each refused one must recover on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_queries_pass_an_emulator_strict_about_nonce_counts() {
    let emulator = costform_emulator::Emulator::start(costform_emulator::Config {
        strict_nonce_count: true,
        ..costform_emulator::Config::demo()
    })
    .await
    .unwrap();
    let credentials = Credentials::ApiKey {
        public_key: costform_emulator::DEMO_PUBLIC_API_KEY.to_owned(),
        private_key: Secret::new(costform_emulator::DEMO_PRIVATE_API_KEY),
    };
    let client = Client::new(fast_config(&emulator.base_url(), credentials)).unwrap();

    let outcomes = parallel_creates(&client, 256, 16).await;

    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    let log = emulator.request_log();
    let refused = log.iter().filter(|r| r.status == Some(401)).count();
    eprintln!(
        "strict digest: 256 queries, {} requests, {refused} answered 401",
        log.len()
    );
    assert_eq!(emulator.issued_tokens().len(), 256);
    assert_eq!(
        log.len(),
        256 + refused,
        "each 401 costs exactly one resend"
    );
}
