//! The `focus_report` adapter against wiremock, where one exact request must
//! be asserted: the invoice lookup's window, the download sent without the
//! Atlas credential, and the bounds on what a download may be.

mod common;

use std::io::Write as _;

use common::{ORG, bearer_client, fast_config, org};
use costform_http::{Client, Credentials, Error, InvoiceReport, Secret};
use costform_model::ids::AtlasId;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INVOICE: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
const REPORT: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";

fn report_path() -> String {
    format!("/api/atlas/v2/orgs/{ORG}/invoices/{INVOICE}/reports/{REPORT}")
}

/// A server whose report has succeeded with its file at `/file`, serving
/// `file` there.
async fn succeeded_with(file: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    let view = serde_json::json!({
        "reportId": REPORT, "invoiceId": INVOICE, "reportType": "FOCUS",
        "reportFormat": "CSV", "state": "SUCCEEDED",
        "downloadUrl": format!("{}/file?signature=s3cr3t", server.uri()),
        "expiresAt": "2999-01-01T00:00:00Z",
    });
    Mock::given(method("GET"))
        .and(path(report_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(view))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/file"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(file))
        .mount(&server)
        .await;
    server
}

async fn read(client: &Client) -> Result<InvoiceReport, Error> {
    let invoice = AtlasId::parse(INVOICE).unwrap();
    let report = AtlasId::parse(REPORT).unwrap();
    client.read_invoice_report(&org(), &invoice, &report).await
}

fn small_client(base_url: &str, max_bytes: u64) -> Client {
    let mut config = fast_config(
        base_url,
        Credentials::AccessToken(Secret::new("bearer-secret-value")),
    );
    config.max_result_bytes = max_bytes;
    Client::new(config).unwrap()
}

#[tokio::test]
async fn the_file_is_downloaded_without_the_atlas_credential_and_gunzipped() {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(b"BilledCost\n1.00\n").unwrap();
    let server = succeeded_with(gzip.finish().unwrap()).await;
    let outcome = read(&bearer_client(&server.uri())).await.unwrap();
    let InvoiceReport::Ready(mut body) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(body.head(usize::MAX).unwrap(), b"BilledCost\n1.00\n");
    let requests = server.received_requests().await.unwrap();
    let authorization = |wanted: &str| {
        requests
            .iter()
            .find(|request| request.url.path() == wanted)
            .map(|request| request.headers.get("authorization").is_some())
    };
    assert_eq!(
        authorization(&report_path()),
        Some(true),
        "Atlas gets the bearer"
    );
    assert_eq!(
        authorization("/file"),
        Some(false),
        "the download host gets nothing"
    );
}

#[tokio::test]
async fn a_file_over_the_bound_is_refused_compressed_or_not() {
    let server = succeeded_with(vec![b'x'; 4096]).await;
    let error = read(&small_client(&server.uri(), 1024)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("larger than the 1024 bytes allowed"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("s3cr3t"),
        "no signature in errors: {error}"
    );

    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![0; 1 << 20]).unwrap();
    let server = succeeded_with(bomb.finish().unwrap()).await;
    let error = read(&small_client(&server.uri(), 64 * 1024))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("once decompressed"), "{error}");
}

#[tokio::test]
async fn a_plain_http_url_off_loopback_is_not_downloaded() {
    let server = MockServer::start().await;
    let view = serde_json::json!({
        "reportId": REPORT, "invoiceId": INVOICE, "reportType": "FOCUS",
        "reportFormat": "CSV", "state": "SUCCEEDED",
        "downloadUrl": "http://files.example.com/report.csv.gz?signature=s3cr3t",
    });
    Mock::given(method("GET"))
        .and(path(report_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(view))
        .mount(&server)
        .await;
    let error = read(&bearer_client(&server.uri())).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("only `https://` URLs are downloaded"),
        "{text}"
    );
    assert!(
        text.contains("http://files.example.com/report.csv.gz`"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[tokio::test]
async fn the_invoice_of_a_month_is_looked_up_from_its_first_to_the_next_first() {
    let server = MockServer::start().await;
    let invoices = serde_json::json!({"results": [
        {"id": "cccccccccccccccccccccccc", "startDate": "2026-09-01T00:00:00Z"},
        {"id": INVOICE, "startDate": "2026-10-01T00:00:00Z"},
    ]});
    Mock::given(method("GET"))
        .and(path(format!("/api/atlas/v2/orgs/{ORG}/invoices")))
        .and(query_param("fromDate", "2026-10-01"))
        .and(query_param("toDate", "2026-11-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(invoices))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());
    let found = client
        .find_invoice(&org(), "2026-10-01".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(found.as_str(), INVOICE);
    let missing = client
        .find_invoice(&org(), "2026-12-01".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(missing, Error::Api(_)),
        "no mock for December: {missing}"
    );
}
