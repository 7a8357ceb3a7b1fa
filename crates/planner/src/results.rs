//! Result files follow the state. A requery supersedes a result: its file
//! moves to `previous/` beside it, so `results/NAME.json` is never an old
//! answer presented as the current one; a forgotten report's file goes
//! with it.
//!
//! The superseded result keeps the state entry it was fetched under, as
//! `previous/NAME.entry.json` (request, hash, fetch time), so `costs
//! --compare` can read last month's answer with the request that produced
//! it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use costform_model::ids::ReportName;
use costform_model::state::StateEntry;

use crate::apply::ApplyReport;
use crate::atomic::{parent_dir, write_file_atomically};
use crate::error::Error;

/// What became of one report's result file after an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retired {
    /// Superseded by a requery: moved from the first path to the second.
    Moved(ReportName, PathBuf, PathBuf),
    /// The report was forgotten: the file was removed.
    Removed(ReportName, PathBuf),
}

/// Moves or removes the result files of the reports `report` re-queried or
/// forgot, as `before` (the entries before the apply) recorded them,
/// relative to `base` ([`LockedState::results_base`](crate::LockedState::results_base)).
pub fn retire_results(
    base: &Path,
    before: &BTreeMap<ReportName, StateEntry>,
    report: &ApplyReport,
) -> Result<Vec<Retired>, Error> {
    let file_of = |name: &ReportName| {
        let recorded = before.get(name)?.result.as_ref()?;
        let path = base.join(&recorded.path);
        path.is_file().then_some(path)
    };
    let mut retired = Vec::new();
    for (name, _) in &report.applied {
        let Some(file) = file_of(name) else { continue };
        let Some(file_name) = file.file_name() else {
            continue;
        };
        let previous = parent_dir(&file).join("previous");
        fs::create_dir_all(&previous).map_err(Error::io("create", &previous))?;
        let target = previous.join(file_name);
        if let Some(entry) = before.get(name) {
            let record = previous_entry_path(&target);
            let json = serde_json::to_vec_pretty(entry).unwrap_or_default();
            write_file_atomically(&record, &json)?;
        }
        fs::rename(&file, &target).map_err(Error::io("move", &file))?;
        retired.push(Retired::Moved(name.clone(), file, target));
    }
    for name in &report.forgotten {
        let Some(file) = file_of(name) else { continue };
        fs::remove_file(&file).map_err(Error::io("remove", &file))?;
        retired.push(Retired::Removed(name.clone(), file));
    }
    Ok(retired)
}

/// Where the state entry of a superseded result file is kept.
pub(crate) fn previous_entry_path(previous_file: &Path) -> PathBuf {
    let mut name = previous_file
        .file_stem()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".entry.json");
    previous_file.with_file_name(name)
}
