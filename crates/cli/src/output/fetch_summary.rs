//! The end-of-fetch summary: per report its status, rows and total usage, and
//! the totals by group for its `groupBy` dimension. Amounts are the exact
//! sums of the result's cost rows, shown to the cent (and kept whole, as
//! decimal strings, in JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use costform_model::cost_rows::Decimal;
use serde::Serialize;

use crate::costs::money;
use crate::ui::Ui;

/// One report's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The report name.
    pub name: String,
    /// `ready`, `processing`, `expired` or `failed`.
    pub status: &'static str,
    /// The results file, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Usage rows, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The sum of the result's amounts, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_usage: Option<Decimal>,
    /// The `groupBy` dimension of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Totals per group key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_group: BTreeMap<String, Decimal>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// This run's copy of the result in the history, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// What the summary says of the run as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The run's id: the id of the lock it held, recorded with each result
    /// it wrote (`costform show`).
    pub run: String,
}

fn counts(rows: &[SummaryRow]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.status).or_insert(0) += 1;
    }
    counts
}

fn counts_sentence(rows: &[SummaryRow], run: &RunInfo) -> String {
    let parts: Vec<String> = counts(rows)
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    if parts.is_empty() {
        "Nothing to fetch: every report in the state expired or failed; `costform apply` queries them again.".to_owned()
    } else {
        format!("{} (run {}).", parts.join(", "), run.run)
    }
}

/// A plain-text table for terminals and CI logs.
pub fn text(rows: &[SummaryRow], run: &RunInfo, ui: Ui) -> String {
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "\n{}\n",
        ui.bold(&format!(
            "{:width$}  {:<10}  {:>6}  {:>14}",
            "report", "status", "rows", "total usage"
        ))
    );
    for row in rows {
        let status = match row.status {
            "ready" => ui.success(row.status),
            "processing" => ui.warn(row.status),
            other => ui.error(other),
        };
        let pad = " ".repeat(10usize.saturating_sub(row.status.len()));
        let _ = writeln!(
            out,
            "{:width$}  {status}{pad}  {:>6}  {:>14}",
            row.name,
            row.rows.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            row.total_usage.map_or_else(|| "-".to_owned(), money),
        );
    }
    for row in rows.iter().filter(|row| !row.by_group.is_empty()) {
        let _ = writeln!(
            out,
            "\n{} by {}:",
            row.name,
            row.group_by.as_deref().unwrap_or("group")
        );
        let key_width = row.by_group.keys().map(String::len).max().unwrap_or(0);
        for (key, amount) in &row.by_group {
            let _ = writeln!(out, "  {key:key_width$}  {:>14}", money(*amount));
        }
    }
    let _ = writeln!(out, "\n{}", counts_sentence(rows, run));
    out
}

/// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
pub fn markdown(rows: &[SummaryRow], run: &RunInfo) -> String {
    let mut out = String::from(
        "### costform fetch\n\n| report | status | rows | total usage |\n|---|---|--:|--:|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            row.name,
            row.status,
            row.rows.map_or_else(|| "–".to_owned(), |n| n.to_string()),
            row.total_usage.map_or_else(|| "–".to_owned(), money),
        );
    }
    for row in rows.iter().filter(|row| !row.by_group.is_empty()) {
        let _ = write!(
            out,
            "\n<details><summary><code>{}</code> by {}</summary>\n\n| {} | usage |\n|---|--:|\n",
            row.name,
            row.group_by.as_deref().unwrap_or("group"),
            row.group_by.as_deref().unwrap_or("group"),
        );
        for (key, amount) in &row.by_group {
            let _ = writeln!(out, "| {} | {} |", key.replace('|', "\\|"), money(*amount));
        }
        out.push_str("\n</details>\n");
    }
    let _ = writeln!(out, "\n{}", counts_sentence(rows, run));
    out
}

/// One JSON document.
pub fn json(rows: &[SummaryRow], run: &RunInfo) -> String {
    let document = serde_json::json!({
        "format_version": 2,
        "run": run.run,
        "counts": counts(rows),
        "reports": rows,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}
