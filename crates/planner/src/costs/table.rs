//! Tables of spend: periods × groups (or groups × months, services × months),
//! with a total per row, per column and overall.

use std::collections::{BTreeMap, BTreeSet};

use costform_model::cost_rows::{CostRow, Decimal};
use jiff::civil::Date;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Slice, group_label, month_label, month_of, slices};

/// What the rows of a table are (`costs --by`); the columns are the other
/// axis: groups for periods, months for groups and services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Axis {
    /// One row per month; daily rows are added up into their month.
    #[default]
    Month,
    /// One row per day, as FOCUS reports them (monthly rows stay monthly).
    Day,
    /// One row per group of the report's dimension, one column per month.
    Group,
    /// One row per service, one column per month.
    Service,
}

/// One report's spend in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CostTable {
    /// The report (or report instance) address.
    pub report: String,
    /// The currency of every amount in the table.
    pub currency: String,
    /// What the groups are (`projects`, `services`, …).
    pub dimension: String,
    /// What the rows are: `month`, `day`, the dimension, or `service`.
    pub rows_are: String,
    /// The column headings, in order.
    pub columns: Vec<String>,
    /// The rows, in order (periods ascending; groups and services by name).
    pub rows: Vec<TableRow>,
    /// The total of each column.
    pub column_totals: Vec<Decimal>,
    /// Everything in the table.
    pub total: Decimal,
}

/// One row of a [`CostTable`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TableRow {
    /// The period (`2026-10`, `2026-10-03`), group or service.
    pub label: String,
    /// One cell per column; `None` where the result has no row at all (shown
    /// apart from a real zero).
    pub cells: Vec<Option<Decimal>>,
    /// The row's total.
    pub total: Decimal,
}

/// One table per report and currency.
pub fn tables(rows: &[CostRow], axis: Axis) -> Vec<CostTable> {
    slices(rows)
        .iter()
        .map(|slice| table(slice, axis))
        .collect()
}

fn table(slice: &Slice<'_>, axis: Axis) -> CostTable {
    let period = |row: &CostRow| match axis {
        Axis::Day => row.period_start,
        _ => month_of(row.period_start),
    };
    let label_of_period = |date: Date| match axis {
        Axis::Day => date.to_string(),
        _ => month_label(date),
    };
    // (row key, column key) -> amount; keys sort the way they are shown.
    let mut cells: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut row_keys = BTreeSet::new();
    let mut column_keys = BTreeSet::new();
    for row in &slice.rows {
        let period = label_of_period(period(row));
        let (row_key, column_key) = match axis {
            Axis::Month | Axis::Day => (period, group_label(row).to_owned()),
            Axis::Group => (group_label(row).to_owned(), period),
            Axis::Service => (
                row.service.clone().unwrap_or_else(|| "(none)".to_owned()),
                period,
            ),
        };
        row_keys.insert(row_key.clone());
        column_keys.insert(column_key.clone());
        *cells.entry((row_key, column_key)).or_default() += row.amount;
    }
    let columns: Vec<String> = column_keys.into_iter().collect();
    let mut column_totals = vec![Decimal::ZERO; columns.len()];
    let mut table_rows = Vec::with_capacity(row_keys.len());
    for label in row_keys {
        let mut total = Decimal::ZERO;
        let mut row_cells = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            let cell = cells.get(&(label.clone(), column.clone())).copied();
            if let Some(amount) = cell {
                total += amount;
                column_totals[index] += amount;
            }
            row_cells.push(cell);
        }
        table_rows.push(TableRow {
            label,
            cells: row_cells,
            total,
        });
    }
    let rows_are = match axis {
        Axis::Month => "month",
        Axis::Day => "day",
        Axis::Group => slice.dimension,
        Axis::Service => "service",
    };
    CostTable {
        report: slice.report.to_owned(),
        currency: slice.currency.to_owned(),
        dimension: slice.dimension.to_owned(),
        rows_are: rows_are.to_owned(),
        columns,
        total: column_totals.iter().sum(),
        column_totals,
        rows: table_rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::test_rows::{dec, row};

    #[test]
    fn months_by_groups_with_totals_that_add_exactly() {
        let rows = vec![
            row("r", "2026-09", "api", "0.10"),
            row("r", "2026-09", "web", "0.20"),
            row("r", "2026-10", "api", "1000.00"),
            row("r", "2026-10", "api", "0.01"),
        ];
        let table = &tables(&rows, Axis::Month)[0];
        assert_eq!(table.columns, ["api", "web"]);
        assert_eq!(table.rows[0].label, "2026-09");
        assert_eq!(table.rows[0].total, dec("0.30"));
        assert_eq!(table.rows[1].cells, [Some(dec("1000.01")), None]);
        assert_eq!(table.column_totals, [dec("1000.11"), dec("0.20")]);
        assert_eq!(table.total, dec("1000.31"));
        assert_eq!(table.rows_are, "month");
    }

    #[test]
    fn daily_rows_roll_up_to_months_unless_days_are_asked_for() {
        let mut first = row("f", "2026-10", "api", "1.5");
        let mut second = first.clone();
        first.period_end = "2026-10-02".parse().unwrap();
        second.period_start = "2026-10-02".parse().unwrap();
        second.period_end = "2026-10-03".parse().unwrap();
        let rows = vec![first, second];
        let monthly = &tables(&rows, Axis::Month)[0];
        assert_eq!(monthly.rows.len(), 1);
        assert_eq!(monthly.rows[0].total, dec("3.0"));
        let daily = &tables(&rows, Axis::Day)[0];
        let labels: Vec<&str> = daily.rows.iter().map(|row| row.label.as_str()).collect();
        assert_eq!(labels, ["2026-10-01", "2026-10-02"]);
    }

    #[test]
    fn groups_and_services_pivot_to_rows() {
        let rows = vec![
            row("r", "2026-09", "api", "1"),
            row("r", "2026-10", "api", "2"),
            row("r", "2026-10", "web", "4"),
        ];
        let by_group = &tables(&rows, Axis::Group)[0];
        assert_eq!(by_group.rows_are, "projects");
        assert_eq!(by_group.columns, ["2026-09", "2026-10"]);
        assert_eq!(by_group.rows[0].cells, [Some(dec("1")), Some(dec("2"))]);
        let by_service = &tables(&rows, Axis::Service)[0];
        assert_eq!(by_service.rows.len(), 1);
        assert_eq!(by_service.rows[0].label, "Clusters");
        assert_eq!(by_service.total, dec("7"));
    }

    #[test]
    fn currencies_are_kept_apart_never_summed() {
        let mut euros = row("r", "2026-10", "api", "5");
        euros.currency = "EUR".to_owned();
        let rows = vec![row("r", "2026-10", "api", "3"), euros];
        let tables = tables(&rows, Axis::Month);
        let totals: Vec<(&str, Decimal)> = tables
            .iter()
            .map(|table| (table.currency.as_str(), table.total))
            .collect();
        assert_eq!(totals, [("EUR", dec("5")), ("USD", dec("3"))]);
    }
}
