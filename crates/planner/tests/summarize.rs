//! Result totals for the fetch summary.

use costform_model::state::ResultFormat;
use costform_planner::summarize;

#[test]
fn json_usage_is_summed_per_group_with_the_id_when_the_name_is_missing() {
    let body = br#"{"usageDetails":[
        {"organizationId":"aa","organizationName":"Acme","usageAmount":10.5},
        {"organizationId":"aa","organizationName":"Acme","usageAmount":1.5},
        {"organizationId":"bb","usageAmount":"2"}
    ]}"#;
    let summary = summarize(body, ResultFormat::Json, Some("organizations"));
    assert_eq!(summary.rows, 3);
    assert!((summary.total_usage - 14.0).abs() < 1e-9);
    assert_eq!(
        summary.by_group.into_iter().collect::<Vec<_>>(),
        [("Acme".to_owned(), 12.0), ("bb".to_owned(), 2.0)]
    );
}

#[test]
fn csv_usage_is_read_by_header_with_quoted_fields() {
    let body = b"Billed Date,Project Name,Project Id,Usage Amount\n\
        2026-10-01,\"Web, prod\",p1,\"$1,000.25\"\n\
        2026-10-01,,p2,3\n\
        2026-10-02,\"Web, prod\",p1,4.75\n";
    let summary = summarize(body, ResultFormat::Csv, Some("projects"));
    assert_eq!(summary.rows, 3);
    assert!((summary.total_usage - 1008.0).abs() < 1e-9);
    assert_eq!(summary.by_group.get("Web, prod"), Some(&1005.0));
    assert_eq!(summary.by_group.get("p2"), Some(&3.0));
}

#[test]
fn without_group_by_only_totals_are_kept_and_bad_bodies_sum_to_nothing() {
    let body = br#"{"usageDetails":[{"service":"Clusters","usageAmount":5}]}"#;
    let summary = summarize(body, ResultFormat::Json, None);
    assert_eq!((summary.rows, summary.by_group.len()), (1, 0));
    assert_eq!(
        summarize(b"<html>", ResultFormat::Json, Some("services")).rows,
        0
    );
    assert_eq!(summarize(b"", ResultFormat::Csv, None).rows, 0);
}
