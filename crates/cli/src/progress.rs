//! Progress for apply and fetch: a bar on a terminal, one plain line per
//! report in CI logs (where a bar would be noise).

use costform_model::ids::{ReportName, Token};
use costform_model::plan::Action;
use costform_planner::{ApplyObserver, FetchObserver, FetchOutcome, ReadOutcome, RemoteError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::render::plan_text::abbreviate;
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
            None if !self.ui.quiet => anstream::eprintln!("{text}"),
            None => {}
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
}

/// Apply progress: one result line per report.
pub struct ApplyProgress(Reporter);

impl ApplyProgress {
    /// A reporter for `total` changes.
    pub fn new(ui: Ui, total: usize) -> Self {
        Self(Reporter::new(ui, total, "Applying"))
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        self.0.finish();
    }
}

impl ApplyObserver for ApplyProgress {
    fn started(&self, _name: &ReportName, _action: Action) {}

    fn finished(&self, name: &ReportName, action: Action, result: Result<&Token, &RemoteError>) {
        let ui = self.0.ui;
        let text = match (action, result) {
            (Action::Forget, _) => format!("report.{name}: {}", ui.dim("forgotten")),
            (_, Ok(token)) => format!(
                "report.{name}: {} token {}",
                ui.success(if action == Action::Create {
                    "created,"
                } else {
                    "re-queried,"
                }),
                abbreviate(token.as_str())
            ),
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

/// Fetch progress: a line when a report is ready, expired or failed, and a
/// line per poll with `-v`.
pub struct FetchProgress {
    reporter: Reporter,
    verbose: bool,
}

impl FetchProgress {
    /// A reporter for `total` reports.
    pub fn new(ui: Ui, total: usize, verbose: bool) -> Self {
        Self {
            reporter: Reporter::new(ui, total, "Fetching"),
            verbose,
        }
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        self.reporter.finish();
    }
}

impl FetchObserver for FetchProgress {
    fn polled(&self, name: &ReportName, attempt: u32, outcome: Result<&ReadOutcome, &RemoteError>) {
        if self.verbose {
            let answer = match outcome {
                Ok(ReadOutcome::Processing) => "processing".to_owned(),
                Ok(ReadOutcome::Ready(body)) => format!("ready ({} bytes)", body.len()),
                Err(error) => error.message.clone(),
            };
            self.reporter
                .line(&format!("report.{name}: poll {attempt}: {answer}"));
        }
    }

    fn finished(&self, name: &ReportName, outcome: &FetchOutcome) {
        let ui = self.reporter.ui;
        let label = status_label(outcome);
        let styled = match outcome {
            FetchOutcome::Ready { .. } => ui.success(label),
            FetchOutcome::Processing | FetchOutcome::NotStarted => ui.warn(label),
            FetchOutcome::Expired | FetchOutcome::Failed(_) => ui.error(label),
        };
        self.reporter.line(&format!("report.{name}: {styled}"));
        self.reporter.advance(name.as_str());
    }
}

/// The one-word status of a fetch outcome, as the summary shows it.
pub fn status_label(outcome: &FetchOutcome) -> &'static str {
    match outcome {
        FetchOutcome::Ready { .. } => "ready",
        FetchOutcome::Processing => "processing",
        FetchOutcome::Expired => "expired",
        FetchOutcome::Failed(_) => "failed",
        FetchOutcome::NotStarted => "not started",
    }
}
