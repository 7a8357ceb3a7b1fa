//! `costform plan`: the diff between the definitions and the state.

use std::collections::{BTreeMap, BTreeSet};

use costform_model::Definitions;
use costform_model::ids::ReportName;
use costform_model::kinds::handle_noun;
use costform_model::plan::Plan;
use costform_model::request::PlannedRequest;
use costform_model::state::State;
use costform_planner::PlanOptions;
use miette::IntoDiagnostic;

use crate::args::{PlanArgs, PlanFormat, TargetArgs};
use crate::atlas::AtlasReader;
use crate::context::{Context, Strictness};
use crate::exit::Exit;
use crate::lookups;
use crate::output::{plan_markdown, plan_text};
use crate::plan_file;

/// Runs `plan`: offline unless `--refresh`; never writes the state.
pub async fn run(context: &Context, args: &PlanArgs) -> miette::Result<Exit> {
    let mut state = context.backend().read().into_diagnostic()?;
    let strictness = Strictness::from_flag(args.strict);
    let loaded = lookups::load(context, strictness, state.as_ref(), args.refresh).await?;
    let definitions = &loaded.definitions;
    if let (true, Some(state)) = (args.refresh, state.as_mut()) {
        let reader = AtlasReader::new(context.client()?);
        let checked =
            costform_planner::check_tokens(state, &reader, usize::from(args.parallelism)).await;
        // Each report's handle is named as its kind names it.
        let noun = |name: &ReportName| {
            handle_noun(
                state
                    .reports
                    .get(name)
                    .map_or("", |entry| &entry.request.kind),
            )
            .one
        };
        for name in &checked.expired {
            context
                .ui
                .status(&format!("report.{name}: {} expired", noun(name)));
        }
        for (name, reason) in &checked.failed {
            context.ui.status(&format!("report.{name}: {reason}"));
        }
        for (name, error) in &checked.unchecked {
            context.ui.status(&format!(
                "{} report.{name}: could not check the {}, keeping it: {}",
                context.ui.warn("Warning:"),
                noun(name),
                error.message
            ));
        }
    }
    let mut plan = compute(context, definitions, state.as_ref(), &args.targets)?;
    loaded.describe(&mut plan);
    print(&plan, args.format, context);
    warn_if_targeted(context, definitions, state.as_ref(), &args.targets, &plan)?;
    if let Some(out) = &args.out {
        plan_file::save(&plan, out)?;
        context.ui.status(&format!(
            "\nSaved the plan to {0}. To perform exactly these actions, run:\n  costform apply {0}",
            out.display()
        ));
    }
    let exit = if args.detailed_exitcode && (!plan.is_empty() || !plan.waiting.is_empty()) {
        Exit::Pending
    } else {
        Exit::Success
    };
    // For 10,000 reports the plan, definitions and state are megabytes of
    // small allocations, and the process ends next: freeing them one by
    // one was a tenth of the command's time. They hold no file or lock.
    std::mem::forget((plan, loaded, state));
    Ok(exit)
}

/// Builds the plan from loaded definitions and a state (shared with `apply`).
pub fn compute(
    context: &Context,
    definitions: &Definitions,
    state: Option<&State>,
    targets: &TargetArgs,
) -> miette::Result<Plan> {
    let options = PlanOptions {
        now: context.now,
        definitions_dir: context.dir().display().to_string(),
        state_path: context.state_location(),
        targets: targets.targets.clone(),
        replace: targets.replace.clone(),
    };
    // A report waiting for a lookup is not planned: its instances in the
    // state are neither kept nor forgotten until the lookup is read.
    let without_waiting = (!definitions.waiting.is_empty())
        .then(|| state.cloned())
        .flatten()
        .map(|mut state| {
            state.reports.retain(|name, _| {
                !definitions
                    .waiting
                    .keys()
                    .any(|waiting| waiting.covers(name))
            });
            state
        });
    let state = without_waiting.as_ref().or(state);
    costform_planner::plan(&desired(definitions), state, &options).into_diagnostic()
}

/// The requests to plan, borrowed: copying 10,000 bodies was a tenth of a
/// large plan's time.
fn desired(definitions: &Definitions) -> BTreeMap<ReportName, &PlannedRequest> {
    definitions
        .reports
        .iter()
        .map(|(name, report)| (name.clone(), &report.planned))
        .collect()
}

/// As Terraform does after a `-target` plan: says that the plan is partial
/// and how many changes it leaves out, so nobody takes it for the whole
/// picture (on stderr, after the plan, unless `-q`).
pub fn warn_if_targeted(
    context: &Context,
    definitions: &Definitions,
    state: Option<&State>,
    targets: &TargetArgs,
    plan: &Plan,
) -> miette::Result<()> {
    let stream = context.ui.printer().stderr();
    if targets.targets.is_empty() || !stream.is_shown() {
        return Ok(());
    }
    let everything = compute(
        context,
        definitions,
        state,
        &TargetArgs {
            targets: Vec::new(),
            replace: targets.replace.clone(),
        },
    )?;
    let planned: BTreeSet<&ReportName> = plan.changes.iter().map(|change| &change.name).collect();
    let pending = everything
        .changes
        .iter()
        .filter(|change| !planned.contains(&change.name))
        .count();
    stream.line(format_args!(
        "\n{} targeting is in effect: this plan covers only the reports named with `--target`; {pending} other {} pending. Run `costform plan` without `--target` to see {}.",
        context.ui.warn("Warning:"),
        if pending == 1 {
            "change is"
        } else {
            "changes are"
        },
        if pending == 1 { "it" } else { "them" },
    ));
    Ok(())
}

/// Prints a plan in the chosen format on stdout.
pub fn print(plan: &Plan, format: PlanFormat, context: &Context) {
    let text = match format {
        PlanFormat::Text => plan_text::format(plan, context.ui),
        PlanFormat::Json => format!("{}\n", plan_file::to_json(plan)),
        PlanFormat::Markdown => plan_markdown::format(plan),
    };
    context.ui.printer().stdout().print(text);
}
