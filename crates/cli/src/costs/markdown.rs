//! `costs --format markdown`: sized for a pull-request comment. Changes come
//! first (what reviewers look for), then the tables; the output is cut
//! between tables, with a note, before GitHub's comment limit.

use std::fmt::Write as _;

use super::{CostsView, change_cells, change_header, comparison_title, table_cells, table_title};

/// GitHub refuses comments over 65,536 characters; stay clearly under.
pub const MAX_CHARS: usize = 65_000;

/// Room kept for the note added after a cut.
const CLOSING_ROOM: usize = 300;

/// The view as markdown, never longer than [`MAX_CHARS`].
pub fn render(view: &CostsView) -> String {
    render_limited(view, MAX_CHARS)
}

fn render_limited(view: &CostsView, limit: usize) -> String {
    let mut sections = Vec::new();
    for comparison in &view.comparisons {
        let mut section = format!("**{}**\n\n", escape(&comparison_title(comparison)));
        if !comparison.changes.is_empty() {
            section.push_str(&pipe_table(
                &change_header(comparison),
                &change_cells(comparison),
            ));
        }
        sections.push(section);
    }
    for table in &view.tables {
        let (header, rows) = table_cells(table);
        sections.push(format!(
            "**{}**\n\n{}",
            escape(&table_title(table)),
            pipe_table(&header, &rows)
        ));
    }
    for left_out in &view.not_included {
        sections.push(format!(
            "- `report.{}`: not included: {}\n",
            left_out.report,
            escape(&left_out.reason)
        ));
    }
    let mut out = String::from("### costform costs\n\n");
    let budget = limit.saturating_sub(CLOSING_ROOM);
    let mut shown = 0;
    for section in &sections {
        if out.len() + section.len() + 1 > budget {
            break;
        }
        if shown > 0 {
            out.push('\n');
        }
        out.push_str(section);
        shown += 1;
    }
    if shown < sections.len() {
        let _ = writeln!(
            out,
            "_Cut to fit a comment: {} of {} sections shown. Run `costform costs --format markdown --out FILE` for the whole report._",
            shown,
            sections.len()
        );
    }
    out
}

fn pipe_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", escape_all(header).join(" | "));
    out.push('|');
    for index in 0..header.len() {
        out.push_str(if index == 0 { "---|" } else { "---:|" });
    }
    out.push('\n');
    for row in rows {
        let _ = writeln!(out, "| {} |", escape_all(row).join(" | "));
    }
    out
}

fn escape_all(cells: &[String]) -> Vec<String> {
    cells.iter().map(|text| escape(text)).collect()
}

/// Group names come from Atlas: keep them from breaking the table or
/// injecting markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        if matches!(c, '|' | '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use costform_planner::costs::{Axis, tables};

    use super::*;

    fn view(reports: usize) -> CostsView {
        let rows: Vec<_> = (0..reports)
            .flat_map(|index| {
                (0..40).map(move |group| {
                    crate::costs::test_row(
                        &format!("report-{index:04}"),
                        "2026-10",
                        &format!("project-{group}"),
                        "12.34",
                    )
                })
            })
            .collect();
        CostsView {
            tables: tables(&rows, Axis::Group),
            ..CostsView::default()
        }
    }

    #[test]
    fn a_large_report_is_cut_cleanly_under_the_comment_limit() {
        let out = render(&view(400));
        assert!(out.len() <= MAX_CHARS, "{} characters", out.len());
        assert!(out.contains("_Cut to fit a comment:"), "no note");
        assert!(out.trim_end().ends_with("for the whole report._"));
        let last_table_line = out
            .lines()
            .filter(|line| line.starts_with("| total"))
            .count();
        assert!(last_table_line > 10, "tables are shown whole up to the cut");
    }

    #[test]
    fn a_small_report_is_not_cut_and_names_escape_markup() {
        let mut small = view(1);
        small.tables[0].rows[0].label = "a|b <script>".to_owned();
        let out = render(&small);
        assert!(!out.contains("_Cut"));
        assert!(out.contains("a\\|b \\<script\\>"), "{out}");
    }
}
