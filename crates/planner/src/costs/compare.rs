//! Period-over-period change: the latest month of a report against the
//! month before it or the same month a year before, per group, largest
//! movers first. A group that appears or disappears is said to be new or
//! gone, not shown as a ±100 % change.

use std::collections::BTreeMap;

use costform_model::cost_rows::{CostRow, Decimal};
use jiff::ToSpan;
use jiff::civil::Date;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Slice, group_label, month_label, month_of, slices};

/// What the latest month is compared with (`costs --compare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The month before.
    Previous,
    /// The same month a year before.
    Year,
}

/// One report's latest month against its baseline, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Comparison {
    /// The report (or report instance) address.
    pub report: String,
    /// The currency of every amount.
    pub currency: String,
    /// What the groups are.
    pub dimension: String,
    /// The latest month with spend, as `YYYY-MM`.
    pub period: String,
    /// The month compared with, as `YYYY-MM`.
    pub baseline_period: String,
    /// Whether any row covers the baseline month; without it there is
    /// nothing to compare, and the changes are empty.
    pub baseline_found: bool,
    /// The latest month's total.
    pub total: Decimal,
    /// The baseline month's total.
    pub baseline_total: Decimal,
    /// The change per group, largest absolute change first.
    pub changes: Vec<Change>,
}

/// How one group moved.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Change {
    /// The group's name (or id).
    pub group: String,
    /// The baseline month's amount; `None` for a new group.
    pub before: Option<Decimal>,
    /// The latest month's amount; `None` for a group that is gone.
    pub after: Option<Decimal>,
    /// `after − before`, a missing side counting as zero.
    pub change: Decimal,
    /// The change in percent of `before`; `None` when there is no `before`
    /// (or it is zero), where a percentage would mean nothing.
    pub percent: Option<Decimal>,
    /// Whether the group is new, gone or changed.
    pub kind: ChangeKind,
}

/// Whether a group is present on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Present in both months.
    Changed,
    /// Only in the latest month.
    New,
    /// Only in the baseline month.
    Gone,
}

/// One comparison per report and currency. The month compared is the
/// latest that had closed by `today`: a month in progress would show as a
/// steep fall. Only a report with nothing but the open month compares it.
pub fn compare(rows: &[CostRow], baseline: Baseline, today: Date) -> Vec<Comparison> {
    slices(rows)
        .iter()
        .filter_map(|slice| comparison(slice, baseline, today))
        .collect()
}

/// The comparison of one report and currency; `None` without rows.
pub(crate) fn comparison(slice: &Slice<'_>, baseline: Baseline, today: Date) -> Option<Comparison> {
    let months = || slice.rows.iter().map(|row| month_of(row.period_start));
    let open_month = month_of(today);
    let latest = months()
        .filter(|month| *month < open_month)
        .max()
        .or_else(|| months().max())?;
    let before = match baseline {
        Baseline::Previous => latest.checked_sub(1.month()),
        Baseline::Year => latest.checked_sub(1.year()),
    }
    .ok()?;
    let after_amounts = amounts_in(slice, latest);
    let before_amounts = amounts_in(slice, before);
    let baseline_found = !before_amounts.is_empty();
    let mut changes = Vec::new();
    if baseline_found {
        let mut groups: Vec<&str> = after_amounts.keys().copied().collect();
        groups.extend(before_amounts.keys().copied());
        groups.sort_unstable();
        groups.dedup();
        for group in groups {
            changes.push(Change::between(
                group,
                before_amounts.get(group).copied(),
                after_amounts.get(group).copied(),
            ));
        }
        changes.sort_by(|a, b| {
            b.change
                .abs()
                .cmp(&a.change.abs())
                .then_with(|| a.group.cmp(&b.group))
        });
    }
    Some(Comparison {
        report: slice.report.to_owned(),
        currency: slice.currency.to_owned(),
        dimension: slice.dimension.to_owned(),
        period: month_label(latest),
        baseline_period: month_label(before),
        baseline_found,
        total: after_amounts.values().sum(),
        baseline_total: before_amounts.values().sum(),
        changes,
    })
}

