//! `costform show [PLANFILE]`: the state, or a saved plan.

use std::fmt::Write as _;

use costform_model::state::State;
use miette::IntoDiagnostic;

use crate::args::{PlanFormat, ShowArgs};
use crate::commands::plan;
use crate::context::Context;
use crate::exit::Exit;
use crate::output::plan_text::abbreviate;
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
    let Some(state) = context.backend().read().into_diagnostic()? else {
        context.ui.status(&format!(
            "No state at `{}` yet: `costform apply` creates it.",
            context.state_location()
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
            context.state_location(),
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
        let body = &entry.request.request;
        let range = format!(
            "{} .. {}",
            body.get("startDate")
                .and_then(|v| v.as_str())
                .unwrap_or("?"),
            body.get("endDate").and_then(|v| v.as_str()).unwrap_or("?")
        );
        let status = serde_json::to_value(entry.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:width$}  {:<9}  {range}  token {}  applied {}",
            name.as_str(),
            status,
            abbreviate(entry.token.as_str()),
            entry
                .applied_at
                .round(jiff::Unit::Second)
                .unwrap_or(entry.applied_at),
        );
    }
    out
}
