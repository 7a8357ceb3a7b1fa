//! The PostgreSQL state backend against a real server (a throwaway cluster
//! per test, see `support::postgres`): the lifecycle, two working copies
//! applying at once, `state migrate` both ways, TLS with a certificate the
//! test generates, a read-only role, and `force-unlock` of a hung run.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, NOW};
use crate::support::postgres::{PASSWORD, Postgres};
use crate::support::{self, Config, EmulatorThread};

/// `costform --dir DIR --now NOW --state URL ARGS…` against `emulator`.
pub fn costform(emulator: &EmulatorThread, dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = support::costform(emulator);
    command
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "--state", url])
        .args(args)
        .stdin(Stdio::null());
    command
}

/// `costform … apply --auto-approve --parallelism N` with the state at `url`.
pub fn apply(emulator: &EmulatorThread, dir: &Path, url: &str, parallelism: u16) -> Command {
    let parallelism = parallelism.to_string();
    costform(
        emulator,
        dir,
        url,
        &["apply", "--auto-approve", "--parallelism", &parallelism],
    )
}

/// Runs `command`; asserts it exits `code` and never prints the password.
pub fn expect(command: &mut Command, code: i32) -> Output {
    let output = common::output(command);
    let all = common::text(&output);
    assert_eq!(output.status.code(), Some(code), "{command:?}\n{all}");
    assert!(!all.contains(PASSWORD), "the password was printed\n{all}");
    output
}

/// The state as `show --json` reads it (journal rows folded in).
pub fn state(emulator: &EmulatorThread, dir: &Path, url: &str) -> Value {
    read_state(&mut costform(emulator, dir, url, &["show", "--json"]))
}

