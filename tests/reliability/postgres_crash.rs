//! The PostgreSQL backend when runs die: `apply` SIGKILLed at random
//! moments loses no delivered token and leaves no lock anyone must force
//! (the server drops it with the session), and a server stopped mid-apply
//! leaves every token either committed or in the local fallback journal
//! that the next run folds in.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::common;
use crate::postgres::{apply, costform, expect, state};
use crate::support::postgres::Postgres;
use crate::support::{self, EmulatorThread};

/// How many reports each run applies.
const REPORTS: usize = 200;

/// A token handed to the socket less than this before the kill may never
/// have reached costform (see `crash.rs`); older ones must be in the state.
const DELIVERY_MARGIN: SignedDuration = SignedDuration::from_millis(100);

/// The tokens in the state of `url` after a recovering run, asserting one
/// per report.
fn recovered_tokens(
    emulator: &EmulatorThread,
    dir: &Path,
    url: &str,
    context: &str,
) -> BTreeSet<String> {
    let tokens = common::state_tokens(&state(emulator, dir, url));
    let names: BTreeSet<&String> = tokens.iter().map(|(name, _)| name).collect();
    assert_eq!(names.len(), REPORTS, "{context}: one entry per report");
    let recorded: BTreeSet<String> = tokens.into_iter().map(|(_, token)| token).collect();
    assert_eq!(
        recorded.len(),
        REPORTS,
        "{context}: every report has its own token"
    );
    recorded
}

/// The scenario on PostgreSQL: 10 trials of `apply` of 200 reports
/// at 30 ms latency, SIGKILLed at a random moment (seeded; the seed is
/// printed, `COSTFORM_SEED` replays it). After each, the state reads, the
/// next apply runs without `force-unlock` (saying it took over the lock
/// when the killed run held it), and no delivered token is missing.
#[test]
fn sigkill_during_a_postgresql_apply_loses_no_token_and_needs_no_force_unlock() {
    let seed = common::seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let pg = Postgres::start();
    let (mut counted, mut lost, mut taken_over) = (0, 0, 0);
    for trial in 0..10 {
        let kill_after = Duration::from_millis(rng.random_range(0..2_000));
        let context = format!("trial {trial}, kill after {kill_after:?}, seed {seed}");
        let emulator = common::slow_emulator(Duration::from_millis(30));
        let workspace = tempfile::tempdir().expect("a temporary directory");
        let dir = workspace.path();
        support::write_many_reports(dir, REPORTS, 4);
        let url = pg.url(&format!("&workspace=trial-{trial}"));
        let mut child = apply(&emulator, dir, &url, 4)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("costform starts");
        // The random moment is the point of the test, not a wait for something.
        std::thread::sleep(kill_after);
        let killed_at = Timestamp::now();
        child.kill().expect("SIGKILL costform");
        child.wait().expect("reap costform");

        // Readable whatever the moment (no state at all when killed early).
        expect(&mut costform(&emulator, dir, &url, &["show"]), 0);
        let recovered = expect(&mut apply(&emulator, dir, &url, 8), 0);
        if String::from_utf8_lossy(&recovered.stderr).contains("took over the lock") {
            taken_over += 1;
        }
        let recorded = recovered_tokens(&emulator, dir, &url, &context);
        for issued in emulator.issued_tokens() {
            if !issued.delivered || issued.at > killed_at || issued.at + DELIVERY_MARGIN > killed_at
            {
                continue;
            }
            counted += 1;
            if !recorded.contains(&issued.token) {
                lost += 1;
                eprintln!("{context}: LOST token {} for {}", issued.token, issued.body);
            }
        }
    }
    eprintln!(
        "postgres crash figures (seed {seed}): {counted} tokens delivered before the kills, {lost} lost, {taken_over} locks taken over"
    );
    assert_eq!(lost, 0, "tokens lost (replay with COSTFORM_SEED={seed})");
    assert!(
        counted > 0,
        "some trials were killed after tokens were delivered"
    );
}

/// The database stopped by its administrator in the middle of an apply:
/// the run exits 1 naming the fallback journal, and once the server is
/// back the next run folds it in: every token Atlas delivered is there.
#[test]
fn a_server_stopped_mid_apply_keeps_every_token_committed_or_in_the_fallback_journal() {
    let mut pg = Postgres::start();
    let emulator = common::slow_emulator(Duration::from_millis(30));
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, REPORTS, 4);
    let url = pg.url("");
    let child = apply(&emulator, dir, &url, 4)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("costform starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg
        .try_query("SELECT count(*) > 20 FROM costform.journal")
        .as_deref()
        != Some("t")
    {
        assert!(Instant::now() < deadline, "the apply never recorded tokens");
        std::thread::sleep(Duration::from_millis(10));
    }
    pg.stop_server();
    let stopped = child.wait_with_output().expect("the apply ends");
    let message = common::unwrapped(&common::text(&stopped));
    assert_eq!(stopped.status.code(), Some(1), "{message}");
    let fallback = dir.join("costform.default.fallback.journal");
    assert!(
        message.contains("the database went away during the run")
            && message.contains(&fallback.display().to_string()),
        "{message}"
    );
    assert!(fallback.exists(), "the fallback journal was written");
    let delivered: Vec<String> = emulator
        .issued_tokens()
        .into_iter()
        .filter(|issued| issued.delivered)
        .map(|issued| issued.token)
        .collect();

    pg.start_server();
    let recovered = expect(&mut apply(&emulator, dir, &url, 8), 0);
    assert!(!fallback.exists(), "the fallback journal was folded in");
    let recorded = recovered_tokens(&emulator, dir, &url, "after the server came back");
    let missing: Vec<&String> = delivered
        .iter()
        .filter(|token| !recorded.contains(*token))
        .collect();
    assert!(
        missing.is_empty(),
        "tokens lost: {missing:?}\n{}",
        common::text(&recovered)
    );
}