impl Change {
    /// How `group` moved from `before` to `after`.
    pub fn between(group: &str, before: Option<Decimal>, after: Option<Decimal>) -> Self {
        let difference = after.unwrap_or_default() - before.unwrap_or_default();
        let kind = match (before, after) {
            (None, _) => ChangeKind::New,
            (_, None) => ChangeKind::Gone,
            _ => ChangeKind::Changed,
        };
        let percent = before
            .filter(|amount| !amount.is_zero() && kind == ChangeKind::Changed)
            .and_then(|amount| (difference * Decimal::ONE_HUNDRED).checked_div(amount));
        Self {
            group: group.to_owned(),
            before,
            after,
            change: difference,
            percent,
            kind,
        }
    }
}

/// The spend per group in `month`.
fn amounts_in<'a>(slice: &Slice<'a>, month: Date) -> BTreeMap<&'a str, Decimal> {
    let mut amounts = BTreeMap::new();
    for row in slice.rows.iter().copied() {
        if month_of(row.period_start) == month {
            *amounts.entry(group_label(row)).or_default() += row.amount;
        }
    }
    amounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::test_rows::{dec, row};

    fn today() -> Date {
        "2026-11-26".parse().expect("a date")
    }

    #[test]
    fn the_month_in_progress_is_not_compared_while_a_closed_one_exists() {
        let rows = vec![
            row("r", "2026-09", "api", "100"),
            row("r", "2026-10", "api", "120"),
            row("r", "2026-11", "api", "3"),
        ];
        let comparison = &compare(&rows, Baseline::Previous, today())[0];
        assert_eq!(comparison.period, "2026-10");
        assert_eq!(comparison.changes[0].percent, Some(dec("20")));
        let open_only = vec![row("r", "2026-11", "api", "3")];
        assert_eq!(
            compare(&open_only, Baseline::Previous, today())[0].period,
            "2026-11"
        );
    }

    #[test]
    fn largest_movers_first_with_new_and_gone_groups_named() {
        let rows = vec![
            row("r", "2026-09", "api", "100"),
            row("r", "2026-09", "web", "50"),
            row("r", "2026-09", "old", "10"),
            row("r", "2026-10", "api", "110"),
            row("r", "2026-10", "web", "20"),
            row("r", "2026-10", "new", "5"),
        ];
        let comparison = &compare(&rows, Baseline::Previous, today())[0];
        assert_eq!(
            (
                comparison.period.as_str(),
                comparison.baseline_period.as_str()
            ),
            ("2026-10", "2026-09")
        );
        assert_eq!(
            (comparison.total, comparison.baseline_total),
            (dec("135"), dec("160"))
        );
        let order: Vec<(&str, ChangeKind)> = comparison
            .changes
            .iter()
            .map(|change| (change.group.as_str(), change.kind))
            .collect();
        assert_eq!(
            order,
            [
                ("web", ChangeKind::Changed),
                ("api", ChangeKind::Changed),
                ("old", ChangeKind::Gone),
                ("new", ChangeKind::New),
            ]
        );
        assert_eq!(comparison.changes[0].percent, Some(dec("-60")));
        assert_eq!(comparison.changes[1].percent, Some(dec("10")));
        assert_eq!(comparison.changes[2].percent, None);
        assert_eq!(comparison.changes[3].change, dec("5"));
    }

    #[test]
    fn a_year_back_and_a_missing_baseline() {
        let rows = vec![
            row("r", "2025-10", "api", "80"),
            row("r", "2026-09", "api", "1"),
            row("r", "2026-10", "api", "100"),
        ];
        let yearly = &compare(&rows, Baseline::Year, today())[0];
        assert_eq!(yearly.baseline_period, "2025-10");
        assert_eq!(yearly.changes[0].percent, Some(dec("25")));
        let lonely = vec![row("s", "2026-10", "api", "100")];
        let comparison = &compare(&lonely, Baseline::Previous, today())[0];
        assert!(!comparison.baseline_found);
        assert!(comparison.changes.is_empty());
    }
}
