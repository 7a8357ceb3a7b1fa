//! The emulator accepts exactly the bodies the OpenAPI excerpt's
//! `CostExplorerFilterRequestBody` accepts, minus those breaking the documented
//! rules the schema cannot express (month starts, `endDate` after `startDate`)
//! and the emulator's documented refusal of unknown fields.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{ORG, client, create_request, start};

const ID: &str = "65a1b2c3d4e5f6a7b8c9d0e1";

fn request_body_schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/atlas/billing.yaml");
    let text = std::fs::read_to_string(&path).expect("the OpenAPI excerpt is readable");
    let spec: Value = serde_saphyr::from_str(&text).expect("the excerpt is YAML");
    spec["components"]["schemas"]["CostExplorerFilterRequestBody"].clone()
}

/// The documented rules outside the schema, judged independently of the
/// emulator: the fields the schema lists (the emulator refuses others), dates
/// on the 1st of a month, and the end after the start.
fn breaks_documented_rules(body: &Value, schema: &Value) -> bool {
    let Some(object) = body.as_object() else {
        return false;
    };
    let known = schema["properties"]
        .as_object()
        .expect("the schema lists its properties");
    let unknown = object.keys().any(|key| !known.contains_key(key));
    let date = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let (start, end) = (date("startDate"), date("endDate"));
    let not_month_start = [start, end].iter().any(|date| !date.ends_with("-01"));
    // Both are schema-valid dates here, so text order is date order.
    unknown || not_month_start || end <= start
}

fn table() -> Vec<Value> {
    let range = |extra: Value| {
        let mut body = json!({"startDate": "2024-01-01", "endDate": "2024-02-01"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    vec![
        range(json!({})),
        range(json!({"groupBy": "services", "services": ["Clusters", "Storage"]})),
        range(json!({"groupBy": "projects", "projects": [ID]})),
        range(json!({"groupBy": "organizations", "organizations": []})),
        range(json!({"clusters": [ID, ORG], "includePartialMatches": true})),
        range(json!({"services": ["Cloud Manager Standard/Premium", "AI Model APIs"]})),
        range(
            json!({"groupBy": "clusters", "organizations": [ORG], "projects": [ID], "clusters": [ID],
            "services": ["Credits"], "includePartialMatches": false}),
        ),
        json!({"startDate": "2023-12-01", "endDate": "2024-03-01"}),
        json!({"endDate": "2024-02-01"}),
        json!({"startDate": "2024-01-01"}),
        json!({}),
        json!({"startDate": "2024-1-01", "endDate": "2024-02-01"}),
        json!({"startDate": "2023-02-29", "endDate": "2024-02-01"}),
        json!({"startDate": "01/01/2024", "endDate": "2024-02-01"}),
        json!({"startDate": "2024-01-01T00:00:00Z", "endDate": "2024-02-01"}),
        json!({"startDate": 20_240_101, "endDate": "2024-02-01"}),
        json!({"startDate": null, "endDate": "2024-02-01"}),
        json!({"startDate": "2024-01-01", "endDate": "2024-02-15"}),
        json!({"startDate": "2024-01-31", "endDate": "2024-03-01"}),
        json!({"startDate": "2024-02-01", "endDate": "2024-02-01"}),
        json!({"startDate": "2024-03-01", "endDate": "2024-02-01"}),
        range(json!({"groupBy": "service"})),
        range(json!({"groupBy": "Services"})),
        range(json!({"includePartialMatches": "true"})),
        range(json!({"includePartialMatches": 1})),
        range(json!({"projects": ["5F0C8A1B2C3D4E5F6A7B8C9D"]})),
        range(json!({"projects": ID})),
        range(json!({"organizations": [123]})),
        range(json!({"clusters": [format!("{ID}0")]})),
        range(json!({"services": ["AI Models"]})),
        range(json!({"services": "Clusters"})),
        range(json!({"group_by": "services"})),
        json!(["2024-01-01", "2024-02-01"]),
    ]
}

#[tokio::test]
async fn emulator_accepts_exactly_what_the_spec_and_documented_rules_accept() {
    let schema = request_body_schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the request body schema compiles");
    let emulator = start().await;
    let client = client();
    let mut accepted = 0;
    for body in table() {
        let expected = validator.is_valid(&body) && !breaks_documented_rules(&body, &schema);
        let response = create_request(&client, &emulator, ORG, &body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        assert_eq!(status == 202, expected, "{body} answered {status}");
        if !expected {
            assert_eq!(status, 400, "{body}");
        }
        accepted += usize::from(expected);
    }
    assert_eq!(accepted, 8, "the table keeps its valid bodies");
}
