//! `costform apply`: send the queries and record their tokens.

use miette::IntoDiagnostic;
use std::collections::BTreeMap;
use std::io::{BufRead, Write as _};

use costform_model::ids::ReportName;
use costform_model::kinds::{HandleNoun, handle_noun};
use costform_model::plan::Plan;
use costform_planner::{ApplyOptions, ApplyReport, LockedState, Retired};

use crate::args::{ApplyArgs, PlanFormat};
use crate::atlas::AtlasSubmitter;
use crate::commands::plan;
use crate::context::{Context, Strictness};
use crate::exit::Exit;
use crate::lookups;
use crate::plan_file;
use crate::progress::ApplyProgress;
use crate::{credentials, interrupt, state_lock};

/// Runs `apply`, with a saved plan or by planning first.
pub async fn run(context: &Context, args: &ApplyArgs) -> miette::Result<Exit> {
    if let Some(file) = &args.plan_file {
        if !args.targets.targets.is_empty() || !args.targets.replace.is_empty() {
            return Err(miette::miette!(
                help = "pass --target and --replace to `costform plan --out FILE` instead",
                "a saved plan is applied exactly as saved: --target and --replace cannot change it"
            ));
        }
        let plan = plan_file::load(file)?;
        let context = &plan_file::context_for(context, &plan, file)?;
        let mut locked = state_lock::lock(context, "apply")?;
        costform_planner::check_not_stale(&plan, locked.existing(), &context.state_location())
            .into_diagnostic()?;
        return execute(context, &plan, &mut locked, args).await;
    }

    let mut locked = state_lock::lock(context, "apply")?;
    // Lookups are read first, as Terraform refreshes data sources before
    // planning: what is asked is what will be sent.
    let loaded = lookups::load(context, Strictness::Lenient, locked.existing(), true).await?;
    let definitions = &loaded.definitions;
    let mut plan = plan::compute(context, definitions, locked.existing(), &args.targets)?;
    loaded.describe(&mut plan);
    plan::print(&plan, PlanFormat::Text, context);
    plan::warn_if_targeted(
        context,
        definitions,
        locked.existing(),
        &args.targets,
        &plan,
    )?;
    // Written with the tokens; with nothing to apply, only when a lookup's
    // value changed: a new read time alone does not bump the serial (which
    // would make every saved plan stale).
    let lookups_changed = lookups::values_differ(&locked.state().lookups, &loaded.read);
    locked.cache_lookups(loaded.read);
    if plan.is_empty() {
        if lookups_changed {
            locked.commit().into_diagnostic()?;
        }
        return Ok(Exit::Success);
    }
    if !args.auto_approve {
        if !context.ui.interactive {
            return Err(miette::miette!(
                help = "pass --auto-approve, or save a reviewed plan with `costform plan --out FILE` and run `costform apply FILE`",
                "refusing to apply without confirmation: there is no terminal to ask on; nothing was sent"
            ));
        }
        if !confirm(context).await {
            context
                .ui
                .printer()
                .errors()
                .line("\nApply cancelled: nothing was sent.");
            return Ok(Exit::Error);
        }
    }
    execute(context, &plan, &mut locked, args).await
}

/// Asks Terraform's question on the terminal; only `yes` approves. Ctrl-C
/// at the prompt is a "no": the command returns normally, so the state lock
/// taken for the plan is released instead of being left behind.
async fn confirm(context: &Context) -> bool {
    context.ui.printer().errors().print(
        "\nDo you want to perform these actions?\n  costform will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stderr().flush();
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    // A plain thread, not the runtime's blocking pool: a read still waiting
    // on stdin must not keep the process from exiting after a Ctrl-C.
    std::thread::spawn(move || {
        let mut answer = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer);
        let _ = answer_tx.send(read);
    });
    tokio::select! {
        answer = answer_rx => matches!(answer, Ok(Ok(text)) if text.trim() == "yes"),
        _ = tokio::signal::ctrl_c() => false,
    }
}

