//! End-to-end cases for the `costform` binary.
//!
//! The trycmd cases under `tests/cmd/` are what a user sees: every validation
//! rule with its rendered diagnostic, `render` of the examples, and the
//! plan/apply/fetch lifecycle against one in-process emulator. The Rust tests
//! below cover what a snapshot cannot: tokens and result files checked against
//! the emulator's own data, tokens expired between two commands, and the
//! emulator served from the CLI and spoken to with plain `curl`.

#[path = "support/mod.rs"]
#[allow(
    unused_imports,
    reason = "the shared support module re-exports more than this target needs"
)]
mod support;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use costform_emulator::DEMO_ACCESS_TOKEN;
use serde_json::Value;
use support::{Config, EmulatorThread};

/// Cases against `base_url` with `token` as the access token and nothing of
/// the developer's own Atlas or costform settings.
fn cases_against(base_url: &str, token: &str) -> trycmd::TestCases {
    let cases = trycmd::TestCases::new();
    // trycmd cannot remove an inherited variable, so a developer's own
    // settings are blanked instead: costform treats an empty value as unset.
    for (name, _) in std::env::vars() {
        if name.starts_with("MONGODB_ATLAS_") || name.starts_with("COSTFORM_") {
            cases.env(name, "");
        }
    }
    cases
        .env("MONGODB_ATLAS_BASE_URL", base_url)
        .env("MONGODB_ATLAS_ACCESS_TOKEN", token)
        .env("NO_COLOR", "1")
        .register_bin("costform", support::costform_bin());
    cases
        .insert_var("[EMULATOR]", base_url.to_owned())
        .expect("a valid redaction");
    cases
}

/// Every `*.toml` and `*.trycmd` case, with the emulator's URL and the demo
/// token in the environment.
#[test]
fn cli_cases() {
    let emulator = support::emulator(Config::demo());
    let cases = cases_against(&emulator.base_url(), DEMO_ACCESS_TOKEN);
    let cases_dir = support::repo_root().join("tests/cmd");
    for glob in [
        "validate/*.toml",
        "render/*.toml",
        "lifecycle/*.trycmd",
        "fetch/*.trycmd",
        "costs/*.trycmd",
        "errors/*.toml",
        "focus/*.toml",
        "focus/*.trycmd",
        "variables/*.toml",
        "for_each/*.toml",
        "for_each/*.trycmd",
        "lookups/*.toml",
        "lookups/*.trycmd",
    ] {
        cases.case(cases_dir.join(glob));
    }
    cases.run();
}

/// Cases run with credentials Atlas refuses (`credentials/refused/`) or with
/// none at all (`credentials/none/`): trycmd cannot override a variable the
/// whole run sets, so each group gets its own run.
#[test]
fn cli_cases_with_other_credentials() {
    let emulator = support::emulator(Config::demo());
    for (group, token) in [("refused", "not-a-valid-token"), ("none", "")] {
        let cases = cases_against(&emulator.base_url(), token);
        cases.case(support::repo_root().join(format!("tests/cmd/credentials/{group}/*.toml")));
        cases.run();
    }
}

/// A scratch directory with three small reports over the three shapes a
/// user meets: literal dates, a template, and a `period` with a filter.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("reports.yaml"),
        "reports:\n  \
           by-service:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"{{ today | start_of_month | add_months(-2) }}\"\n    end_date: \"{{ today | start_of_month }}\"\n    group_by: services\n    services: [Clusters, Storage, Backup]\n  \
           fy2026:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2025-02-01\"\n    end_date: \"2026-02-01\"\n  \
           by-project:\n    org_id: 6027d9e1f3a4b5c6d7e8f901\n    period: last_3_months\n    group_by: projects\n    projects: [65a1b2c3d4e5f6a7b8c9d0e1, 65a1b2c3d4e5f6a7b8c9d0e2]\n",
    )
    .expect("write the definitions");
    dir
}

/// The scratch workspace after a successful `apply` against `emulator`.
fn applied_workspace(emulator: &EmulatorThread) -> tempfile::TempDir {
    let dir = workspace();
    let (code, output) = run(
        emulator,
        dir.path(),
        &["apply", "--auto-approve", "--now", "2026-11-26"],
    );
    assert_eq!(code, 0, "{output}");
    dir
}

