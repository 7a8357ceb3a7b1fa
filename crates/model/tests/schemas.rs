//! The committed `schemas/*.json` are generated from the types; this test
//! fails when they drift. Regenerate with
//! `COSTFORM_UPDATE_SCHEMAS=1 cargo test -p costform-model --test schemas`.

use std::path::PathBuf;

use costform_model::{definitions_schema, plan_schema, state_schema};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn pretty(schema: &serde_json::Value) -> String {
    serde_json::to_string_pretty(schema).unwrap() + "\n"
}

#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var_os("COSTFORM_UPDATE_SCHEMAS").is_some();
    for (name, schema) in [
        ("costform.schema.json", definitions_schema()),
        ("state.schema.json", state_schema()),
        ("plan.schema.json", plan_schema()),
    ] {
        let path = schemas_dir().join(name);
        let generated = pretty(&schema);
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "`schemas/{name}` is out of date; regenerate it with \
             `COSTFORM_UPDATE_SCHEMAS=1 cargo test -p costform-model --test schemas`"
        );
    }
}

fn yaml_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_definitions_schema_accepts_every_example_and_refuses_typos() {
    let validator = jsonschema::validator_for(&definitions_schema()).unwrap();
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let files = yaml_files(&examples);
    assert!(files.len() >= 5);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let document: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    let typo: serde_json::Value = serde_json::json!({"reports": {"r": {"group_bu": "services"}}});
    assert!(!validator.is_valid(&typo));
    let bad_group: serde_json::Value =
        serde_json::json!({"reports": {"r": {"group_by": "project"}}});
    assert!(!validator.is_valid(&bad_group));
    let templated: serde_json::Value =
        serde_json::json!({"reports": {"r": {"group_by": "{{ var.dim }}"}}});
    assert!(validator.is_valid(&templated));
    assert!(!validator.is_valid(&serde_json::json!({"reports": {}})));
}
