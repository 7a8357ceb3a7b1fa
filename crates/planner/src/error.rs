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
        "state file `{}` is not a valid costform state{}",
        .path.display(), backup_clause(.backup.as_deref())
    )]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// Where the previous version is kept, when there is one: the message
        /// must not send the user to a backup that does not exist.
        backup: Option<PathBuf>,
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
    #[error("{}", locked_message(.lock, .holder.as_deref(), *.age, *.holder_alive))]
    Locked {
        /// The lock: a lock file's path, or the backend's lock and workspace.
        lock: String,
        /// Who holds it, when the lock file could be read.
        holder: Option<Box<LockInfo>>,
        /// How long it has been held.
        age: Option<Duration>,
        /// Whether the holding process still runs (`None`: cannot tell, e.g.
        /// another host).
        holder_alive: Option<bool>,
    },
    /// `force-unlock` was asked for but there is no lock.
    #[error("state `{lock}` is not locked")]
    NotLocked {
        /// The lock that is not held (a lock file's path, or the backend's).
        lock: String,
    },
    /// `force-unlock` named another lock than the one held, so a lock taken
    /// since the user looked is not broken by mistake.
    #[error("lock `{lock}` has id `{}`, not `{given}`", .actual.as_deref().unwrap_or("(unreadable)"))]
    LockIdMismatch {
        /// The lock (a lock file's path, or the backend's).
        lock: String,
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
    #[error("{}", stale_message(.location, .plan, .state))]
    StalePlan {
        /// Where the state the plan was checked against is (a path or a
        /// backend's location).
        location: String,
        /// The state version recorded in the plan.
        plan: StateVersion,
        /// The state version now.
        state: StateVersion,
    },
    /// A state backend other than the local file failed: the database could
    /// not be reached, or a statement failed. `location` never holds a
    /// password.
    #[error("failed to {action} state `{location}`")]
    Backend {
        /// What was being done, as a verb phrase ("connect to", "commit").
        action: String,
        /// Where the state is, as the backend names it.
        location: String,
        /// The driver's reason.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A state backend refused what it found (a schema newer than this
    /// costform, a target that already holds a state, tokens it could only
    /// keep locally), with the fix in `reason`.
    #[error("state `{location}`: {reason}")]
    BackendRefused {
        /// Where the state is.
        location: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The state could not be encoded as JSON.
    #[error("failed to encode the state")]
    Encode(#[source] serde_json::Error),
    /// The journal was left by a run on a state of another lineage (a state
    /// replaced or copied in since): folding it would overwrite this state's
    /// entries with another's, so it is set aside instead.
    #[error(
        "journal `{}` belongs to state lineage `{journal_lineage}`, not `{state_lineage}`: it was not folded in and is kept as `{}`",
        .journal.display(), .kept.display()
    )]
    ForeignJournal {
        /// Where the journal was.
        journal: PathBuf,
        /// Where it is now.
        kept: PathBuf,
        /// The lineage the journal records.
        journal_lineage: String,
        /// The lineage of the state.
        state_lineage: String,
    },
    /// The serial cannot grow any more; wrapping to 0 would make stale
    /// saved plans look current.
    #[error(
        "state `{location}` is at serial `{}`, the largest there is: it cannot be written again",
        u64::MAX
    )]
    SerialExhausted {
        /// Where the state is.
        location: String,
    },
    /// Tokens were received but could not be saved (disk full, say). Like
    /// Terraform's `errored.tfstate`, they are written beside the state, or,
    /// when even that fails, carried in this message for the user to keep.
    #[error("{}", unsaved_message(.kept.as_deref(), *.tokens, .text))]
    Unsaved {
        /// Why the state could not be written.
        #[source]
        reason: Box<Error>,
        /// The file holding the whole state with the unsaved tokens.
        kept: Option<PathBuf>,
        /// How many tokens were not journaled.
        tokens: usize,
        /// The unsaved entries as JSON, when no file could hold them.
        text: String,
    },
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

fn backup_clause(backup: Option<&std::path::Path>) -> String {
    backup.map_or_else(
        || "; there is no backup of it".to_owned(),
        |backup| format!("; the previous version is in `{}`", backup.display()),
    )
}

fn unsaved_message(kept: Option<&std::path::Path>, tokens: usize, text: &str) -> String {
    match kept {
        Some(kept) => format!(
            "`{tokens}` token(s) received could not be journaled; the state with them is saved in `{}`: once there is room, copy it over the state file",
            kept.display()
        ),
        None => format!(
            "`{tokens}` token(s) received could not be journaled nor written to any file, so here they are, to add to the state by hand:\n{text}"
        ),
    }
}

fn quoted_list(names: &[ReportName]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

fn locked_message(
    lock: &str,
    holder: Option<&LockInfo>,
    age: Option<Duration>,
    alive: Option<bool>,
) -> String {
    let mut message = format!("state is locked: `{lock}`");
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

fn stale_message(location: &str, plan: &StateVersion, state: &StateVersion) -> String {
    let made = match &plan.lineage {
        Some(lineage) => format!("state serial `{}` (lineage `{lineage}`)", plan.serial),
        None => "no state".to_owned(),
    };
    let now = match &state.lineage {
        Some(lineage) => format!(
            "`{location}` is now at serial `{}` (lineage `{lineage}`)",
            state.serial
        ),
        None => format!("there is no state at `{location}`"),
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
