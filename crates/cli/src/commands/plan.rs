//! `costform plan`: the diff between the definitions and the state.

use std::collections::BTreeMap;
use std::path::Path;

use costform_model::Definitions;
use costform_model::ids::ReportName;
use costform_model::plan::Plan;
use costform_model::request::PlannedRequest;
use costform_model::state::State;
use costform_planner::{PlanOptions, StateStore};
use miette::{IntoDiagnostic, WrapErr};

use crate::args::{PlanArgs, PlanFormat, TargetArgs};
use crate::atlas::AtlasReader;
use crate::context::Context;
use crate::exit::Exit;
use crate::render::{plan_markdown, plan_text};

/// Runs `plan`: offline unless `--refresh`; never writes the state.
pub async fn run(context: &Context, args: &PlanArgs) -> miette::Result<Exit> {
    let definitions = context.load_definitions()?;
    let mut state = StateStore::read(&context.state_path()).into_diagnostic()?;
    if let (true, Some(state)) = (args.refresh, state.as_mut()) {
        let reader = AtlasReader::new(context.client()?);
        let refreshed =
            costform_planner::refresh(state, &reader, usize::from(args.parallelism)).await;
        reader.close().await;
        for name in &refreshed.expired {
            context.ui.status(&format!("report.{name}: token expired"));
        }
        for (name, error) in &refreshed.failed {
            context.ui.status(&format!(
                "{} report.{name}: could not check the token, keeping it: {}",
                context.ui.warn("Warning:"),
                error.message
            ));
        }
    }
    let plan = compute(context, &definitions, state.as_ref(), &args.targets)?;
    print(&plan, args.format, context);
    if let Some(out) = &args.out {
        save(&plan, out)?;
        context.ui.status(&format!(
            "\nSaved the plan to {0}. To perform exactly these actions, run:\n  costform apply {0}",
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Exit::Pending
    } else {
        Exit::Success
    })
}

/// Builds the plan from loaded definitions and a state (shared with `apply`).
pub fn compute(
    context: &Context,
    definitions: &Definitions,
    state: Option<&State>,
    targets: &TargetArgs,
) -> miette::Result<Plan> {
    let desired: BTreeMap<ReportName, PlannedRequest> = definitions
        .reports
        .iter()
        .map(|(name, report)| (name.clone(), report.planned.clone()))
        .collect();
    let options = PlanOptions {
        now: context.now,
        definitions_dir: context.dir().display().to_string(),
        targets: targets.targets.clone(),
        replace: targets.replace.clone(),
    };
    costform_planner::plan(&desired, state, &options).into_diagnostic()
}

/// Prints a plan in the chosen format on stdout.
pub fn print(plan: &Plan, format: PlanFormat, context: &Context) {
    let text = match format {
        PlanFormat::Text => plan_text::render(plan, context.ui),
        PlanFormat::Json => format!("{}\n", to_json(plan)),
        PlanFormat::Markdown => plan_markdown::render(plan),
    };
    anstream::print!("{text}");
}

fn to_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}

/// Writes a saved plan atomically (temp file + rename), readable only by its
/// owner like the state: it holds the same requests.
fn save(plan: &Plan, path: &Path) -> miette::Result<()> {
    costform_planner::write_file_atomically(path, format!("{}\n", to_json(plan)).as_bytes())
        .into_diagnostic()
}

/// Reads a saved plan, refusing another format version before anything else
/// (a newer plan may not even parse as this version's type).
pub fn load(path: &Path) -> miette::Result<Plan> {
    let text = crate::context::read_file(path)?;
    let not_a_plan = || format!("`{}` is not a costform plan file", path.display());
    let document: serde_json::Value = serde_json::from_str(&text)
        .into_diagnostic()
        .wrap_err_with(not_a_plan)?;
    let version = document
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(costform_model::plan::PLAN_FORMAT_VERSION)) {
        return Err(miette::miette!(
            help = "make the plan again with this costform: `costform plan --out FILE`",
            "`{}` has plan format {}, this costform reads format {}",
            path.display(),
            version.map_or_else(|| "(none)".to_owned(), |version| version.to_string()),
            costform_model::plan::PLAN_FORMAT_VERSION
        ));
    }
    serde_json::from_value(document)
        .into_diagnostic()
        .wrap_err_with(not_a_plan)
}
