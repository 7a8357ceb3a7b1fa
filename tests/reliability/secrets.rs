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

/// The PostgreSQL connection string carries a password (the harness's
/// marker): no step at `-vv` prints it, whether the URL comes from
/// `--state` or `COSTFORM_STATE`, nor do the errors of a refused password
/// or an unreachable server; the saved plan, the files and the database's
/// own tables never hold it.
#[test]
fn postgresql_connection_string_leaks_no_password() {
    use crate::support::postgres::{PASSWORD, Postgres};
    let pg = Postgres::start();
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let url = pg.url("");
    let plan_file = dir.join("reviewed.plan");
    let plan_arg = plan_file.to_str().expect("a UTF-8 path");
    let wrong_password = url.replace(PASSWORD, &format!("{PASSWORD}-wrong"));
    let closed_port =
        format!("postgres://costform:{PASSWORD}@127.0.0.1:1/postgres?sslmode=disable");
    let steps: [(&[&str], &str, i32); 7] = [
        (&["plan", "--out", plan_arg], "flag", 0),
        (&["apply", "--auto-approve", plan_arg], "env", 0),
        (&["fetch", "--wait", "--timeout", "60s"], "flag", 0),
        (&["state", "list"], "env", 0),
        (&["show"], "flag", 0),
        (&["plan"], "wrong", 1),
        (&["plan"], "closed", 1),
    ];
    for (step, source, code) in steps {
        let mut command = support::costform(&emulator);
        command.arg("--dir").arg(dir).args(["--now", NOW, "-vv"]);
        match source {
            "flag" => command.args(["--state", &url]),
            "env" => command.env("COSTFORM_STATE", &url),
            "wrong" => command.args(["--state", &wrong_password]),
            _ => command.args(["--state", &closed_port]),
        };
        let output = common::output(command.args(step));
        let all = common::text(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{step:?} ({source})\n{all}"
        );
        assert!(
            !all.contains(PASSWORD),
            "{step:?} ({source}) printed the password\n{all}"
        );
    }
    for file in files_under(dir) {
        let text =
            String::from_utf8_lossy(&std::fs::read(&file).expect("read a file")).into_owned();
        assert!(
            !text.contains(PASSWORD),
            "{} holds the password",
            file.display()
        );
    }
    let stored = pg.query(
        "SELECT string_agg(body::text, '') FROM costform.states \
         UNION ALL SELECT coalesce(string_agg(record::text, ''), '') FROM costform.journal \
         UNION ALL SELECT coalesce(string_agg(locks::text, ''), '') FROM costform.locks",
    );
    assert!(
        stored.contains("\"lineage\""),
        "the state is in the database"
    );
    assert!(
        !stored.contains(PASSWORD),
        "the database's tables hold the password"
    );
}
