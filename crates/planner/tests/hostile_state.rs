//! Issue #11, hostile state files: a state reached through a symbolic link,
//! a journal of another lineage, a serial at `u64::MAX`, links planted at
//! the journal's name, a lock read while it is written, and a corrupt state
//! with no backup.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{entry, name, request, token};
use costform_model::state::State;
use costform_planner::{Error, LockOptions, StateStore, force_unlock, read_lock};

fn options() -> LockOptions {
    LockOptions {
        timeout: None,
        command: "apply".to_owned(),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn on_disk(path: &Path) -> State {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// A committed state at `path` with report `a`, returning its lineage.
fn committed(path: &Path) -> String {
    let mut locked = StateStore::lock(path, &options()).unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    locked.commit().unwrap();
    locked.state().lineage.clone()
}

/// Two checkouts linking to one shared state: the lock, journal and backup
/// live beside the shared file, so the second checkout is locked out, and
/// the links stay links.
#[test]
fn a_state_reached_through_a_link_is_locked_and_written_at_its_target() {
    let shared = tempfile::tempdir().unwrap();
    let target = shared.path().join("costform.state.json");
    let checkouts = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let links: Vec<PathBuf> = checkouts
        .iter()
        .map(|checkout| {
            let link = checkout.path().join("costform.state.json");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            link
        })
        .collect();

    let mut first = StateStore::lock(&links[0], &options()).unwrap();
    assert!(
        with_suffix(&target, ".lock").exists(),
        "locked at the target"
    );
    let second = StateStore::lock(&links[1], &options());
    assert!(
        matches!(second, Err(Error::Locked { .. })),
        "the other checkout is locked out: {second:?}"
    );
    assert_eq!(
        read_lock(&links[1]).map(|info| info.id),
        Some(first.lock_id().to_owned())
    );
    first
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    assert!(
        with_suffix(&target, ".journal").exists(),
        "journaled at the target"
    );
    first.commit().unwrap();
    first
        .record(&name("b"), entry(request("2026-10-01"), token(2)))
        .unwrap();
    first.commit().unwrap();
    drop(first);

    for link in &links {
        assert!(
            fs::symlink_metadata(link).unwrap().file_type().is_symlink(),
            "still a link"
        );
        for suffix in [".lock", ".journal", ".backup"] {
            assert!(
                !with_suffix(link, suffix).exists(),
                "no `{suffix}` beside the link"
            );
        }
    }
    assert_eq!(on_disk(&target).reports.len(), 2);
    assert!(with_suffix(&target, ".backup").exists());
    assert_eq!(StateStore::read(&links[1]).unwrap().unwrap().serial, 2);

    let held = StateStore::lock(&links[1], &options()).unwrap();
    let id = held.lock_id().to_owned();
    std::mem::forget(held);
    force_unlock(&links[0], &id).unwrap();
    assert!(
        !with_suffix(&target, ".lock").exists(),
        "force-unlock through a link"
    );
}

/// A journal left by a killed run on lineage A is not folded into a state
/// of lineage B: it is moved aside, the error says where, and the next run
/// proceeds with B untouched.
#[test]
fn a_journal_of_another_lineage_is_set_aside_not_folded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costform.state.json");
    let journal = with_suffix(&path, ".journal");
    let lineage_b = committed(&path);
    let foreign = format!(
        "{{\"op\":\"begin\",\"lineage\":\"aaaaaaaa-0000-4000-8000-000000000000\",\"serial\":7}}\n{}\n",
        serde_json::json!({"op": "forget", "name": "a"})
    );
    fs::write(&journal, &foreign).unwrap();

    let read = StateStore::read(&path).unwrap().unwrap();
    assert!(
        read.reports.contains_key(&name("a")),
        "plan does not fold it either"
    );

    let error = StateStore::lock(&path, &options()).unwrap_err();
    let Error::ForeignJournal { kept, .. } = &error else {
        panic!("{error}");
    };
    let message = error.to_string();
    assert!(
        message.contains("aaaaaaaa-0000-4000-8000-000000000000"),
        "{message}"
    );
    assert!(message.contains(&lineage_b), "{message}");
    assert!(message.contains(&kept.display().to_string()), "{message}");
    assert_eq!(fs::read_to_string(kept).unwrap(), foreign, "kept whole");
    assert!(!journal.exists());

    let locked = StateStore::lock(&path, &options()).unwrap();
    assert_eq!(locked.state().lineage, lineage_b);
    assert!(
        locked.state().reports.contains_key(&name("a")),
        "not overwritten"
    );
}

/// A serial at `u64::MAX` is refused when the state is locked, before
/// anything is sent, not wrapped to 0 on commit (which would make any stale
/// saved plan made at serial 0 look current).
#[test]
fn a_serial_at_its_maximum_is_refused_not_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costform.state.json");
    committed(&path);
    let mut state = on_disk(&path);
    state.serial = u64::MAX;
    fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();

    let error = StateStore::lock(&path, &options()).unwrap_err();
    assert!(matches!(error, Error::SerialExhausted { .. }), "{error}");
    assert!(
        error.to_string().contains("18446744073709551615"),
        "{error}"
    );
    assert_eq!(on_disk(&path).serial, u64::MAX, "the state is unchanged");
    assert!(
        !with_suffix(&path, ".lock").exists(),
        "the lock is released"
    );
    assert_eq!(
        StateStore::read(&path).unwrap().map(|state| state.serial),
        Some(u64::MAX),
        "reading it is still fine"
    );
}

/// A link planted at the journal's name (dangling, pointing outside the
/// repository) is refused: no token is written through it.
#[test]
fn a_link_at_the_journal_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let stolen = outside.path().join("stolen");
    let path = dir.path().join("costform.state.json");
    std::os::unix::fs::symlink(&stolen, with_suffix(&path, ".journal")).unwrap();

    let recorded = StateStore::lock(&path, &options())
        .and_then(|mut locked| locked.record(&name("a"), entry(request("2026-10-01"), token(1))));
    let error = recorded.unwrap_err();
    assert!(error.to_string().contains(".journal"), "{error}");
    assert!(!stolen.exists(), "nothing was written through the link");
}

