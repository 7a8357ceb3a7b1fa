//! Fault switches: 429 with Retry-After, 500, dropped connections, latency.

use std::time::{Duration, Instant};

use costform_emulator::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Faults};

use crate::support::{ORG, client, create_request, json, last_quarter, start, start_with};

#[tokio::test]
async fn every_nth_request_is_rate_limited_with_retry_after() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        rate_limit_every: Some(2),
        retry_after_secs: 7,
        ..Faults::default()
    });
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = create_request(&client, &emulator, ORG, &last_quarter())
            .send()
            .await
            .expect("answered");
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "7");
            let body = json(response).await;
            assert_eq!(body["errorCode"], "RATE_LIMITED_TOKEN_BUCKET");
            assert_eq!(body["error"], 429);
        }
    }
    assert_eq!(statuses, [202, 429, 202, 429]);
    assert_eq!(
        emulator.issued_tokens().len(),
        2,
        "a rate-limited POST issues no token"
    );
}

#[tokio::test]
async fn server_errors_are_injected_from_the_start_config() {
    let emulator = start_with(Config {
        faults: Faults {
            server_error_every: Some(1),
            ..Faults::default()
        },
        ..Config::demo()
    })
    .await;
    let response = create_request(&client(), &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 500);
    assert_eq!(json(response).await["errorCode"], "UNEXPECTED_ERROR");

    emulator.set_faults(Faults::default());
    let response = create_request(&client(), &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(
        response.status(),
        202,
        "switching faults off takes effect at once"
    );
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error_and_the_pool_recovers() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        drop_every: Some(2),
        ..Faults::default()
    });
    let client = client();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let sent = create_request(&client, &emulator, ORG, &last_quarter())
            .send()
            .await;
        outcomes.push(
            sent.map(|response| response.status().as_u16())
                .map_err(|error| error.is_request() || error.is_connect() || error.is_body()),
        );
    }
    assert_eq!(outcomes[0], Ok(202));
    assert!(
        outcomes[1].is_err(),
        "the second request must fail: {:?}",
        outcomes[1]
    );
    assert_eq!(outcomes[2], Ok(202));

    let log = emulator.request_log();
    let dropped: Vec<_> = log
        .iter()
        .map(|entry| (entry.status, entry.dropped))
        .collect();
    assert_eq!(
        dropped,
        [(Some(202), false), (None, true), (Some(202), false)]
    );
    assert_eq!(
        emulator.issued_tokens().len(),
        2,
        "a dropped POST issues no token"
    );
}

#[tokio::test]
async fn latency_delays_api_answers() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let started = Instant::now();
    let response = create_request(&client(), &emulator, ORG, &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 202);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn oauth_endpoint_is_never_faulted() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        server_error_every: Some(1),
        drop_every: Some(1),
        ..Faults::default()
    });
    let response = client()
        .post(format!("{}/api/oauth/token", emulator.base_url()))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
}
