//! Result totals for the fetch summary: exact, grouped by the request's
//! dimension, read by the report's kind.

use costform_model::cost_rows::{Decimal, ResultOrigin};
use costform_model::ids::OrgId;
use costform_model::request::PlannedRequest;
use costform_model::state::ResultFormat;
use costform_planner::summarize;

const ORIGIN: ResultOrigin<'static> = ResultOrigin {
    report: "r",
    org_id: "5f0c8a1b2c3d4e5f6a7b8c9d",
    file: "results/r.json",
};

fn request(group_by: Option<&str>) -> PlannedRequest {
    let mut body = serde_json::Map::new();
    body.insert("startDate".into(), "2026-10-01".into());
    body.insert("endDate".into(), "2026-11-01".into());
    if let Some(group_by) = group_by {
        body.insert("groupBy".into(), group_by.into());
    }
    PlannedRequest::new("cost_explorer", OrgId::parse(ORIGIN.org_id).unwrap(), body)
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn json_usage_is_summed_per_group_with_the_id_when_the_name_is_missing() {
    let body = br#"{"usageDetails":[
        {"organizationId":"aa","organizationName":"Acme","usageAmount":10.5,"usageDate":"2026-10-01"},
        {"organizationId":"aa","organizationName":"Acme","usageAmount":1.5,"usageDate":"2026-10-01"},
        {"organizationId":"bb","usageAmount":"2","usageDate":"2026-10-01"}
    ]}"#;
    let summary = summarize(
        &ORIGIN,
        &request(Some("organizations")),
        ResultFormat::Json,
        &mut &body[..],
    )
    .unwrap();
    assert_eq!(summary.rows, 3);
    assert_eq!(summary.total, dec("14.0"));
    assert_eq!(
        summary.by_group.into_iter().collect::<Vec<_>>(),
        [
            ("Acme".to_owned(), dec("12.0")),
            ("bb".to_owned(), dec("2"))
        ]
    );
    assert_eq!(summary.currencies, ["USD"]);
}

#[test]
fn csv_usage_is_read_by_header_with_quoted_fields() {
    let body = b"Billed Date,Project Name,Project Id,Usage Amount\n\
        2026-10-01,\"Web, prod\",p1,\"$1,000.25\"\n\
        2026-10-01,,p2,3\n\
        2026-10-01,\"Web, prod\",p1,4.75\n";
    let summary = summarize(
        &ORIGIN,
        &request(Some("projects")),
        ResultFormat::Csv,
        &mut &body[..],
    )
    .unwrap();
    assert_eq!(summary.rows, 3);
    assert_eq!(summary.total, dec("1008.00"));
    assert_eq!(summary.by_group.get("Web, prod"), Some(&dec("1005.00")));
    assert_eq!(summary.by_group.get("p2"), Some(&dec("3")));
}

#[test]
fn without_group_by_rows_are_grouped_by_service_and_bad_bodies_are_errors() {
    let body =
        br#"{"usageDetails":[{"service":"Clusters","usageAmount":5,"usageDate":"2026-10-01"}]}"#;
    let summary = summarize(&ORIGIN, &request(None), ResultFormat::Json, &mut &body[..]).unwrap();
    assert_eq!(summary.rows, 1);
    assert_eq!(summary.by_group.get("Clusters"), Some(&dec("5")));
    let error = summarize(
        &ORIGIN,
        &request(Some("services")),
        ResultFormat::Json,
        &mut &b"<html>"[..],
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("`results/r.json`: not a Cost Explorer JSON result"),
        "{error}"
    );
    assert!(summarize(&ORIGIN, &request(None), ResultFormat::Csv, &mut &b""[..]).is_err());
}
