//! `schemas/costs.schema.json` is generated from the types of
//! `costs --format json`; this test fails when it drifts. Regenerate with
//! `COSTFORM_UPDATE_SCHEMAS=1 cargo test -p costform-planner --test costs_schema`.

use std::path::PathBuf;

use costform_model::cost_rows::ResultOrigin;
use costform_model::kinds::cost_explorer_rows::rows_from_json;
use costform_planner::costs::{
    Axis, Baseline, COSTS_FORMAT_VERSION, CostsDocument, NotIncluded, compare, costs_schema, tables,
};

#[test]
fn the_committed_costs_schema_matches_the_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/costs.schema.json");
    let generated = serde_json::to_string_pretty(&costs_schema()).unwrap() + "\n";
    if std::env::var_os("COSTFORM_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "`schemas/costs.schema.json` is out of date; regenerate it with \
         `COSTFORM_UPDATE_SCHEMAS=1 cargo test -p costform-planner --test costs_schema`"
    );
}

#[test]
fn a_costs_document_validates_against_the_schema() {
    let body = serde_json::json!({"usageDetails": [
        {"projectId": "65a1b2c3d4e5f6a7b8c9d0e1", "projectName": "api", "service": "Clusters", "usageAmount": 10.5, "usageDate": "2026-09-01"},
        {"projectId": "65a1b2c3d4e5f6a7b8c9d0e1", "projectName": "api", "service": "Clusters", "usageAmount": 12.25, "usageDate": "2026-10-01"},
    ]});
    let origin = ResultOrigin {
        report: "by-project",
        org_id: "5f0c8a1b2c3d4e5f6a7b8c9d",
        file: "by-project.json",
    };
    let rows = rows_from_json(&origin, Some("projects"), body.to_string().as_bytes()).unwrap();
    let tables = tables(&rows, Axis::Month);
    let comparisons = compare(&rows, Baseline::Previous, "2026-11-26".parse().unwrap());
    let not_included = [NotIncluded {
        report: "later".to_owned(),
        reason: "no result fetched yet".to_owned(),
    }];
    let document = CostsDocument {
        format_version: COSTS_FORMAT_VERSION,
        tables: &tables,
        comparisons: &comparisons,
        not_included: &not_included,
    };
    let value = serde_json::to_value(&document).unwrap();
    let validator = jsonschema::validator_for(&costs_schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(value["comparisons"][0]["changes"][0]["change"], "1.75");
}