/// Runs `costform ARGS` in `dir` against `emulator`, with no terminal on
/// stdin, and returns its exit code and its combined output.
fn run(emulator: &EmulatorThread, dir: &Path, args: &[&str]) -> (i32, String) {
    let output = support::costform(emulator)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("costform runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code().expect("costform exited, not killed"),
        text,
    )
}

/// The state file `costform` wrote in `dir`, as JSON.
fn read_state(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("costform.state.json")).expect("a state file");
    serde_json::from_str(&text).expect("the state file is JSON")
}

/// The state's reports, keyed by name.
fn state_reports(state: &Value) -> &serde_json::Map<String, Value> {
    state["reports"]
        .as_object()
        .expect("`reports` is an object")
}

/// Every token apply records is the 64-character alphanumeric token Atlas
/// returned, the very one the emulator issued: a shortened or altered token
/// would make every later fetch fail.
#[test]
fn apply_records_the_issued_64_character_tokens() {
    let emulator = support::emulator(Config::demo());
    let dir = applied_workspace(&emulator);
    let state = read_state(dir.path());
    let reports = state_reports(&state);
    assert_eq!(reports.len(), 3, "{state:#}");
    let issued: Vec<String> = emulator
        .issued_tokens()
        .into_iter()
        .map(|issued| issued.token)
        .collect();
    for (name, entry) in reports {
        let token = entry["handle"]["token"].as_str().expect("a token string");
        assert_eq!(token.len(), 64, "{name}: {token}");
        assert!(
            token.chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}: {token}"
        );
        assert!(
            issued.iter().any(|issued| issued == token),
            "{name}: {token} was never issued"
        );
        assert_eq!(entry["status"], "submitted", "{name}");
    }
}

/// Without a terminal and without `--auto-approve`, apply must not send a
/// single query: the emulator sees no request and no state appears.
#[test]
fn apply_without_a_terminal_sends_nothing() {
    let emulator = support::emulator(Config::demo());
    let dir = workspace();
    let (code, output) = run(&emulator, dir.path(), &["apply", "--now", "2026-11-26"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("nothing was sent"), "{output}");
    assert!(
        emulator.request_log().is_empty(),
        "{:?}",
        emulator.request_log()
    );
    assert!(!dir.path().join("costform.state.json").exists());
}

/// `--state` in directories that do not exist yet: `plan` and `show` see no
/// state and create nothing; `apply` creates them, as Terraform does for a
/// local state, and the next commands find the state there.
#[test]
fn apply_creates_the_missing_directories_of_a_new_state_and_plan_creates_none() {
    let emulator = support::emulator(Config::demo());
    let dir = workspace();
    let state = "teams/billing/costform.state.json";
    let (code, output) = run(
        &emulator,
        dir.path(),
        &["plan", "--state", state, "--now", "2026-11-26"],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("no state yet"), "{output}");
    let (code, output) = run(&emulator, dir.path(), &["show", "--state", state]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("No state at"), "{output}");
    assert!(
        !dir.path().join("teams").exists(),
        "a reading command created nothing"
    );

    let (code, output) = run(
        &emulator,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--state",
            state,
            "--now",
            "2026-11-26",
        ],
    );
    assert_eq!(code, 0, "{output}");
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(state)).expect("the state was written"),
    )
    .expect("the state is JSON");
    assert_eq!(state_reports(&written).len(), 3, "{written:#}");
    assert!(!dir.path().join(format!("{state}.lock")).exists());
    let (code, output) = run(
        &emulator,
        dir.path(),
        &["plan", "--state", state, "--now", "2026-11-26"],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("No changes."), "{output}");
}

/// The total `fetch` prints for `name` in its summary table, as printed.
fn printed_total<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name) && line.contains(" ready "))
        .and_then(|line| line.split_whitespace().last())
        .unwrap_or_else(|| panic!("no summary row for `{name}` in:\n{output}"))
}

