//! FOCUS invoice reports end to end (issue #13): apply and fetch through the
//! emulator, the download without any Atlas credential, the two kinds
//! agreeing on a month's total, a FAILED report, an expired download URL, an
//! expired report, an org without an invoice for the month, and a state
//! file of format 1 upgraded on the next write.

use std::path::Path;
use std::process::Output;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{self, NOW};
use crate::support::{self, Config, EmulatorThread};

const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";

/// A FOCUS report of October 2026 and the Cost Explorer query of the same
/// org and month, grouped by service as the emulator's FOCUS file is.
const DEFINITIONS: &str = r#"reports:
  october-focus:
    kind: focus_report
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    invoice_month: "{{ today | start_of_month | add_months(-1) }}"
  october-by-service:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    start_date: "2026-10-01"
    end_date: "2026-11-01"
    group_by: services
"#;

fn workspace(definitions: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("reports.yaml"), definitions).expect("write definitions");
    dir
}

fn run(emulator: &EmulatorThread, dir: &Path, args: &[&str]) -> Output {
    common::output(
        support::costform(emulator)
            .arg("--dir")
            .arg(dir)
            .args(["--now", NOW])
            .args(args),
    )
}

fn apply(emulator: &EmulatorThread, dir: &Path) {
    let applied = run(emulator, dir, &["apply", "--auto-approve"]);
    assert_eq!(applied.status.code(), Some(0), "{}", common::text(&applied));
}

/// `fetch --wait --summary json`: its exit code and its reports by name.
fn fetch(emulator: &EmulatorThread, dir: &Path) -> (Option<i32>, Value, String) {
    let fetched = run(emulator, dir, &["fetch", "--wait", "--summary", "json"]);
    let summary: Value = serde_json::from_slice(&fetched.stdout).unwrap_or(Value::Null);
    let mut by_name = serde_json::Map::new();
    for report in summary["reports"].as_array().into_iter().flatten() {
        by_name.insert(
            report["name"].as_str().unwrap_or_default().to_owned(),
            report.clone(),
        );
    }
    (
        fetched.status.code(),
        Value::Object(by_name),
        common::text(&fetched),
    )
}

fn state(dir: &Path) -> Value {
    common::read_json(&common::state_path(dir)).expect("a state file")
}

fn report_id(dir: &Path, name: &str) -> String {
    state(dir)["reports"][name]["handle"]["report_id"]
        .as_str()
        .expect("a report id in the handle")
        .to_owned()
}

fn total(report: &Value) -> Decimal {
    report["total_usage"]
        .as_str()
        .expect("a total")
        .parse()
        .expect("a decimal total")
}

#[test]
fn a_focus_report_is_fetched_without_credentials_and_agrees_with_cost_explorer() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    let handle = &state(dir)["reports"]["october-focus"]["handle"];
    assert!(
        handle["invoice_id"].is_string() && handle["report_id"].is_string(),
        "{handle}"
    );

    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    let focus = &reports["october-focus"];
    assert_eq!(focus["status"], "ready", "{text}");
    assert_eq!(focus["rows"], 4 * 31, "a row per service and day: {text}");
    assert_eq!(
        total(focus),
        total(&reports["october-by-service"]),
        "the FOCUS file and Cost Explorer agree on October: {text}"
    );
    let file = std::fs::read_to_string(dir.join("results/october-focus.csv")).expect("the CSV");
    assert!(
        file.starts_with("BillingAccountId,"),
        "decompressed: {file:.80}"
    );

    let downloads = emulator.download_log();
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    assert_eq!(downloads[0].status, 200);
    assert_eq!(
        downloads[0].authorization, None,
        "no credential reached the download host"
    );
    assert!(
        emulator
            .request_log()
            .iter()
            .all(|logged| !logged.path.starts_with("/reports/")),
        "the download went to the second listener only"
    );
}

