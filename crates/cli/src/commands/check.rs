//! `costform check`: every report's budget held against its latest fetched
//! results, offline. Exit 0 when all hold, 3 when any is breached, 1 on
//! error; a report with a budget but no result yet is listed as not
//! checked, never passed silently.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use costform_model::ids::ReportName;
use costform_planner::costs::{Breach, Checked, CostRows, NotIncluded, check, read_rows};
use miette::IntoDiagnostic;
use serde::Serialize;

use crate::args::{CheckArgs, CheckFormat};
use crate::context::{Context, Strictness};
use crate::costs::money;
use crate::exit::Exit;
use crate::lookups;

/// What `check --format json` prints.
#[derive(Serialize)]
struct Verdict<'a> {
    format_version: u32,
    breached: bool,
    checked: &'a [Checked],
    not_checked: Vec<NotChecked<'a>>,
}

#[derive(Serialize)]
struct NotChecked<'a> {
    report: &'a str,
    reason: &'a str,
}

/// Loads the budgets and the rows, holds one to the other and prints.
pub fn run(context: &Context, args: &CheckArgs) -> miette::Result<Exit> {
    let definitions = lookups::load_offline(context, Strictness::Lenient)?;
    let wanted = &args.names;
    let budgets: BTreeMap<String, _> = definitions
        .reports
        .values()
        .filter(|report| wanted.is_empty() || wanted.iter().any(|name| name.covers(&report.name)))
        .filter_map(|report| Some((report.name.to_string(), report.budget.clone()?)))
        .collect();
    if budgets.is_empty() {
        context
            .ui
            .status("No report has a `budget:`: nothing to check.");
        return Ok(Exit::Success);
    }
    let state = context.backend().read().into_diagnostic()?;
    let names: Vec<ReportName> = definitions
        .reports
        .keys()
        .filter(|name| budgets.contains_key(name.as_str()))
        .cloned()
        .collect();
    let rows = match &state {
        Some(state) => read_rows(state, &context.state_dir(), &names).into_diagnostic()?,
        None => CostRows::default(),
    };
    let today = costform_model::dates::today(context.now);
    let checked = check(&rows.latest, &rows.with_earlier(), &budgets, today);
    let mut not_checked = rows.not_included;
    for name in &names {
        let name = name.as_str();
        let known = checked.iter().any(|report| report.report == name)
            || not_checked.iter().any(|report| report.report == name);
        if !known {
            not_checked.push(NotIncluded {
                report: name.to_owned(),
                reason: "not applied yet: run `costform apply`, then `costform fetch`".to_owned(),
            });
        }
    }
    not_checked.sort_by(|a, b| a.report.cmp(&b.report));
    let breached = checked.iter().any(|report| !report.breaches.is_empty());
    let output = match args.format {
        CheckFormat::Text => text(&checked, &not_checked),
        CheckFormat::Markdown => markdown(&checked, &not_checked),
        CheckFormat::Json => {
            let verdict = Verdict {
                format_version: 1,
                breached,
                checked: &checked,
                not_checked: not_checked
                    .iter()
                    .map(|left_out| NotChecked {
                        report: &left_out.report,
                        reason: &left_out.reason,
                    })
                    .collect(),
            };
            format!(
                "{}\n",
                serde_json::to_string_pretty(&verdict).unwrap_or_default()
            )
        }
    };
    context.ui.printer().stdout().print(output);
    Ok(if breached {
        Exit::BudgetBreached
    } else if args.require_results && !not_checked.is_empty() {
        Exit::Error
    } else {
        Exit::Success
    })
}

/// One line per breach: report, group, period, limit, actual, by how much.
fn describe(breach: &Breach) -> String {
    let scope = breach
        .group
        .as_ref()
        .map_or_else(|| "total".to_owned(), |group| format!("group {group}"));
    if breach.rule == "max_increase_percent" {
        format!(
            "report.{} {} {}: up {} % on the month before, over the {} % allowed by {} points",
            breach.report,
            scope,
            breach.period,
            breach.actual.round_dp(1),
            breach.limit,
            breach.over_by.round_dp(1)
        )
    } else {
        format!(
            "report.{} {} {}: {} {} over the monthly limit of {} by {}",
            breach.report,
            scope,
            breach.period,
            money(breach.actual),
            breach.currency,
            money(breach.limit),
            money(breach.over_by)
        )
    }
}

fn text(checked: &[Checked], not_checked: &[NotIncluded]) -> String {
    let mut out = String::new();
    for report in checked {
        if report.breaches.is_empty() {
            let _ = writeln!(
                out,
                "ok      report.{}: {} held",
                report.report,
                plural(report.rules_checked, "limit")
            );
        }
        for breach in &report.breaches {
            let _ = writeln!(out, "BREACH  {}", describe(breach));
        }
        for group in &report.unknown_groups {
            let _ = writeln!(
                out,
                "warning report.{}: budget group `{group}` is in no result (a typo, or a group that costs nothing)",
                report.report
            );
        }
    }
    for left_out in not_checked {
        let _ = writeln!(
            out,
            "skipped report.{}: not checked: {}",
            left_out.report, left_out.reason
        );
    }
    let breaches: usize = checked.iter().map(|report| report.breaches.len()).sum();
    let held = checked
        .iter()
        .filter(|report| report.breaches.is_empty())
        .count();
    let _ = writeln!(
        out,
        "\nCheck: {} in {}, {} held, {} not checked.",
        plural(breaches, "breach"),
        plural(checked.len() - held, "report"),
        plural(held, "report"),
        not_checked.len()
    );
    out
}

/// `1 limit`, `2 limits`, `0 breaches`.
fn plural(count: usize, noun: &str) -> String {
    let suffix = match (count, noun.ends_with("ch")) {
        (1, _) => "",
        (_, true) => "es",
        (_, false) => "s",
    };
    format!("{count} {noun}{suffix}")
}

fn markdown(checked: &[Checked], not_checked: &[NotIncluded]) -> String {
    let mut out = String::from("### costform check\n\n");
    for report in checked {
        for breach in &report.breaches {
            let _ = writeln!(out, "- :x: {}", describe(breach).replace('|', "\\|"));
        }
        if report.breaches.is_empty() {
            let _ = writeln!(
                out,
                "- :white_check_mark: `report.{}`: {} held",
                report.report,
                plural(report.rules_checked, "limit")
            );
        }
    }
    for left_out in not_checked {
        let _ = writeln!(
            out,
            "- :grey_question: `report.{}`: not checked: {}",
            left_out.report, left_out.reason
        );
    }
    out
}