/// `fetch --wait` writes, for every report, exactly the rows the emulator
/// served for the stored request, and its summary prints each report's total
/// usage to the cent.
#[test]
fn fetch_writes_the_served_rows_and_prints_their_totals() {
    let emulator = support::emulator(Config::demo());
    let dir = applied_workspace(&emulator);
    let (code, output) = run(
        &emulator,
        dir.path(),
        &["fetch", "--wait", "--timeout", "30s"],
    );
    assert_eq!(code, 0, "{output}");

    let state = read_state(dir.path());
    for (name, entry) in state_reports(&state) {
        let org_id = entry["org_id"].as_str().expect("an org id");
        let expected = costform_emulator::synthetic_usage(org_id, &entry["request"]);
        let rows = expected["usageDetails"].as_array().expect("usageDetails");
        assert!(
            !rows.is_empty(),
            "{name}: the emulator serves rows for every example"
        );

        assert_eq!(entry["status"], "ready", "{name}: {entry:#}");
        let path = entry["result"]["path"].as_str().expect("a result path");
        assert_eq!(path, format!("results/{name}.json"));
        let written: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(path)).expect("the result file exists"),
        )
        .expect("the result file is JSON");
        assert_eq!(written["usageDetails"], expected["usageDetails"], "{name}");
        assert_eq!(entry["result"]["rows"], rows.len(), "{name}");

        let total: f64 = rows
            .iter()
            .map(|row| row["usageAmount"].as_f64().expect("a usage amount"))
            .sum();
        let printed = printed_total(&output, name).replace(',', "");
        assert_eq!(printed, format!("{total:.2}"), "{name}:\n{output}");
    }
}

/// CSV results are the emulator's CSV, header first.
#[test]
fn fetch_format_csv_writes_csv_files() {
    let emulator = support::emulator(Config {
        processing_polls: 0,
        ..Config::demo()
    });
    let dir = applied_workspace(&emulator);
    let (code, output) = run(&emulator, dir.path(), &["fetch", "--format", "csv"]);
    assert_eq!(code, 0, "{output}");
    let state = read_state(dir.path());
    for (name, entry) in state_reports(&state) {
        let org_id = entry["org_id"].as_str().expect("an org id");
        let written = std::fs::read_to_string(dir.path().join(format!("results/{name}.csv")))
            .unwrap_or_else(|error| panic!("{name}: no CSV file ({error}):\n{output}"));
        assert!(
            written.starts_with("Billed Date,Invoice Id,Organization Name,Organization ID,"),
            "{name}: {written}"
        );
        assert_eq!(
            written,
            costform_emulator::synthetic_usage_csv(org_id, &entry["request"]),
            "{name}"
        );
    }
}

/// A token Atlas no longer knows is marked `expired` by fetch, and the next
/// plan re-queries that report saying why.
#[test]
fn an_expired_token_is_marked_and_requeried() {
    let emulator = support::emulator(Config {
        processing_polls: 0,
        ..Config::demo()
    });
    let dir = applied_workspace(&emulator);
    let fy2026 = read_state(dir.path())["reports"]["fy2026"]["handle"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert!(
        emulator.expire_token(&fy2026),
        "the emulator knew the token"
    );

    let (code, output) = run(&emulator, dir.path(), &["fetch"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("report.fy2026: expired"), "{output}");
    let state = read_state(dir.path());
    assert_eq!(state["reports"]["fy2026"]["status"], "expired", "{state:#}");
    assert_eq!(
        state["reports"]["by-service"]["status"], "ready",
        "{state:#}"
    );

    let (code, output) = run(
        &emulator,
        dir.path(),
        &["plan", "--now", "2026-11-26", "--detailed-exitcode"],
    );
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("-/+ report.fy2026 (token expired)"),
        "{output}"
    );
    assert!(
        output.contains("Plan: 0 to create, 1 to requery, 0 to forget."),
        "{output}"
    );
}

/// A `costform emulator` child process, killed when the test ends, passed or
/// failed, so that no server outlives the test run.
struct ServedEmulator {
    child: Child,
    base_url: String,
}

impl ServedEmulator {
    /// Starts `costform emulator` on a free loopback port and reads the URL it
    /// announces on its first line.
    fn start() -> Self {
        let mut child = Command::new(support::costform_bin())
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("`costform emulator` starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        // The guard owns the child from here on: a panic below still kills it.
        let mut served = Self {
            child,
            base_url: String::new(),
        };
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("the emulator announces itself");
        first_line
            .trim()
            .strip_prefix("costform emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first_line:?}"))
            .clone_into(&mut served.base_url);
        assert!(
            served.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            served.base_url
        );
        served
    }
}

impl Drop for ServedEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `curl ARGS`, appending the HTTP status on its own last line, and
/// returns `(status, body)`.
fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--write-out",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("curl must be installed for this test (/usr/bin/curl): {error}")
        });
    let text = String::from_utf8(output.stdout).expect("curl prints UTF-8");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (body, status) = text.rsplit_once('\n').expect("the status line");
    (
        status.parse().expect("a numeric HTTP status"),
        body.to_owned(),
    )
}

