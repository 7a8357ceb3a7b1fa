//! Secrets: with every credential variable set to a unique marker, the whole
//! cycle at `-vv` never writes a marker to the terminal, the state, its
//! backup or journal, the saved plan or the results, and the emulator's
//! request log never kept one.

use std::path::Path;

use crate::common::{self, NOW};
use crate::support::{self, Config};
use costform_emulator::AuthConfig;

const ACCESS_TOKEN: &str = "marker-access-token-0c1d";
const CLIENT_ID: &str = "mdb_sa_id_marker_5e6f";
const CLIENT_SECRET: &str = "mdb_sa_sk_marker_7a8b";
const PUBLIC_KEY: &str = "markerpub9c0d";
const PRIVATE_KEY: &str = "marker-private-key-1e2f";
const MARKERS: [&str; 5] = [
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    PUBLIC_KEY,
    PRIVATE_KEY,
];

/// Runs the cycle with the credential variables in `env` (the first set one
/// wins, as documented) and checks every output and file for every marker.
fn cycle_leaks_nothing(auth: AuthConfig, env: &[(&str, &str)]) {
    let emulator = support::emulator(Config {
        auth,
        ..Config::demo()
    });
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let plan_file = dir.join("reviewed.plan");
    let plan_arg = plan_file.to_str().expect("a UTF-8 path");
    let steps: [&[&str]; 5] = [
        &["validate"],
        &["plan", "--out", plan_arg],
        &["apply", "--auto-approve", plan_arg],
        &["fetch", "--wait", "--timeout", "60s"],
        &["show"],
    ];
    for step in steps {
        let mut command = support::costform(&emulator);
        command.env_remove("MONGODB_ATLAS_ACCESS_TOKEN");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = common::output(
            command
                .arg("--dir")
                .arg(dir)
                .args(["--now", NOW, "-vv"])
                .args(step),
        );
        let all = common::text(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{step:?} with {env:?}\n{all}"
        );
        for marker in MARKERS {
            assert!(
                !all.contains(marker),
                "{step:?} printed credential {marker}\n{all}"
            );
        }
    }
    let files = files_under(dir);
    assert!(
        files
            .iter()
            .any(|file| file.ends_with("costform.state.json")),
        "a state was written"
    );
    assert!(
        files
            .iter()
            .any(|file| file.ends_with("costform.state.json.backup")),
        "a backup was written"
    );
    for file in &files {
        let bytes = std::fs::read(file).expect("read a written file");
        let text = String::from_utf8_lossy(&bytes);
        for marker in MARKERS {
            assert!(
                !text.contains(marker),
                "{} holds credential {marker}",
                file.display()
            );
        }
    }
    let log = format!("{:?}", emulator.request_log());
    assert!(!emulator.request_log().is_empty());
    for marker in MARKERS {
        assert!(
            !log.contains(marker),
            "the emulator's request log kept {marker}"
        );
    }
}

/// Every file under `dir`, recursively (bounded by the tree's size).
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("list a directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Bearer token wins; the lower-priority pairs are set too, unused.
#[test]
fn bearer_token_run_leaks_no_credential() {
    cycle_leaks_nothing(
        AuthConfig {
            access_tokens: vec![ACCESS_TOKEN.to_owned()],
            ..AuthConfig::default()
        },
        &[
            ("MONGODB_ATLAS_ACCESS_TOKEN", ACCESS_TOKEN),
            ("MONGODB_ATLAS_CLIENT_ID", CLIENT_ID),
            ("MONGODB_ATLAS_CLIENT_SECRET", CLIENT_SECRET),
            ("MONGODB_ATLAS_PUBLIC_API_KEY", PUBLIC_KEY),
            ("MONGODB_ATLAS_PRIVATE_API_KEY", PRIVATE_KEY),
        ],
    );
}

/// Service account (OAuth client credentials) wins over the API key.
#[test]
fn service_account_run_leaks_no_credential() {
    cycle_leaks_nothing(
        AuthConfig {
            service_accounts: vec![(CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned())],
            ..AuthConfig::default()
        },
        &[
            ("MONGODB_ATLAS_CLIENT_ID", CLIENT_ID),
            ("MONGODB_ATLAS_CLIENT_SECRET", CLIENT_SECRET),
            ("MONGODB_ATLAS_PUBLIC_API_KEY", PUBLIC_KEY),
            ("MONGODB_ATLAS_PRIVATE_API_KEY", PRIVATE_KEY),
        ],
    );
}

/// The legacy API key pair over HTTP Digest.
#[test]
fn digest_api_key_run_leaks_no_credential() {
    cycle_leaks_nothing(
        AuthConfig {
            api_keys: vec![(PUBLIC_KEY.to_owned(), PRIVATE_KEY.to_owned())],
            ..AuthConfig::default()
        },
        &[
            ("MONGODB_ATLAS_PUBLIC_API_KEY", PUBLIC_KEY),
            ("MONGODB_ATLAS_PRIVATE_API_KEY", PRIVATE_KEY),
        ],
    );
}