/// Atlas marking an invoice report FAILED is final: the fetch that finds it
/// says why once and exits 1, the state records `failed` with the report id
/// kept, later fetches leave it alone, and the next plan re-queries it.
#[test]
fn a_failed_report_is_recorded_once_and_requeried_by_the_next_apply() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    let first = report_id(dir, "october-focus");
    emulator.fail_reports(Some("the invoice has no usage lines"));
    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(reports["october-focus"]["status"], "failed", "{text}");
    let error = reports["october-focus"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("the invoice has no usage lines"), "{text}");
    assert!(
        error.contains("the next `costform apply` asks for a new one"),
        "says what happens next: {text}"
    );
    assert_eq!(
        reports["october-by-service"]["status"], "ready",
        "only that report failed"
    );
    assert!(emulator.download_log().is_empty());
    let entry = &state(dir)["reports"]["october-focus"];
    assert_eq!(entry["status"], "failed", "{entry}");
    assert_eq!(
        report_id(dir, "october-focus"),
        first,
        "the report id is kept"
    );

    let report_reads = || {
        emulator
            .request_log()
            .iter()
            .filter(|logged| logged.method == "GET" && logged.path.contains(&first))
            .count()
    };
    let reads = report_reads();
    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "said once, not again: {text}");
    assert!(reports.get("october-focus").is_none(), "{text}");
    assert_eq!(report_reads(), reads, "a failed report is not polled again");

    let plan = run(&emulator, dir, &["plan"]);
    let plan_text = common::text(&plan);
    assert!(
        plan_text.contains("-/+ report.october-focus (invoice report failed)"),
        "{plan_text}"
    );
    assert!(plan_text.contains("1 to requery"), "{plan_text}");
    emulator.fail_reports(None);
    apply_replaces_and_fetches(&emulator, dir, &first);
}

/// Once every report in the state has failed, fetch has nothing to poll
/// and says why instead of printing an empty table.
#[test]
fn a_fetch_with_only_failed_reports_says_there_is_nothing_to_fetch() {
    let emulator = support::emulator(Config::demo());
    let only_focus = DEFINITIONS
        .split("  october-by-service:")
        .next()
        .expect("the FOCUS report");
    let workspace = workspace(only_focus);
    let dir = workspace.path();
    apply(&emulator, dir);
    emulator.fail_reports(Some("no usage"));
    let (code, _, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(1), "{text}");
    let again = run(&emulator, dir, &["fetch"]);
    let text = common::text(&again);
    assert_eq!(again.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Nothing to fetch: every report in the state expired or failed"),
        "{text}"
    );
}

#[test]
fn a_download_refused_as_expired_is_renewed_once_by_reading_the_report_again() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    // The URL expires between the report's read and the download (403).
    emulator.refuse_next_downloads(1);
    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(reports["october-focus"]["status"], "ready", "{text}");
    let downloads = emulator.download_log();
    let statuses: Vec<u16> = downloads.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [403, 200], "one renewal");
    assert_ne!(downloads[0].path, downloads[1].path, "a fresh URL");
}

#[test]
fn a_url_past_its_expires_at_is_renewed_once_and_then_the_report_fails() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    // Every URL is handed out already expired: one renewal, then a clear error.
    emulator.set_download_url_lifetime(jiff::SignedDuration::from_secs(-1));
    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(1), "{text}");
    let error = reports["october-focus"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("still refused as expired after reading the report again"),
        "{text}"
    );
    let report_reads = emulator
        .request_log()
        .iter()
        .filter(|logged| logged.method == "GET" && logged.path.contains("/reports/"))
        .count();
    // Polls until SUCCEEDED (the emulator's one processing poll), then the
    // read that found the URL expired and the one renewal.
    assert_eq!(report_reads, 3, "{text}");
    assert_eq!(
        emulator.download_log().len(),
        1,
        "the renewed URL is tried once"
    );
    assert_eq!(
        state(dir)["reports"]["october-focus"]["status"],
        "submitted",
        "the report is kept"
    );
}

#[test]
fn an_expired_report_is_created_again_by_the_next_apply() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    let first = report_id(dir, "october-focus");
    assert!(emulator.expire_report(&first));
    let (code, reports, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(reports["october-focus"]["status"], "expired", "{text}");

    let plan = run(&emulator, dir, &["plan"]);
    let plan_text = common::text(&plan);
    assert!(plan_text.contains("report.october-focus"), "{plan_text}");
    assert!(plan_text.contains("1 to requery"), "{plan_text}");
    apply_replaces_and_fetches(&emulator, dir, &first);
}

