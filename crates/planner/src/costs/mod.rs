//! Cost tables and period-over-period changes, computed offline from cost
//! rows. Everything adds decimals, never floats, so a total is exact to the
//! last digit the results stated; percentages are computed as decimals too
//! and only rounded when printed.
//!
//! Rows of different currencies are never added together: every table and
//! comparison is per report and currency.

mod check;
mod compare;
mod rows;
mod table;

pub use check::{Breach, Checked, check};
pub use compare::{Baseline, Change, ChangeKind, Comparison, compare};
pub use rows::{CostRows, NotIncluded, RowsError, read_rows};
pub use table::{Axis, CostTable, TableRow, tables};

use std::collections::BTreeMap;

use costform_model::cost_rows::CostRow;
use jiff::civil::Date;
use schemars::JsonSchema;
use serde::Serialize;

/// The rows of one report in one currency, the unit every table and
/// comparison is built from.
pub(crate) struct Slice<'a> {
    pub report: &'a str,
    pub currency: &'a str,
    pub dimension: &'a str,
    pub rows: Vec<&'a CostRow>,
}

/// Splits rows by report and currency, in a stable order.
pub(crate) fn slices(rows: &[CostRow]) -> Vec<Slice<'_>> {
    let mut by_key: BTreeMap<(&str, &str), Slice<'_>> = BTreeMap::new();
    for row in rows {
        by_key
            .entry((row.report.as_str(), row.currency.as_str()))
            .or_insert_with(|| Slice {
                report: &row.report,
                currency: &row.currency,
                dimension: &row.dimension,
                rows: Vec::new(),
            })
            .rows
            .push(row);
    }
    by_key.into_values().collect()
}

/// The first day of `date`'s month: daily rows roll up to it.
pub(crate) fn month_of(date: Date) -> Date {
    date.first_of_month()
}

/// A month as `YYYY-MM`, as tables and comparisons label it.
pub(crate) fn month_label(month: Date) -> String {
    month.strftime("%Y-%m").to_string()
}

/// How a group is shown: its name when the result gives one, else its id.
pub(crate) fn group_label(row: &CostRow) -> &str {
    row.group_name.as_deref().unwrap_or(&row.group_id)
}

/// `costs --format json`: bumped when a field changes meaning or goes away.
pub const COSTS_FORMAT_VERSION: u32 = 1;

/// What `costs --format json` prints (`schemas/costs.schema.json`).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "costform costs")]
pub struct CostsDocument<'a> {
    /// Always [`COSTS_FORMAT_VERSION`].
    pub format_version: u32,
    /// One table per report and currency.
    pub tables: &'a [CostTable],
    /// With `--compare`: one comparison per report and currency.
    pub comparisons: &'a [Comparison],
    /// Reports left out, with why.
    pub not_included: &'a [NotIncluded],
}

/// The JSON Schema of [`CostsDocument`].
pub fn costs_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CostsDocument<'static>)).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_rows {
    use costform_model::cost_rows::{CostRow, Decimal};

    /// A decimal written as text.
    pub fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    /// A monthly cost row of report `report` for `group` in `month` (YYYY-MM).
    pub fn row(report: &str, month: &str, group: &str, amount: &str) -> CostRow {
        let start: jiff::civil::Date = format!("{month}-01").parse().expect("a month");
        CostRow {
            report: report.to_owned(),
            kind: "cost_explorer".to_owned(),
            org_id: "5f0c8a1b2c3d4e5f6a7b8c9d".to_owned(),
            period_start: start,
            period_end: start.saturating_add(jiff::Span::new().months(1)),
            dimension: "projects".to_owned(),
            group_id: format!("id-{group}"),
            group_name: Some(group.to_owned()),
            service: Some("Clusters".to_owned()),
            amount: dec(amount),
            currency: "USD".to_owned(),
        }
    }
}
