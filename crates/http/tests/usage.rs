//! Reading results: processing, ready (JSON or CSV), enveloped or not.

mod common;

use common::{CSV, JSON, Seen, bearer_client, org, seen, token};
use costform_model::state::ResultFormat;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answer(
    response: ResponseTemplate,
    format: ResultFormat,
) -> Result<Seen, costform_http::Error> {
    common::read_answered(response, format).await.1.map(seen)
}

fn enveloped(status: u16, content: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({"status": status, "content": content}))
}

#[tokio::test]
async fn an_envelope_reports_processing_then_the_json_result() {
    let server = MockServer::start().await;
    let result =
        serde_json::json!({"usageDetails": [{"service": "Clusters", "usageAmount": 51.19}]});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"status": 102})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(enveloped(200, &result))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());

    let mut polls = Vec::new();
    for _ in 0..3 {
        polls.push(seen(
            client
                .get_cost_explorer_usage(&org(), &token(), ResultFormat::Json)
                .await
                .unwrap(),
        ));
    }

    assert_eq!(polls[0], Seen::Processing);
    assert_eq!(polls[1], Seen::Processing);
    let Seen::Ready { content_type, body } = &polls[2] else {
        panic!("{:?}", polls[2])
    };
    assert_eq!(content_type, JSON);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(body).unwrap(),
        result
    );
}

#[tokio::test]
async fn bare_202_and_204_mean_processing() {
    for status in [202, 204] {
        let usage = answer(ResponseTemplate::new(status), ResultFormat::Json)
            .await
            .unwrap();
        assert_eq!(usage, Seen::Processing, "{status}");
    }
}

#[tokio::test]
async fn an_envelope_status_of_102_with_any_http_status_line_is_processing() {
    let response = ResponseTemplate::new(202)
        .set_body_json(serde_json::json!({"status": 102, "content": null}));
    assert_eq!(
        answer(response, ResultFormat::Json).await.unwrap(),
        Seen::Processing
    );
}

#[tokio::test]
async fn a_json_result_without_envelope_is_ready_as_sent() {
    let body = r#"{"usageDetails":[]}"#;
    let response = ResponseTemplate::new(200).set_body_raw(body, JSON);
    let usage = answer(response, ResultFormat::Json).await.unwrap();
    assert_eq!(
        usage,
        Seen::Ready {
            content_type: JSON.to_owned(),
            body: body.as_bytes().to_vec()
        }
    );
}

#[tokio::test]
async fn csv_in_an_envelope_is_unwrapped() {
    let csv = "Usage Date,Service,Usage Amount\n2026-10-01,Clusters,51.19\n";
    let usage = answer(enveloped(200, &serde_json::json!(csv)), ResultFormat::Csv)
        .await
        .unwrap();
    assert_eq!(
        usage,
        Seen::Ready {
            content_type: CSV.to_owned(),
            body: csv.as_bytes().to_vec()
        }
    );
}

#[tokio::test]
async fn an_error_inside_the_envelope_is_an_api_error() {
    let content =
        serde_json::json!({"error": 404, "errorCode": "RESOURCE_NOT_FOUND", "detail": "No token."});
    let error = answer(enveloped(404, &content), ResultFormat::Json)
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.error_code(), Some("RESOURCE_NOT_FOUND"));
    assert!(error.to_string().ends_with(": No token."), "{error}");
}

#[tokio::test]
async fn an_html_page_or_broken_json_with_status_200_is_not_a_result() {
    let html = "<html><body>Please sign in to the proxy</body></html>";
    for (response, format) in [
        (
            ResponseTemplate::new(200).set_body_raw(html, "text/html"),
            ResultFormat::Json,
        ),
        (
            ResponseTemplate::new(200).set_body_raw(html, "text/html; charset=utf-8"),
            ResultFormat::Csv,
        ),
        (
            ResponseTemplate::new(200).set_body_raw("{\"usageDetails\": [", JSON),
            ResultFormat::Json,
        ),
        (
            ResponseTemplate::new(200).set_body_raw("a,b\n", JSON),
            ResultFormat::Csv,
        ),
    ] {
        let error = answer(response, format).await.unwrap_err();
        assert!(
            matches!(error, costform_http::Error::InvalidResponse { .. }),
            "{error:?}"
        );
        assert!(!error.to_string().contains("sign in"), "{error}");
    }
}
