//! A state held in memory (OpenTofu's `statemgr_fake`): what the engine
//! tests run against instead of temporary directories, with the lock,
//! journal and previous versions of the real backends, and a way to make
//! records fail as a full disk or a lost database would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use costform_model::state::State;

use crate::backend::{StateBackend, StateSession};
use crate::error::Error;
use crate::journal::Record;
use crate::lock::{LockInfo, LockOptions};
use crate::locked::{LockedState, fold_uncommitted};

/// A state in memory; clones share it, as two processes share a file.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    inner: Arc<Mutex<Inner>>,
    failing: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every committed version, oldest first.
    versions: Vec<State>,
    /// Records since the last commit; `None` when no journal is open.
    journal: Option<Vec<Record>>,
    /// How many records each append made durable, in order.
    groups: Vec<usize>,
    lock: Option<LockInfo>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every committed version, oldest first (the previous ones are kept).
    pub fn versions(&self) -> Vec<State> {
        self.inner().versions.clone()
    }

    /// The records kept since the last commit, as the next run would fold
    /// them in.
    pub fn journal(&self) -> Vec<Record> {
        self.inner().journal.clone().unwrap_or_default()
    }

    /// How many records each append made durable at once, in order: the
    /// group commits the engines make.
    pub fn groups(&self) -> Vec<usize> {
        self.inner().groups.clone()
    }

    /// From now on, records and commits fail (`true`) or work again.
    pub fn fail_writes(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StateBackend for MemoryBackend {
    fn location(&self) -> String {
        "memory".to_owned()
    }

    fn read(&self) -> Result<Option<State>, Error> {
        let inner = self.inner();
        fold_uncommitted(
            inner.versions.last().cloned(),
            inner.journal.clone(),
            "memory",
        )
    }

    fn lock(&self, options: &LockOptions) -> Result<LockedState, Error> {
        let info = LockInfo::for_this_process(&options.command);
        let (existing, pending) = {
            let mut inner = self.inner();
            if let Some(holder) = &inner.lock {
                return Err(Error::Locked {
                    lock: "memory".to_owned(),
                    age: holder.age(),
                    holder: Some(Box::new(holder.clone())),
                    holder_alive: Some(true),
                });
            }
            inner.lock = Some(info.clone());
            (inner.versions.last().cloned(), inner.journal.clone())
        };
        let session = MemorySession {
            backend: self.clone(),
            id: info.id,
        };
        LockedState::new(
            existing,
            pending,
            Box::new(session),
            "memory".to_owned(),
            std::path::PathBuf::from("."),
        )
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, Error> {
        Ok(self.inner().lock.clone())
    }

    fn force_unlock(&self, id: &str) -> Result<(), Error> {
        let mut inner = self.inner();
        match &inner.lock {
            None => Err(Error::NotLocked {
                lock: "memory".to_owned(),
            }),
            Some(holder) if holder.id != id => Err(Error::LockIdMismatch {
                lock: "memory".to_owned(),
                given: id.to_owned(),
                actual: Some(holder.id.clone()),
            }),
            Some(_) => {
                inner.lock = None;
                Ok(())
            }
        }
    }
}

/// The memory backend's side of a [`LockedState`]; dropping it unlocks.
#[derive(Debug)]
struct MemorySession {
    backend: MemoryBackend,
    id: String,
}

impl MemorySession {
    fn check(&self, action: &str) -> Result<(), Error> {
        if self.backend.failing.load(Ordering::SeqCst) {
            return Err(Error::Backend {
                action: action.to_owned(),
                location: "memory".to_owned(),
                source: "writes are set to fail".into(),
            });
        }
        Ok(())
    }
}

impl StateSession for MemorySession {
    fn lock_id(&self) -> &str {
        &self.id
    }

    fn begin(&mut self, state: &State) -> Result<(), Error> {
        self.check("open the journal of")?;
        self.backend
            .inner()
            .journal
            .get_or_insert_with(Vec::new)
            .push(Record::Begin {
                lineage: state.lineage.clone(),
                serial: state.serial,
            });
        Ok(())
    }

    fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.append_all(std::slice::from_ref(record))
    }

    fn append_all(&mut self, records: &[Record]) -> Result<(), Error> {
        self.check("record in")?;
        let mut inner = self.backend.inner();
        inner
            .journal
            .get_or_insert_with(Vec::new)
            .extend_from_slice(records);
        inner.groups.push(records.len());
        Ok(())
    }

    fn write(&mut self, state: &State) -> Result<(), Error> {
        self.check("commit")?;
        let mut inner = self.backend.inner();
        inner.versions.push(state.clone());
        inner.journal = None;
        Ok(())
    }

    fn keep_errored(&mut self, _state: &State) -> Option<std::path::PathBuf> {
        None
    }
}

impl Drop for MemorySession {
    fn drop(&mut self) {
        let mut inner = self.backend.inner();
        if inner
            .lock
            .as_ref()
            .is_some_and(|holder| holder.id == self.id)
        {
            inner.lock = None;
        }
    }
}
