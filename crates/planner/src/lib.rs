//! costform-planner decides and executes: [`plan()`] is a pure function from the
//! rendered requests and the state to a [`Plan`](costform_model::plan::Plan);
//! [`apply()`] and [`fetch()`] run a plan or collect results through the
//! [`Submitter`] and [`ResultReader`] traits; the state lives behind the
//! [`StateBackend`] interface (the local file here, PostgreSQL in
//! `costform-postgres`), locked, journaled and atomically committed so that
//! no token is lost.
//!
//! It must not depend on `costform-http` (the CLI plugs the client into the
//! traits) and it never prints: progress goes through observer traits.

mod apply;
mod atomic;
mod backend;
mod cancel;
pub mod costs;
mod error;
mod fetch;
pub mod journal;
mod lock;
mod locked;
mod memory;
mod nofollow;
mod planning;
mod polling;
mod remote;
mod result_file;
mod results;
mod stale;
mod store;
mod summarize;
mod token_check;
pub mod workspace;

pub use apply::{ApplyObserver, ApplyOptions, ApplyReport, apply};
pub use atomic::write_file_atomically;
pub use backend::{StateBackend, StateSession};
pub use cancel::Cancel;
pub use error::Error;
pub use fetch::{FetchObserver, FetchOptions, FetchOutcome, FetchReport, ReportFetch, fetch};
pub use journal::{Journal, Record};
pub use lock::{LockInfo, LockOptions, force_unlock, read_lock};
pub use locked::{LockedState, fold_uncommitted};
pub use memory::MemoryBackend;
pub use planning::{PlanOptions, plan};
pub use remote::{Checked, ReadOutcome, RemoteError, ResultReader, Submitter};
pub use results::{Retired, retire_results};
pub use stale::check_not_stale;
pub use store::{LocalBackend, StateStore};
pub use summarize::{ResultSummary, summarize};
pub use token_check::{TokenCheck, check_tokens};
