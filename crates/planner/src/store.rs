//! The state store: reading the state file, locking it for a writing command,
//! journaling each change as it happens and committing the whole state
//! atomically with the previous version kept as `PATH.backup`.

use std::fs;
use std::path::{Path, PathBuf};

use costform_model::ids::ReportName;
use costform_model::state::{STATE_FORMAT_VERSION, State, StateEntry};
use serde::Deserialize;

use crate::atomic::write_atomically;
use crate::error::Error;
use crate::journal::{self, Journal, Record, journal_path};
use crate::lock::{self, LockGuard, LockOptions, sibling};

/// Entry point to the state file at a path; see [`StateStore::read`] and
/// [`StateStore::lock`].
#[derive(Debug, Clone, Copy)]
pub struct StateStore;

impl StateStore {
    /// Reads the state without locking, for commands that never write it
    /// (`plan`, `show`). A journal left by a crashed run is folded in memory
    /// only, with the serial the next writing command will commit, so a plan
    /// saved now stays valid. `None`: no state and no journal yet.
    pub fn read(path: &Path) -> Result<Option<State>, Error> {
        let state = read_state_file(path)?;
        let Some(records) = journal::read(&journal_path(path))? else {
            return Ok(state);
        };
        let had_state = state.is_some();
        let mut state = state.unwrap_or_else(|| State::new(String::new()));
        journal::fold(&mut state, records, !had_state);
        state.serial += 1;
        Ok(Some(state))
    }

    /// Locks the state for a writing command (`apply`, `fetch`, `state rm`).
    /// A journal left by a crashed run is folded in and committed at once, so
    /// its tokens are safe in the state before anything else happens.
    pub fn lock(path: &Path, options: &LockOptions) -> Result<LockedState, Error> {
        let lock = lock::acquire(path, options)?;
        let existing = read_state_file(path)?;
        let had_state = existing.is_some();
        let state = existing.unwrap_or_else(|| State::new(uuid::Uuid::new_v4().to_string()));
        let mut locked = LockedState {
            path: path.to_owned(),
            state,
            journal: None,
            lock,
        };
        if let Some(records) = journal::read(&journal_path(path))? {
            journal::fold(&mut locked.state, records, !had_state);
            locked.commit()?;
        }
        Ok(locked)
    }
}

/// The state under lock. Changes go through [`LockedState::record`] and
/// [`LockedState::forget`] (journaled at once) and reach the state file with
/// [`LockedState::commit`]. Dropping it releases the lock without committing:
/// the journal keeps what was recorded for the next run.
#[derive(Debug)]
pub struct LockedState {
    path: PathBuf,
    state: State,
    journal: Option<Journal>,
    lock: LockGuard,
}

impl LockedState {
    /// The state as of the last record.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id of the lock held, as `force-unlock` would need it.
    pub fn lock_id(&self) -> &str {
        self.lock.id()
    }

    /// Records a report's new entry: appended to the journal and synced
    /// before the in-memory state changes, so the token survives a crash.
    pub fn record(&mut self, name: &ReportName, entry: StateEntry) -> Result<(), Error> {
        self.append(Record::Put {
            name: name.clone(),
            entry: Box::new(entry),
        })
    }

    /// Drops a report from the state, journaled like [`LockedState::record`].
    pub fn forget(&mut self, name: &ReportName) -> Result<(), Error> {
        self.append(Record::Forget { name: name.clone() })
    }

    fn append(&mut self, record: Record) -> Result<(), Error> {
        let journal = match &mut self.journal {
            Some(journal) => journal,
            None => self
                .journal
                .insert(Journal::open(journal_path(&self.path), &self.state)?),
        };
        journal.append(&record)?;
        journal::fold(&mut self.state, vec![record], false);
        Ok(())
    }

    /// Writes the state: serial + 1, atomically, the previous file kept as
    /// `PATH.backup`; then the journal, now redundant, is removed.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.state.serial += 1;
        self.state.format_version = STATE_FORMAT_VERSION;
        env!("CARGO_PKG_VERSION").clone_into(&mut self.state.costform_version);
        if let Err(error) = self.write() {
            self.state.serial -= 1;
            return Err(error);
        }
        self.journal = None;
        let journal = journal_path(&self.path);
        match fs::remove_file(&journal) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("remove", journal)(error))
            }
            _ => Ok(()),
        }
    }

    fn write(&self) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(&self.state).map_err(Error::Encode)?;
        text.push('\n');
        write_atomically(&self.path, text.as_bytes(), || keep_backup(&self.path))
    }
}

/// `PATH.backup`: the state as it was before the last commit.
pub(crate) fn backup_path(state_path: &Path) -> PathBuf {
    sibling(state_path, ".backup")
}

/// Keeps the current state file as the backup: a hard link when the file
/// system allows (instant, same 0600 mode), a copy otherwise.
fn keep_backup(path: &Path) -> Result<(), Error> {
    if !path.exists() {
        return Ok(());
    }
    let backup = backup_path(path);
    match fs::remove_file(&backup) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io("remove", backup)(error));
        }
        _ => {}
    }
    if fs::hard_link(path, &backup).is_err() {
        fs::copy(path, &backup).map_err(Error::io("copy the state to", &backup))?;
    }
    Ok(())
}

/// Just the version, read before the whole file so that a newer layout is
/// reported as such rather than as an unknown field.
#[derive(Deserialize)]
struct FormatVersion {
    format_version: u32,
}

/// Reads and checks the state file; `None` when there is none.
fn read_state_file(path: &Path) -> Result<Option<State>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io("read", path)(error)),
    };
    let corrupt = |source| Error::CorruptState {
        path: path.to_owned(),
        backup: backup_path(path),
        source,
    };
    let version: FormatVersion = serde_json::from_str(&text).map_err(corrupt)?;
    if version.format_version > STATE_FORMAT_VERSION {
        return Err(Error::FutureState {
            path: path.to_owned(),
            found: version.format_version,
            supported: STATE_FORMAT_VERSION,
        });
    }
    serde_json::from_str(&text).map(Some).map_err(corrupt)
}
