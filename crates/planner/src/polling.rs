//! Scheduling the polls of `fetch --wait`: at most `parallelism` requests in
//! flight, and a report that answered "processing" waits for its next poll
//! without holding one of those places. (Holding it made 9 reports that each
//! need 4 polls take three rounds of back-off at a parallelism of 4 instead
//! of one.)

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use costform_model::ids::ReportName;
use costform_model::state::StateEntry;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use crate::fetch::{FetchObserver, FetchOptions, Looked, result_format};
use crate::remote::{ReadOutcome, ResultReader};
use crate::result_file::write_result;

/// One report on its way through the polls.
pub(crate) struct Poll {
    pub name: ReportName,
    pub entry: StateEntry,
    /// Polls made so far.
    attempt: u32,
    /// The pause before the next poll, before jitter.
    delay: Duration,
}

/// A report waiting for its next poll, ordered by when it is due.
struct Waiting {
    due: Instant,
    sequence: u64,
    poll: Poll,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.sequence) == (other.due, other.sequence)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    /// Reversed, so the max-heap pops the earliest due first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.sequence).cmp(&(self.due, self.sequence))
    }
}

/// Polls every report once, or with `options.wait` until ready, the
/// deadline or a cancel; `settle` is called as each report is done, with a
/// ready result already written (inside the poll's own future, so writes
/// overlap the other requests).
pub(crate) async fn poll_all<R, F>(
    reports: Vec<(ReportName, StateEntry)>,
    reader: &R,
    options: &FetchOptions,
    observer: &dyn FetchObserver,
    mut settle: F,
) -> Result<(), crate::Error>
where
    R: ResultReader,
    F: FnMut(Poll, Looked) -> Result<(), crate::Error>,
{
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let parallelism = options.parallelism.max(1);
    let mut ready: VecDeque<Poll> = reports
        .into_iter()
        .map(|(name, entry)| Poll {
            name,
            entry,
            attempt: 0,
            delay: options.initial_delay,
        })
        .collect();
    let mut waiting = BinaryHeap::new();
    let mut sequence = 0_u64;
    let mut in_flight = FuturesUnordered::new();
    loop {
        while waiting
            .peek()
            .is_some_and(|next: &Waiting| next.due <= Instant::now())
        {
            ready.extend(waiting.pop().map(|next| next.poll));
        }
        while in_flight.len() < parallelism {
            let Some(poll) = ready.pop_front() else { break };
            if options.cancel.is_cancelled() {
                let looked = if poll.attempt == 0 {
                    Looked::NotStarted
                } else {
                    Looked::Processing
                };
                settle(poll, looked)?;
                continue;
            }
            in_flight.push(poll_once(poll, reader, options, observer));
        }
        if in_flight.is_empty() && ready.is_empty() && waiting.is_empty() {
            return Ok(());
        }
        let next_due = waiting.peek().map(|next| next.due);
        tokio::select! {
            Some((mut poll, looked)) = in_flight.next(), if !in_flight.is_empty() => {
                let processing = matches!(looked, Looked::Processing);
                let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
                if !options.wait || !processing || left.is_some_and(|left| left.is_zero()) || options.cancel.is_cancelled() {
                    settle(poll, looked)?;
                } else {
                    let pause = left.map_or(jittered(poll.delay), |left| jittered(poll.delay).min(left));
                    poll.delay = poll.delay.saturating_mul(2).min(options.max_delay);
                    sequence += 1;
                    waiting.push(Waiting { due: Instant::now() + pause, sequence, poll });
                }
            }
            () = sleep_until(next_due), if next_due.is_some() => {}
            () = options.cancel.cancelled(), if !waiting.is_empty() => {
                while let Some(next) = waiting.pop() {
                    settle(next.poll, Looked::Processing)?;
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}

/// One look at a report's handle; a ready result is written at once.
async fn poll_once<R: ResultReader>(
    mut poll: Poll,
    reader: &R,
    options: &FetchOptions,
    observer: &dyn FetchObserver,
) -> (Poll, Looked) {
    poll.attempt = poll.attempt.saturating_add(1);
    let format = result_format(&poll.entry, options.format);
    let answer = reader.read(&poll.name, &poll.entry, format).await;
    observer.polled(&poll.name, poll.attempt, answer.as_ref());
    let looked = match answer {
        Ok(ReadOutcome::Processing) => Looked::Processing,
        Ok(ReadOutcome::Ready(body)) => {
            let written = write_result(
                &poll.name,
                &poll.entry.request,
                body,
                format,
                &options.out_dir,
            );
            Looked::Ready(written.await)
        }
        Ok(ReadOutcome::Failed { reason }) => Looked::ReportFailed(reason),
        Err(error) => Looked::Failed(error),
    };
    (poll, looked)
}

/// Between half and all of `delay`, so parallel polls do not move in step.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(rand::random_range(0.5..=1.0))
}