/// Readers racing a stream of lock/unlock cycles never see a lock file that
/// exists but does not parse: it is written whole before it is visible.
#[test]
fn a_lock_file_is_never_seen_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costform.state.json");
    let lock = with_suffix(&path, ".lock");
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let torn = std::thread::scope(|scope| {
        // At least 60 cycles, and on until the reader has seen a lock: on a
        // loaded machine it may not run at all during the first 60.
        scope.spawn(|| {
            for cycle in 0..100_000 {
                drop(StateStore::lock(&path, &options()).unwrap());
                if cycle >= 60 && seen.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                    break;
                }
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut torn = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(text) = fs::read_to_string(&lock) {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                    torn += 1;
                }
            }
        }
        torn
    });
    let seen = seen.into_inner();
    assert!(seen > 0, "the reader saw the lock at least once");
    assert_eq!(torn, 0, "{torn} of {seen} reads found a half-written lock");
}

/// The corrupt-state message points at the backup only when there is one.
#[test]
fn a_corrupt_state_names_a_backup_only_when_one_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costform.state.json");
    fs::write(&path, "{ not json").unwrap();
    let message = StateStore::read(&path).unwrap_err().to_string();
    assert!(!message.contains(".backup"), "{message}");
    assert!(message.contains("there is no backup"), "{message}");

    fs::write(with_suffix(&path, ".backup"), "{}").unwrap();
    let message = StateStore::read(&path).unwrap_err().to_string();
    assert!(
        message.contains(&format!(
            "the previous version is in `{}.backup`",
            path.display()
        )),
        "{message}"
    );
}
