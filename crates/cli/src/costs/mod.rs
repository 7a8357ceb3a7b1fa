//! The outputs of `costform costs`: the same tables and changes as text for
//! a terminal, markdown for a pull-request comment, one tidy CSV for a
//! spreadsheet or `COPY`, versioned JSON, and one self-contained HTML page
//! with charts.
//!
//! Amounts are exact decimals up to here; they are rounded to cents (and
//! percentages to one decimal) only as they are printed, and never in CSV or
//! JSON.

pub mod chart;
pub mod csv;
pub mod grid;
pub mod html;
pub mod json;
pub mod markdown;
pub mod text;

use std::fmt::Write as _;

use costform_model::cost_rows::Decimal;
use costform_planner::costs::{Change, ChangeKind, Comparison, CostTable, NotIncluded};
use rust_decimal::RoundingStrategy;

/// What one `costs` run shows.
#[derive(Debug, Default)]
pub struct CostsView {
    /// One table per report and currency.
    pub tables: Vec<CostTable>,
    /// With `--compare`: one comparison per report and currency.
    pub comparisons: Vec<Comparison>,
    /// Reports left out, each with why (no ready result yet, …).
    pub not_included: Vec<NotIncluded>,
}

/// An amount for people: cents, thousands separated (`12,345.60`).
pub fn money(amount: Decimal) -> String {
    let rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", rounded.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{cents}")
}

/// A change with its sign (`+10.00`, `-30.00`).
pub fn signed_money(amount: Decimal) -> String {
    let text = money(amount);
    if text.starts_with('-') || amount.is_zero() {
        text
    } else {
        format!("+{text}")
    }
}

/// A change in percent, or what the group did when a percentage would
/// mean nothing.
pub fn percent(change: &Change) -> String {
    match (change.kind, change.percent) {
        (ChangeKind::New, _) => "new".to_owned(),
        (ChangeKind::Gone, _) => "gone".to_owned(),
        (ChangeKind::Changed, None) => "–".to_owned(),
        (ChangeKind::Changed, Some(percent)) => {
            let rounded = percent.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
            let sign = if rounded.is_sign_positive() && !rounded.is_zero() {
                "+"
            } else {
                ""
            };
            format!("{sign}{rounded:.1} %")
        }
    }
}

/// A cell of a table: empty where the result has no row at all.
pub fn cell(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "–".to_owned(), money)
}

/// The heading of a table, e.g. `report.by-project · USD · month × projects`.
pub fn table_title(table: &CostTable) -> String {
    let columns = if table.rows_are == "month" || table.rows_are == "day" {
        table.dimension.as_str()
    } else {
        "month"
    };
    format!(
        "report.{} · {} · {} × {}",
        table.report, table.currency, table.rows_are, columns
    )
}

/// The heading of a comparison, e.g.
/// `report.by-project · USD · 2026-10 vs 2026-09: 135.00 (-25.00, -15.6 %)`.
pub fn comparison_title(comparison: &Comparison) -> String {
    let mut title = format!(
        "report.{} · {} · {} vs {}",
        comparison.report, comparison.currency, comparison.period, comparison.baseline_period
    );
    if comparison.baseline_found {
        let total = Change::between(
            "total",
            Some(comparison.baseline_total),
            Some(comparison.total),
        );
        let _ = write!(
            title,
            ": {} ({}, {})",
            money(comparison.total),
            signed_money(total.change),
            percent(&total)
        );
    } else {
        let _ = write!(
            title,
            ": no spend recorded for {} to compare with",
            comparison.baseline_period
        );
    }
    title
}

/// The rows of a comparison as printable cells: group, before, after,
/// change, percent.
pub fn change_cells(comparison: &Comparison) -> Vec<Vec<String>> {
    comparison
        .changes
        .iter()
        .map(|change| {
            vec![
                change.group.clone(),
                cell(change.before),
                cell(change.after),
                signed_money(change.change),
                percent(change),
            ]
        })
        .collect()
}

/// The header of [`change_cells`].
pub fn change_header(comparison: &Comparison) -> Vec<String> {
    vec![
        comparison.dimension.clone(),
        comparison.baseline_period.clone(),
        comparison.period.clone(),
        "change".to_owned(),
        "%".to_owned(),
    ]
}

/// A table's rows as printable cells, with the total row and column.
pub fn table_cells(table: &CostTable) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec![table.rows_are.clone()];
    header.extend(table.columns.iter().cloned());
    header.push("total".to_owned());
    let mut rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.label.clone()];
            cells.extend(row.cells.iter().copied().map(cell));
            cells.push(money(row.total));
            cells
        })
        .collect();
    let mut totals = vec!["total".to_owned()];
    totals.extend(table.column_totals.iter().copied().map(money));
    totals.push(money(table.total));
    rows.push(totals);
    (header, rows)
}

/// A Cost Explorer row of `report` for `group` in `month` (`YYYY-MM`), read
/// through the model as a real result would be.
#[cfg(test)]
pub fn test_row(
    report: &str,
    month: &str,
    group: &str,
    amount: &str,
) -> costform_model::cost_rows::CostRow {
    use costform_model::cost_rows::ResultOrigin;
    let body = serde_json::json!({"usageDetails": [{
        "projectId": format!("id-{group}"), "projectName": group, "service": "Clusters",
        "usageAmount": serde_json::Value::String(amount.to_owned()), "usageDate": format!("{month}-01"),
    }]});
    let origin = ResultOrigin {
        report,
        org_id: "5f0c8a1b2c3d4e5f6a7b8c9d",
        file: "test.json",
    };
    costform_model::kinds::cost_explorer_rows::rows_from_json(
        &origin,
        Some("projects"),
        body.to_string().as_bytes(),
    )
    .expect("a test row")
    .remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn money_is_rounded_to_cents_only_for_display() {
        assert_eq!(money(dec("1234567.005")), "1,234,567.01");
        assert_eq!(money(dec("-0.004")), "0.00");
        assert_eq!(money(dec("-1000")), "-1,000.00");
        assert_eq!(money(dec("12.3")), "12.30");
        assert_eq!(signed_money(dec("5")), "+5.00");
        assert_eq!(signed_money(dec("-5")), "-5.00");
    }
}
