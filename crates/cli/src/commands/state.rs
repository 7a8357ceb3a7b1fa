//! `costform state list | show NAME | rm NAME... | migrate --to PATH_OR_URL`.
//!
//! `rm report.NAME` removes every `for_each` instance of the report too, as
//! `terraform state rm` does for a resource with instances.

use costform_model::diagnostic::did_you_mean;
use costform_model::ids::ReportName;
use costform_model::kinds::handle_noun;
use costform_model::state::State;
use miette::IntoDiagnostic;

use crate::addresses;
use crate::args::StateCommand;
use crate::context::Context;
use crate::exit::Exit;
use crate::{state_backend, state_lock};

/// Runs a state subcommand; `rm` and `migrate` take the lock, the others
/// only read.
pub fn run(context: &Context, command: &StateCommand) -> miette::Result<Exit> {
    match command {
        StateCommand::List => {
            if let Some(state) = read(context)? {
                for name in state.reports.keys() {
                    context
                        .ui
                        .printer()
                        .stdout()
                        .line(format_args!("report.{name}"));
                }
            }
            Ok(Exit::Success)
        }
        StateCommand::Show { name } => {
            // No state is `None` here as everywhere a state is read.
            let state = read(context)?;
            let Some(entry) = state.as_ref().and_then(|state| state.reports.get(name)) else {
                return Err(missing(context, state.as_ref(), &[name.to_string()]));
            };
            context
                .ui
                .printer()
                .stdout()
                .line(serde_json::to_string_pretty(entry).unwrap_or_default());
            Ok(Exit::Success)
        }
        StateCommand::Rm { names } => {
            let mut locked = state_lock::lock(context, "state rm")?;
            let held = &locked.state().reports;
            let absent: Vec<String> = names
                .iter()
                .filter(|name| !held.keys().any(|held| name.covers(held)))
                .map(ToString::to_string)
                .collect();
            if !absent.is_empty() {
                return Err(missing(context, Some(locked.state()), &absent));
            }
            // Each handle is named as its kind names it, before it is gone.
            let removed: Vec<_> = addresses::expand(names, held)
                .into_iter()
                .map(|name| {
                    let noun = handle_noun(held.get(&name).map_or("", |entry| &entry.request.kind));
                    (name, noun)
                })
                .collect();
            for (name, _) in &removed {
                locked.forget(name).into_diagnostic()?;
            }
            locked.commit().into_diagnostic()?;
            for (name, noun) in &removed {
                context.ui.printer().summary().line(format_args!(
                    "Removed report.{name} (its {} was not revoked: Atlas {} cannot be deleted)",
                    noun.one, noun.many
                ));
            }
            Ok(Exit::Success)
        }
        StateCommand::Migrate { to } => migrate(context, to),
    }
}

/// Copies the state to `to` under both locks: the source's, so nothing
/// changes it meanwhile (a journal it holds is committed first), and the
/// target's, which must hold no state yet.
fn migrate(context: &Context, to: &std::path::Path) -> miette::Result<Exit> {
    // The source's lock is held until the copy is committed.
    let source = state_lock::lock(context, "state migrate")?;
    let Some(state) = source.existing().cloned() else {
        return Err(miette::miette!(
            help = "`costform apply` creates a state; `--state` names where to look",
            "there is no state at `{}` to migrate",
            context.state_location()
        ));
    };
    // A file named by `--to` is the target itself; a database target
    // takes the workspace.
    let workspace = context
        .global
        .workspace
        .as_deref()
        .filter(|_| state_backend::is_postgres(to));
    let (target, _) = state_backend::open(
        Some(to),
        to.to_path_buf(),
        workspace,
        &context.state_dir(),
        &context.env,
    )?;
    if target.location() == source.location() {
        return Err(miette::miette!(
            "`--to` names the state being migrated, `{}`",
            source.location()
        ));
    }
    let mut copy = state_lock::lock_backend(context, target.as_ref(), "state migrate")?;
    let (serial, lineage, reports) = (state.serial, state.lineage.clone(), state.reports.len());
    copy.import(state).into_diagnostic()?;
    drop(copy);
    context.ui.printer().summary().line(format_args!(
        "{} {reports} report(s), lineage `{lineage}`, serial `{serial}`, copied from `{}` to `{}`. The source is left as it was: use `--state` (or COSTFORM_STATE) with the new place from now on.",
        context.ui.success("State migrated."),
        source.location(),
        target.location()
    ));
    Ok(Exit::Success)
}

fn read(context: &Context) -> miette::Result<Option<State>> {
    context.backend().read().into_diagnostic()
}

/// The names not in the state, with the nearest ones it holds.
fn missing(context: &Context, state: Option<&State>, names: &[String]) -> miette::Report {
    let in_state = state
        .into_iter()
        .flat_map(|state| state.reports.keys().map(ReportName::as_str));
    let guesses: Vec<String> = names
        .iter()
        .filter_map(|name| did_you_mean(name, in_state.clone()))
        .collect();
    let mut help = "`costform state list` shows what the state holds".to_owned();
    if !guesses.is_empty() {
        help = format!("{}; {help}", guesses.join("; "));
    }
    miette::miette!(
        help = help,
        "no report {} in the state `{}`",
        names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", "),
        context.state_location()
    )
}