/// `costform emulator` answers the Atlas docs' own curl samples: a POST with
/// a bearer token gets a 202 and a 64-character token; a GET with
/// `--digest --user` and `?envelope=true` gets the documented envelope,
/// "processing" (102) first and then the results.
#[test]
fn the_emulator_answers_the_atlas_curl_samples() {
    const ACCEPT: &str = "Accept: application/vnd.atlas.2023-01-01+json";
    const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";
    let emulator = ServedEmulator::start();
    let usage_url = format!(
        "{}/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage",
        emulator.base_url
    );
    let body = r#"{"startDate":"2026-10-01","endDate":"2026-11-01","groupBy":"services","services":["Clusters","Storage"]}"#;

    let bearer = format!("Authorization: Bearer {DEMO_ACCESS_TOKEN}");
    let (status, created) = curl(&[
        "--header",
        &bearer,
        "--header",
        ACCEPT,
        "--header",
        "Content-Type: application/vnd.atlas.2023-01-01+json",
        "-X",
        "POST",
        &usage_url,
        "--data",
        body,
    ]);
    assert_eq!(status, 202, "{created}");
    let created: Value = serde_json::from_str(&created).expect("a JSON answer");
    let token = created["token"].as_str().expect("a token").to_owned();
    assert_eq!(token.len(), 64, "{token}");
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");

    let user = format!(
        "{}:{}",
        costform_emulator::DEMO_PUBLIC_API_KEY,
        costform_emulator::DEMO_PRIVATE_API_KEY
    );
    let result_url = format!("{usage_url}/{token}?envelope=true");
    let get = || curl(&["--digest", "--user", &user, "--header", ACCEPT, &result_url]);

    let (status, processing) = get();
    assert_eq!(status, 200, "{processing}");
    let processing: Value = serde_json::from_str(&processing).expect("an envelope");
    assert_eq!(processing["status"], 102, "{processing:#}");

    let (status, ready) = get();
    assert_eq!(status, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).expect("an envelope");
    assert_eq!(ready["status"], 200, "{ready:#}");
    let expected =
        costform_emulator::synthetic_usage(ORG, &serde_json::from_str(body).expect("JSON"));
    assert_eq!(ready["content"], expected, "{ready:#}");
}

/// Ctrl-C during apply stops dispatching, lets the requests in flight finish,
/// saves every token received and exits 130 — as Terraform does on SIGINT.
#[test]
fn ctrl_c_during_apply_saves_the_tokens_received_and_exits_130() {
    interrupt_apply_with("-INT");
}

/// SIGTERM, which CI runners send when a job is cancelled, is handled like
/// Ctrl-C: the tokens received are saved and the lock is released.
#[test]
fn sigterm_during_apply_saves_the_tokens_received_and_exits_130() {
    interrupt_apply_with("-TERM");
}