/// The state `command` (a `show --json`) prints.
fn read_state(command: &mut Command) -> Value {
    let output = expect(command, 0);
    serde_json::from_slice(&output.stdout).expect("show --json prints the state")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The error output with miette's line wrapping undone.
fn stderr(output: &Output) -> String {
    common::unwrapped(&String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_lifecycle_runs_against_postgresql_with_every_serial_kept() {
    let pg = Postgres::start();
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let url = pg.url("");
    let run = |args: &[&str], code| expect(&mut costform(&emulator, dir, &url, args), code);
    let plan_file = dir.join("reviewed.plan");
    let plan_arg = plan_file.to_str().expect("a UTF-8 path");

    // A plan creates nothing (a read-only role may run it); the first
    // writing command creates the schema at the version this build knows.
    let planned = run(&["plan", "--out", plan_arg], 0);
    assert_eq!(
        pg.query("SELECT to_regnamespace('costform') IS NULL"),
        "t",
        "plan created the schema"
    );
    let saved = std::fs::read_to_string(&plan_file).expect("the saved plan");
    assert!(
        saved.contains("postgres://costform@127.0.0.1") && !saved.contains(PASSWORD),
        "the plan names the state without the password"
    );

    run(&["apply", plan_arg], 0);
    assert_eq!(pg.query("SELECT version FROM costform.schema_version"), "2");
    assert_eq!(
        pg.query("SELECT pg_typeof(body) FROM costform.states LIMIT 1"),
        "json",
        "a state is kept as the text costform wrote"
    );
    let applied = state(&emulator, dir, &url);
    assert_eq!(applied["serial"], 1);
    let reports = applied["reports"].as_object().expect("reports").len();
    assert!(
        stdout(&planned).contains(&format!("Plan: {reports} to create")),
        "{}",
        stdout(&planned)
    );
    // A saved plan is applied once: the state has moved on since.
    let stale = run(&["apply", plan_arg], 1);
    assert!(
        stderr(&stale).contains("saved plan is stale"),
        "{}",
        stderr(&stale)
    );

    run(&["fetch", "--wait", "--timeout", "60s"], 0);
    // The fetched results' cost rows are in SQL, one set per ready report.
    let ready = state(&emulator, dir, &url)["reports"]
        .as_object()
        .expect("reports")
        .values()
        .filter(|entry| entry["status"] == "ready")
        .count();
    assert!(ready > 0, "fetch made results ready");
    assert_eq!(
        pg.query("SELECT count(DISTINCT report) FROM costform.cost_rows WHERE amount IS NOT NULL"),
        ready.to_string()
    );
    let listed = stdout(&run(&["state", "list"], 0));
    assert!(listed.contains("report.last-month-by-service"), "{listed}");
    run(&["state", "rm", "last-month-by-service"], 0);
    assert_eq!(
        pg.query("SELECT count(*) FROM costform.cost_rows WHERE report = 'last-month-by-service'"),
        "0",
        "a forgotten report's cost rows go with it"
    );
    let listed = stdout(&run(&["state", "list"], 0));
    assert!(!listed.contains("report.last-month-by-service"), "{listed}");
    let replanned = run(&["plan"], 0);
    assert!(
        stdout(&replanned).contains("1 to create"),
        "{}",
        stdout(&replanned)
    );

    // Every version is kept; the journal is empty after each commit; the
    // lock row went with the run that held it.
    assert_eq!(
        pg.query("SELECT string_agg(serial::text, ',' ORDER BY serial) FROM costform.states WHERE workspace = 'default'"),
        "1,2,3"
    );
    assert_eq!(pg.query("SELECT count(*) FROM costform.journal"), "0");
    assert_eq!(pg.query("SELECT count(*) FROM costform.locks"), "0");
    let not_locked = run(&["force-unlock", "00000000-0000-0000-0000-000000000000"], 1);
    assert!(
        stderr(&not_locked).contains("is not locked"),
        "{}",
        stderr(&not_locked)
    );

    // Another workspace is another state in the same tables.
    let other = expect(
        costform(&emulator, dir, &url, &["show"]).args(["--workspace", "team-b"]),
        0,
    );
    assert!(stderr(&other).contains("No state at"), "{}", stderr(&other));
    // A schema newer than this build is refused by name, not written to.
    pg.query("UPDATE costform.schema_version SET version = 99");
    let newer = run(&["plan"], 1);
    assert!(
        stderr(&newer).contains("schema version `99`")
            && stderr(&newer).contains("upgrade costform"),
        "{}",
        stderr(&newer)
    );
}

/// Two working copies of one repository share the database state: while
/// one applies, the other fails fast naming the holder, and with
/// `--lock-timeout` waits for it and then finds nothing left to do.
#[test]
fn two_working_copies_apply_at_once_one_waits_or_fails_naming_the_holder() {
    const REPORTS: usize = 40;
    let pg = Postgres::start();
    let emulator = common::slow_emulator(Duration::from_millis(150));
    let copies = [
        tempfile::tempdir().expect("a copy"),
        tempfile::tempdir().expect("a copy"),
    ];
    for copy in &copies {
        support::write_many_reports(copy.path(), REPORTS, 2);
    }
    let url = pg.url("");
    let apply_in = |dir: &Path, extra: &[&str]| {
        let mut command = apply(&emulator, dir, &url, 2);
        command
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let mut first = apply_in(copies[0].path(), &[])
        .spawn()
        .expect("costform starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg
        .try_query("SELECT count(*) FROM costform.locks")
        .as_deref()
        != Some("1")
    {
        assert!(
            Instant::now() < deadline,
            "the first apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let started = Instant::now();
    let refused = expect(&mut apply_in(copies[1].path(), &[]), 1);
    assert!(started.elapsed() < Duration::from_secs(5), "it failed fast");
    let message = stderr(&refused);
    assert!(
        message.contains("state is locked")
            && message.contains(&format!("pid `{}`", first.id()))
            && message.contains("command `apply`"),
        "{message}"
    );

    assert!(
        first.try_wait().expect("poll").is_none(),
        "the first apply still runs"
    );
    let waited = expect(
        &mut apply_in(copies[1].path(), &["--lock-timeout", "120s"]),
        0,
    );
    let first = first.wait_with_output().expect("the first apply ends");
    assert_eq!(first.status.code(), Some(0), "{}", common::text(&first));
    assert!(
        stdout(&waited).contains("No changes"),
        "{}",
        stdout(&waited)
    );
    let tokens = common::state_tokens(&state(&emulator, copies[1].path(), &url));
    assert_eq!(tokens.len(), REPORTS);
    assert_eq!(
        emulator.issued_tokens().len(),
        REPORTS,
        "each report was sent once"
    );
}

/// `state migrate` from the file to PostgreSQL and back: the same lineage,
/// serial and entries, the sources left intact, a non-empty target refused.
#[test]
fn migrate_round_trip_between_the_file_and_postgresql() {
    let pg = Postgres::start();
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let file = common::state_path(dir);
    let file_arg = file.to_str().expect("a UTF-8 path");
    expect(&mut common::apply(&emulator, dir, 4), 0);
    let original = common::read_json(&file).expect("a local state");
    let url = pg.url("&workspace=migrated");

    expect(
        &mut costform(
            &emulator,
            dir,
            file_arg,
            &["state", "migrate", "--to", &url],
        ),
        0,
    );
    let in_database = state(&emulator, dir, &url);
    assert_eq!(in_database, original, "the database holds the same state");
    assert_eq!(
        common::read_json(&file),
        Some(original.clone()),
        "the file is left as it was"
    );
    // The target now holds a state: a second migration is refused.
    let again = expect(
        &mut costform(
            &emulator,
            dir,
            file_arg,
            &["state", "migrate", "--to", &url],
        ),
        1,
    );
    assert!(
        stderr(&again).contains("holds a state already"),
        "{}",
        stderr(&again)
    );

    let back = dir.join("back.state.json");
    let back_arg = back.to_str().expect("a UTF-8 path");
    expect(
        &mut costform(
            &emulator,
            dir,
            &url,
            &["state", "migrate", "--to", back_arg],
        ),
        0,
    );
    assert_eq!(common::read_json(&back), Some(original.clone()));
    assert_eq!(
        state(&emulator, dir, &url),
        original,
        "the database is left as it was"
    );
    // Nothing to do against either: the copies are the same state.
    for place in [url.as_str(), back_arg] {
        let planned = expect(&mut costform(&emulator, dir, place, &["plan"]), 0);
        assert!(
            stdout(&planned).contains("No changes"),
            "{}",
            stdout(&planned)
        );
    }
}

/// TLS with rustls: `verify-full` against the CA the test generated works
/// (on a server that takes TCP sessions only over TLS), a certificate from
/// another CA or for another name is refused, `verify-ca` ignores the name.
#[test]
fn tls_verify_full_trusts_the_generated_ca_and_refuses_another() {
    let pg = Postgres::start_with_tls();
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let url = pg.tls_url("localhost", "verify-full", &pg.ca_file());
    let with_password = |mut command: Command| {
        command.env("PGPASSWORD", PASSWORD);
        command
    };
    expect(
        &mut with_password(costform(&emulator, dir, &url, &["apply", "--auto-approve"])),
        0,
    );
    let shown = read_state(&mut with_password(costform(
        &emulator,
        dir,
        &url,
        &["show", "--json"],
    )));
    assert!(!shown["reports"].as_object().expect("reports").is_empty());
    // The server takes TCP sessions over TLS only: without it, refused.
    let plain = pg.url("");
    let refused = expect(&mut costform(&emulator, dir, &plain, &["plan"]), 1);
    assert!(
        stderr(&refused).contains("failed to connect to state"),
        "{}",
        stderr(&refused)
    );

    // A CA that did not sign the server's certificate.
    let other = tempfile::tempdir().expect("a directory");
    let stranger = other.path().join("other-ca.crt");
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let certificate = params.self_signed(&key).expect("a certificate");
    std::fs::write(&stranger, certificate.pem()).expect("write the CA");
    let refused = expect(
        &mut with_password(costform(
            &emulator,
            dir,
            &pg.tls_url("localhost", "verify-full", &stranger),
            &["plan"],
        )),
        1,
    );
    assert!(
        stderr(&refused).contains("failed to connect to state"),
        "{}",
        stderr(&refused)
    );
    // `verify-full` checks the name too: the certificate is for `localhost`.
    let wrong_name = expect(
        &mut with_password(costform(
            &emulator,
            dir,
            &pg.tls_url("127.0.0.1", "verify-full", &pg.ca_file()),
            &["plan"],
        )),
        1,
    );
    assert!(
        stderr(&wrong_name).contains("failed to connect"),
        "{}",
        stderr(&wrong_name)
    );
    expect(
        &mut with_password(costform(
            &emulator,
            dir,
            &pg.tls_url("127.0.0.1", "verify-ca", &pg.ca_file()),
            &["plan"],
        )),
        0,
    );
}

/// A role that may only read (a pull request's job) plans against a
/// database no run has written yet, and against the state once one has,
/// without creating or altering anything.
#[test]
fn a_read_only_role_plans_without_creating_anything() {
    let pg = Postgres::start();
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    support::write_many_reports(dir, 3, 1);
    pg.query("CREATE ROLE reader LOGIN PASSWORD 'reader-password'");
    let reader_url = pg.url("").replacen(
        &format!("costform:{PASSWORD}@"),
        "reader:reader-password@",
        1,
    );

    let fresh = expect(&mut costform(&emulator, dir, &reader_url, &["plan"]), 0);
    assert!(stdout(&fresh).contains("3 to create"), "{}", stdout(&fresh));
    assert_eq!(
        pg.query("SELECT to_regnamespace('costform') IS NULL"),
        "t",
        "the reader's plan created the schema"
    );

    expect(&mut apply(&emulator, dir, &pg.url(""), 2), 0);
    pg.query(
        "GRANT USAGE ON SCHEMA costform TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA costform TO reader",
    );
    let unchanged = expect(&mut costform(&emulator, dir, &reader_url, &["plan"]), 0);
    assert!(
        stdout(&unchanged).contains("No changes"),
        "{}",
        stdout(&unchanged)
    );
    expect(&mut costform(&emulator, dir, &reader_url, &["show"]), 0);

    // Tables of an older costform (schema 1 kept states as `jsonb`): the
    // reader is told a writer must migrate them; the writer's next run
    // does, and the state is intact.
    pg.query(
        "ALTER TABLE costform.states ALTER COLUMN body TYPE jsonb USING body::jsonb; UPDATE costform.schema_version SET version = 1",
    );
    let older = expect(&mut costform(&emulator, dir, &reader_url, &["plan"]), 1);
    assert!(
        stderr(&older).contains("schema version `1`, older than `2`")
            && stderr(&older).contains("a writing command"),
        "{}",
        stderr(&older)
    );
    let migrated = expect(
        &mut costform(&emulator, dir, &pg.url(""), &["apply", "--auto-approve"]),
        0,
    );
    assert!(
        stdout(&migrated).contains("No changes"),
        "{}",
        stdout(&migrated)
    );
    assert_eq!(
        pg.query("SELECT version || ' ' || pg_typeof(body) FROM costform.schema_version, costform.states LIMIT 1"),
        "2 json"
    );
    expect(&mut costform(&emulator, dir, &reader_url, &["plan"]), 0);

    // Writing is the writer's: the reader's apply is refused by the server.
    let refused = expect(
        &mut costform(&emulator, dir, &reader_url, &["apply", "--auto-approve"]),
        1,
    );
    assert!(
        stderr(&refused).contains("permission denied"),
        "{}",
        stderr(&refused)
    );
}

/// `force-unlock ID` of a run that hangs while connected ends the session
/// holding the workspace's advisory lock, and only that one: a session
/// whose process id the lock row names but that holds another lock (the
/// id reused by another client) is left alone.
#[test]
fn force_unlock_ends_the_session_holding_this_workspace_and_no_other() {
    let pg = Postgres::start();
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    let url = pg.url("");
    let run = |args: &[&str], code| expect(&mut costform(&emulator, dir, &url, args), code);
    // The tables, as any writing command leaves them.
    run(&["force-unlock", "00000000-0000-0000-0000-000000000000"], 1);

    let mut other = pg.session("another-client");
    other.run("SELECT pg_advisory_lock(42);");
    let mut hung = pg.session("hung-run");
    hung.run("SELECT pg_advisory_lock(hashtextextended('costform:costform:default', 0));");
    let lock_row = |id: &str, session: &str| {
        pg.query(&format!(
            "INSERT INTO costform.locks (workspace, id, user_name, host, pid, command, created, session_pid) \
             VALUES ('default', '{id}', 'ci', 'runner', 4242, 'apply', now(), {})",
            pg.locking_pid(session)
        ));
    };
    let alive = |session: &str| {
        pg.query(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{session}'"
        )) == "1"
    };

    lock_row("lock-of-another-client", "another-client");
    run(&["force-unlock", "lock-of-another-client"], 0);
    assert_eq!(pg.query("SELECT count(*) FROM costform.locks"), "0");
    assert!(
        alive("another-client"),
        "another client's session was ended"
    );

    lock_row("lock-of-the-hung-run", "hung-run");
    run(&["force-unlock", "lock-of-the-hung-run"], 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive("hung-run") {
        assert!(
            Instant::now() < deadline,
            "the hung run's session still holds the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        alive("another-client"),
        "another client's session was ended"
    );
    // The workspace can be locked again at once.
    support::write_many_reports(dir, 2, 1);
    expect(&mut apply(&emulator, dir, &url, 2), 0);
}
