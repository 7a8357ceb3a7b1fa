//! Concurrency: one writer at a time on a state, a clear message naming the
//! holder for the other, and a lock left by a killed run that is reported as
//! such and cleared with `force-unlock`.

use std::time::{Duration, Instant};

use crate::common;
use crate::support::{self, Config, EmulatorThread, Faults};

const REPORTS: usize = 20;

fn slow_emulator() -> EmulatorThread {
    support::emulator(Config {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..Config::demo()
    })
}

/// Asserts the state in `dir` holds exactly one distinct token per report.
fn assert_one_token_per_report(dir: &std::path::Path) {
    let state = common::read_json(&common::state_path(dir)).expect("a state");
    let tokens = common::state_tokens(&state);
    let names: Vec<String> = tokens.iter().map(|(name, _)| name.clone()).collect();
    let expected: Vec<String> = (0..REPORTS)
        .map(|index| format!("report-{index:05}"))
        .collect();
    assert_eq!(names, expected);
    let mut distinct: Vec<&String> = tokens.iter().map(|(_, token)| token).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), REPORTS, "no token shared between reports");
}

/// Two applies started together (150 ms latency per request, so they
/// overlap by seconds): one proceeds, the other fails fast naming the holder.
#[test]
fn two_applies_on_one_state_one_proceeds_the_other_names_the_holder() {
    let emulator = slow_emulator();
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, REPORTS, 2);

    let first = common::apply(&emulator, dir, 2)
        .spawn()
        .expect("costform starts");
    let second = common::apply(&emulator, dir, 2)
        .spawn()
        .expect("costform starts");
    let pids = [first.id(), second.id()];
    let outputs = [
        first.wait_with_output().expect("wait for the first apply"),
        second
            .wait_with_output()
            .expect("wait for the second apply"),
    ];
    let codes: Vec<Option<i32>> = outputs.iter().map(|output| output.status.code()).collect();
    let winner = codes.iter().position(|code| *code == Some(0));
    let loser = codes.iter().position(|code| *code == Some(1));
    let (Some(winner), Some(loser)) = (winner, loser) else {
        panic!(
            "expected one success and one exit 1, got {codes:?}\n{}\n{}",
            common::text(&outputs[0]),
            common::text(&outputs[1])
        );
    };
    let stderr = common::unwrapped(&String::from_utf8_lossy(&outputs[loser].stderr));
    assert!(stderr.contains("state is locked"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid `{}`", pids[winner])),
        "the loser names the winner's pid {}: {stderr}",
        pids[winner]
    );
    assert!(stderr.contains("command `apply`"), "{stderr}");
    assert!(
        stderr.contains('@'),
        "the message names user@host: {stderr}"
    );
    assert!(
        stderr.contains("is held by lock `"),
        "the message names the lock id: {stderr}"
    );
    assert_one_token_per_report(dir);
    assert_eq!(
        emulator.issued_tokens().len(),
        REPORTS,
        "the loser sent nothing"
    );
}

/// A lock left by a SIGKILLed apply: the next run says whose it is, how old,
/// that the holder is gone and how to force it; `force-unlock` with that id
/// clears it and the next apply completes.
#[test]
fn a_lock_left_by_a_killed_apply_is_reported_stale_and_force_unlocked() {
    let emulator = slow_emulator();
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, REPORTS, 2);
    let lock = common::sibling(&common::state_path(dir), ".lock");

    let mut holder = common::apply(&emulator, dir, 2)
        .spawn()
        .expect("costform starts");
    let holder_pid = holder.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lock.exists() || emulator.request_log().is_empty() {
        assert!(
            Instant::now() < deadline,
            "apply never took the lock and sent a request"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    holder.kill().expect("SIGKILL the apply");
    holder.wait().expect("reap the apply");
    let lock_info = common::read_json(&lock).expect("the killed run left its lock");
    let lock_id = lock_info["id"].as_str().expect("a lock id").to_owned();

    let refused = common::output(&mut common::apply(&emulator, dir, 2));
    assert_eq!(refused.status.code(), Some(1), "{}", common::text(&refused));
    let stderr = common::unwrapped(&String::from_utf8_lossy(&refused.stderr));
    assert!(
        stderr.contains(&format!("pid `{holder_pid}`")),
        "names the dead pid: {stderr}"
    );
    assert!(
        stderr.contains(", for "),
        "says how old the lock is: {stderr}"
    );
    assert!(
        stderr.contains("the holding process is gone"),
        "says the holder is gone: {stderr}"
    );
    assert!(
        stderr.contains(&format!("costform force-unlock {lock_id}")),
        "gives the force-unlock command: {stderr}"
    );

    let wrong = common::output(
        support::costform(&emulator)
            .arg("--dir")
            .arg(dir)
            .args(["force-unlock", "00000000-0000-0000-0000-000000000000"]),
    );
    assert_eq!(wrong.status.code(), Some(1), "a wrong id breaks nothing");
    assert!(lock.exists());

    let unlocked = common::output(
        support::costform(&emulator)
            .arg("--dir")
            .arg(dir)
            .args(["force-unlock", &lock_id]),
    );
    assert_eq!(
        unlocked.status.code(),
        Some(0),
        "{}",
        common::text(&unlocked)
    );
    assert!(!lock.exists(), "force-unlock removed the lock");

    emulator.set_faults(Faults::default());
    let recovered = common::output(&mut common::apply(&emulator, dir, 2));
    assert_eq!(
        recovered.status.code(),
        Some(0),
        "{}",
        common::text(&recovered)
    );
    assert_one_token_per_report(dir);
}
