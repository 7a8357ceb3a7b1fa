//! The state store: lock, journal, atomic commits with backup.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{entry, name, request, token};
use costform_model::state::State;
use costform_planner::{Error, LockOptions, StateStore, force_unlock, read_lock};

fn options() -> LockOptions {
    LockOptions {
        timeout: None,
        command: "apply".to_owned(),
    }
}

fn state_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("costform.state.json")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn on_disk(path: &Path) -> State {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_missing_state_reads_as_none_and_the_first_commit_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    assert_eq!(StateStore::read(&path).unwrap(), None);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    locked.commit().unwrap();
    let first = on_disk(&path);
    assert_eq!(first.serial, 1);
    assert_eq!(first.reports[&name("a")].handle, token(1));
    assert!(fs::read_to_string(&path).unwrap().ends_with("}\n"));
    assert!(!with_suffix(&path, ".journal").exists());

    locked.forget(&name("a")).unwrap();
    locked.commit().unwrap();
    let second = on_disk(&path);
    assert_eq!(
        (second.serial, second.lineage.clone()),
        (2, first.lineage.clone())
    );
    assert!(second.reports.is_empty());
    assert_eq!(on_disk(&with_suffix(&path, ".backup")), first);
}

#[cfg(unix)]
#[test]
fn state_backup_and_journal_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    locked.commit().unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    let mode = |suffix: &str| {
        fs::metadata(with_suffix(&path, suffix))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(".journal"), 0o600);
    locked.commit().unwrap();
    assert_eq!((mode(""), mode(".backup")), (0o600, 0o600));
}

#[test]
fn a_second_lock_fails_at_once_naming_the_holder_and_drop_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let locked = StateStore::lock(&path, &options()).unwrap();
    let holder = read_lock(&path).unwrap();
    assert_eq!(
        (holder.id.as_str(), holder.pid, holder.command.as_str()),
        (locked.lock_id(), std::process::id(), "apply")
    );

    let started = Instant::now();
    let error = StateStore::lock(&path, &options()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            &error,
            Error::Locked {
                holder_alive: Some(true) | None,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(locked.lock_id())
            && message.contains(&format!("pid `{}`", std::process::id())),
        "{message}"
    );

    drop(locked);
    assert!(read_lock(&path).is_none());
    assert!(StateStore::lock(&path, &options()).is_ok());
}

#[test]
fn with_a_timeout_lock_waits_for_the_holder_to_finish() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let held = StateStore::lock(&path, &options()).unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        drop(held);
    });
    let waiting = LockOptions {
        timeout: Some(Duration::from_secs(10)),
        command: "fetch".to_owned(),
    };
    let locked = StateStore::lock(&path, &waiting).unwrap();
    releaser.join().unwrap();
    assert_eq!(read_lock(&path).unwrap().command, "fetch");
    drop(locked);

    let _held = StateStore::lock(&path, &options()).unwrap();
    let short = LockOptions {
        timeout: Some(Duration::from_millis(50)),
        command: "fetch".to_owned(),
    };
    assert!(matches!(
        StateStore::lock(&path, &short),
        Err(Error::Locked { .. })
    ));
}

#[test]
fn force_unlock_needs_the_right_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let locked = StateStore::lock(&path, &options()).unwrap();
    let id = locked.lock_id().to_owned();
    let error = force_unlock(&path, "not-the-id").unwrap_err().to_string();
    assert!(error.contains(&id), "{error}");
    assert!(read_lock(&path).is_some());
    force_unlock(&path, &id).unwrap();
    assert!(read_lock(&path).is_none());
    assert!(matches!(
        force_unlock(&path, &id),
        Err(Error::NotLocked { .. })
    ));
    drop(locked); // releasing a lock that was forced away is harmless
}

#[cfg(target_os = "linux")]
#[test]
fn a_lock_left_by_a_dead_process_is_reported_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let locked = StateStore::lock(&path, &options()).unwrap();
    let mut info = read_lock(&path).unwrap();
    std::mem::forget(locked);
    let mut child = std::process::Command::new("true").spawn().unwrap();
    info.pid = child.id();
    child.wait().unwrap();
    fs::write(
        with_suffix(&path, ".lock"),
        serde_json::to_string(&info).unwrap(),
    )
    .unwrap();

    let error = StateStore::lock(&path, &options()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Locked {
                holder_alive: Some(false),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("run `costform force-unlock {}`", info.id)),
        "{error}"
    );
}

#[test]
fn an_unreadable_lock_file_is_still_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    fs::write(with_suffix(&path, ".lock"), "{not json").unwrap();
    let error = StateStore::lock(&path, &options()).unwrap_err();
    assert!(matches!(error, Error::Locked { holder: None, .. }));
    assert!(error.to_string().contains("cannot be read"), "{error}");
}

