//! Pacing: what a 429 teaches, scopes kept apart, waits refused when too long.
//!
//! A test bucket behind wiremock plays Atlas with one source of numbers at a
//! time (only `parameters`, only `detail`, only `Retry-After`), without
//! `RateLimit-*` headers, so each test proves the client learns from that
//! source alone. The emulator's token-bucket mode plays the full answer.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{bearer_client, body, created, org};
use costform_emulator::{Config, Emulator, TokenBucket};
use costform_http::{Client, Credentials, Secret};
use costform_model::ids::OrgId;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Where a 429 of the test bucket puts its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Says {
    Parameters,
    Detail,
    RetryAfter,
}

/// A bucket refilled by `refill` tokens every `period` since it was made,
/// counting the 429s it answers.
#[derive(Debug)]
struct TestBucket {
    says: Says,
    capacity: u32,
    refill: u32,
    period: Duration,
    since: Instant,
    state: Mutex<(u32, u32, usize)>,
}

#[derive(Debug, Clone)]
struct Shared(Arc<TestBucket>);

impl Shared {
    fn new(says: Says, capacity: u32, refill: u32, period: Duration) -> Self {
        Self(Arc::new(TestBucket {
            says,
            capacity,
            refill,
            period,
            since: Instant::now(),
            state: Mutex::new((capacity, 0, 0)),
        }))
    }

    fn rate_limited(&self) -> usize {
        self.0.state.lock().unwrap().2
    }
}

impl Respond for Shared {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let bucket = &*self.0;
        let mut state = bucket.state.lock().unwrap();
        let (tokens, refills, limited) = &mut *state;
        let periods =
            u32::try_from(bucket.since.elapsed().as_nanos() / bucket.period.as_nanos()).unwrap();
        *tokens = (*tokens + (periods - *refills) * bucket.refill).min(bucket.capacity);
        *refills = periods;
        if *tokens > 0 {
            *tokens -= 1;
            return ResponseTemplate::new(202).set_body_json(created());
        }
        *limited += 1;
        let next = bucket.since + bucket.period * (periods + 1);
        let wait = next.saturating_duration_since(Instant::now()).as_secs_f64();
        let period = bucket.period.as_secs_f64();
        let (capacity, refill) = (bucket.capacity, bucket.refill);
        let mut body = serde_json::json!({"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET",
            "detail": "Rate limit exceeded.", "parameters": []});
        let mut template = ResponseTemplate::new(429);
        match bucket.says {
            Says::Parameters => {
                body["parameters"] =
                    serde_json::json!(["api/atlas/v2/orgs", wait, capacity, refill, period]);
            }
            Says::Detail => {
                body["detail"] = format!(
                    "Rate limit exceeded for api/atlas/v2/orgs. Please retry after {wait:.3} seconds. \
                     Request capacity: {capacity}. Refill rate: {refill} per {period} seconds."
                )
                .into();
            }
            Says::RetryAfter => {
                template = template.insert_header("retry-after", wait.ceil().to_string());
            }
        }
        template.set_body_json(body)
    }
}

async fn create_all(client: &Client, org: &OrgId, count: usize) -> usize {
    let body = body();
    let requests = (0..count).map(|_| client.create_cost_explorer_query(org, &body));
    futures::future::join_all(requests)
        .await
        .into_iter()
        .flatten()
        .count()
}

/// `count` requests sent at once into a bucket of 1 that refills 2 per
/// `period`: the first answer (no headers) lets the others go, most meet an
/// empty bucket; from their 429s the client learns the refill and sends the
/// rest on schedule, so no request is refused twice.
async fn learns_from(says: Says, period: Duration, count: usize) {
    let bucket = Shared::new(says, 1, 2, period);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(bucket.clone())
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    assert_eq!(create_all(&client, &org(), count).await, count);

    let limited = bucket.rate_limited();
    assert!(limited < count, "{says:?}: {limited} answers were 429");
    assert_eq!(client.retries(), u64::try_from(limited).unwrap());
}

#[tokio::test]
async fn pacing_is_learned_from_parameters() {
    learns_from(Says::Parameters, Duration::from_millis(300), 8).await;
}

#[tokio::test]
async fn pacing_is_learned_from_the_detail_alone() {
    learns_from(Says::Detail, Duration::from_millis(300), 8).await;
}

#[tokio::test]
async fn pacing_is_learned_from_retry_after_alone() {
    // Retry-After is whole seconds, and teaches only "one per wait": fewer
    // requests keep the test short.
    learns_from(Says::RetryAfter, Duration::from_secs(1), 4).await;
}

async fn metered(bucket: &str) -> Emulator {
    Emulator::start(Config {
        token_bucket: Some(bucket.parse().unwrap()),
        ..Config::demo()
    })
    .await
    .unwrap()
}

fn emulator_client(emulator: &Emulator) -> Client {
    Client::new(common::fast_config(
        &emulator.base_url(),
        Credentials::AccessToken(Secret::new(costform_emulator::DEMO_ACCESS_TOKEN)),
    ))
    .unwrap()
}

fn rate_limited(emulator: &Emulator) -> usize {
    emulator
        .request_log()
        .iter()
        .filter(|logged| logged.status == Some(429))
        .count()
}