/// `apply` replaces the FOCUS report `first` with a new one, whose file the
/// next fetch gets.
fn apply_replaces_and_fetches(emulator: &EmulatorThread, dir: &Path, first: &str) {
    apply(emulator, dir);
    assert_ne!(report_id(dir, "october-focus"), first, "a new report");
    let (code, reports, text) = fetch(emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(reports["october-focus"]["status"], "ready", "{text}");
}

#[test]
fn plan_refresh_finds_an_expired_report_without_downloading_anything() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    let (code, _, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    let downloads = emulator.download_log().len();
    assert!(emulator.expire_report(&report_id(dir, "october-focus")));
    let plan = run(&emulator, dir, &["plan", "--refresh"]);
    let plan_text = common::text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{plan_text}");
    // A FOCUS report's handle is an invoice report id, not a token: the
    // check's line and the plan's reason say so.
    assert!(
        plan_text.contains("report.october-focus: invoice report expired"),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("report.october-focus (invoice report expired)"),
        "{plan_text}"
    );
    assert!(!plan_text.contains("token"), "{plan_text}");
    assert!(plan_text.contains("1 to requery"), "{plan_text}");
    assert_eq!(
        emulator.download_log().len(),
        downloads,
        "a check reads the report only"
    );
}

/// `plan --refresh` finds a report Atlas marked FAILED before any fetch
/// did, and re-queries it, without downloading or writing anything.
#[test]
fn plan_refresh_finds_a_failed_report_and_requeries_it() {
    let emulator = support::emulator(Config {
        processing_polls: 0,
        ..Config::demo()
    });
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    emulator.fail_reports(Some("the invoice has no usage lines"));
    let before = std::fs::read(common::state_path(dir)).expect("the state");
    let plan = run(&emulator, dir, &["plan", "--refresh"]);
    let plan_text = common::text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{plan_text}");
    assert!(
        plan_text.contains(
            "report.october-focus: atlas could not make the invoice report: the invoice has no usage lines"
        ),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("-/+ report.october-focus (invoice report failed)"),
        "{plan_text}"
    );
    assert!(plan_text.contains("1 to requery"), "{plan_text}");
    assert!(emulator.download_log().is_empty());
    assert_eq!(
        std::fs::read(common::state_path(dir)).expect("the state"),
        before,
        "plan never writes the state"
    );
}

#[test]
fn an_org_without_an_invoice_for_the_month_fails_that_report_clearly() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(&format!(
        "{DEFINITIONS}  before-invoices:\n    kind: focus_report\n    org_id: {ORG}\n    invoice_month: \"2019-06-01\"\n"
    ));
    let dir = workspace.path();
    let applied = run(&emulator, dir, &["apply", "--auto-approve"]);
    let text = common::text(&applied);
    assert_eq!(applied.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "organization `{ORG}` has no invoice for the month of 2019-06-01"
        )),
        "{text}"
    );
    let reports = &state(dir)["reports"];
    assert!(reports.get("before-invoices").is_none(), "{reports}");
    assert!(
        reports["october-focus"]["handle"]["report_id"].is_string(),
        "the others are applied"
    );
}

#[test]
fn a_format_1_state_is_upgraded_on_the_next_write_and_says_so() {
    let emulator = support::emulator(Config::demo());
    let workspace = workspace(DEFINITIONS);
    let dir = workspace.path();
    apply(&emulator, dir);
    // Rewrite the state as costform 0.1 wrote it: format 1, a bare token.
    let path = common::state_path(dir);
    let mut old = state(dir);
    old["format_version"] = Value::from(1);
    let reports = old["reports"].as_object_mut().expect("reports");
    reports.remove("october-focus");
    let entry = reports["october-by-service"]
        .as_object_mut()
        .expect("an entry");
    let token = entry.remove("handle").expect("a handle")["token"].clone();
    entry.insert("token".to_owned(), token.clone());
    std::fs::write(&path, serde_json::to_string_pretty(&old).expect("json")).expect("write");

    let shown = run(&emulator, dir, &["show"]);
    assert_eq!(shown.status.code(), Some(0), "{}", common::text(&shown));
    let (code, _, text) = fetch(&emulator, dir);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("upgraded the state file from format 1 to 2"),
        "{text}"
    );
    let upgraded = state(dir);
    assert_eq!(upgraded["format_version"], 2);
    assert_eq!(
        upgraded["reports"]["october-by-service"]["handle"]["token"],
        token
    );
    let backup = common::read_json(&common::sibling(&path, ".backup")).expect("a backup");
    assert_eq!(
        backup["format_version"], 1,
        "the old file is kept as the backup"
    );
}
