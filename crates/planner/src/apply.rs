//! `apply`: sends a plan's queries with bounded parallelism and journals each
//! handle (a token, a report id) the moment it arrives.

use costform_model::handle::Handle;
use costform_model::ids::ReportName;
use costform_model::plan::{Action, Plan};
use costform_model::request::PlannedRequest;
use costform_model::state::{StateEntry, TokenStatus};
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use jiff::Timestamp;

use crate::cancel::Cancel;
use crate::error::Error;
use crate::locked::LockedState;
use crate::remote::{RemoteError, Submitter};

/// How to run `apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// At most this many queries in flight (0 is taken as 1). Atlas's rate
    /// limits for these paths are unknown, so the CLI keeps this modest.
    pub parallelism: usize,
    /// Raised by Ctrl-C: nothing new is sent, what is in flight is recorded.
    pub cancel: Cancel,
}

/// Progress of `apply`, for the CLI's output; the engine never prints.
/// Methods default to doing nothing.
pub trait ApplyObserver: Sync {
    /// A query is about to be sent.
    fn started(&self, name: &ReportName, action: Action) {
        let _ = (name, action);
    }

    /// A query was answered; on success the token is already journaled.
    fn finished(&self, name: &ReportName, action: Action, result: Result<&Handle, &RemoteError>) {
        let _ = (name, action, result);
    }
}

/// Observes nothing.
impl ApplyObserver for () {}

/// What `apply` did, each list sorted by report name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Reports created or re-queried, with their new tokens.
    pub applied: Vec<(ReportName, Handle)>,
    /// Reports Atlas refused, with its answer; their old entries are kept.
    pub failed: Vec<(ReportName, RemoteError)>,
    /// Reports dropped from the state.
    pub forgotten: Vec<ReportName>,
    /// Reports not sent because of a cancel.
    pub not_started: Vec<ReportName>,
    /// Whether the run was cancelled.
    pub cancelled: bool,
}

/// Applies `plan` to the locked state through `submitter`. The journal is
/// opened before anything is sent. Forgets need no call and are journaled
/// first; creates and requeries run at most `options.parallelism` at a
/// time, and the tokens that arrive together are journaled as one group
/// before any of them is reported. The state is committed once at the end,
/// also after failures or a cancel, so every token received is kept; a token
/// that cannot be journaled (disk full) stops dispatch, and it and those in
/// flight are committed, or written to `PATH.errored`, or returned in the
/// error.
pub async fn apply<S: Submitter>(
    plan: &Plan,
    state: &mut LockedState,
    submitter: &S,
    options: &ApplyOptions,
    observer: &dyn ApplyObserver,
) -> Result<ApplyReport, Error> {
    let mut report = ApplyReport::default();
    state.open_journal()?;
    for change in plan
        .changes
        .iter()
        .filter(|change| change.action == Action::Forget)
    {
        state.forget(&change.name)?;
        report.forgotten.push(change.name.clone());
    }

    let queries = plan
        .changes
        .iter()
        .filter_map(|change| Some((change, change.after.as_ref()?)));
    // Set once a token could not be journaled: nothing more is sent, and
    // the tokens still in flight are kept with it (see `keep_unjournaled`).
    let unjournaled = &AtomicBool::new(false);
    let mut answers = futures::stream::iter(queries)
        .map(|(change, request)| async move {
            if options.cancel.is_cancelled() || unjournaled.load(Ordering::SeqCst) {
                return (change, request, None);
            }
            observer.started(&change.name, change.action);
            (
                change,
                request,
                Some(submitter.submit(&change.name, request).await),
            )
        })
        .buffer_unordered(options.parallelism.max(1))
        // The answers that arrived while the last group was being made
        // durable are recorded together: one sync (one transaction) for
        // the group, where a sync per answer held up the queries after it.
        .ready_chunks(options.parallelism.max(1));

    let mut failure = None;
    let mut kept = Vec::new();
    while let Some(answered) = answers.next().await {
        let mut issued = Vec::new();
        let mut entries = Vec::new();
        for (change, request, answer) in answered {
            match answer {
                None => report.not_started.push(change.name.clone()),
                Some(Ok(handle)) => {
                    entries.push((change.name.clone(), new_entry(plan, request, &handle)));
                    issued.push((change, handle));
                }
                Some(Err(error)) => {
                    observer.finished(&change.name, change.action, Err(&error));
                    report.failed.push((change.name.clone(), error));
                }
            }
        }
        if failure.is_some() {
            kept.extend(entries);
        } else if entries.is_empty() {
            // Every answer of the group was a refusal: nothing to record.
        } else if let Err(error) = state.record_all(entries.clone()) {
            unjournaled.store(true, Ordering::SeqCst);
            failure = Some(error);
            kept.extend(entries);
        }
        for (change, handle) in issued {
            observer.finished(&change.name, change.action, Ok(&handle));
            report.applied.push((change.name.clone(), handle));
        }
    }
    drop(answers);
    if let Some(error) = failure {
        state.keep_unjournaled(kept, error)?;
    }

    report.cancelled = options.cancel.is_cancelled();
    report.applied.sort_by(|a, b| a.0.cmp(&b.0));
    report.failed.sort_by(|a, b| a.0.cmp(&b.0));
    report.not_started.sort();
    state.commit()?;
    Ok(report)
}

/// The entry for a freshly issued handle.
fn new_entry(plan: &Plan, request: &PlannedRequest, handle: &Handle) -> StateEntry {
    StateEntry {
        request: request.clone(),
        handle: handle.clone(),
        applied_at: Timestamp::now(),
        now: plan.now,
        status: TokenStatus::Submitted,
        result: None,
    }
}
