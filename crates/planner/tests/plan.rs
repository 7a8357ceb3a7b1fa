//! `plan`: every action and reason, targeting, replace, diffs and speed.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{entry, name, now, request, state, token};
use costform_model::ids::ReportName;
use costform_model::plan::{Action, FieldDiff, Reason};
use costform_model::request::{PlannedRequest, Refresh};
use costform_model::state::{ResultFormat, ResultRecord, TokenStatus};
use costform_planner::{Error, PlanOptions, check_not_stale, plan};
use serde_json::json;

fn options() -> PlanOptions {
    PlanOptions {
        now: now(),
        definitions_dir: "reports".to_owned(),
        state_path: "reports/costform.state.json".to_owned(),
        targets: Vec::new(),
        replace: Vec::new(),
    }
}

fn desired(items: &[(&str, PlannedRequest)]) -> BTreeMap<ReportName, PlannedRequest> {
    items
        .iter()
        .map(|(report, request)| (name(report), request.clone()))
        .collect()
}

#[test]
fn without_state_every_report_is_created_and_the_plan_records_no_lineage() {
    let plan = plan(
        &desired(&[("b", request("2026-10-01")), ("a", request("2026-09-01"))]),
        None,
        &options(),
    )
    .unwrap();
    let names: Vec<&str> = plan
        .changes
        .iter()
        .map(|change| change.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(
        plan.changes
            .iter()
            .all(|change| change.action == Action::Create && change.reasons == [Reason::New])
    );
    assert_eq!(plan.changes[0].after, Some(request("2026-09-01")));
    assert_eq!((plan.state.lineage.clone(), plan.state.serial), (None, 0));
    assert_eq!(plan.now, now());
    assert_eq!(
        plan.summary().sentence(),
        "Plan: 2 to create, 0 to requery, 0 to forget."
    );
}

#[test]
fn each_action_and_reason_is_found_and_changes_are_sorted() {
    let mut expired = entry(request("2026-10-01"), token(2));
    expired.status = TokenStatus::Expired;
    let mut failed = entry(request("2026-10-01"), token(5));
    failed.status = TokenStatus::Failed;
    let current = state([
        (name("same"), entry(request("2026-10-01"), token(1))),
        (name("expired"), expired),
        (name("failed"), failed),
        (name("changed"), entry(request("2026-09-01"), token(3))),
        (name("gone"), entry(request("2026-10-01"), token(4))),
    ]);
    let wanted = desired(&[
        ("same", request("2026-10-01")),
        ("expired", request("2026-10-01")),
        ("failed", request("2026-10-01")),
        ("changed", request("2026-10-01")),
        ("new", request("2026-10-01")),
    ]);
    let plan = plan(&wanted, Some(&current), &options()).unwrap();
    let actions: Vec<(&str, Action, Vec<Reason>)> = plan
        .changes
        .iter()
        .map(|change| (change.name.as_str(), change.action, change.reasons.clone()))
        .collect();
    assert_eq!(
        actions,
        [
            ("changed", Action::Requery, vec![Reason::RequestChanged]),
            ("expired", Action::Requery, vec![Reason::HandleExpired]),
            ("failed", Action::Requery, vec![Reason::HandleFailed]),
            ("gone", Action::Forget, vec![Reason::NoLongerDefined]),
            ("new", Action::Create, vec![Reason::New]),
        ]
    );
    assert_eq!(plan.unchanged, [name("same")]);
    let requery = &plan.changes[0];
    assert_eq!(requery.before, Some(request("2026-09-01")));
    assert_eq!(requery.before_handle, Some(token(3)));
    assert_eq!(plan.changes[3].before_handle, Some(token(4)));
    assert_eq!(plan.changes[3].after, None);
    assert_eq!(plan.state.serial, 3);
    assert_eq!(
        plan.summary().sentence(),
        "Plan: 1 to create, 3 to requery, 1 to forget."
    );
}

#[test]
fn field_diffs_name_each_changed_top_level_key_and_removed_ones() {
    let mut before = request("2026-09-01");
    before
        .request
        .insert("services".to_owned(), json!(["Clusters"]));
    before.request_sha256 =
        costform_model::request::request_sha256(&before.org_id, &before.request);
    let current = state([(name("r"), entry(before, token(1)))]);
    let plan = plan(
        &desired(&[("r", request("2026-10-01"))]),
        Some(&current),
        &options(),
    )
    .unwrap();
    assert_eq!(
        plan.changes[0].diff,
        [
            FieldDiff {
                field: "startDate".to_owned(),
                before: Some(json!("2026-09-01")),
                after: Some(json!("2026-10-01"))
            },
            FieldDiff {
                field: "services".to_owned(),
                before: Some(json!(["Clusters"])),
                after: None
            },
        ]
    );
}

#[test]
fn open_month_results_are_refreshed_once_a_day_for_until_closed_reports() {
    let mut until_closed = request("2026-11-01");
    until_closed.refresh = Refresh::UntilClosed;
    until_closed.covers_open_month = true;
    let fetched = |at: &str| {
        let mut fetched = entry(until_closed.clone(), token(1));
        fetched.status = TokenStatus::Ready;
        fetched.result = Some(ResultRecord {
            fetched_at: at.parse().unwrap(),
            path: "results/r.json".to_owned(),
            format: ResultFormat::Json,
            rows: 1,
            sha256: String::new(),
            covers_open_month: true,
            run: None,
            history: None,
        });
        fetched
    };
    let wanted = desired(&[("r", until_closed.clone())]);
    let yesterday = state([(name("r"), fetched("2026-11-25T23:59:59Z"))]);
    let plan_after_a_day = plan(&wanted, Some(&yesterday), &options()).unwrap();
    assert_eq!(
        plan_after_a_day.changes[0].reasons,
        [Reason::OpenMonthRefresh]
    );
    let today = state([(name("r"), fetched("2026-11-26T00:00:01Z"))]);
    assert!(plan(&wanted, Some(&today), &options()).unwrap().is_empty());
    let never = desired(&[(
        "r",
        PlannedRequest {
            refresh: Refresh::Never,
            ..until_closed
        },
    )]);
    assert!(
        plan(&never, Some(&yesterday), &options())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn targets_limit_the_plan_and_unknown_targets_are_listed() {
    let current = state([(name("gone"), entry(request("2026-10-01"), token(1)))]);
    let wanted = desired(&[("a", request("2026-10-01")), ("b", request("2026-10-01"))]);
    let targeted = PlanOptions {
        targets: vec![name("b"), name("gone")],
        ..options()
    };
    let plan_of_two = plan(&wanted, Some(&current), &targeted).unwrap();
    let names: Vec<&str> = plan_of_two
        .changes
        .iter()
        .map(|change| change.name.as_str())
        .collect();
    assert_eq!(names, ["b", "gone"]);

    let unknown = PlanOptions {
        targets: vec![name("zz"), name("a"), name("yy")],
        ..options()
    };
    let error = plan(&wanted, Some(&current), &unknown).unwrap_err();
    assert!(
        matches!(&error, Error::UnknownTargets { names } if *names == [name("yy"), name("zz")])
    );
    assert_eq!(
        error.to_string(),
        "unknown target `yy`, `zz`: not defined and not in the state"
    );
}

#[test]
fn a_report_target_takes_every_for_each_instance_and_only_them() {
    let current = state([(
        name(r#"per-org["apac"]"#),
        entry(request("2026-10-01"), token(1)),
    )]);
    let wanted = desired(&[
        (r#"per-org["amer"]"#, request("2026-10-01")),
        (r#"per-org["emea"]"#, request("2026-10-01")),
        ("per-orgs", request("2026-10-01")),
    ]);
    let all_instances = PlanOptions {
        targets: vec![name("per-org")],
        ..options()
    };
    let plan = plan(&wanted, Some(&current), &all_instances).unwrap();
    let changes: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .map(|change| (change.name.as_str(), change.action))
        .collect();
    assert_eq!(
        changes,
        [
            (r#"per-org["amer"]"#, Action::Create),
            (r#"per-org["apac"]"#, Action::Forget),
            (r#"per-org["emea"]"#, Action::Create),
        ]
    );
}

#[test]
fn replace_requeries_an_unchanged_report_and_refuses_what_cannot_be_replaced() {
    let current = state([
        (name("kept"), entry(request("2026-10-01"), token(1))),
        (name("gone"), entry(request("2026-10-01"), token(2))),
    ]);
    let wanted = desired(&[
        ("kept", request("2026-10-01")),
        ("new", request("2026-10-01")),
    ]);
    let replace = PlanOptions {
        replace: vec![name("kept")],
        targets: vec![name("new")],
        ..options()
    };
    let plan_with_replace = plan(&wanted, Some(&current), &replace).unwrap();
    let kept = plan_with_replace
        .changes
        .iter()
        .find(|change| change.name == name("kept"))
        .unwrap();
    assert_eq!(
        (kept.action, kept.reasons.clone()),
        (Action::Requery, vec![Reason::Replace])
    );
    assert!(kept.diff.is_empty());

    for bad in ["gone", "new"] {
        let replace = PlanOptions {
            replace: vec![name(bad)],
            ..options()
        };
        let error = plan(&wanted, Some(&current), &replace).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot replace `{bad}`")),
            "{error}"
        );
    }
}

#[test]
fn a_saved_plan_is_stale_once_the_state_moves_on() {
    let mut current = state([]);
    let saved = plan(
        &desired(&[("a", request("2026-10-01"))]),
        Some(&current),
        &options(),
    )
    .unwrap();
    let path = "reports/costform.state.json";
    assert!(check_not_stale(&saved, Some(&current), path).is_ok());
    current.serial += 1;
    let error = check_not_stale(&saved, Some(&current), path)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("saved plan is stale"), "{error}");
    assert!(
        error.contains("serial `3`")
            && error.contains("`reports/costform.state.json` is now at serial `4`")
            && error.contains("costform plan"),
        "{error}"
    );
    // A state that is not where the plan's was is named as missing, not as
    // "serial 0": the user looks for the file rather than re-planning blindly.
    let error = check_not_stale(&saved, None, path).unwrap_err().to_string();
    assert!(
        error.contains("but there is no state at `reports/costform.state.json`"),
        "{error}"
    );

    let without_state = plan(&desired(&[("a", request("2026-10-01"))]), None, &options()).unwrap();
    assert!(check_not_stale(&without_state, None, path).is_ok());
    let error = check_not_stale(&without_state, Some(&current), path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("made against no state but"), "{error}");
}

#[test]
fn ten_thousand_reports_plan_quickly() {
    let template = request("2026-10-01");
    let names: Vec<ReportName> = (0..10_000)
        .map(|i| name(&format!("report-{i:05}")))
        .collect();
    let wanted: BTreeMap<_, _> = names
        .iter()
        .map(|report| (report.clone(), template.clone()))
        .collect();
    let current = state(names.iter().enumerate().map(|(i, report)| {
        let stored = if i % 2 == 0 {
            template.clone()
        } else {
            request("2026-09-01")
        };
        (report.clone(), entry(stored, token(1)))
    }));
    let started = Instant::now();
    let plan = plan(&wanted, Some(&current), &options()).unwrap();
    let took = started.elapsed();
    assert_eq!((plan.changes.len(), plan.unchanged.len()), (5_000, 5_000));
    // Generous for unoptimized builds on a busy machine; release is far below.
    assert!(
        took.as_millis() < 100 * if cfg!(debug_assertions) { 5 } else { 1 },
        "{took:?}"
    );
}
