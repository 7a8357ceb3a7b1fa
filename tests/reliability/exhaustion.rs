//! Issue #11, resource exhaustion mid-apply: a full disk and a file
//! descriptor limit. Whatever fails, every token Atlas issued ends up
//! somewhere the user can find it: the state, its journal, the `errored`
//! file beside it, or stderr.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{self, NOW};
use crate::support::{self, EmulatorThread};

/// `costform apply` of every report in `dir`, run by `sh` after `limits`
/// (shell commands such as `ulimit -n 20`).
fn limited_apply(emulator: &EmulatorThread, dir: &Path, limits: &str, parallelism: u16) -> Output {
    let mut command = support::pointed_at(Command::new("sh"), emulator);
    command
        .arg("-c")
        .arg(format!("{limits}; exec \"$0\" \"$@\""))
        .arg(support::costform_bin())
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "apply", "--auto-approve", "--parallelism"])
        .arg(parallelism.to_string());
    common::output(&mut command)
}

/// The issued tokens found in none of the state, journal, errored file or
/// the run's output.
fn unaccounted(emulator: &EmulatorThread, dir: &Path, output: &Output) -> Vec<String> {
    let state = common::state_path(dir);
    let mut found = common::text(output);
    for suffix in ["", ".journal", ".errored"] {
        found.push_str(
            &std::fs::read_to_string(common::sibling(&state, suffix)).unwrap_or_default(),
        );
    }
    emulator
        .issued_tokens()
        .into_iter()
        .map(|issued| issued.token)
        .filter(|token| !found.contains(token.as_str()))
        .collect()
}

/// Disk full mid-apply, as a file size limit (`ulimit -f`, with `SIGXFSZ`
/// ignored, makes writes past 4 KiB fail with `EFBIG` as a full disk fails
/// them with `ENOSPC`): the journal fills after a few tokens while others
/// are in flight. Before, those in flight were dropped; now dispatch stops,
/// they are waited for, and with the journal's tokens none is lost.
#[test]
fn a_disk_full_mid_apply_loses_no_token_in_flight() {
    let emulator = common::slow_emulator(Duration::from_millis(40));
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, 40, 1);
    let output = limited_apply(&emulator, dir, "trap '' XFSZ; ulimit -f 8", 8);
    let all = common::text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the full disk is an error\n{all}"
    );
    assert!(
        !emulator.issued_tokens().is_empty(),
        "some tokens were issued\n{all}"
    );
    assert!(
        emulator.issued_tokens().len() < 40,
        "dispatch stopped at the first failed write\n{all}"
    );
    let lost = unaccounted(&emulator, dir, &output);
    assert!(
        lost.is_empty(),
        "{} token(s) lost: {lost:?}\n{all}",
        lost.len()
    );
    assert!(
        common::unwrapped(&all).contains("could not be journaled"),
        "the error says where the tokens are\n{all}"
    );
}

/// `ulimit -n` low enough that the journal cannot be opened once the
/// requests hold their connections. Before, tokens were issued and none
/// recorded; now the journal is opened before the first request, so a run
/// either records every token or sends nothing. The limit is swept, as the
/// descriptors a run needs vary with the platform.
#[test]
fn a_descriptor_limit_never_leaves_an_issued_token_unrecorded() {
    for limit in (12..=36).step_by(3) {
        let emulator = common::slow_emulator(Duration::from_millis(20));
        let workspace = tempfile::tempdir().expect("a temporary directory");
        let dir = workspace.path();
        support::write_many_reports(dir, 16, 1);
        let output = limited_apply(&emulator, dir, &format!("ulimit -n {limit}"), 16);
        let lost = unaccounted(&emulator, dir, &output);
        assert!(
            lost.is_empty(),
            "ulimit -n {limit}: {} issued token(s) recorded nowhere\n{}",
            lost.len(),
            common::text(&output)
        );
    }
}
