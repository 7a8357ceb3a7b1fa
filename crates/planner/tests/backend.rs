//! The `StateBackend` interface through its in-memory implementation: the
//! guarantees every backend gives (a record is kept before the state
//! changes, a killed run's records are folded in by the next lock, every
//! version kept, one lock holder, a migration never overwrites a state).

mod common;

use common::{entry, name, request, state, token};
use costform_planner::{Error, LockOptions, MemoryBackend, StateBackend as _};

fn options() -> LockOptions {
    LockOptions {
        timeout: None,
        command: "apply".to_owned(),
    }
}

#[test]
fn records_left_uncommitted_are_read_with_the_next_serial_and_committed_by_the_next_lock() {
    let backend = MemoryBackend::new();
    let mut locked = backend.lock(&options()).unwrap();
    locked.commit().unwrap();
    locked
        .record(&name("a"), entry(request("2026-10-01"), token(1)))
        .unwrap();
    // The run dies without committing: the record is kept, the lock goes.
    drop(locked);
    assert_eq!(backend.journal().len(), 2, "a begin and the record");

    let read = backend.read().unwrap().unwrap();
    assert_eq!(
        (read.serial, read.reports[&name("a")].handle.clone()),
        (2, token(1))
    );
    let relocked = backend.lock(&options()).unwrap();
    assert_eq!(
        relocked.state(),
        &read,
        "the lock commits what read predicted"
    );
    assert!(backend.journal().is_empty());
    let serials: Vec<u64> = backend
        .versions()
        .iter()
        .map(|state| state.serial)
        .collect();
    assert_eq!(serials, [1, 2], "every version is kept");
}

#[test]
fn one_holder_at_a_time_and_force_unlock_needs_its_id() {
    let backend = MemoryBackend::new();
    let held = backend.lock(&options()).unwrap();
    let error = backend.lock(&options()).unwrap_err();
    assert!(
        matches!(&error, Error::Locked { holder: Some(holder), .. } if holder.id == held.lock_id()),
        "{error:?}"
    );
    assert!(matches!(
        backend.force_unlock("another id"),
        Err(Error::LockIdMismatch { .. })
    ));
    let id = held.lock_id().to_owned();
    backend.force_unlock(&id).unwrap();
    assert!(backend.lock_holder().unwrap().is_none());
    assert!(backend.lock(&options()).is_ok());
}

#[test]
fn an_import_keeps_lineage_and_serial_and_never_overwrites_a_state() {
    let source = state([(name("a"), entry(request("2026-10-01"), token(7)))]);
    let target = MemoryBackend::new();
    let mut locked = target.lock(&options()).unwrap();
    locked.import(source.clone()).unwrap();
    drop(locked);
    let copied = target.read().unwrap().unwrap();
    assert_eq!(
        (&copied.lineage, copied.serial, &copied.reports),
        (&source.lineage, source.serial, &source.reports)
    );

    let mut again = target.lock(&options()).unwrap();
    let error = again.import(source).unwrap_err();
    assert!(
        error.to_string().contains("holds a state already"),
        "{error}"
    );
    assert_eq!(target.versions().len(), 1, "nothing was written over it");
}
