//! Where the state lives, behind one interface (OpenTofu's `statemgr`):
//! the local file ([`LocalBackend`](crate::LocalBackend)), PostgreSQL (in
//! `costform-postgres`) and memory ([`MemoryBackend`](crate::MemoryBackend),
//! for engine tests). The engines only see a [`LockedState`]; what makes a
//! record durable, where the previous version is kept and how the lock is
//! held is the backend's business, with the same guarantees everywhere.

use costform_model::cost_rows::CostRow;
use costform_model::state::State;

use crate::error::Error;
use crate::journal::Record;
use crate::lock::{LockInfo, LockOptions};
use crate::locked::LockedState;

/// A place that holds one state (one workspace of a database, one file).
pub trait StateBackend: Send + Sync + std::fmt::Debug {
    /// Where the state is, for messages and saved plans: a path, or a URL
    /// without its password followed by the workspace. Never a secret.
    fn location(&self) -> String;

    /// The state without locking, for commands that never write it (`plan`,
    /// `show`). Records journaled by a run that did not commit are folded in
    /// memory, with the serial the next writing command will commit, so a
    /// plan saved now stays valid. `None`: no state yet.
    fn read(&self) -> Result<Option<State>, Error>;

    /// Takes the lock for a writing command (`apply`, `fetch`, `state rm`),
    /// waiting up to `options.timeout`; a held lock fails naming its holder.
    /// Records left by a run that did not commit are folded in and committed
    /// before this returns.
    fn lock(&self, options: &LockOptions) -> Result<LockedState, Error>;

    /// Who holds the lock, for messages; `None` when nobody does.
    fn lock_holder(&self) -> Result<Option<LockInfo>, Error>;

    /// Clears the lock recorded with `id`, left by a run that died; a lock
    /// with another id is left alone, so one taken since the user looked is
    /// not broken.
    fn force_unlock(&self, id: &str) -> Result<(), Error>;
}

/// The backend's side of a [`LockedState`]: the durable operations, while
/// the lock is held. Dropping it releases the lock without committing;
/// what was recorded stays for the next run to fold in.
pub trait StateSession: Send + std::fmt::Debug {
    /// The id of the lock held, as `force-unlock` would need it.
    fn lock_id(&self) -> &str;

    /// Prepares to record changes to `state` (opens the journal), before
    /// anything is sent: a run that cannot must fail before Atlas issues a
    /// token it would have nowhere to keep.
    fn begin(&mut self, state: &State) -> Result<(), Error>;

    /// Keeps `record` durably before returning: the token in it survives a
    /// crash from that moment.
    fn append(&mut self, record: &Record) -> Result<(), Error>;

    /// Keeps `records` durably before returning, as one group: a backend
    /// that can (one sync, one transaction) makes it cheaper than a record
    /// at a time.
    fn append_all(&mut self, records: &[Record]) -> Result<(), Error> {
        records.iter().try_for_each(|record| self.append(record))
    }

    /// Stores `state` (its serial already advanced) as the current version,
    /// atomically, keeping the previous one; the journal is then redundant
    /// and cleared.
    fn write(&mut self, state: &State) -> Result<(), Error>;

    /// Whether this backend keeps cost rows of its own (PostgreSQL's
    /// `cost_rows` table, for SQL); the local backend's are the result files.
    fn stores_cost_rows(&self) -> bool {
        false
    }

    /// Replaces the cost rows of `reports` with `rows` (their latest
    /// results), in one transaction.
    fn replace_cost_rows(&mut self, reports: &[String], rows: &[CostRow]) -> Result<(), Error> {
        let _ = (reports, rows);
        Ok(())
    }

    /// Last resort when neither [`StateSession::append`] nor
    /// [`StateSession::write`] worked: puts the whole state somewhere a user
    /// can restore it from (Terraform's `errored.tfstate`), saying where.
    fn keep_errored(&mut self, state: &State) -> Option<std::path::PathBuf>;
}
