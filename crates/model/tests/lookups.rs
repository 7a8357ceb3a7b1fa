//! Loading with lookups: which value a report is rendered with, and when it
//! waits instead.

use std::collections::BTreeMap;

use costform_model::ids::{OrgId, ReportName};
use costform_model::lookup::{LookupCache, Project};
use costform_model::{LoadOptions, load, parse_now};

const FILE: &str = r#"
lookups:
  prod:
    kind: projects
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    name_matches: "^prod-"
reports:
  per-project:
    for_each: "{{ lookup.prod }}"
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    period: last_month
    group_by: projects
    projects: ["{{ each.value.id }}"]
  all-prod:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    period: last_month
    group_by: projects
    projects: "{{ lookup.prod }}"
  plain:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    period: last_month
"#;

fn cache(org: &str, name_matches: Option<&str>) -> LookupCache {
    LookupCache {
        org_id: OrgId::parse(org).unwrap(),
        name_matches: name_matches.map(str::to_owned),
        read_at: parse_now("2026-11-25").unwrap(),
        projects: vec![
            Project {
                id: "65a1b2c3d4e5f6a7b8c9d0e1".into(),
                name: "prod-api".into(),
            },
            Project {
                id: "65a1b2c3d4e5f6a7b8c9d0e2".into(),
                name: "prod-web".into(),
            },
        ],
    }
}

fn load_with(lookups: BTreeMap<String, LookupCache>) -> costform_model::Definitions {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reports.yaml"), FILE).unwrap();
    let mut options = LoadOptions::new(dir.path(), parse_now("2026-11-26").unwrap());
    options.lookups = lookups;
    load(&options).unwrap()
}

fn names(definitions: &costform_model::Definitions) -> Vec<&str> {
    definitions.reports.keys().map(ReportName::as_str).collect()
}

#[test]
fn a_lookup_never_read_keeps_its_reports_waiting_and_the_others_planned() {
    let definitions = load_with(BTreeMap::new());
    assert_eq!(names(&definitions), ["plain"]);
    let waiting: Vec<(&str, &[String])> = definitions
        .waiting
        .iter()
        .map(|(name, lookups)| (name.as_str(), lookups.as_slice()))
        .collect();
    assert_eq!(
        waiting,
        [
            ("all-prod", ["prod".to_owned()].as_slice()),
            ("per-project", ["prod".to_owned()].as_slice())
        ]
    );
}

#[test]
fn a_cached_lookup_expands_for_each_by_name_and_fills_list_keys_with_ids() {
    let definitions = load_with(BTreeMap::from([(
        "prod".to_owned(),
        cache("5f0c8a1b2c3d4e5f6a7b8c9d", Some("^prod-")),
    )]));
    assert!(definitions.waiting.is_empty());
    assert_eq!(
        names(&definitions),
        [
            "all-prod",
            "per-project[\"prod-api\"]",
            "per-project[\"prod-web\"]",
            "plain"
        ]
    );
    let request = |name: &str| {
        &definitions.reports[&ReportName::parse(name).unwrap()]
            .planned
            .request["projects"]
    };
    assert_eq!(
        request("all-prod"),
        &serde_json::json!(["65a1b2c3d4e5f6a7b8c9d0e1", "65a1b2c3d4e5f6a7b8c9d0e2"])
    );
    assert_eq!(
        request("per-project[\"prod-web\"]"),
        &serde_json::json!(["65a1b2c3d4e5f6a7b8c9d0e2"])
    );
    let used = definitions.lookups["prod"].value.as_ref().unwrap();
    assert_eq!(used.read_at, parse_now("2026-11-25").unwrap());
}

#[test]
fn a_cache_read_for_another_org_or_filter_counts_as_never_read() {
    for stale in [
        cache("6a1b2c3d4e5f6a7b8c9d0e1f", Some("^prod-")),
        cache("5f0c8a1b2c3d4e5f6a7b8c9d", None),
    ] {
        let definitions = load_with(BTreeMap::from([("prod".to_owned(), stale)]));
        assert_eq!(names(&definitions), ["plain"]);
        assert_eq!(definitions.waiting.len(), 2);
    }
}
