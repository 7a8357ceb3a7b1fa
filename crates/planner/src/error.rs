//! The crate's one error type.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use costform_model::ids::ReportName;
use costform_model::plan::StateVersion;

use crate::lock::LockInfo;

/// Everything that can go wrong while planning, locking, journaling, writing
/// the state or running apply and fetch. Remote failures of single reports are
/// not errors: they are listed in the apply and fetch reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file operation failed.
    #[error("failed to {action} `{}`", .path.display())]
    Io {
        /// What was being done, as a verb phrase ("read", "write").
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The state file is not valid JSON or not a costform state. It is never
    /// overwritten: the user decides whether to restore the backup.
    #[error(
        "state file `{}` is not a valid costform state; the previous version is in `{}`",
        .path.display(), .backup.display()
    )]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// Where the previous version is kept.
        backup: PathBuf,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// The state was written by a newer costform; rewriting it could drop
    /// what this build does not know.
    #[error(
        "state file `{}` has format version `{found}`, newer than `{supported}` which this costform reads: upgrade costform",
        .path.display()
    )]
    FutureState {
        /// The state file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A journal line other than the last is damaged: tokens may be missing,
    /// so costform stops rather than guess.
    #[error("journal `{}` is damaged at line `{line}`", .path.display())]
    CorruptJournal {
        /// The journal file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// Another run holds the state lock.
    #[error("{}", locked_message(.path, .holder.as_deref(), *.age, *.holder_alive))]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, when the lock file could be read.
        holder: Option<Box<LockInfo>>,
        /// How long it has been held.
        age: Option<Duration>,
        /// Whether the holding process still runs (`None`: cannot tell, e.g.
        /// another host).
        holder_alive: Option<bool>,
    },
    /// `force-unlock` was asked for but there is no lock.
    #[error("state `{}` is not locked", .path.display())]
    NotLocked {
        /// The lock file that does not exist.
        path: PathBuf,
    },
    /// `force-unlock` named another lock than the one held, so a lock taken
    /// since the user looked is not broken by mistake.
    #[error("lock `{}` has id `{}`, not `{given}`", .path.display(), .actual.as_deref().unwrap_or("(unreadable)"))]
    LockIdMismatch {
        /// The lock file.
        path: PathBuf,
        /// The id the user gave.
        given: String,
        /// The id in the lock file, if readable.
        actual: Option<String>,
    },
    /// `--target` names reports that are neither defined nor in the state.
    #[error("unknown target {}: not defined and not in the state", quoted_list(.names))]
    UnknownTargets {
        /// The unknown names, sorted.
        names: Vec<ReportName>,
    },
    /// `--replace` names reports that cannot be re-queried.
    #[error("cannot replace {}: a replaced report must be both defined and in the state", quoted_list(.names))]
    CannotReplace {
        /// The offending names, sorted.
        names: Vec<ReportName>,
    },
    /// `fetch` names reports that have no entry in the state.
    #[error("no token in the state for {}: run `costform apply` first", quoted_list(.names))]
    UnknownReports {
        /// The unknown names, sorted.
        names: Vec<ReportName>,
    },
    /// A saved plan was made against another version of the state.
    #[error("{}", stale_message(.path, .plan, .state))]
    StalePlan {
        /// The state file the plan was checked against.
        path: PathBuf,
        /// The state version recorded in the plan.
        plan: StateVersion,
        /// The state version now.
        state: StateVersion,
    },
    /// The state could not be encoded as JSON.
    #[error("failed to encode the state")]
    Encode(#[source] serde_json::Error),
}

impl Error {
    /// An I/O error about `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

fn quoted_list(names: &[ReportName]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

fn locked_message(
    path: &std::path::Path,
    holder: Option<&LockInfo>,
    age: Option<Duration>,
    alive: Option<bool>,
) -> String {
    let mut message = format!("state is locked: `{}`", path.display());
    let Some(holder) = holder else {
        message.push_str(" exists but cannot be read; remove it by hand if no costform is running");
        return message;
    };
    let _ = write!(
        message,
        " is held by lock `{}` ({}@{}, pid `{}`, command `{}`",
        holder.id, holder.user, holder.host, holder.pid, holder.command
    );
    if let Some(age) = age {
        let _ = write!(message, ", for {}", human_duration(age));
    }
    message.push(')');
    match alive {
        Some(false) => {
            let _ = write!(
                message,
                "; the holding process is gone: run `costform force-unlock {}`",
                holder.id
            );
        }
        Some(true) => message.push_str("; wait for it to finish or use `--lock-timeout`"),
        None => {
            let _ = write!(
                message,
                "; if that run is gone, run `costform force-unlock {}`",
                holder.id
            );
        }
    }
    message
}

fn stale_message(path: &std::path::Path, plan: &StateVersion, state: &StateVersion) -> String {
    let made = match &plan.lineage {
        Some(lineage) => format!("state serial `{}` (lineage `{lineage}`)", plan.serial),
        None => "no state".to_owned(),
    };
    let now = match &state.lineage {
        Some(lineage) => format!(
            "`{}` is now at serial `{}` (lineage `{lineage}`)",
            path.display(),
            state.serial
        ),
        None => format!("there is no state at `{}`", path.display()),
    };
    format!("saved plan is stale: it was made against {made} but {now}; run `costform plan` again")
}

/// `1h 2m 3s`, `4m 5s`, `6s`: enough precision for a lock's age.
fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h {minutes}m {seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds}s")
    } else {
        format!("{seconds}s")
    }
}
