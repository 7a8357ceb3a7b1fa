//! The state under lock, whatever the backend: changes are recorded durably
//! the moment they happen and the whole state is committed at the end, with
//! the serial advanced, as sqlx's migrator does (lock, read, check, apply,
//! write, unlock).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use costform_model::cost_rows::CostRow;
use costform_model::ids::ReportName;
use costform_model::state::{STATE_FORMAT_VERSION, State, StateEntry};

use crate::backend::StateSession;
use crate::error::Error;
use crate::journal::{self, Record};

/// The state under lock. Changes go through [`LockedState::record`] and
/// [`LockedState::forget`] (durable at once) and become the state with
/// [`LockedState::commit`]. Dropping it releases the lock without
/// committing: what was recorded stays for the next run.
#[derive(Debug)]
pub struct LockedState {
    state: State,
    session: Box<dyn StateSession>,
    location: String,
    results_base: PathBuf,
    begun: bool,
}

impl LockedState {
    /// Wraps a backend's session around the state it loaded. Records a
    /// previous run left uncommitted (`pending`: `Some` when it left any
    /// journal, even an empty one) are folded in and committed at once,
    /// so their tokens are safe before anything else happens; a state that
    /// could not be written again is refused before anything is sent.
    pub fn new(
        existing: Option<State>,
        pending: Option<Vec<Record>>,
        session: Box<dyn StateSession>,
        location: String,
        results_base: PathBuf,
    ) -> Result<Self, Error> {
        if let Some(state) = &existing {
            next_serial(state.serial, &location)?;
        }
        let had_state = existing.is_some();
        let state = existing.unwrap_or_else(|| State::new(uuid::Uuid::new_v4().to_string()));
        let mut locked = Self {
            state,
            session,
            location,
            results_base,
            begun: false,
        };
        if let Some(pending) = pending {
            journal::fold(&mut locked.state, pending, !had_state);
            locked.commit()?;
        }
        Ok(locked)
    }

    /// The state as of the last record.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state, or `None` when none has been committed yet: the same
    /// "no state" as [`StateBackend::read`](crate::StateBackend::read)
    /// returns and plans record. A state that was never written is the only
    /// one at serial 0.
    pub fn existing(&self) -> Option<&State> {
        (self.state.serial > 0).then_some(&self.state)
    }

    /// Where the state is, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The directory result paths in the state are relative to.
    pub fn results_base(&self) -> &Path {
        &self.results_base
    }

    /// The id of the lock held, as `force-unlock` would need it.
    pub fn lock_id(&self) -> &str {
        self.session.lock_id()
    }

    /// Records a report's new entry: durable before the in-memory state
    /// changes, so the token survives a crash.
    pub fn record(&mut self, name: &ReportName, entry: StateEntry) -> Result<(), Error> {
        self.append(Record::Put {
            name: name.clone(),
            entry: Box::new(entry),
        })
    }

    /// Records several reports' new entries at once: durable together when
    /// this returns, with one sync (fetch's group commit).
    pub fn record_all(&mut self, entries: Vec<(ReportName, StateEntry)>) -> Result<(), Error> {
        let records: Vec<Record> = entries
            .into_iter()
            .map(|(name, entry)| Record::Put {
                name,
                entry: Box::new(entry),
            })
            .collect();
        self.open_journal()?;
        self.session.append_all(&records)?;
        journal::fold(&mut self.state, records, false);
        Ok(())
    }

    /// Drops a report from the state, recorded like [`LockedState::record`].
    pub fn forget(&mut self, name: &ReportName) -> Result<(), Error> {
        self.append(Record::Forget { name: name.clone() })
    }

    /// Replaces the lookups cached in the state with those `apply` just
    /// read; written by the next [`LockedState::commit`]. Not journaled: a
    /// lookup lost to a crash is read again by the next run.
    pub fn cache_lookups(
        &mut self,
        lookups: BTreeMap<String, costform_model::lookup::LookupCache>,
    ) {
        self.state.lookups = lookups;
    }

    /// Opens the journal now, before anything is sent: a run that cannot
    /// open it (no file descriptor left, say) must fail before Atlas issues
    /// a token it would have nowhere to record.
    pub(crate) fn open_journal(&mut self) -> Result<(), Error> {
        if !self.begun {
            self.session.begin(&self.state)?;
            self.begun = true;
        }
        Ok(())
    }