#[tokio::test]
async fn one_exhausted_organization_never_holds_back_another() {
    let emulator = metered("1:1/30s").await;
    let client = emulator_client(&emulator);
    let busy = OrgId::parse(common::ORG).unwrap();
    let other = OrgId::parse("65a1b2c3d4e5f6a7b8c9d0e1").unwrap();
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { create_all(&client, &busy, 3).await })
    };
    // Let the busy organization empty its bucket and learn its 30 s refill.
    while rate_limited(&emulator) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    client
        .create_cost_explorer_query(&other, &body())
        .await
        .expect("the other organization's bucket is full");

    assert!(
        !waiting.is_finished(),
        "the busy organization waits for its refill"
    );
    waiting.abort();
    assert_eq!(rate_limited(&emulator), 1, "one 429 taught the busy scope");
}

#[tokio::test]
async fn stop_waiting_ends_a_long_wait_at_once_and_sends_nothing_more() {
    let emulator = metered("1:1/30s").await;
    let client = emulator_client(&emulator);
    let busy = OrgId::parse(common::ORG).unwrap();
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..3 {
                outcomes.push(client.create_cost_explorer_query(&busy, &body()).await);
            }
            outcomes
        })
    };
    while client.rate_limit_wait().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_before = emulator.request_log().len();
    let stopped = Instant::now();
    client.stop_waiting();
    let outcomes = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the wait ended at once, not after the 30 s refill")
        .unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(5));
    assert!(outcomes[0].is_ok(), "the first query had its token");
    assert!(outcomes[1..].iter().all(Result::is_err), "{outcomes:?}");
    assert_eq!(
        emulator.request_log().len(),
        sent_before,
        "nothing sent after the stop"
    );
}

#[tokio::test]
async fn a_wait_for_a_token_is_visible_while_it_lasts() {
    let emulator = metered("1:1/30s").await;
    let client = emulator_client(&emulator);
    assert_eq!(client.rate_limit_wait(), None, "nothing waits yet");
    let busy = OrgId::parse(common::ORG).unwrap();
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { create_all(&client, &busy, 3).await })
    };
    let started = Instant::now();
    let seen = loop {
        if let Some(wait) = client.rate_limit_wait() {
            break wait;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no wait was reported"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(seen.contains("of 1 left, next in"), "{seen}");
    waiting.abort();
}

#[tokio::test]
async fn a_bucket_that_refills_faster_than_learned_is_used_at_its_pace() {
    // Learn a slow bucket (1 token per 1.5 s) from its first 429.
    let emulator = metered("2:1/1500ms").await;
    let client = emulator_client(&emulator);
    assert_eq!(create_all(&client, &org(), 3).await, 3);
    assert!(rate_limited(&emulator) >= 1);

    // Atlas now refills far faster: ten requests would take 15 s at the
    // learned pace; the first answer's `RateLimit-Remaining` corrects it.
    emulator.set_token_bucket(Some(TokenBucket {
        capacity: 20,
        refill: 20,
        period: Duration::from_millis(100),
    }));
    let started = Instant::now();
    assert_eq!(create_all(&client, &org(), 10).await, 10);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

/// A server whose first `times` POSTs (every one when `None`) answer
/// `refusal`, the others 202, and a client for it.
async fn refusing(refusal: ResponseTemplate, times: Option<u64>) -> (MockServer, Client) {
    let server = MockServer::start().await;
    let refused = Mock::given(method("POST")).respond_with(refusal);
    match times {
        Some(times) => refused.up_to_n_times(times).mount(&server).await,
        None => refused.mount(&server).await,
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());
    (server, client)
}

async fn refused_with(client: &Client) -> costform_http::Error {
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .expect_err("the request fails")
}

fn limited_for(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", retry_after)
        .set_body_json(serde_json::json!({"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET"}))
}

#[tokio::test]
async fn a_429_storm_without_numbers_ends_with_the_rate_limit_budget() {
    let storm = ResponseTemplate::new(429).set_body_json(
        serde_json::json!({"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET", "detail": "slow down"}),
    );
    let (server, client) = refusing(storm, None).await;

    let error = refused_with(&client).await;

    assert_eq!(error.status(), Some(429));
    assert_eq!(server.received_requests().await.unwrap().len(), 21);
}

#[tokio::test]
async fn a_wait_beyond_fifteen_minutes_fails_at_once_naming_it() {
    let (server, client) = refusing(limited_for("3600"), None).await;

    let started = Instant::now();
    let first = refused_with(&client).await.to_string();
    let second = refused_with(&client).await.to_string();

    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(first.contains("wait 3600 s"), "{first}");
    assert!(first.contains("900 s"), "{first}");
    assert!(
        second.contains("rate limited"),
        "the paused scope refuses too: {second}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_wait_beyond_the_deadline_fails_at_once() {
    let (server, client) = refusing(limited_for("30"), None).await;
    client.set_deadline(Instant::now() + Duration::from_secs(10));

    let error = refused_with(&client).await;

    assert_eq!(error.status(), Some(429));
    assert!(error.to_string().contains("wait 30 s"), "{error}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&at)
        .unwrap();
    let (_server, client) = refusing(limited_for(&date), Some(1)).await;

    let started = Instant::now();
    client
        .create_cost_explorer_query(&org(), &body())
        .await
        .expect("the retry after the date succeeds");

    // The date has whole seconds: the wait is between 1 and 2 s.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert_eq!(client.retries(), 1);
}
