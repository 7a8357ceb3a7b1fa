//! `costform fetch`: retrieve results by token, write them, summarize them.

use costform_model::state::{ResultFormat, State};
use costform_planner::{FetchOptions, FetchOutcome, FetchReport};
use miette::IntoDiagnostic;

use crate::addresses;
use crate::args::{FetchArgs, ResultFormatArg, SummaryFormat};
use crate::atlas::AtlasReader;
use crate::context::Context;
use crate::exit::Exit;
use crate::output::fetch_summary::{self, RunInfo, SummaryRow};
use crate::progress::{FetchProgress, report_failed, status_label};
use crate::{credentials, interrupt, state_backend, state_lock};

/// Runs `fetch`: exit 1 on any failure, 2 with `--detailed-exitcode` while
/// results are still processing.
pub async fn run(context: &Context, args: &FetchArgs) -> miette::Result<Exit> {
    let format = match args.format {
        ResultFormatArg::Json => ResultFormat::Json,
        ResultFormatArg::Csv => ResultFormat::Csv,
    };
    let mut locked = state_lock::lock(context, "fetch")?;
    if locked.state().reports.is_empty() && args.names.is_empty() {
        context.ui.status(&format!(
            "Nothing to fetch: no report has been applied to the state `{}` yet. Run `costform apply` first, then `costform fetch`.",
            context.state_location()
        ));
        return Ok(Exit::Success);
    }
    let client = context.client_reading_up_to(args.max_result_size)?;
    if let (true, Some(timeout)) = (args.wait, args.timeout) {
        // A rate-limit wait that outlasts `--timeout` fails its report at once.
        client.set_deadline(std::time::Instant::now() + timeout);
    }
    let reader = AtlasReader::new(client);
    let cancel = interrupt::on_ctrl_c(context, &locked);
    let names = addresses::expand(&args.names, &locked.state().reports);
    let options = FetchOptions {
        names: names.clone(),
        format,
        out_dir: args
            .out_dir
            .clone()
            .unwrap_or_else(|| context.results_dir()),
        wait: args.wait,
        timeout: args.timeout,
        parallelism: usize::from(args.parallelism),
        cancel,
        ..FetchOptions::default()
    };
    // Without names, fetch polls the live handles only (not expired, not
    // failed): the bar counts those.
    let total = if names.is_empty() {
        let reports = locked.state().reports.values();
        reports.filter(|entry| entry.status.is_live()).count()
    } else {
        names.len()
    };
    let progress = FetchProgress::new(context.ui, total, context.global.verbose > 0)
        .stopping_on_refusal(options.cancel.clone());
    let rate_limit = progress.watch_rate_limit(Some(reader.client()));
    let interrupted = interrupt::stop_rate_limit_waits(&options.cancel, Some(reader.client()));
    let report = costform_planner::fetch(&mut locked, &reader, &options, &progress).await;
    drop((rate_limit, interrupted));
    reader.close().await;
    let report = report.into_diagnostic()?;
    progress.finish();
    let ready: Vec<_> = report
        .reports
        .iter()
        .filter(|fetched| matches!(fetched.outcome, FetchOutcome::Ready { .. }))
        .map(|fetched| fetched.name.clone())
        .collect();
    state_backend::store_cost_rows(&mut locked, &ready)?;
    let rows = summary_rows(&report, locked.state());
    let run = RunInfo {
        run: locked.lock_id().to_owned(),
    };
    let text = match args.summary {
        SummaryFormat::Text => fetch_summary::text(&rows, &run, context.ui),
        SummaryFormat::Json => fetch_summary::json(&rows, &run),
        SummaryFormat::Markdown => fetch_summary::markdown(&rows, &run),
    };
    context.ui.printer().stdout().print(text);
    let failed = report
        .reports
        .iter()
        .filter_map(|fetched| match &fetched.outcome {
            FetchOutcome::Failed(error) => Some(error),
            _ => None,
        });
    if let Some(refused) = credentials::refused(context, failed) {
        return Err(refused);
    }
    if let (true, Some(timeout)) = (args.wait, args.timeout) {
        let processing = report
            .reports
            .iter()
            .filter(|fetched| fetched.outcome == FetchOutcome::Processing)
            .count();
        if processing > 0 && !report.cancelled {
            return Err(miette::miette!(
                help = "fetch again later (the reports are kept), or wait longer with a larger `--timeout`",
                "timed out after {}: {processing} still processing",
                human_duration(timeout)
            ));
        }
    }
    Ok(exit(&report, args.detailed_exitcode))
}

/// A duration as a user would type it for `--timeout` (`90s`, `15m`).
fn human_duration(duration: std::time::Duration) -> String {
    jiff::SignedDuration::try_from(duration).map_or_else(
        |_| format!("{}s", duration.as_secs()),
        |duration| format!("{duration:#}"),
    )
}

fn exit(report: &FetchReport, detailed: bool) -> Exit {
    if report.cancelled {
        Exit::Interrupted
    } else if report.reports.iter().any(|fetched| {
        matches!(
            fetched.outcome,
            FetchOutcome::Failed(_) | FetchOutcome::ReportFailed(_)
        )
    }) {
        Exit::Error
    } else if detailed && report.has_processing() {
        Exit::Pending
    } else {
        Exit::Success
    }
}

/// Summaries are computed from the files just written, so what the table says
/// is what the files hold.
fn summary_rows(report: &FetchReport, state: &State) -> Vec<SummaryRow> {
    report
        .reports
        .iter()
        .map(|fetched| {
            let entry = state.reports.get(&fetched.name);
            let mut row = SummaryRow {
                name: fetched.name.to_string(),
                status: status_label(&fetched.outcome),
                path: None,
                rows: None,
                total_usage: None,
                group_by: None,
                by_group: std::collections::BTreeMap::new(),
                error: None,
                history: None,
            };
            match (&fetched.outcome, entry) {
                (FetchOutcome::Ready { summary, path }, Some(entry)) => {
                    row.path = Some(path.display().to_string());
                    row.history = entry
                        .result
                        .as_ref()
                        .and_then(|result| result.history.clone());
                    match summary {
                        Ok(summary) => {
                            row.rows = Some(summary.rows);
                            row.total_usage = Some(summary.total);
                            row.by_group.clone_from(&summary.by_group);
                            row.group_by.clone_from(&summary.dimension);
                        }
                        Err(problem) => {
                            row.rows = Some(0);
                            row.error = Some(problem.clone());
                        }
                    }
                }
                (FetchOutcome::Failed(error), _) => row.error = Some(error.message.clone()),
                (FetchOutcome::ReportFailed(reason), _) => row.error = Some(report_failed(reason)),
                _ => {}
            }
            row
        })
        .collect()
}
