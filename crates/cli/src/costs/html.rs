//! `costs --format html`: one self-contained page. Styles and charts are
//! inline (SVG), and nothing is loaded from anywhere when it is opened: no
//! scripts, fonts, images or styles from another address.

use std::fmt::Write as _;

use costform_planner::costs::{Comparison, CostTable};

use super::chart::{self, Bars};
use super::{CostsView, change_cells, change_header, comparison_title, table_cells, table_title};

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #d0d7de; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.amounts tr:last-child td { font-weight: 600; }
h3 { font-size: 1rem; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; }
.legend span { display: inline-block; width: 0.9rem; height: 0.9rem; margin-right: 0.35rem; vertical-align: -0.1rem; }
.chart svg { max-width: 100%; height: auto; }
.note { color: #57606a; }
";

/// The page. `generated` says when and from what, in the page's header.
pub fn render(view: &CostsView, generated: &str) -> Result<String, String> {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>costform costs</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>costform costs</h1>\n<p class=\"note\">{}</p>\n",
        escape(generated)
    );
    for table in &view.tables {
        section(
            &mut out,
            table,
            view.comparisons.iter().find(|comparison| {
                comparison.report == table.report && comparison.currency == table.currency
            }),
        )?;
    }
    if !view.not_included.is_empty() {
        out.push_str("<h2>Not included</h2>\n<ul>\n");
        for left_out in &view.not_included {
            let _ = writeln!(
                out,
                "<li><code>report.{}</code>: {}</li>",
                escape(&left_out.report),
                escape(&left_out.reason)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn section(
    out: &mut String,
    table: &CostTable,
    comparison: Option<&Comparison>,
) -> Result<(), String> {
    let _ = writeln!(out, "<section>\n<h2>{}</h2>", escape(&table_title(table)));
    let bars = Bars::from_table(table);
    let _ = writeln!(
        out,
        "<div class=\"chart\" role=\"img\" aria-label=\"spend per period by group\">\n{}\n</div>",
        chart::svg(&bars)?
    );
    out.push_str("<ul class=\"legend\">\n");
    for (index, (group, _)) in bars.series.iter().enumerate() {
        let _ = writeln!(
            out,
            "<li><span style=\"background:{}\"></span>{}</li>",
            chart::css_color(index),
            escape(group)
        );
    }
    out.push_str("</ul>\n");
    if let Some(comparison) = comparison {
        let _ = writeln!(out, "<h3>{}</h3>", escape(&comparison_title(comparison)));
        if !comparison.changes.is_empty() {
            html_table(
                out,
                "changes",
                &change_header(comparison),
                &change_cells(comparison),
            );
        }
    }
    let (header, rows) = table_cells(table);
    html_table(out, "amounts", &header, &rows);
    out.push_str("</section>\n");
    Ok(())
}

fn html_table(out: &mut String, class: &str, header: &[String], rows: &[Vec<String>]) {
    let _ = write!(out, "<table class=\"{class}\">\n<thead><tr>");
    for title in header {
        let _ = write!(out, "<th>{}</th>", escape(title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Text from results and definitions, made inert.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use costform_planner::costs::{Axis, Baseline, compare, tables};

    use super::*;
    use crate::costs::test_row;

    #[test]
    fn the_page_is_self_contained_and_names_are_inert() {
        let rows = vec![
            test_row("r", "2026-09", "<img src=x onerror=alert(1)>", "10"),
            test_row("r", "2026-10", "api", "1234.5"),
        ];
        let view = CostsView {
            tables: tables(&rows, Axis::Month),
            comparisons: compare(
                &rows,
                Baseline::Previous,
                "2026-11-26".parse().expect("a date"),
            ),
            not_included: vec![costform_planner::costs::NotIncluded {
                report: "later".to_owned(),
                reason: "no ready result yet".to_owned(),
            }],
        };
        let page = render(&view, "now 2026-11-26").expect("a page");
        assert!(!page.contains("<img"), "group names are escaped");
        assert!(page.contains("1,234.50"));
        for reference in [
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
            "<script",
            "<link",
        ] {
            assert!(!page.contains(reference), "the page loads {reference}");
        }
        assert_eq!(page.matches("<svg").count(), 1);
    }
}
