//! `costform costs`: cost tables and month-over-month changes from the
//! results already fetched. Offline: it reads the state and the result
//! files, never Atlas.

use costform_planner::costs::{Axis, Baseline, compare, read_rows, tables};
use miette::{IntoDiagnostic, WrapErr};

use crate::addresses;
use crate::args::{CostsArgs, CostsBy, CostsCompare, CostsFormat};
use crate::context::Context;
use crate::costs::{self, CostsView};
use crate::exit::Exit;

/// Reads the cost rows and prints (or writes) the tables in one format.
pub fn run(context: &Context, args: &CostsArgs) -> miette::Result<Exit> {
    let Some(state) = context.backend().read().into_diagnostic()? else {
        return Err(miette::miette!(
            help = "run `costform apply`, then `costform fetch`",
            "no state at `{}`: nothing has been applied yet",
            context.state_location()
        ));
    };
    let names = &addresses::expand(&args.names, &state.reports);
    if let Some(unknown) = names.iter().find(|name| !state.reports.contains_key(*name)) {
        return Err(miette::miette!(
            help = "`costform state list` shows the reports in the state",
            "report.{unknown} is not in the state"
        ));
    }
    let rows = read_rows(&state, &context.state_dir(), names).into_diagnostic()?;
    let axis = match args.by {
        CostsBy::Month => Axis::Month,
        CostsBy::Day => Axis::Day,
        CostsBy::Group => Axis::Group,
        CostsBy::Service => Axis::Service,
    };
    let today = costform_model::dates::today(context.now);
    // Comparisons may reach into the results the latest ones superseded:
    // a `last_month` report still has the month before.
    let comparisons = match args.compare {
        Some(CostsCompare::Previous) => compare(&rows.with_earlier(), Baseline::Previous, today),
        Some(CostsCompare::Year) => compare(&rows.with_earlier(), Baseline::Year, today),
        None => Vec::new(),
    };
    let view = CostsView {
        tables: tables(&rows.latest, axis),
        comparisons,
        not_included: rows.not_included,
    };
    let output = match args.format {
        CostsFormat::Text => costs::text::render(&view),
        CostsFormat::Markdown => costs::markdown::render(&view),
        CostsFormat::Csv => costs::csv::render(&view).into_diagnostic()?,
        CostsFormat::Json => costs::json::render(&view),
        CostsFormat::Html => {
            let generated = format!(
                "state {} · serial {} · now {}",
                context.state_location(),
                state.serial,
                context.now
            );
            costs::html::render(&view, &generated).map_err(|error| miette::miette!("{error}"))?
        }
    };
    match &args.out {
        Some(file) => {
            costform_planner::write_file_atomically(file, output.as_bytes())
                .into_diagnostic()
                .wrap_err_with(|| format!("failed to write `{}`", file.display()))?;
            context.ui.status(&format!("Wrote `{}`.", file.display()));
        }
        None => context.ui.printer().stdout().print(output),
    }
    Ok(Exit::Success)
}
