//! Budgets held against cost rows, for `costform check`: every month of a
//! report's latest results against its monthly limits, and the latest closed
//! month against the month before for the allowed increase.
//!
//! Comparisons are exact: spend equal to its limit holds; only more breaks
//! it.

use std::collections::BTreeMap;

use costform_model::budget::Budget;
use costform_model::cost_rows::{CostRow, Decimal};
use jiff::civil::Date;
use serde::Serialize;

use super::compare::comparison;
use super::{Baseline, Change, Slice, group_label, month_label, month_of, slices};

/// One budget rule that spend went over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The report.
    pub report: String,
    /// The group the limit is for; `None` for the report's total.
    pub group: Option<String>,
    /// The month, as `YYYY-MM`.
    pub period: String,
    /// Which rule: `monthly_limit` or `max_increase_percent`.
    pub rule: String,
    /// The limit (an amount, or a percentage).
    pub limit: Decimal,
    /// What the results show (an amount, or a percentage).
    pub actual: Decimal,
    /// By how much `actual` exceeds `limit`.
    pub over_by: Decimal,
    /// The currency of amounts.
    pub currency: String,
}

/// What `check` found for one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The report.
    pub report: String,
    /// How many rules were held against how many months.
    pub rules_checked: usize,
    /// Every breach, in period order.
    pub breaches: Vec<Breach>,
    /// Groups named in the budget that no row of the results has: likely a
    /// typo, or a group that no longer costs anything.
    pub unknown_groups: Vec<String>,
}

/// Holds every report's rows to its budget: the monthly limits to the
/// `latest` results' months, the allowed increase to the latest closed month
/// against the one before, which may come from earlier results
/// (`CostRows::with_earlier`). Reports without latest rows are not in the
/// answer: the caller lists them as not checked.
pub fn check(
    latest: &[CostRow],
    with_earlier: &[CostRow],
    budgets: &BTreeMap<String, Budget>,
    today: Date,
) -> Vec<Checked> {
    let mut checked: BTreeMap<String, Checked> = BTreeMap::new();
    for slice in slices(latest) {
        let Some(budget) = budgets.get(slice.report) else {
            continue;
        };
        let entry = checked
            .entry(slice.report.to_owned())
            .or_insert_with(|| Checked {
                report: slice.report.to_owned(),
                rules_checked: 0,
                breaches: Vec::new(),
                unknown_groups: Vec::new(),
            });
        check_limits(&slice, budget, entry);
    }
    for slice in slices(with_earlier) {
        let (Some(budget), Some(entry)) =
            (budgets.get(slice.report), checked.get_mut(slice.report))
        else {
            continue;
        };
        check_increase(&slice, budget, today, entry);
    }
    for entry in checked.values_mut() {
        entry
            .breaches
            .sort_by(|a, b| a.period.cmp(&b.period).then_with(|| a.group.cmp(&b.group)));
    }
    checked.into_values().collect()
}

/// A breach of `rule` when `actual` is over `limit`.
fn breach(
    slice: &Slice<'_>,
    group: Option<&str>,
    period: String,
    rule: &str,
    limit: Decimal,
    actual: Decimal,
) -> Option<Breach> {
    (actual > limit).then(|| Breach {
        report: slice.report.to_owned(),
        group: group.map(str::to_owned),
        period,
        rule: rule.to_owned(),
        limit,
        actual,
        over_by: actual - limit,
        currency: slice.currency.to_owned(),
    })
}