#[test]
fn recorded_but_uncommitted_tokens_survive_and_are_folded_by_the_next_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    locked.commit().unwrap();
    locked
        .record(&name("b"), entry(request("2026-10-01"), token(2)))
        .unwrap();
    locked.forget(&name("a")).unwrap();
    drop(locked); // a crash: no commit

    assert_eq!(on_disk(&path).serial, 1, "drop must not commit");
    let read = StateStore::read(&path).unwrap().unwrap();
    assert_eq!(read.reports.keys().collect::<Vec<_>>(), [&name("b")]);
    assert_eq!(
        read.serial, 2,
        "read predicts the serial the fold will commit"
    );
    assert!(
        with_suffix(&path, ".journal").exists(),
        "read must not write"
    );

    let locked = StateStore::lock(&path, &options()).unwrap();
    assert_eq!(locked.state(), &read);
    assert_eq!(on_disk(&path), read);
    assert!(!with_suffix(&path, ".journal").exists());
}

/// A group recorded together (fetch's group commit) is one journal write:
/// all of it survives a crash and is folded by the next lock.
#[test]
fn entries_recorded_as_a_group_survive_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    let group: Vec<_> = (0..3)
        .map(|i| {
            (
                name(&format!("r{i}")),
                entry(request("2026-10-01"), token(i)),
            )
        })
        .collect();
    locked.record_all(group.clone()).unwrap();
    drop(locked); // a crash: no commit

    let journal = fs::read_to_string(with_suffix(&path, ".journal")).unwrap();
    assert_eq!(journal.lines().count(), 4, "a begin line and the group");
    let locked = StateStore::lock(&path, &options()).unwrap();
    for (name, entry) in &group {
        assert_eq!(locked.state().reports.get(name), Some(entry));
    }
}

#[test]
fn a_journal_without_a_state_file_keeps_its_lineage_through_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    let lineage = locked.state().lineage.clone();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    drop(locked);
    let read = StateStore::read(&path).unwrap().unwrap();
    assert_eq!((read.lineage.as_str(), read.serial), (lineage.as_str(), 1));
    let locked = StateStore::lock(&path, &options()).unwrap();
    assert_eq!(locked.state(), &read);
}

#[test]
fn a_torn_last_journal_line_is_ignored_and_earlier_lines_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut locked = StateStore::lock(&path, &options()).unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    drop(locked);
    let journal = with_suffix(&path, ".journal");
    let mut text = fs::read_to_string(&journal).unwrap();
    text.push_str(r#"{"op":"put","name":"b","entr"#);
    fs::write(&journal, text).unwrap();
    let locked = StateStore::lock(&path, &options()).unwrap();
    assert_eq!(
        locked.state().reports.keys().collect::<Vec<_>>(),
        [&name("a")]
    );
}

#[test]
fn an_unparseable_state_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    fs::write(&path, "{ \"format_version\": 1, ").unwrap();
    let error = StateStore::read(&path).unwrap_err().to_string();
    assert!(error.contains("there is no backup"), "{error}");
    assert!(StateStore::lock(&path, &options()).is_err());
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{ \"format_version\": 1, "
    );
}

#[test]
fn a_state_from_a_newer_costform_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    fs::write(&path, r#"{"format_version": 3, "something_new": true}"#).unwrap();
    let error = StateStore::read(&path).unwrap_err();
    assert!(matches!(
        error,
        Error::FutureState {
            found: 3,
            supported: 2,
            ..
        }
    ));
    assert!(error.to_string().ends_with("upgrade costform"), "{error}");
}

/// A format 1 entry as costform 0.1 wrote it: a bare `token`.
fn format_1_entry(token: &str) -> String {
    let mut entry = serde_json::to_value(entry(request("2026-10-01"), common::token(0))).unwrap();
    let object = entry.as_object_mut().unwrap();
    object.remove("handle");
    object.insert("token".to_owned(), serde_json::Value::from(token));
    entry.to_string()
}

#[test]
fn a_format_1_state_is_read_and_written_back_as_format_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let old = format!(
        r#"{{"format_version": 1, "lineage": "l", "serial": 4, "costform_version": "0.1.0", "reports": {{"a": {}}}}}"#,
        format_1_entry("t-1")
    );
    fs::write(&path, &old).unwrap();
    let read = StateStore::read(&path).unwrap().unwrap();
    assert_eq!(read.reports[&name("a")].handle.get("token"), Some("t-1"));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        old,
        "a read never writes"
    );

    let mut locked = StateStore::lock(&path, &options()).unwrap();
    locked.commit().unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["format_version"], 2);
    assert_eq!(
        written["reports"]["a"]["handle"],
        serde_json::json!({"token": "t-1"})
    );
    assert!(written["reports"]["a"].get("token").is_none());
}

#[test]
fn a_journal_left_by_a_format_1_costform_keeps_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let journal = dir.path().join("costform.state.json.journal");
    let line = format!(
        r#"{{"op":"put","name":"a","entry":{}}}"#,
        format_1_entry("t-2")
    );
    fs::write(&journal, format!("{line}\n")).unwrap();
    let locked = StateStore::lock(&path, &options()).unwrap();
    assert_eq!(
        locked.state().reports[&name("a")].handle.get("token"),
        Some("t-2")
    );
}
