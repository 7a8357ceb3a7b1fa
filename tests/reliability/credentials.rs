//! Credentials against a strict Atlas (issue #10): Digest at `--parallelism
//! 16` against a server refusing reused or overtaken nonce counts, a service
//! account whose mint fails, and the token revoked at the end of a run.

use std::process::{Command, Output};

use costform_emulator::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PRIVATE_API_KEY, DEMO_PUBLIC_API_KEY,
};

use crate::common::{self, read_json, state_path, state_tokens};
use crate::support::{self, Config, EmulatorThread};

/// `apply --auto-approve --parallelism 16` in `dir` with `env` as the only
/// credentials.
fn apply_with(emulator: &EmulatorThread, dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
    let mut command = common::apply(emulator, dir, 16);
    command.env_remove("MONGODB_ATLAS_ACCESS_TOKEN");
    command.envs(env.iter().copied());
    command
}

/// The examples applied with the demo service account and `secret`.
fn apply_as_service_account(emulator: &EmulatorThread, secret: &str) -> Output {
    let workspace = support::workspace_with_examples();
    common::output(&mut apply_with(
        emulator,
        workspace.path(),
        &[
            ("MONGODB_ATLAS_CLIENT_ID", DEMO_CLIENT_ID),
            ("MONGODB_ATLAS_CLIENT_SECRET", secret),
        ],
    ))
}

fn requests_to(emulator: &EmulatorThread, path: &str) -> usize {
    emulator
        .request_log()
        .iter()
        .filter(|request| request.path == path)
        .count()
}

#[test]
fn two_digest_applies_at_parallelism_16_pass_a_strict_nonce_server() {
    const REPORTS: usize = 64;
    let emulator = support::emulator(Config {
        strict_nonce_count: true,
        ..Config::demo()
    });
    let keys = [
        ("MONGODB_ATLAS_PUBLIC_API_KEY", DEMO_PUBLIC_API_KEY),
        ("MONGODB_ATLAS_PRIVATE_API_KEY", DEMO_PRIVATE_API_KEY),
    ];
    let workspaces: Vec<_> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            support::write_many_reports(dir.path(), REPORTS, 4);
            dir
        })
        .collect();

    let runs: Vec<std::process::Child> = workspaces
        .iter()
        .map(|dir| {
            apply_with(&emulator, dir.path(), &keys)
                .spawn()
                .expect("costform starts")
        })
        .collect();
    let outputs: Vec<Output> = runs
        .into_iter()
        .map(|run| run.wait_with_output().expect("costform ends"))
        .collect();

    for (dir, output) in workspaces.iter().zip(&outputs) {
        assert_eq!(output.status.code(), Some(0), "{}", common::text(output));
        let state = read_json(&state_path(dir.path())).expect("a state file");
        assert_eq!(state_tokens(&state).len(), REPORTS);
    }
    let log = emulator.request_log();
    let refused: Vec<_> = log.iter().filter(|r| r.status == Some(401)).collect();
    let first_contact = refused
        .iter()
        .filter(|r| r.header("authorization").is_none())
        .count();
    eprintln!(
        "strict digest, 2 applies x {REPORTS} reports at --parallelism 16: {} requests, \
         {} answered 401 ({first_contact} without credentials, {} for a reused or \
         overtaken nonce count), each answered with one fresh challenge",
        log.len(),
        refused.len(),
        refused.len() - first_contact
    );
    assert_eq!(emulator.issued_tokens().len(), 2 * REPORTS);
    assert_eq!(
        log.len(),
        2 * REPORTS + refused.len(),
        "every 401 is followed by exactly one resend"
    );
}

#[test]
fn a_failed_mint_asks_for_one_token_and_says_why_once() {
    let emulator = support::emulator(Config::demo());
    let output = apply_as_service_account(&emulator, "not-the-secret");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", common::text(&output));
    let token_requests = requests_to(&emulator, "/api/oauth/token");
    eprintln!("failed mint: {token_requests} token request(s) for the example reports");
    assert_eq!(token_requests, 1, "{stderr}");
    assert_eq!(emulator.issued_tokens().len(), 0);
    // The explanation once, in the closing error, and no line per report:
    // the reports left unsent are counted with the refusal.
    assert_eq!(
        stderr.matches("could not obtain an access token").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("failed earlier in this run").count(),
        0,
        "{stderr}"
    );
    // The examples read a lookup before planning, so the refusal comes from
    // it: the apply stops there, before any query, saying why once.
    assert!(stderr.contains("lookup."), "{stderr}");
    assert!(
        stderr.contains("MONGODB_ATLAS_CLIENT_ID") && stderr.contains("invalid_client"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret"), "{stderr}");
}

#[test]
fn a_service_account_run_revokes_its_token_at_the_end() {
    let emulator = support::emulator(Config::demo());
    let output = apply_as_service_account(&emulator, DEMO_CLIENT_SECRET);

    assert_eq!(output.status.code(), Some(0), "{}", common::text(&output));
    let log = emulator.request_log();
    let last = log.last().expect("requests were made");
    assert_eq!(
        (last.path.as_str(), last.status),
        ("/api/oauth/revoke", Some(200))
    );
    assert_eq!(requests_to(&emulator, "/api/oauth/token"), 1);
    assert_eq!(requests_to(&emulator, "/api/oauth/revoke"), 1);
}

/// Issue #11 item 10: an `expires_in` of `u64::MAX` used to overflow the
/// clock and panic (exit 101); the lifetime is now capped.
#[test]
fn an_expires_in_of_u64_max_does_not_panic() {
    let emulator = support::emulator(Config {
        oauth_token_lifetime: std::time::Duration::from_secs(u64::MAX),
        ..Config::demo()
    });
    let output = apply_as_service_account(&emulator, DEMO_CLIENT_SECRET);

    assert_eq!(output.status.code(), Some(0), "{}", common::text(&output));
    assert_eq!(requests_to(&emulator, "/api/oauth/token"), 1);
}
