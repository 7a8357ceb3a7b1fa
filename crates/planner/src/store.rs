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
use crate::nofollow::read_unless_missing;

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
        let path = &resolve(path)?;
        let state = read_state_file(path)?;
        let journal = journal_path(path);
        let Some(records) = journal::read(&journal)? else {
            return Ok(state);
        };
        if let Some(state) = &state
            && let Some(lineage) = journal::foreign_lineage(&records, &state.lineage)
        {
            tracing::warn!(journal = %journal.display(), lineage, "ignoring a journal of another state lineage; the next writing command sets it aside");
            return Ok(Some(state.clone()));
        }
        let had_state = state.is_some();
        let mut state = state.unwrap_or_else(|| State::new(String::new()));
        journal::fold(&mut state, records, !had_state);
        state.serial = next_serial(state.serial, path)?;
        Ok(Some(state))
    }

    /// Locks the state for a writing command (`apply`, `fetch`, `state rm`).
    /// A journal left by a crashed run is folded in and committed at once, so
    /// its tokens are safe in the state before anything else happens. A
    /// state at serial `u64::MAX`, which could not be written again, is
    /// refused here.
    pub fn lock(path: &Path, options: &LockOptions) -> Result<LockedState, Error> {
        let file = resolve(path)?;
        let lock = lock::acquire(&file, options)?;
        let existing = read_state_file(&file)?;
        if let Some(state) = &existing {
            // Refused before anything is sent: a token received now could
            // never be committed.
            next_serial(state.serial, &file)?;
        }
        let had_state = existing.is_some();
        let state = existing.unwrap_or_else(|| State::new(uuid::Uuid::new_v4().to_string()));
        let journal = journal_path(&file);
        let mut locked = LockedState {
            path: path.to_owned(),
            file,
            state,
            journal: None,
            lock,
        };
        if let Some(records) = journal::read(&journal)? {
            if had_state
                && let Some(lineage) = journal::foreign_lineage(&records, &locked.state.lineage)
            {
                let kept = journal::set_aside(&journal, lineage)?;
                return Err(Error::ForeignJournal {
                    journal,
                    kept,
                    journal_lineage: lineage.to_owned(),
                    state_lineage: locked.state.lineage.clone(),
                });
            }
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
    /// The state path as given, for messages and relative result paths.
    path: PathBuf,
    /// The file it resolves to, where the state, lock, journal, backup and
    /// temporary files are read and written.
    file: PathBuf,
    state: State,
    journal: Option<Journal>,
    lock: LockGuard,
}

impl LockedState {
    /// The state as of the last record.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state, or `None` when none has been committed yet: the same
    /// "no state" as [`StateStore::read`] returns and plans record. A
    /// state that was never written is the only one at serial 0.
    pub fn existing(&self) -> Option<&State> {
        (self.state.serial > 0).then_some(&self.state)
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

    /// Records several reports' new entries with one journal sync: durable
    /// together when this returns (fetch's group commit).
    pub fn record_all(&mut self, entries: Vec<(ReportName, StateEntry)>) -> Result<(), Error> {
        let records = entries
            .into_iter()
            .map(|(name, entry)| Record::Put {
                name,
                entry: Box::new(entry),
            })
            .collect();
        self.append_all(records)
    }

    /// Drops a report from the state, journaled like [`LockedState::record`].
    pub fn forget(&mut self, name: &ReportName) -> Result<(), Error> {
        self.append(Record::Forget { name: name.clone() })
    }

    /// Replaces the lookups cached in the state with those `apply` just
    /// read; written by the next [`LockedState::commit`]. Not journaled: a
    /// lookup lost to a crash is read again by the next run.
    pub fn cache_lookups(
        &mut self,
        lookups: std::collections::BTreeMap<String, costform_model::lookup::LookupCache>,
    ) {
        self.state.lookups = lookups;
    }

    /// Opens the journal now, before anything is sent: a run that cannot
    /// open it (no file descriptor left, say) must fail before Atlas issues
    /// a token it would have nowhere to record.
    pub(crate) fn open_journal(&mut self) -> Result<(), Error> {
        if self.journal.is_none() {
            self.journal = Some(Journal::open(journal_path(&self.file), &self.state)?);
        }
        Ok(())
    }

    fn append(&mut self, record: Record) -> Result<(), Error> {
        self.append_all(vec![record])
    }

    fn append_all(&mut self, records: Vec<Record>) -> Result<(), Error> {
        self.open_journal()?;
        if let Some(journal) = &mut self.journal {
            journal.append_all(&records)?;
        }
        journal::fold(&mut self.state, records, false);
        Ok(())
    }

    /// Keeps entries that could not be journaled (`reason`: the disk is
    /// full, say): committed with the state if that still works, else the
    /// whole state is written to `PATH.errored` as Terraform writes
    /// `errored.tfstate`, else the entries travel in the error as JSON.
    pub(crate) fn keep_unjournaled(
        &mut self,
        entries: Vec<(ReportName, StateEntry)>,
        reason: Error,
    ) -> Result<(), Error> {
        let tokens = entries.len();
        let text = serde_json::to_string_pretty(
            &entries
                .iter()
                .cloned()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .map_err(Error::Encode)?;
        for (name, entry) in entries {
            self.state.reports.insert(name, entry);
        }
        if self.commit().is_ok() {
            return Ok(());
        }
        let errored = sibling(&self.file, ".errored");
        let kept = self
            .encoded()
            .and_then(|bytes| write_atomically(&errored, &bytes, || Ok(())))
            .ok()
            .map(|()| errored);
        Err(Error::Unsaved {
            reason: Box::new(reason),
            kept,
            tokens,
            text,
        })
    }

    /// Writes the state: serial + 1, atomically, the previous file kept as
    /// `PATH.backup`; then the journal, now redundant, is removed.
    pub fn commit(&mut self) -> Result<(), Error> {
        let previous = self.state.serial;
        self.state.serial = next_serial(previous, &self.file)?;
        self.state.format_version = STATE_FORMAT_VERSION;
        env!("CARGO_PKG_VERSION").clone_into(&mut self.state.costform_version);
        if let Err(error) = self.write() {
            self.state.serial = previous;
            return Err(error);
        }
        if let Some(format) = self.state.upgraded_from.take() {
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

    fn write(&self) -> Result<(), Error> {
        let bytes = self.encoded()?;
        write_atomically(&self.file, &bytes, || keep_backup(&self.file))
    }

    fn encoded(&self) -> Result<Vec<u8>, Error> {
        let mut text = serde_json::to_string_pretty(&self.state).map_err(Error::Encode)?;
        text.push('\n');
        Ok(text.into_bytes())
    }
}

/// The serial after `serial`, refused at `u64::MAX` rather than wrapped.
fn next_serial(serial: u64, path: &Path) -> Result<u64, Error> {
    serial.checked_add(1).ok_or_else(|| Error::SerialExhausted {
        path: path.to_owned(),
    })
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
                current = crate::atomic::parent_dir(&current).join(target);
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
