//! The shipped examples are what a new user runs first: they must validate
//! cleanly and render the bodies their comments promise.

use std::path::PathBuf;

use costform_model::{LoadOptions, load, parse_now};
use serde_json::json;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn body(definitions: &costform_model::Definitions, name: &str) -> serde_json::Value {
    let report = definitions
        .reports
        .iter()
        .find(|(key, _)| key.as_str() == name)
        .map(|(_, report)| report);
    serde_json::Value::Object(
        report
            .unwrap_or_else(|| panic!("no report {name}"))
            .planned
            .request
            .clone(),
    )
}

#[test]
fn examples_validate_without_errors_or_warnings() {
    let options = LoadOptions::new(examples_dir(), parse_now("2026-11-26T03:00:00Z").unwrap());
    let definitions = load(&options).unwrap_or_else(|diagnostics| panic!("{diagnostics:#?}"));
    assert!(
        definitions.warnings.is_empty(),
        "{:#?}",
        definitions.warnings
    );
    let names: Vec<&str> = definitions
        .reports
        .keys()
        .map(costform_model::ids::ReportName::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "fy2026-by-service",
            "last-month-by-service",
            "last-month-focus",
            "last-year-by-org",
            "payments-clusters",
            "payments-clusters-this-month",
            "shared-platform-partial",
            "trailing-quarter-by-project",
            "trailing-quarter-data-platform",
            "year-to-date-by-org",
        ]
    );
    assert_eq!(
        body(&definitions, "last-month-by-service"),
        json!({"startDate": "2026-10-01", "endDate": "2026-11-01", "groupBy": "services",
               "services": ["Clusters", "Storage", "Backup", "Data Transfer"]})
    );
    assert_eq!(
        body(&definitions, "last-month-focus"),
        json!({"invoiceMonth": "2026-10-01", "reportType": "FOCUS", "reportFormat": "CSV"})
    );
    assert_eq!(
        body(&definitions, "trailing-quarter-by-project"),
        json!({"startDate": "2026-08-01", "endDate": "2026-11-01", "groupBy": "projects",
               "projects": ["65a1b2c3d4e5f6a7b8c9d0e1", "65a1b2c3d4e5f6a7b8c9d0e2", "65a1b2c3d4e5f6a7b8c9d0e3"]})
    );
    assert_eq!(
        body(&definitions, "payments-clusters"),
        json!({"startDate": "2026-08-01", "endDate": "2026-11-01", "groupBy": "clusters",
               "clusters": ["66b0c1d2e3f4a5b6c7d8e9f0", "66b0c1d2e3f4a5b6c7d8e9f1"]})
    );
    assert_eq!(
        body(&definitions, "shared-platform-partial"),
        json!({"startDate": "2026-07-01", "endDate": "2026-10-01", "groupBy": "projects",
               "includePartialMatches": true,
               "projects": ["65a1b2c3d4e5f6a7b8c9d0e4", "65a1b2c3d4e5f6a7b8c9d0e5"]})
    );
    let year_to_date = &definitions
        .reports
        .iter()
        .find(|(key, _)| key.as_str() == "year-to-date-by-org")
        .unwrap()
        .1;
    assert_eq!(year_to_date.planned.request["startDate"], "2026-01-01");
    assert_eq!(year_to_date.planned.request["endDate"], "2026-12-01");
    assert!(year_to_date.planned.covers_open_month);
    assert_eq!(
        year_to_date.planned.refresh,
        costform_model::request::Refresh::UntilClosed
    );
    assert_eq!(year_to_date.line, 5);
    assert!(year_to_date.file.ends_with("year-to-date-orgs.yaml"));
}

#[test]
fn body_keys_come_in_the_documented_order() {
    let options = LoadOptions::new(examples_dir(), parse_now("2026-11-26").unwrap());
    let definitions = load(&options).unwrap();
    let body = body(&definitions, "shared-platform-partial");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "startDate",
            "endDate",
            "groupBy",
            "includePartialMatches",
            "projects"
        ]
    );
}

#[test]
fn var_override_widens_the_cluster_window() {
    let mut options = LoadOptions::new(examples_dir(), parse_now("2026-11-26").unwrap());
    options.vars.push(("months".to_owned(), "6".to_owned()));
    let definitions = load(&options).unwrap();
    assert_eq!(
        body(&definitions, "payments-clusters")["startDate"],
        "2026-05-01"
    );
}
