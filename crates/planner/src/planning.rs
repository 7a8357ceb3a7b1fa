//! `plan`: the diff between the rendered requests and the state, as a value.
//! Pure: no clock, no files, no network; the caller passes "now" in.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use costform_model::ids::ReportName;
use costform_model::plan::{
    Action, Change, FieldDiff, PLAN_FORMAT_VERSION, Plan, Reason, StateVersion,
};
use costform_model::request::{PlannedRequest, Refresh};
use costform_model::state::{State, StateEntry, TokenStatus};
use jiff::Timestamp;
use serde_json::Value;

use crate::error::Error;

/// What the caller resolved for this plan, besides the requests and the state.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The "now" the requests were rendered with; recorded in the plan and
    /// used to decide whether open-month results are a day old.
    pub now: Timestamp,
    /// The definitions directory as given, recorded in the plan.
    pub definitions_dir: String,
    /// The state file as given, recorded in the plan for `apply FILE`.
    pub state_path: String,
    /// Limits the plan to these reports (`--target`); empty means all.
    pub targets: Vec<ReportName>,
    /// Reports to re-query although nothing changed (`--replace`). They are
    /// in scope even when `targets` does not name them.
    pub replace: Vec<ReportName>,
}

/// Computes what `apply` would do to bring the state in line with `desired`
/// (`None`: no state file yet). Changes come sorted by report name. The
/// requests may be borrowed (`&PlannedRequest`), so a caller holding them
/// elsewhere does not copy 10,000 bodies to plan.
pub fn plan<R: Borrow<PlannedRequest>>(
    desired: &BTreeMap<ReportName, R>,
    state: Option<&State>,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    let empty = BTreeMap::new();
    let current = state.map_or(&empty, |state| &state.reports);
    check_names(desired, current, options)?;
    let replace: BTreeSet<&ReportName> = options.replace.iter().collect();
    let scope: Option<Vec<&ReportName>> = (!options.targets.is_empty())
        .then(|| options.targets.iter().chain(&options.replace).collect());
    // `report.NAME` targets every instance `report.NAME["KEY"]` too.
    let in_scope = |name: &ReportName| {
        scope
            .as_ref()
            .is_none_or(|scope| scope.iter().any(|target| target.covers(name)))
    };

    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    for (name, after) in desired.iter().filter(|(name, _)| in_scope(name)) {
        let after = after.borrow();
        let Some(entry) = current.get(name) else {
            changes.push(create(name, after));
            continue;
        };
        let reasons = requery_reasons(entry, after, replace.contains(name), options.now);
        if reasons.is_empty() {
            unchanged.push(name.clone());
        } else {
            changes.push(requery(name, entry, after, reasons));
        }
    }
    for (name, entry) in current.iter().filter(|(name, _)| in_scope(name)) {
        if !desired.contains_key(name) {
            changes.push(forget(name, entry));
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));

    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        costform_version: env!("CARGO_PKG_VERSION").to_owned(),
        now: options.now,
        definitions_dir: options.definitions_dir.clone(),
        state_path: options.state_path.clone(),
        state: StateVersion {
            lineage: state.map(|state| state.lineage.clone()),
            serial: state.map_or(0, |state| state.serial),
        },
        unchanged,
        changes,
        lookups: Vec::new(),
        waiting: BTreeMap::new(),
    })
}

/// Refuses targets that name nothing and replacements that cannot happen,
/// listing every offending name at once.
fn check_names<R>(
    desired: &BTreeMap<ReportName, R>,
    current: &BTreeMap<ReportName, StateEntry>,
    options: &PlanOptions,
) -> Result<(), Error> {
    let names_something = |target: &ReportName| {
        desired
            .keys()
            .chain(current.keys())
            .any(|name| target.covers(name))
    };
    let unknown = sorted_unique(
        options
            .targets
            .iter()
            .filter(|target| !names_something(target)),
    );
    if !unknown.is_empty() {
        return Err(Error::UnknownTargets { names: unknown });
    }
    let impossible = sorted_unique(
        options
            .replace
            .iter()
            .filter(|name| !desired.contains_key(*name) || !current.contains_key(*name)),
    );
    if !impossible.is_empty() {
        return Err(Error::CannotReplace { names: impossible });
    }
    Ok(())
}

