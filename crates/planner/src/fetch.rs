//! `fetch`: reads results by token, writes each ready result atomically next
//! to the others and records it in the state; 404 marks the handle expired,
//! a report Atlas gave up on (`FAILED`) marks it failed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use costform_model::ids::ReportName;
use costform_model::state::{ResultFormat, ResultRecord, State, StateEntry, TokenStatus};

use crate::atomic::sync_written;
use crate::cancel::Cancel;
use crate::error::Error;
use crate::locked::LockedState;
use crate::polling::{Poll, poll_all};
use crate::remote::{ReadOutcome, RemoteError, ResultReader};
use crate::result_file::{HISTORY_DIR, Written};
use crate::summarize::ResultSummary;

/// How to run `fetch`.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The reports to fetch; empty means every report whose handle has
    /// neither expired nor failed.
    pub names: Vec<ReportName>,
    /// The format asked of Atlas and written to disk.
    pub format: ResultFormat,
    /// Where `NAME.json` / `NAME.csv` are written (created if missing).
    pub out_dir: PathBuf,
    /// Poll until ready instead of looking once.
    pub wait: bool,
    /// With `wait`, give up on reports still processing after this long.
    pub timeout: Option<Duration>,
    /// At most this many reports polled at a time (0 is taken as 1).
    pub parallelism: usize,
    /// The first pause between polls of one report.
    pub initial_delay: Duration,
    /// The longest pause between polls; pauses double up to it.
    pub max_delay: Duration,
    /// Raised by Ctrl-C: no new report is polled, waits end early.
    pub cancel: Cancel,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            format: ResultFormat::Json,
            out_dir: PathBuf::from("results"),
            wait: false,
            timeout: None,
            parallelism: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            cancel: Cancel::new(),
        }
    }
}

/// Progress of `fetch`, for the CLI's output. Methods default to nothing.
pub trait FetchObserver: Sync {
    /// One look at a report's token was answered (`attempt` counts from 1).
    fn polled(&self, name: &ReportName, attempt: u32, outcome: Result<&ReadOutcome, &RemoteError>) {
        let _ = (name, attempt, outcome);
    }

    /// A report is done for this run; a ready result is already recorded.
    fn finished(&self, name: &ReportName, outcome: &FetchOutcome) {
        let _ = (name, outcome);
    }
}

/// Observes nothing.
impl FetchObserver for () {}

/// Where one report stands after `fetch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Written to `path` and recorded in the state.
    Ready {
        /// What the result adds up to, or why its kind could not read it.
        summary: Result<ResultSummary, String>,
        /// The file written.
        path: PathBuf,
    },
    /// Atlas is still computing; try again later.
    Processing,
    /// Atlas no longer knows the token; the next plan re-queries it.
    Expired,
    /// Atlas gave up on the handle (a `FAILED` invoice report), with why:
    /// recorded `failed`, the next plan re-queries it, and fetch leaves it
    /// alone until then.
    ReportFailed(String),
    /// Atlas or the network failed; the state is untouched for this report.
    Failed(RemoteError),
    /// Not polled because the run was cancelled.
    NotStarted,
}

/// One report's result of `fetch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFetch {
    /// The report.
    pub name: ReportName,
    /// What happened to it.
    pub outcome: FetchOutcome,
}

/// What `fetch` did, sorted by report name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// One line per report asked for.
    pub reports: Vec<ReportFetch>,
    /// Whether the run was cancelled.
    pub cancelled: bool,
}

impl FetchReport {
    /// Whether some results are not ready yet (`--detailed-exitcode` 2).
    pub fn has_processing(&self) -> bool {
        self.reports
            .iter()
            .any(|report| report.outcome == FetchOutcome::Processing)
    }
}

/// Fetches results for the reports in `options.names` (or all live ones),
/// at most `options.parallelism` requests at a time, and commits the state
/// once at the end.
///
/// Ready results are recorded in groups (`Group`): before a group's
/// records reach the journal, everything written for it (files, renames,
/// history links) is made durable at once (`syncfs` on Linux), then the
/// records are appended with one sync. A report is reported finished once
/// its record is durable. A crash before that loses no handle: the next
/// fetch writes those results again.
pub async fn fetch<R: ResultReader>(
    state: &mut LockedState,
    reader: &R,
    options: &FetchOptions,
    observer: &dyn FetchObserver,
) -> Result<FetchReport, Error> {
    let selected = select(state.state(), &options.names)?;
    let mut report = FetchReport::default();
    let mut group = Group::default();
    let polled = poll_all(selected, reader, options, observer, |poll, looked| {
        let Poll { name, entry, .. } = poll;
        let outcome = match looked {
            Looked::NotStarted => FetchOutcome::NotStarted,
            Looked::Processing => FetchOutcome::Processing,
            Looked::Ready(written) => {
                let written = written?;
                let (summary, path) = (written.summary.clone(), written.path.clone());
                let format = result_format(&entry, options.format);
                let ready = ready_entry(state, entry, written, format);
                group.add(name, ready, FetchOutcome::Ready { summary, path });
                if group.is_due() {
                    group.commit(state, options, observer, &mut report)?;
                }
                return Ok(());
            }
            Looked::Failed(error) if error.is_not_found() => {
                state.record(
                    &name,
                    StateEntry {
                        status: TokenStatus::Expired,
                        ..entry
                    },
                )?;
                FetchOutcome::Expired
            }
            Looked::ReportFailed(reason) => {
                state.record(
                    &name,
                    StateEntry {
                        status: TokenStatus::Failed,
                        ..entry
                    },
                )?;
                FetchOutcome::ReportFailed(reason)
            }
            Looked::Failed(error) => FetchOutcome::Failed(error),
        };
        observer.finished(&name, &outcome);
        report.reports.push(ReportFetch { name, outcome });
        Ok(())
    })
    .await;
    // Results already written are recorded even when the run failed later.
    group.commit(state, options, observer, &mut report)?;
    polled?;

    report.reports.sort_by(|a, b| a.name.cmp(&b.name));
    report.cancelled = options.cancel.is_cancelled();
    state.commit()?;
    Ok(report)
}

