//! The request bodies costform sends conform to Atlas's own OpenAPI schemas
//! (the vendored spec excerpt): `CostExplorerFilterRequestBody` for Cost
//! Explorer queries, `InvoiceReportRequest` for FOCUS reports.

mod common;

use std::path::Path;

use common::{USAGE_PATH, bearer_client, created, org};
use costform_model::kinds;
use costform_model::request::RequestBody;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The vendored OpenAPI excerpt, as JSON.
fn spec() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/atlas/billing.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    validator_for("CostExplorerFilterRequestBody")
}

fn validator_for(name: &str) -> jsonschema::Validator {
    let spec = spec();
    let schema = &spec["components"]["schemas"][name];
    assert!(schema.is_object(), "the spec has no {name}");
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

fn body(json: &serde_json::Value) -> RequestBody {
    json.as_object().unwrap().clone()
}

/// Bodies as the cost_explorer report kind renders them; extend with new
/// shapes as the model grows.
fn sent_bodies() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"startDate": "2026-10-01", "endDate": "2026-11-01"}),
        serde_json::json!({
            "startDate": "2026-10-01", "endDate": "2026-11-01", "groupBy": "services",
            "services": ["Clusters", "Storage", "Data Transfer", "AI Model APIs"]
        }),
        serde_json::json!({
            "startDate": "2026-01-01", "endDate": "2026-04-01", "groupBy": "projects",
            "projects": ["65a1b2c3d4e5f6a7b8c9d0e1"], "includePartialMatches": false
        }),
        serde_json::json!({
            "startDate": "2025-01-01", "endDate": "2026-01-01", "groupBy": "organizations",
            "organizations": ["5f0c8a1b2c3d4e5f6a7b8c9d"],
            "clusters": ["32b6e34b3d91647abb20e7b8"], "includePartialMatches": true
        }),
    ]
}

#[test]
fn every_body_costform_sends_validates_against_the_spec() {
    let validator = validator();
    for sent in sent_bodies() {
        let errors: Vec<String> = validator
            .iter_errors(&sent)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{sent}: {errors:?}");
    }
}

#[test]
fn the_schema_check_is_strict_enough_to_catch_mistakes() {
    let validator = validator();
    for wrong in [
        serde_json::json!({"startDate": "2026-10-01"}),
        serde_json::json!({"startDate": "2026-13-01", "endDate": "2026-11-01"}),
        serde_json::json!({"startDate": "01/10/2026", "endDate": "2026-11-01"}),
        serde_json::json!({"startDate": "2026-10-01", "endDate": "2026-11-01", "groupBy": "service"}),
        serde_json::json!({"startDate": "2026-10-01", "endDate": "2026-11-01", "projects": ["65A1B2"]}),
        serde_json::json!({"startDate": "2026-10-01", "endDate": "2026-11-01", "includePartialMatches": "no"}),
    ] {
        assert!(!validator.is_valid(&wrong), "accepted {wrong}");
    }
}

#[tokio::test]
async fn the_body_on_the_wire_is_the_body_given() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(created()))
        .mount(&server)
        .await;
    let client = bearer_client(&server.uri());
    let validator = validator();

    for sent in sent_bodies() {
        client
            .create_cost_explorer_query(&org(), &body(&sent))
            .await
            .unwrap();
    }

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), sent_bodies().len());
    for (request, sent) in received.iter().zip(sent_bodies()) {
        assert_eq!(request.url.path(), USAGE_PATH);
        let on_wire: serde_json::Value = request.body_json().unwrap();
        assert_eq!(on_wire, sent);
        assert!(validator.is_valid(&on_wire), "{on_wire}");
    }
}

/// The bodies the model renders for the bundled examples, at a mid-year and a
/// year-crossing "now", are exactly what the client sends: each must satisfy
/// Atlas's schema.
#[test]
fn every_example_body_validates_against_the_spec() {
    let spec = spec();
    let cost_explorer = validator();
    let focus_report = validator_for("InvoiceReportRequest");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = 0;
    for now in ["2026-11-26", "2027-01-03"] {
        let now = costform_model::parse_now(now).unwrap();
        let definitions = costform_model::load(&costform_model::LoadOptions::new(&examples, now))
            .unwrap_or_else(|diagnostics| panic!("the examples validate: {diagnostics:?}"));
        for (name, report) in &definitions.reports {
            let (validator, schema, sent) = match report.planned.kind.as_str() {
                kinds::cost_explorer::NAME => (
                    &cost_explorer,
                    "CostExplorerFilterRequestBody",
                    report.planned.request.clone(),
                ),
                kinds::focus_report::NAME => (
                    &focus_report,
                    "InvoiceReportRequest",
                    kinds::focus_report::report_request(&report.planned),
                ),
                other => panic!("{name}: no spec schema for kind `{other}`"),
            };
            let properties = &spec["components"]["schemas"][schema]["properties"];
            for key in sent.keys() {
                assert!(
                    properties.get(key).is_some(),
                    "{name}: `{key}` is not a property of {schema}"
                );
            }
            let sent = serde_json::Value::Object(sent);
            let errors: Vec<String> = validator
                .iter_errors(&sent)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name} at {now}: {sent}: {errors:?}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} example bodies were checked");
}

/// The model and the emulator each keep their own copy of the spec's
/// `services` enum (the emulator depends on nothing of ours, so the two keep
/// each other honest); both must equal the spec's list.
#[test]
fn both_service_lists_are_the_specs_enum() {
    let spec = spec();
    let enumerated: Vec<&str> = spec["components"]["schemas"]["CostExplorerFilterRequestBody"]
        ["properties"]["services"]["items"]["enum"]
        .as_array()
        .expect("the spec enumerates services")
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(kinds::cost_explorer::SERVICES, enumerated.as_slice());
    assert_eq!(
        costform_emulator::SERVICES.as_slice(),
        enumerated.as_slice()
    );
}