    fn append(&mut self, record: Record) -> Result<(), Error> {
        self.open_journal()?;
        self.session.append(&record)?;
        journal::fold(&mut self.state, vec![record], false);
        Ok(())
    }

    /// Whether the backend keeps cost rows of its own, so that `fetch`
    /// only reads them back for a backend that stores them.
    pub fn stores_cost_rows(&self) -> bool {
        self.session.stores_cost_rows()
    }

    /// Replaces the stored cost rows of `reports` with `rows`.
    pub fn replace_cost_rows(&mut self, reports: &[String], rows: &[CostRow]) -> Result<(), Error> {
        self.session.replace_cost_rows(reports, rows)
    }

    /// Keeps entries that could not be journaled (`reason`: the disk is
    /// full, say): committed with the state if that still works, else the
    /// whole state is kept where the backend can (`PATH.errored` beside a
    /// state file, as Terraform writes `errored.tfstate`), else the entries
    /// travel in the error as JSON.
    pub(crate) fn keep_unjournaled(
        &mut self,
        entries: Vec<(ReportName, StateEntry)>,
        reason: Error,
    ) -> Result<(), Error> {
        let tokens = entries.len();
        let text =
            serde_json::to_string_pretty(&entries.iter().cloned().collect::<BTreeMap<_, _>>())
                .map_err(Error::Encode)?;
        for (name, entry) in entries {
            self.state.reports.insert(name, entry);
        }
        if self.commit().is_ok() {
            return Ok(());
        }
        let kept = self.session.keep_errored(&self.state);
        Err(Error::Unsaved {
            reason: Box::new(reason),
            kept,
            tokens,
            text,
        })
    }

    /// Takes `state` whole (lineage, serial and reports) as the first
    /// version here, for `state migrate`: saved plans made against the
    /// source stay valid against the copy. A backend that holds a state
    /// already is refused, never overwritten.
    pub fn import(&mut self, state: State) -> Result<(), Error> {
        if let Some(existing) = self.existing() {
            return Err(Error::BackendRefused {
                location: self.location.clone(),
                reason: format!(
                    "it holds a state already (serial `{}`, `{}` report(s)): a migration never overwrites one; choose an empty place, or remove that state first",
                    existing.serial,
                    existing.reports.len()
                ),
            });
        }
        let serial = state.serial;
        self.state = state;
        // `commit` advances it back to the source's serial.
        self.state.serial = serial.saturating_sub(1);
        self.commit()
    }

    /// Stores the state: serial + 1, atomically, the previous version kept;
    /// the journal, now redundant, is cleared.
    pub fn commit(&mut self) -> Result<(), Error> {
        let previous = self.state.serial;
        self.state.serial = next_serial(previous, &self.location)?;
        self.state.format_version = STATE_FORMAT_VERSION;
        env!("CARGO_PKG_VERSION").clone_into(&mut self.state.costform_version);
        if let Err(error) = self.session.write(&self.state) {
            self.state.serial = previous;
            return Err(error);
        }
        // Written in this build's format: the backend said so once.
        self.state.upgraded_from = None;
        self.begun = false;
        Ok(())
    }
}

/// The serial after `serial`, refused at `u64::MAX` rather than wrapped.
pub(crate) fn next_serial(serial: u64, location: &str) -> Result<u64, Error> {
    serial.checked_add(1).ok_or_else(|| Error::SerialExhausted {
        location: location.to_owned(),
    })
}

/// The state as `read` shows it: `state` (`None`: none yet) with the
/// `records` a run left uncommitted (`Some` when it left a journal, even an
/// empty one) folded in and the serial the next writing command will
/// commit. `None` when there is neither.
pub fn fold_uncommitted(
    state: Option<State>,
    records: Option<Vec<Record>>,
    location: &str,
) -> Result<Option<State>, Error> {
    let Some(records) = records else {
        return Ok(state);
    };
    let had_state = state.is_some();
    let mut state = state.unwrap_or_else(|| State::new(String::new()));
    journal::fold(&mut state, records, !had_state);
    state.serial = next_serial(state.serial, location)?;
    Ok(Some(state))
}