/// A second SIGTERM (GNU `timeout` signals the whole process group) exits at
/// once, and still releases the lock: the next run needs no `force-unlock`,
/// and folds the journal's tokens in.
#[test]
fn a_second_sigterm_exits_at_once_and_releases_the_lock() {
    let (emulator, dir, child) = apply_under_way(400, 2);
    let lock = dir.path().join("costform.state.json.lock");
    assert!(lock.exists(), "apply holds the lock");
    for _ in 0..2 {
        send_signal(&child, "-TERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("costform exits");
    assert_eq!(output.status.code(), Some(130));
    assert!(
        !lock.exists(),
        "the lock is released even on the second signal"
    );

    let next = support::costform(&emulator)
        .current_dir(dir.path())
        .args(["state", "list"])
        .output()
        .expect("state list runs");
    assert!(
        next.status.success(),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
}

/// An apply of 40 reports at one request at a time, each answered after
/// `latency_ms`, once the emulator has issued `tokens` tokens: an interrupt
/// sent now lands mid-run.
fn apply_under_way(latency_ms: u64, tokens: usize) -> (EmulatorThread, tempfile::TempDir, Child) {
    let emulator = support::emulator(Config::demo());
    emulator.set_faults(support::Faults {
        latency: std::time::Duration::from_millis(latency_ms),
        ..support::Faults::default()
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    support::write_many_reports(dir.path(), 40, 2);
    let child = support::costform(&emulator)
        .current_dir(dir.path())
        .args(["apply", "--auto-approve", "--parallelism", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("costform starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while emulator.issued_tokens().len() < tokens {
        assert!(
            std::time::Instant::now() < deadline,
            "apply never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (emulator, dir, child)
}

/// Sends `signal` (`-INT`, `-TERM`) to `child`.
fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn interrupt_apply_with(signal: &str) {
    let (emulator, dir, child) = apply_under_way(150, 3);
    send_signal(&child, signal);
    let output = child.wait_with_output().expect("costform exits");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.status.code(),
        Some(130),
        "exit code; output:\n{text}"
    );
    assert!(text.contains("Interrupted!"), "{text}");
    assert!(
        !dir.path().join("costform.state.json.lock").exists(),
        "the lock is released"
    );

    let state = read_state(dir.path());
    let recorded = state_reports(&state);
    let issued: Vec<String> = emulator
        .issued_tokens()
        .into_iter()
        .map(|issued| issued.token)
        .collect();
    assert!(
        !recorded.is_empty() && recorded.len() < 40,
        "{} recorded",
        recorded.len()
    );
    for entry in recorded.values() {
        let token = entry["handle"]["token"].as_str().expect("a token");
        assert!(
            issued.iter().any(|t| t == token),
            "{token} was never issued"
        );
    }
    assert_eq!(
        recorded.len(),
        issued.len(),
        "every token the emulator issued before the interrupt is in the state"
    );
}

/// A results file is never half-written: `fetch` killed at random moments
/// leaves each `results/NAME.json` either absent or complete (the very rows
/// the emulator served), and the state still parses.
#[test]
fn a_killed_fetch_never_leaves_a_half_written_result() {
    use rand::{Rng, SeedableRng};

    let emulator = support::emulator(Config {
        processing_polls: 0,
        ..Config::demo()
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Sixteen years by four services: ~770 rows, ~150 KB per result file.
    let mut yaml = String::from("reports:\n");
    for index in 0..24 {
        let _ = write!(
            yaml,
            "  long-{index:02}:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2010-01-01\"\n    end_date: \"2026-01-01\"\n    group_by: services\n    services: [Clusters, Storage, Backup, Support]\n    include_partial_matches: {}\n",
            index % 2 == 0
        );
    }
    std::fs::write(dir.path().join("long.yaml"), yaml).expect("write the definitions");
    let (code, output) = run(&emulator, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{output}");

    let seed = std::env::var("COSTFORM_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for trial in 0..6 {
        let mut child = support::costform(&emulator)
            .current_dir(dir.path())
            .args(["fetch", "--parallelism", "8"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("costform starts");
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(5..250)));
        let _ = child.kill();
        let _ = child.wait();
        assert_results_complete(dir.path(), &format!("seed {seed}, trial {trial}"));
        release_stale_lock(&emulator, dir.path());
    }
    let (code, output) = run(&emulator, dir.path(), &["fetch"]);
    assert_eq!(code, 0, "seed {seed}: {output}");
    assert_results_complete(dir.path(), &format!("seed {seed}, final fetch"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("results"))
            .expect("results/")
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
            .count(),
        24,
        "seed {seed}: one file per report"
    );
}

/// A killed run leaves its lock, as Terraform's does: clear it the way a
/// user would, with the id costform names.
fn release_stale_lock(emulator: &EmulatorThread, dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("costform.state.json.lock")) else {
        return;
    };
    let lock: Value = serde_json::from_str(&text).expect("the lock file is JSON");
    let id = lock["id"].as_str().expect("a lock id");
    let (code, output) = run(emulator, dir, &["force-unlock", id]);
    assert_eq!(code, 0, "{output}");
}

/// Every result file present holds exactly what the emulator served for its
/// report, and the state (if written) is valid JSON.
fn assert_results_complete(dir: &Path, context: &str) {
    let state = read_state(dir);
    let Ok(entries) = std::fs::read_dir(dir.join("results")) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".json"))
            .filter(|name| !name.starts_with('.'))
        else {
            continue;
        };
        let report = &state_reports(&state)[name];
        let expected = costform_emulator::synthetic_usage(
            report["org_id"].as_str().expect("an org id"),
            &report["request"],
        );
        let text = std::fs::read_to_string(&path).expect("a readable result");
        let written: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{context}: {name}.json is not complete JSON: {error}"));
        assert_eq!(
            written["usageDetails"], expected["usageDetails"],
            "{context}: {name}"
        );
    }
}

/// `--target` limits a plan to the named reports, `--replace` re-queries an
/// unchanged one, and naming a report that does not exist is an error that
/// says which.
#[test]
fn target_and_replace_select_and_force_reports() {
    let emulator = support::emulator(Config::demo());
    let dir = workspace();
    let (code, output) = run(
        &emulator,
        dir.path(),
        &["plan", "--now", "2026-11-26", "--target", "fy2026"],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("+ report.fy2026 (new report)"), "{output}");
    assert!(!output.contains("report.by-service"), "{output}");
    assert!(
        output.contains("Plan: 1 to create, 0 to requery, 0 to forget."),
        "{output}"
    );

    let (code, output) = run(
        &emulator,
        dir.path(),
        &["plan", "--now", "2026-11-26", "--target", "nope"],
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("`nope`"), "{output}");

    let (code, output) = run(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--now", "2026-11-26"],
    );
    assert_eq!(code, 0, "{output}");
    let (code, output) = run(
        &emulator,
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-11-26",
            "--replace",
            "fy2026",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("-/+ report.fy2026 (replace requested)"),
        "{output}"
    );
    assert!(
        output.contains("Plan: 0 to create, 1 to requery, 0 to forget."),
        "{output}"
    );
}

/// `plan --refresh` asks Atlas about the stored tokens: an expired one is
/// planned for requery, and the state file is left untouched (plan never
/// writes; the next apply records the new token).
#[test]
fn plan_refresh_finds_expired_tokens_without_writing_the_state() {
    let emulator = support::emulator(Config {
        processing_polls: 0,
        ..Config::demo()
    });
    let dir = applied_workspace(&emulator);
    let before = std::fs::read(dir.path().join("costform.state.json")).expect("a state");
    let token = read_state(dir.path())["reports"]["by-project"]["handle"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert!(emulator.expire_token(&token));

    let (code, output) = run(&emulator, dir.path(), &["plan", "--now", "2026-11-26"]);
    assert_eq!(code, 0, "offline, the plan cannot know: {output}");
    assert!(output.contains("No changes."), "{output}");

    let (code, output) = run(
        &emulator,
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-11-26",
            "--refresh",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("-/+ report.by-project (token expired)"),
        "{output}"
    );
    assert!(
        output.contains("Plan: 0 to create, 1 to requery, 0 to forget."),
        "{output}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("costform.state.json")).expect("a state"),
        before,
        "plan --refresh never writes the state"
    );
}

/// On a terminal, apply shows the plan and asks; only `yes` sends anything,
/// and a refusal leaves neither a state nor a lock behind. (`script` gives
/// the child a pseudo-terminal.)
#[test]
fn apply_on_a_terminal_asks_and_only_yes_approves() {
    let emulator = support::emulator(Config::demo());
    for (answer, expected_code, expected_text) in [
        ("no", 1, "Apply cancelled: nothing was sent."),
        (
            "yes",
            0,
            "Apply complete! 3 applied, 0 failed, 0 forgotten.",
        ),
    ] {
        let dir = workspace();
        let command_line = format!(
            "{} apply --now 2026-11-26",
            support::costform_bin().display()
        );
        let mut child = support::pointed_at(Command::new("script"), &emulator)
            .current_dir(dir.path())
            .args(["-q", "-e", "-c", &command_line, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs");
        {
            use std::io::Write as _;
            let stdin = child.stdin.as_mut().expect("a stdin pipe");
            writeln!(stdin, "{answer}").expect("type the answer");
        }
        let output = child.wait_with_output().expect("script exits");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("Only 'yes' will be accepted to approve."),
            "{text}"
        );
        assert!(text.contains(expected_text), "{answer}: {text}");
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{answer}: {text}"
        );
        assert!(
            !dir.path().join("costform.state.json.lock").exists(),
            "{answer}: the lock is released"
        );
        assert_eq!(
            dir.path().join("costform.state.json").exists(),
            answer == "yes",
            "{answer}: a state only after approval"
        );
    }
}
