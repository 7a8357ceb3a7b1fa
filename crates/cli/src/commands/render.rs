//! `costform render`: the exact request bodies that would be sent, as JSON.

use serde_json::{Map, Value, json};

use crate::args::RenderArgs;
use crate::context::Context;
use crate::exit::Exit;

/// Prints `{NAME: {org_id, kind, request}}` for the named reports, or all.
pub fn run(context: &Context, args: &RenderArgs) -> miette::Result<Exit> {
    let definitions = context.load_definitions()?;
    let unknown: Vec<String> = args
        .names
        .iter()
        .filter(|name| !definitions.reports.contains_key(*name))
        .map(|name| format!("`{name}`"))
        .collect();
    if !unknown.is_empty() {
        return Err(miette::miette!(
            help = "`costform validate` lists the defined reports",
            "no report named {} in `{}`",
            unknown.join(", "),
            context.dir().display()
        ));
    }
    let mut rendered = Map::new();
    for (name, report) in &definitions.reports {
        if args.names.is_empty() || args.names.contains(name) {
            let planned = &report.planned;
            rendered.insert(
                name.to_string(),
                json!({ "org_id": planned.org_id, "kind": planned.kind, "request": planned.request }),
            );
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(rendered)).unwrap_or_default();
    anstream::println!("{text}");
    Ok(Exit::Success)
}
