//! Fault storms: rate limits, server errors and dropped connections on the
//! way end with every report recorded once, `Retry-After` honoured, and an
//! Atlas 400 for one report failing that report only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use jiff::SignedDuration;

use crate::common;
use crate::support::{self, Config, Faults};

/// Writes `count` reports, each in its own organization, so that the
/// emulator's request log (which keeps paths, not bodies) tells which report
/// a request was for: the org id is in the path.
fn write_reports_one_org_each(dir: &Path, count: usize) {
    let mut yaml = String::from("reports:\n");
    for index in 0..count {
        let _ = write!(
            yaml,
            "  storm-{index:03}:\n    org_id: \"{index:024x}\"\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services: [Clusters]\n"
        );
    }
    std::fs::write(dir.join("storm.yaml"), yaml).expect("write the definitions");
}

/// The storm: every 3rd API request rate limited (`Retry-After: 1`),
/// every 4th a 500, every 7th dropped. 50 reports at parallelism 8.
#[test]
fn fault_storm_ends_with_one_token_per_report_and_honours_retry_after() {
    const REPORTS: usize = 50;
    let emulator = support::emulator(Config {
        faults: Faults {
            rate_limit_every: Some(3),
            retry_after_secs: 1,
            server_error_every: Some(4),
            drop_every: Some(7),
            ..Faults::default()
        },
        ..Config::demo()
    });
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    write_reports_one_org_each(dir, REPORTS);

    // 4 API requests in 7 fail here. costform-http waits out 429s on their
    // own budget and gives a report 10 failed attempts (5xx, dropped) before
    // giving up, so one apply rides out the storm.
    let applied = common::output(&mut common::apply(&emulator, dir, 8));
    assert_eq!(applied.status.code(), Some(0), "{}", common::text(&applied));

    let state = common::read_json(&common::state_path(dir)).expect("a state");
    let tokens = common::state_tokens(&state);
    assert_eq!(tokens.len(), REPORTS, "one entry per report");
    let issued: BTreeMap<String, String> = emulator
        .issued_tokens()
        .into_iter()
        .map(|token| (token.token, token.org_id))
        .collect();
    for (name, token) in &tokens {
        let index: usize = name["storm-".len()..].parse().expect("storm-NNN");
        assert_eq!(
            issued.get(token),
            Some(&format!("{index:024x}")),
            "report {name}'s token {token} was issued for its own organization"
        );
    }

    // After each 429 at t, that report's next request waits Retry-After.
    let log = emulator.request_log();
    let posts: Vec<_> = log
        .iter()
        .filter(|request| request.method == "POST" && request.path.contains("/costExplorer/"))
        .collect();
    let skew = SignedDuration::from_millis(20);
    let mut rate_limited = 0;
    let mut retries = 0;
    for (position, request) in posts.iter().enumerate() {
        let Some(next) = posts[position + 1..]
            .iter()
            .find(|later| later.path == request.path)
        else {
            assert_eq!(
                request.status,
                Some(202),
                "the last request for {} succeeded: {request:?}",
                request.path
            );
            continue;
        };
        retries += 1;
        if request.status == Some(429) {
            rate_limited += 1;
            assert!(
                next.at >= request.at + SignedDuration::from_secs(1) - skew,
                "the retry of {} came {} after its 429, before Retry-After: 1",
                request.path,
                next.at.duration_since(request.at)
            );
        }
    }
    let dropped = posts.iter().filter(|request| request.dropped).count();
    let server_errors = posts
        .iter()
        .filter(|request| request.status == Some(500))
        .count();
    eprintln!(
        "fault storm: {} POSTs, {rate_limited} answered 429, {server_errors} answered 500, {dropped} dropped, {retries} retries",
        posts.len()
    );
    assert!(
        rate_limited > 0 && server_errors > 0 && dropped > 0,
        "every fault kind happened"
    );
    assert_eq!(
        posts.len(),
        REPORTS + retries,
        "each retry follows a failure"
    );
}

/// An Atlas 400 for one report (a service the model only warns about but
/// the emulator, like Atlas, refuses) fails that report only.
#[test]
fn an_atlas_400_fails_only_its_report() {
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, 5, 1);
    std::fs::write(
        dir.join("refused.yaml"),
        "reports:\n  refused:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services: [AI Models]\n",
    )
    .expect("write the refused report");

    let applied = common::output(&mut common::apply(&emulator, dir, 4));
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(1), "{}", common::text(&applied));
    let failure = stderr
        .lines()
        .find(|line| line.contains("report.refused"))
        .unwrap_or_else(|| {
            panic!(
                "no failure line for report.refused\n{}",
                common::text(&applied)
            )
        });
    assert!(
        failure.contains("VALIDATION_ERROR"),
        "the failure line names the errorCode: {failure}"
    );

    let state = common::read_json(&common::state_path(dir)).expect("the others are recorded");
    let names: Vec<String> = common::state_tokens(&state)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let expected: Vec<String> = (0..5).map(|index| format!("report-{index:05}")).collect();
    assert_eq!(
        names, expected,
        "every other report is recorded, the refused one is not"
    );
}
