//! JSON Schemas for the files costform reads and writes, generated from the
//! types so they cannot drift from the code (a test compares them with the
//! committed `schemas/*.json`).

use schemars::{JsonSchema, generate::SchemaSettings};

use crate::plan::Plan;
use crate::raw::RawDefinitionFile;
use crate::state::State;

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// The schema of a definition file, for editors (`yaml-language-server`).
pub fn definitions_schema() -> serde_json::Value {
    schema_of::<RawDefinitionFile>()
}

/// The schema of the state file.
pub fn state_schema() -> serde_json::Value {
    schema_of::<State>()
}

/// The schema of a saved plan (`plan --out`, `plan --format json`).
pub fn plan_schema() -> serde_json::Value {
    schema_of::<Plan>()
}
