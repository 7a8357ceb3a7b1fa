//! State permissions: the state, its backup and journal, saved plans and
//! results hold tokens that read an organization's costs, so costform
//! creates them 0600 whatever the umask, and never makes a directory
//! world-writable.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::common::{self, NOW};
use crate::support::{self, Config};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The cycle run under `umask 000`, the most permissive a caller can set:
/// files costform writes must still come out 0600.
#[test]
fn state_backup_plan_and_results_are_0600_and_no_directory_is_world_writable() {
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let plan_file = dir.join("reviewed.plan");
    let plan_arg = plan_file.to_str().expect("a UTF-8 path");
    let steps: [&[&str]; 3] = [
        &["plan", "--out", plan_arg],
        &["apply", "--auto-approve", plan_arg],
        &["fetch", "--wait", "--timeout", "60s"],
    ];
    for step in steps {
        let command = support::costform(&emulator);
        let mut shell = std::process::Command::new("/bin/sh");
        shell
            .arg("-c")
            .arg("umask 000 && exec \"$0\" \"$@\"")
            .arg(command.get_program())
            .arg("--dir")
            .arg(dir)
            .args(["--now", NOW])
            .args(step);
        for (name, value) in command.get_envs() {
            match value {
                Some(value) => shell.env(name, value),
                None => shell.env_remove(name),
            };
        }
        let output = common::output(&mut shell);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{step:?}\n{}",
            common::text(&output)
        );
    }

    let state = common::state_path(dir);
    let mut checked = vec![state.clone(), common::sibling(&state, ".backup"), plan_file];
    let results = dir.join("results");
    let history = results.join("history");
    for folder in [&results, &history] {
        for entry in std::fs::read_dir(folder).expect("fetch wrote a results directory") {
            let path = entry.expect("a directory entry").path();
            if path != history {
                checked.push(path);
            }
        }
    }
    assert!(
        checked.len() > 4,
        "at least one result file and its history"
    );
    for file in &checked {
        assert_eq!(
            mode(file),
            0o600,
            "{} is {:o}, not 0600",
            file.display(),
            mode(file)
        );
    }
    for directory in [dir, results.as_path(), history.as_path()] {
        assert_eq!(
            mode(directory) & 0o002,
            0,
            "{} is world-writable ({:o})",
            directory.display(),
            mode(directory)
        );
    }
}
