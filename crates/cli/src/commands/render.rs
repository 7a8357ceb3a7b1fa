//! `costform render`: the exact request bodies that would be sent, as JSON.

use costform_model::diagnostic::did_you_mean;
use costform_model::ids::OrgId;
use costform_model::ids::ReportName;
use costform_model::request::RequestBody;
use serde::{Serialize, Serializer};

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
    // Borrowed, not built as a `Value`: 10,000 request bodies are
    // serialized straight from the definitions, with nothing cloned.
    let rendered: Vec<(String, Rendered<'_>)> = definitions
        .reports
        .iter()
        .filter(|(name, _)| args.names.is_empty() || args.names.contains(name))
        .map(|(name, report)| {
            let planned = &report.planned;
            let rendered = Rendered {
                org_id: &planned.org_id,
                kind: &planned.kind,
                request: &planned.request,
            };
            (name.to_string(), rendered)
        })
        .collect();
    let text = serde_json::to_string_pretty(&InOrder(rendered)).unwrap_or_default();
    context.ui.printer().stdout().line(text);
    Ok(Exit::Success)
}

/// One report as `render` prints it.
#[derive(Serialize)]
struct Rendered<'a> {
    org_id: &'a OrgId,
    kind: &'a str,
    request: &'a RequestBody,
}

/// Entries serialized as a JSON object in their order (the reports').
struct InOrder<'a>(Vec<(String, Rendered<'a>)>);

impl Serialize for InOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, report)| (name, report)))
    }
}
