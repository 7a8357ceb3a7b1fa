//! The local backend: the state file, locked by `PATH.lock`, journaled in
//! `PATH.journal` and committed atomically with the previous version kept
//! as `PATH.backup`. The embedded default, needing no server.

use std::fs;
use std::path::{Path, PathBuf};

use costform_model::state::{STATE_FORMAT_VERSION, State};
use serde::Deserialize;

use crate::atomic::{parent_dir, write_atomically};
use crate::backend::{StateBackend, StateSession};
use crate::error::Error;
use crate::journal::{self, Journal, Record, journal_path};
use crate::lock::{self, LockGuard, LockInfo, LockOptions, sibling};
use crate::locked::{LockedState, fold_uncommitted};
use crate::nofollow::read_unless_missing;

/// The state file at a path: the default backend.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
}

impl LocalBackend {
    /// The state file at `path` (created by the first commit).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The state file's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl StateBackend for LocalBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<Option<State>, Error> {
        StateStore::read(&self.path)
    }

    fn lock(&self, options: &LockOptions) -> Result<LockedState, Error> {
        StateStore::lock(&self.path, options)
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, Error> {
        Ok(lock::read_lock(&self.path))
    }

    fn force_unlock(&self, id: &str) -> Result<(), Error> {
        lock::force_unlock(&self.path, id)
    }
}

/// Entry point to the state file at a path; see [`StateStore::read`] and
/// [`StateStore::lock`] (what [`LocalBackend`] does).
#[derive(Debug, Clone, Copy)]
pub struct StateStore;

impl StateStore {
    /// Reads the state without locking, for commands that never write it
    /// (`plan`, `show`). A journal left by a crashed run is folded in memory
    /// only, with the serial the next writing command will commit, so a plan
    /// saved now stays valid. `None`: no state and no journal yet.
    pub fn read(path: &Path) -> Result<Option<State>, Error> {
        let file = &resolve(path)?;
        let state = read_state_file(file)?;
        let journal = journal_path(file);
        let records = journal::read(&journal)?;
        if let (Some(state), Some(records)) = (&state, &records)
            && let Some(lineage) = journal::foreign_lineage(records, &state.lineage)
        {
            tracing::warn!(journal = %journal.display(), lineage, "ignoring a journal of another state lineage; the next writing command sets it aside");
            return Ok(Some(state.clone()));
        }
        fold_uncommitted(state, records, &file.display().to_string())
    }

    /// Locks the state for a writing command (`apply`, `fetch`, `state rm`).
    /// A journal left by a crashed run is folded in and committed at once, so
    /// its tokens are safe in the state before anything else happens. A
    /// state at serial `u64::MAX`, which could not be written again, is
    /// refused here.
    pub fn lock(path: &Path, options: &LockOptions) -> Result<LockedState, Error> {
        let file = resolve(path)?;
        // As Terraform does for a local state, a writing command creates the
        // directories a new state file goes in; reading commands never get
        // here, so they create nothing and find no state.
        let directory = parent_dir(&file);
        fs::create_dir_all(directory).map_err(Error::io("create the directory", directory))?;
        let lock = lock::acquire(&file, options)?;
        let existing = read_state_file(&file)?;
        let journal = journal_path(&file);
        let pending = journal::read(&journal)?;
        if let (Some(state), Some(records)) = (&existing, &pending)
            && let Some(lineage) = journal::foreign_lineage(records, &state.lineage)
        {
            let kept = journal::set_aside(&journal, lineage)?;
            return Err(Error::ForeignJournal {
                journal,
                kept,
                journal_lineage: lineage.to_owned(),
                state_lineage: state.lineage.clone(),
            });
        }
        let location = path.display().to_string();
        let results_base = parent_dir(path).to_owned();
        let session = LocalSession {
            file,
            journal: None,
            lock,
        };
        LockedState::new(existing, pending, Box::new(session), location, results_base)
    }
}

/// The local backend's side of a [`LockedState`].
#[derive(Debug)]
struct LocalSession {
    /// The file the state path resolves to, where the state, lock, journal,
    /// backup and temporary files are read and written.
    file: PathBuf,
    journal: Option<Journal>,
    lock: LockGuard,
}

impl StateSession for LocalSession {
    fn lock_id(&self) -> &str {
        self.lock.id()
    }

    fn begin(&mut self, state: &State) -> Result<(), Error> {
        if self.journal.is_none() {
            self.journal = Some(Journal::open(journal_path(&self.file), state)?);
        }
        Ok(())
    }

    fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.append_all(std::slice::from_ref(record))
    }

    fn append_all(&mut self, records: &[Record]) -> Result<(), Error> {
        match &mut self.journal {
            Some(journal) => journal.append_all(records),
            None => Err(Error::io("append to", journal_path(&self.file))(
                std::io::Error::other("the journal is not open"),
            )),
        }
    }

    fn write(&mut self, state: &State) -> Result<(), Error> {
        let bytes = encoded(state)?;
        write_atomically(&self.file, &bytes, || keep_backup(&self.file))?;
        if let Some(format) = state.upgraded_from {
            tracing::warn!(
                path = %self.file.display(),
                "upgraded the state file from format {format} to {STATE_FORMAT_VERSION} (an older costform cannot read it; `{}` keeps the previous file)",
                backup_path(&self.file).display()
            );
        }
        self.journal = None;
        let journal = journal_path(&self.file);
        match fs::remove_file(&journal) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("remove", journal)(error))
            }
            _ => Ok(()),
        }
    }

    fn keep_errored(&mut self, state: &State) -> Option<PathBuf> {
        let errored = sibling(&self.file, ".errored");
        encoded(state)
            .and_then(|bytes| write_atomically(&errored, &bytes, || Ok(())))
            .ok()
            .map(|()| errored)
    }
}

fn encoded(state: &State) -> Result<Vec<u8>, Error> {
    let mut text = serde_json::to_string_pretty(state).map_err(Error::Encode)?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// The file a state path names, symbolic links followed once, as
/// Terraform's local backend does: the lock, journal, backup and temporary
/// files then sit beside the real state, so two checkouts linking to one
/// state exclude each other, and the link is never replaced by a copy. A
/// dangling link names the file the first commit creates.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf, Error> {
    const MAX_LINKS: usize = 40;
    let mut current = path.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target =
                    fs::read_link(&current).map_err(Error::io("read the link", &current))?;
                current = parent_dir(&current).join(target);
            }
            _ => return Ok(current),
        }
    }
    Err(Error::io("resolve", path)(std::io::Error::other(
        "too many levels of symbolic links",
    )))
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
    let Some(text) = read_unless_missing(path)? else {
        return Ok(None);
    };
    let backup = Some(backup_path(path)).filter(|backup| backup.exists());
    let corrupt = |source| Error::CorruptState {
        path: path.to_owned(),
        backup: backup.clone(),
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
    let mut document: serde_json::Value = serde_json::from_str(&text).map_err(corrupt)?;
    let upgraded_from = costform_model::state::upgrade(&mut document);
    let mut state: State = serde_json::from_value(document).map_err(corrupt)?;
    state.upgraded_from = upgraded_from;
    Ok(Some(state))
}
