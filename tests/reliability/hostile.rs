//! Hostile input through the binary: huge files, huge report counts, alias
//! bombs, runaway templates and templates fishing for secrets end in a clear
//! answer, within bounded time and memory, and never in a crash.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{self, NOW, Watched};
use crate::support::{self, Config, EmulatorThread};

/// Peak RSS any hostile input may cost, in KiB (1 GiB).
const MEMORY_LIMIT_KIB: u64 = 1024 * 1024;

pub(crate) fn costform_in(emulator: &EmulatorThread, dir: &Path, args: &[&str]) -> Command {
    let mut command = support::costform(emulator);
    command
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW])
        .args(args);
    command
}

/// Asserts a clean end (exit 0 or 1, not a signal, not the deadline) within
/// the memory limit, and prints the figures.
pub(crate) fn assert_bounded(what: &str, watched: &Watched) {
    eprintln!(
        "{what}: exit {:?} in {:?}, peak RSS {} MiB",
        watched.status.and_then(|status| status.code()),
        watched.elapsed,
        watched.peak_rss_kib / 1024
    );
    let status = watched
        .status
        .unwrap_or_else(|| panic!("{what}: still running at the deadline, killed"));
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "{what}: ended with {status} (a signal is a crash)\n{}",
        watched.stderr
    );
    assert!(
        watched.peak_rss_kib < MEMORY_LIMIT_KIB,
        "{what}: peak RSS {} KiB over the limit",
        watched.peak_rss_kib
    );
}

/// A definitions file of ~50 MB (the full run; 8 MB by default to keep CI
/// fast): one report whose `services` list is millions of entries long.
#[test]
fn a_huge_definitions_file_is_answered_within_bounded_time_and_memory() {
    let megabytes = if common::full_run() { 50 } else { 8 };
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    let mut yaml = String::from(
        "reports:\n  huge:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services:\n",
    );
    while yaml.len() < megabytes * 1024 * 1024 {
        yaml.push_str("      - Clusters\n");
    }
    std::fs::write(dir.join("huge.yaml"), &yaml).expect("write the huge file");
    let watched = common::watch(
        &mut costform_in(&emulator, dir, &["validate"]),
        Duration::from_secs(120),
    );
    assert_bounded(&format!("validate of a {megabytes} MB file"), &watched);
    if watched.status.and_then(|status| status.code()) == Some(1) {
        assert!(
            watched.stderr.contains("huge.yaml"),
            "the refusal names the file: {}",
            watched.stderr
        );
    }
}

/// 100,000 reports in 100 files validate (the full run; 10,000 by default).
#[test]
fn a_hundred_thousand_reports_validate_in_bounded_time() {
    let count = if common::full_run() { 100_000 } else { 10_000 };
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, count, 100);
    let watched = common::watch(
        &mut costform_in(&emulator, dir, &["validate"]),
        Duration::from_secs(240),
    );
    assert_bounded(&format!("validate of {count} reports"), &watched);
    assert_eq!(
        watched.status.and_then(|status| status.code()),
        Some(0),
        "{count} valid reports validate\n{}{}",
        watched.stdout,
        watched.stderr
    );
}

/// The YAML "billion laughs": nine levels of aliases, each nine times the
/// one below, expand to 9^9 (387 million) strings if expanded naively.
#[test]
fn a_billion_laughs_is_refused_quickly_without_memory_blow_up() {
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    let mut yaml = String::from("a0: &a0 \"lol\"\n");
    for level in 1..=9 {
        let below = level - 1;
        let _ = writeln!(
            yaml,
            "a{level}: &a{level} [*a{below}, *a{below}, *a{below}, *a{below}, *a{below}, *a{below}, *a{below}, *a{below}, *a{below}]"
        );
    }
    yaml.push_str("reports:\n  laughs:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services: *a9\n");
    std::fs::write(dir.join("laughs.yaml"), yaml).expect("write the bomb");
    let watched = common::watch(
        &mut costform_in(&emulator, dir, &["validate"]),
        Duration::from_secs(30),
    );
    assert_bounded("validate of a billion laughs", &watched);
    assert_eq!(
        watched.status.and_then(|status| status.code()),
        Some(1),
        "{}",
        watched.stderr
    );
    assert!(watched.elapsed < Duration::from_secs(10), "refused quickly");
    assert!(
        watched.stderr.contains("laughs.yaml"),
        "the error names the file: {}",
        watched.stderr
    );
}

/// A template that would loop a billion times is refused: loops are not
/// allowed (issue #11), and fuel would stop one anyway.
#[test]
fn a_runaway_template_is_stopped() {
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    std::fs::write(
        dir.join("loop.yaml"),
        "reports:\n  forever:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"{% for i in range(1000000000) %}{% endfor %}2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n",
    )
    .expect("write the loop");
    let watched = common::watch(
        &mut costform_in(&emulator, dir, &["validate"]),
        Duration::from_secs(30),
    );
    assert_bounded("validate of a runaway template", &watched);
    assert_eq!(
        watched.status.and_then(|status| status.code()),
        Some(1),
        "{}",
        watched.stderr
    );
    assert!(watched.elapsed < Duration::from_secs(10), "stopped quickly");
    assert!(
        watched.stderr.contains("loop.yaml"),
        "the error names the file: {}",
        watched.stderr
    );
}

/// `env('MONGODB_ATLAS_CLIENT_SECRET')` in a definition is refused by every
/// command that renders, and the secret (set in the environment) is echoed
/// by none of them.
#[test]
fn a_template_reading_a_credential_is_refused_and_never_echoes_it() {
    const SECRET: &str = "hostile-marker-client-secret-7f3a";
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    std::fs::write(
        dir.join("fishing.yaml"),
        "reports:\n  fishing:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services: [\"{{ env('MONGODB_ATLAS_CLIENT_SECRET') }}\"]\n",
    )
    .expect("write the definition");
    for command in [&["validate"][..], &["render"], &["plan"]] {
        let output = common::output(
            costform_in(&emulator, dir, command).env("MONGODB_ATLAS_CLIENT_SECRET", SECRET),
        );
        let all = common::text(&output);
        assert_eq!(output.status.code(), Some(1), "{command:?} refuses\n{all}");
        assert!(
            !all.contains(SECRET),
            "{command:?} echoed the secret\n{all}"
        );
        assert!(
            common::unwrapped(&all).contains("MONGODB_ATLAS_CLIENT_SECRET"),
            "{command:?} names the refused variable\n{all}"
        );
    }
    assert!(!common::state_path(dir).exists(), "nothing was written");
}