fn check_limits(slice: &Slice<'_>, budget: &Budget, checked: &mut Checked) {
    let mut totals: BTreeMap<Date, Decimal> = BTreeMap::new();
    let mut by_group: BTreeMap<(&str, Date), Decimal> = BTreeMap::new();
    for row in &slice.rows {
        let month = month_of(row.period_start);
        *totals.entry(month).or_default() += row.amount;
        for key in [row.group_id.as_str(), group_label(row)] {
            if budget.groups.contains_key(key) {
                *by_group.entry((key, month)).or_default() += row.amount;
            }
        }
    }
    if let Some(limit) = budget.monthly_limit {
        for (month, total) in &totals {
            checked.rules_checked += 1;
            checked.breaches.extend(breach(
                slice,
                None,
                month_label(*month),
                "monthly_limit",
                limit,
                *total,
            ));
        }
    }
    for (group, limit) in &budget.groups {
        let months: Vec<(Date, Decimal)> = by_group
            .iter()
            .filter(|((key, _), _)| key == group)
            .map(|((_, month), amount)| (*month, *amount))
            .collect();
        if months.is_empty() && !checked.unknown_groups.contains(group) {
            checked.unknown_groups.push(group.clone());
        }
        for (month, amount) in months {
            checked.rules_checked += 1;
            checked.breaches.extend(breach(
                slice,
                Some(group),
                month_label(month),
                "monthly_limit",
                *limit,
                amount,
            ));
        }
    }
}

fn check_increase(slice: &Slice<'_>, budget: &Budget, today: Date, checked: &mut Checked) {
    if let Some(limit) = budget.max_increase_percent {
        let latest = comparison(slice, Baseline::Previous, today);
        if let Some(comparison) = latest.filter(|comparison| comparison.baseline_found) {
            checked.rules_checked += 1;
            let total = Change::between(
                "total",
                Some(comparison.baseline_total),
                Some(comparison.total),
            );
            if let Some(percent) = total.percent {
                checked.breaches.extend(breach(
                    slice,
                    None,
                    comparison.period,
                    "max_increase_percent",
                    limit,
                    percent,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::test_rows::{dec, row};

    fn today() -> Date {
        "2026-11-26".parse().expect("a date")
    }

    fn budgets(budget: Budget) -> BTreeMap<String, Budget> {
        BTreeMap::from([("r".to_owned(), budget)])
    }

    #[test]
    fn spend_exactly_at_the_limit_holds_and_a_cent_more_breaks_it() {
        let rows = vec![
            row("r", "2026-09", "api", "600.00"),
            row("r", "2026-09", "web", "400.00"),
            row("r", "2026-10", "api", "1000.01"),
        ];
        let budget = Budget {
            monthly_limit: Some(dec("1000.00")),
            ..Budget::default()
        };
        let checked = &check(&rows, &rows, &budgets(budget), today())[0];
        assert_eq!(checked.rules_checked, 2);
        assert_eq!(checked.breaches.len(), 1, "{checked:?}");
        let breach = &checked.breaches[0];
        assert_eq!(
            (breach.period.as_str(), breach.over_by),
            ("2026-10", dec("0.01"))
        );
    }

    #[test]
    fn group_limits_by_name_or_id_and_unknown_groups_named() {
        let rows = vec![
            row("r", "2026-10", "api", "80"),
            row("r", "2026-10", "web", "30"),
        ];
        let budget = Budget {
            groups: BTreeMap::from([
                ("id-api".to_owned(), dec("50")),
                ("web".to_owned(), dec("30")),
                ("typo".to_owned(), dec("1")),
            ]),
            ..Budget::default()
        };
        let checked = &check(&rows, &rows, &budgets(budget), today())[0];
        assert_eq!(checked.breaches.len(), 1);
        assert_eq!(checked.breaches[0].group.as_deref(), Some("id-api"));
        assert_eq!(checked.breaches[0].actual, dec("80"));
        assert_eq!(checked.unknown_groups, ["typo"]);
    }

    #[test]
    fn an_increase_over_the_allowed_percent_is_a_breach() {
        let rows = vec![
            row("r", "2026-09", "api", "100"),
            row("r", "2026-10", "api", "120"),
        ];
        let strict = Budget {
            max_increase_percent: Some(dec("19.99")),
            ..Budget::default()
        };
        let breach = &check(&rows, &rows, &budgets(strict), today())[0].breaches[0];
        assert_eq!(
            (breach.actual, breach.rule.as_str()),
            (dec("20"), "max_increase_percent")
        );
        let lenient = Budget {
            max_increase_percent: Some(dec("20")),
            ..Budget::default()
        };
        assert!(
            check(&rows, &rows, &budgets(lenient), today())[0]
                .breaches
                .is_empty()
        );
    }
}
