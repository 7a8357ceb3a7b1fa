//! Reading results: processing polls, the envelope, a bare 102, JSON and CSV,
//! determinism, and tokens that answer 404.

use costform_emulator::{
    CSV_MEDIA_TYPE, DEMO_ACCESS_TOKEN, Emulator, JSON_MEDIA_TYPE, synthetic_usage,
    synthetic_usage_csv,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    ORG, OTHER_ORG, client, create_token, json, last_quarter, read_request, read_request_as, start,
};

#[tokio::test]
async fn token_is_64_lowercase_hex() {
    let emulator = start().await;
    let token = create_token(&client(), &emulator, &last_quarter()).await;
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{token}"
    );
}

#[tokio::test]
async fn enveloped_poll_is_processing_then_ready() {
    let emulator = start().await;
    emulator.set_processing_polls(2);
    let client = client();
    let token = create_token(&client, &emulator, &last_quarter()).await;
    for _ in 0..2 {
        let response = read_request(&client, &emulator, ORG, &token, "?envelope=true")
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200);
        assert_eq!(json(response).await, json!({"status": 102, "content": {}}));
    }
    let response = read_request(&client, &emulator, ORG, &token, "?envelope=true")
        .send()
        .await
        .expect("answered");
    let expected = json!({"status": 200, "content": synthetic_usage(ORG, &last_quarter())});
    assert_eq!(json(response).await, expected);
}

#[tokio::test]
async fn ready_results_are_the_synthetic_usage() {
    let emulator = start().await;
    emulator.set_processing_polls(0);
    let client = client();
    let token = create_token(&client, &emulator, &last_quarter()).await;
    let response = read_request(&client, &emulator, ORG, &token, "")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], JSON_MEDIA_TYPE);
    let body = json(response).await;
    assert_eq!(body, synthetic_usage(ORG, &last_quarter()));
    let rows = body["usageDetails"].as_array().expect("rows");
    assert_eq!(
        rows.len(),
        3 * 4,
        "three months times the four default services"
    );
    assert_eq!(rows[0]["usageDate"], "2024-07-01");
    assert_eq!(rows[0]["organizationId"], ORG);
}

/// Sends a raw HTTP/1.1 GET and returns everything the server wrote before closing.
async fn raw_get(emulator: &Emulator, path: &str) -> String {
    let mut stream = TcpStream::connect(emulator.local_addr())
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {DEMO_ACCESS_TOKEN}\r\nAccept: {JSON_MEDIA_TYPE}\r\n\r\n",
        emulator.local_addr()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read until closed");
    answer
}

#[tokio::test]
async fn bare_poll_answers_102_processing_without_a_body() {
    let emulator = start().await;
    let client = client();
    let token = create_token(&client, &emulator, &last_quarter()).await;
    let path = format!("/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage/{token}");
    assert_eq!(
        raw_get(&emulator, &path).await,
        "HTTP/1.1 102 Processing\r\n\r\n"
    );
    let logged = emulator.request_log().pop().expect("logged");
    assert_eq!((logged.status, logged.delivered), (Some(102), true));

    let response = read_request(&client, &emulator, ORG, &token, "")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200, "the processing poll was used up");
}

#[tokio::test]
async fn csv_is_served_when_asked() {
    let emulator = start().await;
    emulator.set_processing_polls(0);
    let client = client();
    let body = json!({"startDate": "2024-01-01", "endDate": "2024-03-01", "groupBy": "projects",
        "services": ["Cloud Manager Standard/Premium"]});
    let token = create_token(&client, &emulator, &body).await;
    let response = read_request_as(&client, &emulator, ORG, &token, "", CSV_MEDIA_TYPE)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["content-type"], CSV_MEDIA_TYPE);
    let csv = response.text().await.expect("text");
    assert_eq!(csv, synthetic_usage_csv(ORG, &body));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "Billed Date,Invoice Id,Organization Name,Organization ID,Project Name,Project Id,Cluster Name,Cluster Unique Id,Service,Usage Amount"
    );
    assert_eq!(
        lines.len(),
        1 + 2 * 2,
        "header, two months times two synthetic projects"
    );
    assert!(lines[1].starts_with("2024-01-01,"));

    let enveloped = read_request_as(
        &client,
        &emulator,
        ORG,
        &token,
        "?envelope=true",
        CSV_MEDIA_TYPE,
    )
    .send()
    .await
    .expect("answered");
    assert_eq!(
        json(enveloped).await,
        json!({"status": 200, "content": csv})
    );
}

#[tokio::test]
async fn results_depend_only_on_org_and_body() {
    let body = json!({"startDate": "2024-01-01", "endDate": "2024-04-01", "groupBy": "clusters",
        "clusters": ["65a1b2c3d4e5f6a7b8c9d0e1", "65a1b2c3d4e5f6a7b8c9d0e2"]});
    let reordered: serde_json::Value = serde_json::from_str(
        r#"{"clusters": ["65a1b2c3d4e5f6a7b8c9d0e1", "65a1b2c3d4e5f6a7b8c9d0e2"], "groupBy": "clusters",
            "endDate": "2024-04-01", "startDate": "2024-01-01"}"#,
    )
    .expect("json");
    let mut served = Vec::new();
    for body in [&body, &reordered] {
        let emulator = start().await;
        emulator.set_processing_polls(0);
        let client = client();
        let token = create_token(&client, &emulator, body).await;
        let response = read_request(&client, &emulator, ORG, &token, "")
            .send()
            .await
            .expect("answered");
        served.push(json(response).await);
    }
    assert_eq!(served[0], served[1]);
    let rows = served[0]["usageDetails"].as_array().expect("rows");
    assert_eq!(rows.len(), 3 * 2);
    assert_eq!(rows[1]["clusterId"], "65a1b2c3d4e5f6a7b8c9d0e2");
    assert!(rows.iter().all(|row| {
        row["usageAmount"]
            .as_f64()
            .is_some_and(|a| (0.0..10_000.0).contains(&a))
    }));
    assert_ne!(
        synthetic_usage(OTHER_ORG, &body),
        served[0],
        "another org gets other numbers"
    );
}

#[tokio::test]
async fn expired_unknown_and_foreign_tokens_answer_404_malformed_ones_400() {
    let emulator = start().await;
    let client = client();
    let expired = create_token(&client, &emulator, &last_quarter()).await;
    let foreign = create_token(&client, &emulator, &last_quarter()).await;
    assert!(
        emulator.expire_token(&expired.to_uppercase()),
        "tokens compare case-insensitively"
    );
    assert!(!emulator.expire_token(&"f".repeat(64)));
    let cases = [
        (ORG, expired),
        (ORG, "f".repeat(64)),
        (OTHER_ORG, foreign.clone()),
    ];
    for (org, token) in cases {
        let response = read_request(&client, &emulator, org, &token, "")
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 404, "{org} {token}");
        assert_eq!(json(response).await["errorCode"], "RESOURCE_NOT_FOUND");
    }
    for malformed in ["short", &"a".repeat(65)] {
        let response = read_request(&client, &emulator, ORG, malformed, "")
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 400, "{malformed}");
        let body = json(response).await;
        assert_eq!(
            crate::support::violations(&body),
            ("INVALID_PARAMETER".to_owned(), vec!["token".to_owned()])
        );
    }
    emulator.expire_all_tokens();
    let response = read_request(&client, &emulator, ORG, &foreign, "?envelope=true")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(
        (body["status"].clone(), body["content"]["errorCode"].clone()),
        (json!(404), json!("RESOURCE_NOT_FOUND"))
    );
}
