//! Progress for apply and fetch: bars on a terminal, one plain line per
//! report in CI logs (where a bar would be noise).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use costform_model::handle::Handle;
use costform_model::ids::ReportName;
use costform_model::plan::Action;
use costform_planner::{
    ApplyObserver, Cancel, FetchObserver, FetchOutcome, ReadOutcome, RemoteError,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::plan_text::abbreviate_handle;
use crate::ui::Ui;

/// Shows either a bar or lines, never both.
struct Reporter {
    ui: Ui,
    bar: Option<ProgressBar>,
}

impl Reporter {
    fn new(ui: Ui, total: usize, verb: &str) -> Self {
        let bar = (ui.progress && total > 0).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(&format!(
                "{verb} {{bar:30.cyan/blue}} {{pos}}/{{len}} {{elapsed}} {{wide_msg}}"
            )) {
                bar.set_style(style);
            }
            bar
        });
        Self { ui, bar }
    }

    /// A line for one report: above the bar on a terminal, plain otherwise.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => self.ui.printer().stderr().line(text),
        }
    }

    fn advance(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// While the bar is shown, says on it when requests wait for a
    /// rate-limit token rather than for Atlas (`-v` logs each wait).
    fn watch_rate_limit(&self, client: Option<&costform_http::Client>) -> BackgroundTask {
        let (Some(bar), Some(client)) = (self.bar.clone(), client.cloned()) else {
            return BackgroundTask(None);
        };
        BackgroundTask(Some(tokio::spawn(async move {
            let mut shown = false;
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                match client.rate_limit_wait() {
                    Some(wait) => {
                        bar.set_message(format!("waiting for the rate limit: {wait}"));
                        shown = true;
                    }
                    None if shown => {
                        bar.set_message(String::new());
                        shown = false;
                    }
                    None => {}
                }
            }
        })))
    }
}

