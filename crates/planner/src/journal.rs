//! The journal `PATH.journal`: one JSON line per token, appended and synced
//! the moment Atlas returns it, so a run killed before it rewrites the state
//! loses nothing. The next writing command folds the journal into the state.
//! Other backends keep the same [`Record`]s their own way, and use a journal
//! file as their local fallback when they cannot be reached.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use costform_model::ids::ReportName;
use costform_model::state::{State, StateEntry};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::lock::sibling;
use crate::nofollow;

/// One line of the journal: a change recorded the moment it happens, which
/// every backend keeps durably until the state is committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// The first line: the state the journal continues, so that a reader can
    /// predict the state the fold will produce (and a saved plan made from it
    /// is not stale after the fold).
    Begin {
        /// The lineage of the state being extended.
        lineage: String,
        /// Its serial before the fold.
        serial: u64,
    },
    /// A report's new entry (a fresh token, a fetched result, an expiry).
    Put {
        /// The report.
        name: ReportName,
        /// Its whole new entry.
        entry: Box<StateEntry>,
    },
    /// A report dropped from the state.
    Forget {
        /// The report.
        name: ReportName,
    },
}

/// The journal next to a state file.
pub(crate) fn journal_path(state_path: &Path) -> PathBuf {
    sibling(state_path, ".journal")
}

/// Reads the journal's records, if there is a journal. A damaged last line is
/// a write cut short by a crash and is skipped with a warning; a damaged line
/// before it is an error.
pub fn read(path: &Path) -> Result<Option<Vec<Record>>, Error> {
    let Some(text) = nofollow::read_unless_missing(path)? else {
        return Ok(None);
    };
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .collect();
    let mut records = Vec::with_capacity(lines.len());
    for (position, (index, line)) in lines.iter().enumerate() {
        match parse_record(line) {
            Ok(record) => records.push(record),
            Err(source) if position + 1 == lines.len() => {
                tracing::warn!(path = %path.display(), line = index + 1, %source, "ignoring a torn last journal line");
            }
            Err(source) => {
                return Err(Error::CorruptJournal {
                    path: path.to_owned(),
                    line: index + 1,
                    source,
                });
            }
        }
    }
    Ok(Some(records))
}

/// One journal line; an entry journaled by a costform of state format 1 (a
/// bare `token`) is upgraded, so a crash before an upgrade loses nothing.
fn parse_record(line: &str) -> serde_json::Result<Record> {
    let mut value: serde_json::Value = serde_json::from_str(line)?;
    if let Some(entry) = value.get_mut("entry") {
        costform_model::state::upgrade_entry(entry);
    }
    serde_json::from_value(value)
}

/// The lineage `records` continue, when it is not `lineage`: such a
/// journal was left by a run on another state and must not be folded in.
pub fn foreign_lineage<'a>(records: &'a [Record], lineage: &str) -> Option<&'a str> {
    records.iter().find_map(|record| match record {
        Record::Begin {
            lineage: recorded, ..
        } if recorded != lineage => Some(recorded.as_str()),
        _ => None,
    })
}

/// Moves a foreign journal out of the way, to `PATH.journal.LINEAGE` (with
/// a counter if that is taken), so no run folds it and no token is lost.
pub(crate) fn set_aside(path: &Path, lineage: &str) -> Result<PathBuf, Error> {
    let safe: String = lineage
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    let mut kept = sibling(path, &format!(".{safe}"));
    let mut n = 1;
    while fs::symlink_metadata(&kept).is_ok() {
        n += 1;
        kept = sibling(path, &format!(".{safe}.{n}"));
    }
    fs::rename(path, &kept).map_err(Error::io("set aside", path))?;
    Ok(kept)
}

/// Applies `records` to `state`; later records win. A `Begin` sets the
/// lineage only when `state` had none of its own yet (`adopt_lineage`).
pub(crate) fn fold(state: &mut State, records: Vec<Record>, adopt_lineage: bool) {
    for record in records {
        match record {
            Record::Begin { lineage, .. } => {
                if adopt_lineage {
                    state.lineage = lineage;
                }
            }
            Record::Put { name, entry } => {
                state.reports.insert(name, *entry);
            }
            Record::Forget { name } => {
                state.reports.remove(&name);
            }
        }
    }
}

/// An open journal, appended to once per record.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Creates the journal in append mode, starting it with a `Begin` record.
    /// Created 0600 on Unix (entries hold tokens, which read results), and
    /// never through a symbolic link.
    pub fn open(path: PathBuf, state: &State) -> Result<Self, Error> {
        let file = nofollow::options()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        let mut journal = Self { path, file };
        journal.append(&Record::Begin {
            lineage: state.lineage.clone(),
            serial: state.serial,
        })?;
        Ok(journal)
    }

    /// Appends one record as a line and syncs it to disk before returning.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Appends `records` with one write and one sync: a group commit, for
    /// fetch, where a sync per result serialized the run on the disk.
    pub fn append_all(&mut self, records: &[Record]) -> Result<(), Error> {
        let mut lines = String::new();
        for record in records {
            lines.push_str(&serde_json::to_string(record).map_err(Error::Encode)?);
            lines.push('\n');
        }
        self.file
            .write_all(lines.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(Error::io("append to", &self.path))
    }
}