async fn execute(
    context: &Context,
    plan: &Plan,
    locked: &mut LockedState,
    args: &ApplyArgs,
) -> miette::Result<Exit> {
    let needs_atlas = plan.changes.iter().any(|change| change.after.is_some());
    let submitter = AtlasSubmitter::new(if needs_atlas {
        Some(context.client()?)
    } else {
        None
    });
    let cancel = interrupt::on_ctrl_c(context, locked);
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        cancel: cancel.clone(),
    };
    let progress =
        ApplyProgress::new(context.ui, plan.changes.len()).stopping_on_refusal(cancel.clone());
    let before = locked.state().reports.clone();
    let rate_limit = progress.watch_rate_limit(submitter.client());
    let interrupted = interrupt::stop_rate_limit_waits(&cancel, submitter.client());
    let report = costform_planner::apply(plan, locked, &submitter, &options, &progress).await;
    drop((rate_limit, interrupted));
    submitter.close().await;
    let report = report.into_diagnostic()?;
    progress.finish();
    let retired = costform_planner::retire_results(locked.results_base(), &before, &report)
        .into_diagnostic()?;
    for retired in retired {
        context.ui.status(&match retired {
            Retired::Moved(name, from, to) => format!(
                "report.{name}: `{}` was superseded by the new query and moved to `{}`",
                from.display(),
                to.display()
            ),
            Retired::Removed(name, file) => {
                format!("report.{name}: removed `{}`", file.display())
            }
        });
    }
    let exit = summarize(context, plan, &report);
    match credentials::refused(context, report.failed.iter().map(|(_, error)| error)) {
        Some(refused) => Err(refused),
        None => Ok(exit),
    }
}

/// The end summary and the exit code it implies.
fn summarize(context: &Context, plan: &Plan, report: &ApplyReport) -> Exit {
    let ui = context.ui;
    let printer = ui.printer();
    for (name, error) in report
        .failed
        .iter()
        .filter(|(_, error)| !credentials::is_refused(error))
    {
        // The message names the status and errorCode already.
        printer.errors().line(format_args!(
            "{} report.{name}: {}",
            ui.error("Failed:"),
            error.message
        ));
    }
    let line = format!(
        "{} applied, {} failed, {} forgotten.",
        report.applied.len(),
        report.failed.len(),
        report.forgotten.len()
    );
    if report.cancelled
        && report
            .failed
            .iter()
            .any(|(_, error)| credentials::is_refused(error))
    {
        printer.stdout().line(format_args!(
            "\n{} Atlas refused the credentials. {} applied, {} failed, {} not sent.{}",
            ui.error("Apply stopped:"),
            report.applied.len(),
            report.failed.len(),
            report.not_started.len(),
            saved(plan, report)
        ));
        return Exit::Error;
    }
    if report.cancelled {
        printer.errors().line(format_args!(
            "\n{} {line} {} not started.{}",
            ui.warn("Interrupted!"),
            report.not_started.len(),
            saved(plan, report)
        ));
        return Exit::Interrupted;
    }
    if report.failed.is_empty() {
        printer
            .summary()
            .line(format_args!("\n{} {line}", ui.success("Apply complete!")));
        Exit::Success
    } else {
        printer.stdout().line(format_args!(
            "\n{} {line}{}",
            ui.error("Apply incomplete:"),
            saved(plan, report)
        ));
        Exit::Error
    }
}

/// What this run saved in the state, counted by the words each report's
/// kind has for its handle (" Saved in the state: 1 invoice report and 2
/// tokens."); nothing when no handle arrived, so a run that got none never
/// claims to have saved any.
fn saved(plan: &Plan, report: &ApplyReport) -> String {
    let kinds: BTreeMap<&ReportName, &str> = plan
        .changes
        .iter()
        .filter_map(|change| Some((&change.name, change.after.as_ref()?.kind.as_str())))
        .collect();
    let mut counts: BTreeMap<HandleNoun, usize> = BTreeMap::new();
    for (name, _) in &report.applied {
        let kind = kinds.get(name).copied().unwrap_or_default();
        *counts.entry(handle_noun(kind)).or_default() += 1;
    }
    if counts.is_empty() {
        return String::new();
    }
    let counted: Vec<String> = counts
        .into_iter()
        .map(|(noun, count)| noun.count(count))
        .collect();
    format!(" Saved in the state: {}.", counted.join(" and "))
}