/// A task that runs beside a command (the bar's rate-limit note, the
/// interrupt's end of rate-limit waits) and stops when dropped.
pub struct BackgroundTask(pub Option<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Apply progress: one result line per report.
pub struct ApplyProgress(Reporter, Option<Cancel>);

impl ApplyProgress {
    /// A reporter for `total` changes.
    pub fn new(ui: Ui, total: usize) -> Self {
        Self(Reporter::new(ui, total, "Applying"), None)
    }

    /// Says on the bar when requests wait for a rate-limit token.
    pub fn watch_rate_limit(&self, client: Option<&costform_http::Client>) -> BackgroundTask {
        self.0.watch_rate_limit(client)
    }

    /// Raises `cancel` when Atlas refuses the credentials: every other
    /// report would be refused too, so none is sent after the first.
    pub fn stopping_on_refusal(mut self, cancel: Cancel) -> Self {
        self.1 = Some(cancel);
        self
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        self.0.finish();
    }
}

impl ApplyObserver for ApplyProgress {
    fn started(&self, _name: &ReportName, _action: Action) {}

    fn finished(&self, name: &ReportName, action: Action, result: Result<&Handle, &RemoteError>) {
        let ui = self.0.ui;
        let text = match (action, result) {
            (Action::Forget, _) => format!("report.{name}: {}", ui.dim("forgotten")),
            (_, Ok(handle)) => format!(
                "report.{name}: {} {}",
                ui.success(if action == Action::Create {
                    "created,"
                } else {
                    "re-queried,"
                }),
                abbreviate_handle(handle)
            ),
            (_, Err(error)) if crate::credentials::is_refused(error) => {
                if let Some(cancel) = &self.1 {
                    cancel.cancel();
                }
                self.0.advance(name.as_str());
                return;
            }
            (_, Err(error)) => format!(
                "report.{name}: {} {}",
                ui.error("failed:"),
                error.error_code.as_deref().unwrap_or(&error.message)
            ),
        };
        self.0.line(&text);
        self.0.advance(name.as_str());
    }
}

/// Fetch progress. On a terminal, a spinner per report (for up to
/// [`SPINNER_LIMIT`] reports) showing its polls above an overall bar; in CI,
/// a line when a report is ready, expired or failed, and with `-v` a line per
/// poll.
pub struct FetchProgress {
    reporter: Reporter,
    verbose: bool,
    spinners: Option<Spinners>,
    stop: Option<Cancel>,
}

/// More reports than this share the overall bar only: a screen of spinners
/// would scroll away.
const SPINNER_LIMIT: usize = 20;

/// One spinner per report, created at its first poll.
struct Spinners {
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<BTreeMap<ReportName, ProgressBar>>,
}

impl Spinners {
    fn get(&self, name: &ReportName) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(PoisonError::into_inner);
        bars.entry(name.clone())
            .or_insert_with(|| {
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} report.{prefix}: {wide_msg}")
                {
                    bar.set_style(style);
                }
                bar.set_prefix(name.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }
}

impl FetchProgress {
    /// Says on the bar when polls wait for a rate-limit token.
    pub fn watch_rate_limit(&self, client: Option<&costform_http::Client>) -> BackgroundTask {
        self.reporter.watch_rate_limit(client)
    }

    /// A reporter for `total` reports.
    pub fn new(ui: Ui, total: usize, verbose: bool) -> Self {
        let reporter = Reporter::new(ui, total, "Fetching");
        let spinners = reporter
            .bar
            .as_ref()
            .filter(|_| total <= SPINNER_LIMIT)
            .map(|overall| {
                let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
                Spinners {
                    overall: multi.add(overall.clone()),
                    multi,
                    bars: Mutex::new(BTreeMap::new()),
                }
            });
        Self {
            reporter,
            verbose,
            spinners,
            stop: None,
        }
    }

    /// Raises `cancel` when Atlas refuses the credentials, so no further
    /// report is polled with them.
    pub fn stopping_on_refusal(mut self, cancel: Cancel) -> Self {
        self.stop = Some(cancel);
        self
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&self) {
        self.reporter.finish();
        if let Some(spinners) = &self.spinners {
            let _ = spinners.multi.clear();
        }
    }
}

impl FetchObserver for FetchProgress {
    fn polled(&self, name: &ReportName, attempt: u32, outcome: Result<&ReadOutcome, &RemoteError>) {
        let answer = match outcome {
            Ok(ReadOutcome::Processing) => "processing".to_owned(),
            Ok(ReadOutcome::Ready(body)) => format!("ready ({} bytes)", body.len()),
            Ok(ReadOutcome::Failed { reason }) => reason.clone(),
            Err(error) => error.message.clone(),
        };
        match &self.spinners {
            Some(spinners) => spinners
                .get(name)
                .set_message(format!("poll {attempt}: {answer}")),
            None if self.verbose => self
                .reporter
                .line(&format!("report.{name}: poll {attempt}: {answer}")),
            None => {}
        }
    }

    fn finished(&self, name: &ReportName, outcome: &FetchOutcome) {
        let refused =
            matches!(outcome, FetchOutcome::Failed(error) if crate::credentials::is_refused(error));
        if let (true, Some(cancel)) = (refused, &self.stop) {
            cancel.cancel();
        }
        let ui = self.reporter.ui;
        let label = status_label(outcome);
        // A failure says why where it is reported, not only with `-v`.
        let styled = match outcome {
            FetchOutcome::Ready { .. } => ui.success(label),
            FetchOutcome::Processing | FetchOutcome::NotStarted => ui.warn(label),
            FetchOutcome::Expired => ui.error(label),
            FetchOutcome::Failed(error) => format!("{}: {error}", ui.error(label)),
            FetchOutcome::ReportFailed(reason) => {
                format!("{}: {}", ui.error(label), report_failed(reason))
            }
        };
        match &self.spinners {
            Some(spinners) => spinners.get(name).finish_with_message(styled),
            // Refused credentials are said once, after the summary.
            None if refused => {}
            None => self.reporter.line(&format!("report.{name}: {styled}")),
        }
        self.reporter.advance(name.as_str());
    }
}

/// Why Atlas gave up on a report, and what happens next: said once, by the
/// fetch that finds it; later fetches leave the report alone.
pub fn report_failed(reason: &str) -> String {
    format!("{reason}; recorded as failed, the next `costform apply` asks for a new one")
}

/// The one-word status of a fetch outcome, as the summary shows it.
pub fn status_label(outcome: &FetchOutcome) -> &'static str {
    match outcome {
        FetchOutcome::Ready { .. } => "ready",
        FetchOutcome::Processing => "processing",
        FetchOutcome::Expired => "expired",
        FetchOutcome::Failed(_) | FetchOutcome::ReportFailed(_) => "failed",
        FetchOutcome::NotStarted => "not started",
    }
}
