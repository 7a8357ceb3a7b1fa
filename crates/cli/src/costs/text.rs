//! `costs --format text`: the tables (or, with `--compare`, the changes) as
//! aligned columns under a one-line heading per report and currency.

use super::{
    CostsView, change_cells, change_header, comparison_title, grid, table_cells, table_title,
};

/// The whole view as terminal text.
pub fn render(view: &CostsView) -> String {
    let mut sections = Vec::new();
    for table in &view.tables {
        let (header, rows) = table_cells(table);
        sections.push(format!(
            "{}\n{}",
            table_title(table),
            grid::layout(&header, &rows)
        ));
    }
    for comparison in &view.comparisons {
        let mut section = comparison_title(comparison);
        section.push('\n');
        if !comparison.changes.is_empty() {
            section.push_str(&grid::layout(
                &change_header(comparison),
                &change_cells(comparison),
            ));
        }
        sections.push(section);
    }
    for left_out in &view.not_included {
        sections.push(format!(
            "report.{}: not included: {}\n",
            left_out.report, left_out.reason
        ));
    }
    if sections.is_empty() {
        return "No cost rows: run `costform fetch` after `costform apply`.\n".to_owned();
    }
    sections.join("\n")
}
