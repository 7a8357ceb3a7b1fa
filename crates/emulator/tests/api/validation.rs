//! Each validation rule answers 400 ApiError naming the field; headers 406/415.

use costform_emulator::{CSV_MEDIA_TYPE, DEMO_ACCESS_TOKEN, JSON_MEDIA_TYPE};
use serde_json::{Value, json};

use crate::support::{
    ORG, client, create_request, json, last_quarter, read_request, start, usage_url, violations,
};

/// POSTs `body` and returns the status, errorCode and violated fields.
async fn rejected(body: &Value) -> (u16, String, Vec<String>) {
    let emulator = start().await;
    let response = create_request(&client(), &emulator, ORG, body)
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    let body = json(response).await;
    assert_eq!(body["error"], status, "ApiError.error repeats the status");
    assert_eq!(body["reason"], "Bad Request");
    assert!(
        emulator.issued_tokens().is_empty(),
        "a rejected body issues no token"
    );
    let (code, fields) = violations(&body);
    (status, code, fields)
}

#[tokio::test]
async fn each_body_rule_names_its_field() {
    let cases = [
        (json!({"endDate": "2024-02-01"}), "startDate"),
        (json!({"startDate": "2024-01-01"}), "endDate"),
        (
            json!({"startDate": "2024-13-01", "endDate": "2025-02-01"}),
            "startDate",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-30"}),
            "endDate",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-2-01"}),
            "endDate",
        ),
        (
            json!({"startDate": 20_240_101, "endDate": "2024-02-01"}),
            "startDate",
        ),
        (
            json!({"startDate": "2024-01-15", "endDate": "2024-02-01"}),
            "startDate",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-29"}),
            "endDate",
        ),
        (
            json!({"startDate": "2024-02-01", "endDate": "2024-02-01"}),
            "endDate",
        ),
        (
            json!({"startDate": "2024-03-01", "endDate": "2024-02-01"}),
            "endDate",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "groupBy": "teams"}),
            "groupBy",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "groupBy": null}),
            "groupBy",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "includePartialMatches": "yes"}),
            "includePartialMatches",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "organizations": ["5F0C8A1B2C3D4E5F6A7B8C9D"]}),
            "organizations[0]",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "projects": [ORG, "short"]}),
            "projects[1]",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "clusters": ORG}),
            "clusters",
        ),
        (
            json!({"startDate": "2024-01-01", "endDate": "2024-02-01", "services": ["AI Models"]}),
            "services[0]",
        ),
    ];
    for (body, field) in cases {
        let (status, code, fields) = rejected(&body).await;
        assert_eq!((status, code.as_str()), (400, "VALIDATION_ERROR"), "{body}");
        assert_eq!(fields, [field], "{body}");
    }
}

#[tokio::test]
async fn unknown_fields_are_rejected_by_name() {
    let mut body = last_quarter();
    body["group_by"] = json!("services");
    let (status, code, fields) = rejected(&body).await;
    assert_eq!(
        (status, code.as_str(), fields),
        (400, "INVALID_JSON_ATTRIBUTE", vec!["group_by".to_owned()])
    );
}

#[tokio::test]
async fn body_must_be_a_json_object() {
    let (status, code, fields) = rejected(&json!(["2024-01-01"])).await;
    assert_eq!(
        (status, code.as_str(), fields),
        (400, "INVALID_JSON", vec!["body".to_owned()])
    );
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let emulator = start().await;
    let response = create_request(&client(), &emulator, ORG, &json!(null))
        .body("{\"startDate\": ")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["errorCode"], "INVALID_JSON");
}

#[tokio::test]
async fn org_id_must_be_24_lowercase_hex() {
    let emulator = start().await;
    let client = client();
    let post = create_request(
        &client,
        &emulator,
        "5F0C8A1B2C3D4E5F6A7B8C9D",
        &last_quarter(),
    );
    let get = read_request(&client, &emulator, "myorg", &"a".repeat(64), "");
    for request in [post, get] {
        let response = request.send().await.expect("answered");
        assert_eq!(response.status(), 400);
        let (code, fields) = violations(&json(response).await);
        assert_eq!(
            (code.as_str(), fields),
            ("INVALID_PARAMETER", vec!["orgId".to_owned()])
        );
    }
}

/// POSTs the body as given with exactly these media headers and the demo token.
async fn post(url: &str, accept: &str, content_type: &str, body: &Value) -> reqwest::Response {
    client()
        .post(url)
        .bearer_auth(DEMO_ACCESS_TOKEN)
        .header("Accept", accept)
        .header("Content-Type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn other_api_versions_and_csv_are_not_acceptable_when_creating() {
    let emulator = start().await;
    let url = usage_url(&emulator, ORG);
    for accept in [
        "application/vnd.atlas.2023-10-01+json",
        CSV_MEDIA_TYPE,
        "application/json",
    ] {
        let response = post(&url, accept, JSON_MEDIA_TYPE, &last_quarter()).await;
        assert_eq!(response.status(), 406, "{accept}");
        assert_eq!(json(response).await["errorCode"], "INVALID_VERSION");
    }
    let listed = format!("text/plain, {JSON_MEDIA_TYPE}; charset=utf-8");
    assert_eq!(
        post(&url, &listed, JSON_MEDIA_TYPE, &last_quarter())
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn plain_json_content_type_is_unsupported() {
    let emulator = start().await;
    let response = post(
        &usage_url(&emulator, ORG),
        JSON_MEDIA_TYPE,
        "application/json",
        &last_quarter(),
    )
    .await;
    assert_eq!(response.status(), 415);
    assert_eq!(json(response).await["errorCode"], "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn a_post_asking_for_the_envelope_gets_its_validation_error_bare() {
    let emulator = start().await;
    let url = format!("{}?envelope=true", usage_url(&emulator, ORG));
    let response = post(
        &url,
        JSON_MEDIA_TYPE,
        JSON_MEDIA_TYPE,
        &json!({"startDate": "2024-01-01"}),
    )
    .await;
    assert_eq!(response.status(), 400, "the spec lists no 200 for the POST");
    let body = json(response).await;
    let expected = ("VALIDATION_ERROR".to_owned(), vec!["endDate".to_owned()]);
    assert_eq!(violations(&body), expected);
}
