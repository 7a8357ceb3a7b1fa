//! `costs --format json`: the tables and changes as data, versioned, with
//! amounts as decimal strings so no reader turns them into floats.

use costform_planner::costs::{Comparison, CostTable};
use serde::Serialize;

use super::CostsView;

/// Bumped when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    tables: &'a [CostTable],
    comparisons: &'a [Comparison],
    not_included: Vec<NotIncluded<'a>>,
}

#[derive(Serialize)]
struct NotIncluded<'a> {
    report: &'a str,
    reason: &'a str,
}

/// The view as pretty JSON.
pub fn render(view: &CostsView) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        tables: &view.tables,
        comparisons: &view.comparisons,
        not_included: view
            .not_included
            .iter()
            .map(|left_out| NotIncluded {
                report: &left_out.report,
                reason: &left_out.reason,
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}
