//! `costform schema`: the JSON Schemas generated from the model.

use crate::args::{SchemaArgs, SchemaKind};
use crate::exit::Exit;
use crate::printer::Printer;

/// Prints the chosen schema, as committed under `schemas/`.
pub fn run(args: &SchemaArgs) -> Exit {
    let schema = match args.kind {
        SchemaKind::Definitions => costform_model::definitions_schema(),
        SchemaKind::State => costform_model::state_schema(),
        SchemaKind::Plan => costform_model::plan_schema(),
        SchemaKind::Costs => costform_planner::costs::costs_schema(),
    };
    Printer::new(false)
        .stdout()
        .line(serde_json::to_string_pretty(&schema).unwrap_or_default());
    Exit::Success
}
