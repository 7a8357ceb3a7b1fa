//! `costform show [PLANFILE]`: the state, or a saved plan.

use std::fmt::Write as _;

use costform_model::state::State;
use costform_planner::StateStore;
use miette::IntoDiagnostic;

use crate::args::{PlanFormat, ShowArgs};
use crate::commands::plan;
use crate::context::Context;
use crate::exit::Exit;
use crate::output::plan_text::abbreviate_handle;
use crate::plan_file;

/// Shows a saved plan as `plan` would, or the state as a table.
pub fn run(context: &Context, args: &ShowArgs) -> miette::Result<Exit> {
    if let Some(file) = &args.plan_file {
        let saved = plan_file::load(file)?;
        plan::print(
            &saved,
            if args.json {
                PlanFormat::Json
            } else {
                PlanFormat::Text
            },
            context,
        );
        return Ok(Exit::Success);
    }
    let path = context.state_path();
    let Some(state) = StateStore::read(&path).into_diagnostic()? else {
        context.ui.status(&format!(
            "No state at `{}` yet: `costform apply` creates it.",
            path.display()
        ));
        return Ok(Exit::Success);
    };
    if args.json {
        context
            .ui
            .printer()
            .stdout()
            .line(serde_json::to_string_pretty(&state).unwrap_or_default());
    } else {
        context.ui.printer().stdout().print(table(&state, context));
    }
    Ok(Exit::Success)
}

fn table(state: &State, context: &Context) -> String {
    let ui = context.ui;
    let mut out = format!(
        "{}\n\n",
        ui.dim(&format!(
            "state {} · serial {} · lineage {} · {} reports",
            context.state_path().display(),
            state.serial,
            state.lineage,
            state.reports.len()
        ))
    );
    let width = state
        .reports
        .keys()
        .map(|name| name.as_str().len())
        .max()
        .unwrap_or(0);
    for (name, entry) in &state.reports {
        let covers = costform_model::kinds::find(&entry.request.kind).map_or_else(
            || format!("kind `{}`", entry.request.kind),
            |kind| kind.describe(&entry.request),
        );
        let status = serde_json::to_value(entry.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:width$}  {:<9}  {covers}  {}  applied {}",
            name.as_str(),
            status,
            abbreviate_handle(&entry.handle),
            entry
                .applied_at
                .round(jiff::Unit::Second)
                .unwrap_or(entry.applied_at),
        );
        if let Some(result) = &entry.result {
            let run = result
                .run
                .as_deref()
                .map(|run| format!(" by run {}", run.chars().take(8).collect::<String>()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:width$}  {}",
                "",
                ui.dim(&format!(
                    "{} ({} rows) fetched {}{run}",
                    result.path,
                    result.rows,
                    result
                        .fetched_at
                        .round(jiff::Unit::Second)
                        .unwrap_or(result.fetched_at),
                ))
            );
        }
    }
    out
}
