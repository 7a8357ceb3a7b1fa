//! `costs --format json`: the tables and changes as data
//! (`schemas/costs.schema.json`), with amounts as decimal strings so no
//! reader turns them into floats.

use costform_planner::costs::{COSTS_FORMAT_VERSION, CostsDocument};

use super::CostsView;

/// The view as pretty JSON.
pub fn render(view: &CostsView) -> String {
    let document = CostsDocument {
        format_version: COSTS_FORMAT_VERSION,
        tables: &view.tables,
        comparisons: &view.comparisons,
        not_included: &view.not_included,
    };
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}
