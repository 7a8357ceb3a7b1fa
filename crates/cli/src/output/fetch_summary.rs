//! The end-of-fetch summary: per report its status, rows and total usage, and
//! the totals by group for its `groupBy` dimension. Money is shown to two
//! decimals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

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
    /// The sum of `usageAmount`, when ready.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "money_opt")]
    pub total_usage: Option<f64>,
    /// The `groupBy` dimension of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Totals per group key.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "money_map"
    )]
    pub by_group: BTreeMap<String, f64>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Formats an amount with two decimals and thousands separators.
pub fn money(amount: f64) -> String {
    let fixed = format!("{:.2}", amount.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0.0 && fixed != "0.00" {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{cents}")
}

fn round2(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes the field by reference"
)]
fn money_opt<S: serde::Serializer>(amount: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serializer.serialize_f64(round2(*amount)),
        None => serializer.serialize_none(),
    }
}

fn money_map<S: serde::Serializer>(
    map: &BTreeMap<String, f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(map.iter().map(|(key, amount)| (key, round2(*amount))))
}

fn counts(rows: &[SummaryRow]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.status).or_insert(0) += 1;
    }
    counts
}

fn counts_sentence(rows: &[SummaryRow]) -> String {
    let parts: Vec<String> = counts(rows)
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    if parts.is_empty() {
        "No reports with a token to fetch.".to_owned()
    } else {
        format!("{}.", parts.join(", "))
    }
}

/// A plain-text table for terminals and CI logs.
pub fn text(rows: &[SummaryRow], ui: Ui) -> String {
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
    let _ = writeln!(out, "\n{}", counts_sentence(rows));
    out
}

/// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
pub fn markdown(rows: &[SummaryRow]) -> String {
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
    let _ = writeln!(out, "\n{}", counts_sentence(rows));
    out
}

/// One JSON document.
pub fn json(rows: &[SummaryRow]) -> String {
    let document =
        serde_json::json!({ "format_version": 1, "counts": counts(rows), "reports": rows });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_two_decimals_and_thousands_separators() {
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(51.186), "51.19");
        assert_eq!(money(1_234_567.891), "1,234,567.89");
        assert_eq!(money(-1234.5), "-1,234.50");
    }
}