fn sorted_unique<'a>(names: impl Iterator<Item = &'a ReportName>) -> Vec<ReportName> {
    names
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect()
}

/// Why an existing entry needs a new token, in the order the checks run.
fn requery_reasons(
    entry: &StateEntry,
    after: &PlannedRequest,
    replace: bool,
    now: Timestamp,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if entry.request.request_sha256 != after.request_sha256 {
        reasons.push(Reason::RequestChanged);
    }
    match entry.status {
        TokenStatus::Expired => reasons.push(Reason::HandleExpired),
        TokenStatus::Failed => reasons.push(Reason::HandleFailed),
        TokenStatus::Submitted | TokenStatus::Ready => {}
    }
    if replace {
        reasons.push(Reason::Replace);
    }
    let fetched_open_month_before_today = entry.result.as_ref().is_some_and(|result| {
        result.covers_open_month && utc_day(result.fetched_at) < utc_day(now)
    });
    if after.refresh == Refresh::UntilClosed && fetched_open_month_before_today {
        reasons.push(Reason::OpenMonthRefresh);
    }
    reasons
}

/// Days since the epoch in UTC: Unix time has no leap seconds, so this is
/// exact and cheaper than a calendar conversion.
fn utc_day(timestamp: Timestamp) -> i64 {
    timestamp.as_second().div_euclid(86_400)
}

fn create(name: &ReportName, after: &PlannedRequest) -> Change {
    Change {
        name: name.clone(),
        action: Action::Create,
        reasons: vec![Reason::New],
        before: None,
        before_handle: None,
        after: Some(after.clone()),
        diff: Vec::new(),
    }
}

fn requery(
    name: &ReportName,
    entry: &StateEntry,
    after: &PlannedRequest,
    reasons: Vec<Reason>,
) -> Change {
    Change {
        name: name.clone(),
        action: Action::Requery,
        reasons,
        before: Some(entry.request.clone()),
        before_handle: Some(entry.handle.clone()),
        after: Some(after.clone()),
        diff: field_diff(&entry.request, after),
    }
}

fn forget(name: &ReportName, entry: &StateEntry) -> Change {
    Change {
        name: name.clone(),
        action: Action::Forget,
        reasons: vec![Reason::NoLongerDefined],
        before: Some(entry.request.clone()),
        before_handle: Some(entry.handle.clone()),
        after: None,
        diff: Vec::new(),
    }
}

/// The fields that differ: `org_id`, `kind`, then the body's top-level keys
/// in the new request's order, then keys only the old request had.
fn field_diff(before: &PlannedRequest, after: &PlannedRequest) -> Vec<FieldDiff> {
    let mut diff = Vec::new();
    let mut compare = |field: &str, old: Option<&Value>, new: Option<&Value>| {
        if old != new {
            diff.push(FieldDiff {
                field: field.to_owned(),
                before: old.cloned(),
                after: new.cloned(),
            });
        }
    };
    let org = |request: &PlannedRequest| Value::String(request.org_id.to_string());
    let kind = |request: &PlannedRequest| Value::String(request.kind.clone());
    compare("org_id", Some(&org(before)), Some(&org(after)));
    compare("kind", Some(&kind(before)), Some(&kind(after)));
    for (key, value) in &after.request {
        compare(key, before.request.get(key), Some(value));
    }
    for (key, value) in before
        .request
        .iter()
        .filter(|(key, _)| !after.request.contains_key(*key))
    {
        compare(key, Some(value), None);
    }
    diff
}
