//! The token-bucket mode: Atlas's documented 429, `RateLimit-*` headers on
//! every metered answer, one bucket per organization.

use std::time::Duration;

use costform_emulator::{Config, TokenBucket};

use crate::support::{ORG, OTHER_ORG, client, create_request, json, last_quarter, start_with};

async fn metered(bucket: &str) -> costform_emulator::Emulator {
    start_with(Config {
        token_bucket: Some(bucket.parse().expect("a valid bucket")),
        ..Config::demo()
    })
    .await
}

#[tokio::test]
async fn an_empty_bucket_answers_the_documented_429() {
    let emulator = metered("2:5/60s").await;
    let client = client();
    for remaining in ["1", "0"] {
        let response = create_request(&client, &emulator, ORG, &last_quarter())
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 202);
        assert_eq!(response.headers()["ratelimit-limit"], "2");
        assert_eq!(response.headers()["ratelimit-remaining"], remaining);
    }

    let response = create_request(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), 429);
    let headers = response.headers().clone();
    assert_eq!(headers["ratelimit-remaining"], "0");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    let body = json(response).await;
    assert_eq!(body["errorCode"], "RATE_LIMITED_TOKEN_BUCKET");
    assert_eq!(
        body["detail"],
        format!(
            "Rate limit exceeded for api/atlas/v2/orgs. Please retry after {wait} seconds. \
             Request capacity: 2. Refill rate: 5 per 60 seconds."
        )
    );
    assert_eq!(
        body["parameters"],
        serde_json::json!(["api/atlas/v2/orgs", wait, 2, 5, 60])
    );
    assert_eq!(
        emulator.issued_tokens().len(),
        2,
        "a refused POST issues no token"
    );
}

#[tokio::test]
async fn organizations_have_their_own_buckets_which_refill() {
    let emulator = metered("1:1/300ms").await;
    let client = client();
    let status = |org: &'static str| {
        let request = create_request(&client, &emulator, org, &last_quarter());
        async move { request.send().await.expect("answered").status().as_u16() }
    };
    assert_eq!(status(ORG).await, 202);
    assert_eq!(status(ORG).await, 429);
    assert_eq!(status(OTHER_ORG).await, 202, "another org's bucket is full");

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status(ORG).await, 202, "one token back after a period");

    emulator.set_token_bucket(None);
    let response = create_request(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("ratelimit-limit").is_none());
}

#[tokio::test]
async fn sub_second_periods_are_written_as_decimal_seconds() {
    let emulator = metered("5:5/1s").await;
    emulator.set_token_bucket(Some(TokenBucket {
        capacity: 1,
        refill: 1,
        period: Duration::from_millis(200),
    }));
    let client = client();
    let _ = create_request(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    let response = create_request(&client, &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["retry-after"], "1");
    let body = json(response).await;
    assert_eq!(
        body["parameters"],
        serde_json::json!(["api/atlas/v2/orgs", 1, 1, 1, 0.2])
    );
}
