//! `costform render`: the exact request bodies that would be sent, as JSON.

use costform_model::diagnostic::did_you_mean;
use costform_model::ids::ReportName;
use serde_json::{Map, Value, json};

use crate::args::RenderArgs;
use crate::context::{Context, Strictness};
use crate::exit::Exit;
use crate::lookups;

/// Prints `{NAME: {org_id, kind, request}}` for the named reports, or all.
pub fn run(context: &Context, args: &RenderArgs) -> miette::Result<Exit> {
    let definitions = lookups::load_offline(context, Strictness::Lenient)?;
    lookups::note_waiting(context, &definitions, &args.names);
    let unknown: Vec<&ReportName> = args
        .names
        .iter()
        .filter(|name| !definitions.reports.contains_key(*name))
        .collect();
    if !unknown.is_empty() {
        let defined = definitions.reports.keys().map(ReportName::as_str);
        let suggestions: Vec<String> = unknown
            .iter()
            .filter_map(|name| did_you_mean(name.as_str(), defined.clone()))
            .collect();
        let help = if suggestions.is_empty() {
            "`costform validate --list` lists the defined reports".to_owned()
        } else {
            format!(
                "{} (`costform validate --list` lists the defined reports)",
                suggestions.join("; ")
            )
        };
        return Err(miette::miette!(
            help = help,
            "no report named {} in `{}`",
            unknown
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
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
    context.ui.printer().stdout().line(text);
    Ok(Exit::Success)
}
