//! Invoices and FOCUS invoice reports: the listing's date window, the
//! report's life, the versioned media type, and the download host.

use costform_emulator::{DEMO_ACCESS_TOKEN, JSON_MEDIA_TYPE, REPORTS_MEDIA_TYPE};
use serde_json::{Value, json};

use crate::support::{self, ORG, OTHER_ORG, client, json};

fn invoices_url(emulator: &costform_emulator::Emulator, query: &str) -> String {
    format!(
        "{}/api/atlas/v2/orgs/{ORG}/invoices{query}",
        emulator.base_url()
    )
}

async fn list(emulator: &costform_emulator::Emulator, query: &str) -> Value {
    let response = client()
        .get(invoices_url(emulator, query))
        .bearer_auth(DEMO_ACCESS_TOKEN)
        .header("Accept", JSON_MEDIA_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await
}

#[tokio::test]
async fn the_listing_filters_on_start_and_end_dates_as_the_spec_says() {
    let emulator = support::start().await;
    let october = list(&emulator, "?fromDate=2026-10-01&toDate=2026-11-01").await;
    let results = october["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{october}");
    assert_eq!(results[0]["startDate"], "2026-10-01T00:00:00Z");
    assert_eq!(results[0]["endDate"], "2026-11-01T00:00:00Z");
    // An invoice ends on the next month's first instant: a window ending on
    // the month's last day holds none.
    let last_day = list(&emulator, "?fromDate=2026-10-01&toDate=2026-10-31").await;
    assert_eq!(last_day["results"], json!([]));
    let before = list(&emulator, "?fromDate=2019-06-01&toDate=2019-07-01").await;
    assert_eq!(before["results"], json!([]), "no invoice before 2020");
}

#[tokio::test]
async fn a_report_goes_pending_running_succeeded_and_downloads_from_the_other_host() {
    let emulator = support::start_with(costform_emulator::Config {
        processing_polls: 2,
        ..costform_emulator::Config::demo()
    })
    .await;
    let october = list(&emulator, "?fromDate=2026-10-01&toDate=2026-11-01").await;
    let invoice = october["results"][0]["id"].as_str().unwrap().to_owned();
    let reports = format!("{}/{invoice}/reports", invoices_url(&emulator, ""));
    let post = |accept: &'static str| {
        client()
            .post(&reports)
            .bearer_auth(DEMO_ACCESS_TOKEN)
            .header("Accept", accept)
            .header("Content-Type", accept)
            .body(json!({"reportType": "FOCUS", "reportFormat": "CSV"}).to_string())
    };
    assert_eq!(post(JSON_MEDIA_TYPE).send().await.unwrap().status(), 406);
    let created = post(REPORTS_MEDIA_TYPE).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    assert_eq!(created["state"], "PENDING");
    let report = created["reportId"].as_str().unwrap().to_owned();

    let read = || async {
        let response = client()
            .get(format!("{reports}/{report}"))
            .bearer_auth(DEMO_ACCESS_TOKEN)
            .header("Accept", REPORTS_MEDIA_TYPE)
            .send()
            .await
            .unwrap();
        json(response).await
    };
    let states: Vec<Value> = vec![read().await["state"].clone(), read().await["state"].clone()];
    assert_eq!(states, [json!("PENDING"), json!("RUNNING")]);
    let ready = read().await;
    assert_eq!(ready["state"], "SUCCEEDED");
    let url = ready["downloadUrl"].as_str().unwrap();
    assert!(url.starts_with(&emulator.download_base_url()), "{url}");
    assert_ne!(emulator.download_base_url(), emulator.base_url());
    let file = client().get(url).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(&file.bytes().await.unwrap()[..2], [0x1f, 0x8b], "gzip");
    assert_eq!(emulator.download_log()[0].authorization, None);

    // Another organization does not see the report.
    let foreign = client()
        .get(format!(
            "{}/api/atlas/v2/orgs/{OTHER_ORG}/invoices/{invoice}/reports/{report}",
            emulator.base_url()
        ))
        .bearer_auth(DEMO_ACCESS_TOKEN)
        .header("Accept", REPORTS_MEDIA_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);
}

#[tokio::test]
async fn a_report_request_outside_the_spec_is_refused_with_every_field() {
    let emulator = support::start().await;
    let october = list(&emulator, "?fromDate=2026-10-01&toDate=2026-11-01").await;
    let invoice = october["results"][0]["id"].as_str().unwrap().to_owned();
    let response = client()
        .post(format!("{}/{invoice}/reports", invoices_url(&emulator, "")))
        .bearer_auth(DEMO_ACCESS_TOKEN)
        .header("Accept", REPORTS_MEDIA_TYPE)
        .header("Content-Type", REPORTS_MEDIA_TYPE)
        .body(json!({"reportType": "PDF", "invoiceMonth": "2026-10-01"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let detail = json(response).await["detail"].as_str().unwrap().to_owned();
    for field in ["reportType", "reportFormat", "invoiceMonth"] {
        assert!(detail.contains(field), "{detail}");
    }
}