/// The most ready results recorded with one journal sync.
const GROUP_SIZE: usize = 64;

/// How long a ready result may wait for others before its group is
/// recorded anyway, counted when the next result arrives (the rest are
/// recorded when the run ends).
const GROUP_AGE: Duration = Duration::from_millis(250);

/// Ready results written and synced, waiting to be recorded together.
#[derive(Default)]
struct Group {
    entries: Vec<(ReportName, StateEntry)>,
    finished: Vec<ReportFetch>,
    since: Option<Instant>,
}

impl Group {
    fn add(&mut self, name: ReportName, entry: StateEntry, outcome: FetchOutcome) {
        self.since.get_or_insert_with(Instant::now);
        self.entries.push((name.clone(), entry));
        self.finished.push(ReportFetch { name, outcome });
    }

    fn is_due(&self) -> bool {
        self.entries.len() >= GROUP_SIZE
            || self.since.is_some_and(|since| since.elapsed() >= GROUP_AGE)
    }

    /// Makes the group's files durable, then its records (one journal
    /// sync), then reports it finished.
    fn commit(
        &mut self,
        state: &mut LockedState,
        options: &FetchOptions,
        observer: &dyn FetchObserver,
        report: &mut FetchReport,
    ) -> Result<(), Error> {
        if self.entries.is_empty() {
            return Ok(());
        }
        sync_written(&[&options.out_dir, &options.out_dir.join(HISTORY_DIR)])?;
        state.record_all(std::mem::take(&mut self.entries))?;
        for fetched in &self.finished {
            observer.finished(&fetched.name, &fetched.outcome);
        }
        report.reports.append(&mut self.finished);
        self.since = None;
        Ok(())
    }
}

/// The reports to fetch with their entries; names not in the state are an
/// error listing all of them.
fn select(state: &State, names: &[ReportName]) -> Result<Vec<(ReportName, StateEntry)>, Error> {
    if names.is_empty() {
        return Ok(state
            .reports
            .iter()
            .filter(|(_, entry)| entry.status.is_live())
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect());
    }
    let names: BTreeSet<&ReportName> = names.iter().collect();
    let unknown: Vec<ReportName> = names
        .iter()
        .filter(|name| !state.reports.contains_key(**name))
        .map(|name| (*name).clone())
        .collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownReports { names: unknown });
    }
    Ok(names
        .into_iter()
        .filter_map(|name| Some((name.clone(), state.reports.get(name)?.clone())))
        .collect())
}

/// What one report's polls found, before the state is touched.
pub(crate) enum Looked {
    NotStarted,
    Processing,
    Ready(Result<Written, Error>),
    ReportFailed(String),
    Failed(RemoteError),
}

/// The format `entry`'s results come in when `asked` was asked for: its
/// kind's say (a FOCUS report is always CSV).
pub(crate) fn result_format(entry: &StateEntry, asked: ResultFormat) -> ResultFormat {
    costform_model::kinds::find(&entry.request.kind).map_or(asked, |kind| kind.result_format(asked))
}

/// `entry` with its written result, status `ready`.
fn ready_entry(
    state: &LockedState,
    entry: StateEntry,
    written: Written,
    format: ResultFormat,
) -> StateEntry {
    let result = ResultRecord {
        fetched_at: written.fetched_at,
        path: recorded_path(&written.path, state.results_base()),
        format,
        rows: written.summary.as_ref().map_or(0, |summary| summary.rows),
        sha256: written.sha256,
        covers_open_month: entry.request.covers_open_month,
        run: Some(state.lock_id().to_owned()),
        history: Some(recorded_path(&written.history, state.results_base())),
    };
    StateEntry {
        status: TokenStatus::Ready,
        result: Some(result),
        ..entry
    }
}

/// The result path as stored: relative to `base` (the state file's
/// directory for the local backend), with `/`, and `..` for an `--out-dir`
/// outside it, so the state works in another checkout; absolute only when
/// no relative path exists (another drive).
fn recorded_path(file: &Path, base: &Path) -> String {
    let (Ok(file), Ok(base)) = (fs::canonicalize(file), fs::canonicalize(base)) else {
        return file.display().to_string();
    };
    let file_parts: Vec<_> = file.components().collect();
    let base_parts: Vec<_> = base.components().collect();
    let common = file_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return file.display().to_string();
    }
    let ups = std::iter::repeat_n("..".to_owned(), base_parts.len() - common);
    let downs = file_parts[common..]
        .iter()
        .map(|part| part.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_paths_are_relative_to_the_state_even_outside_its_directory() {
        let root = tempfile::tempdir().unwrap();
        let state_dir = root.path().join("reports");
        let out_dir = root.path().join("out");
        fs::create_dir_all(&state_dir).unwrap();
        fs::create_dir_all(out_dir.join("x")).unwrap();
        let inside = state_dir.join("results");
        fs::create_dir_all(&inside).unwrap();
        fs::write(inside.join("a.json"), "{}").unwrap();
        fs::write(out_dir.join("x").join("a.json"), "{}").unwrap();
        assert_eq!(
            recorded_path(&inside.join("a.json"), &state_dir),
            "results/a.json"
        );
        assert_eq!(
            recorded_path(&out_dir.join("x").join("a.json"), &state_dir),
            "../out/x/a.json"
        );
    }
}
