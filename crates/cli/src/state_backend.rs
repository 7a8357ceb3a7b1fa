//! Building the state backend a run uses, once, from `--state` (or
//! `COSTFORM_STATE`) and `--workspace` (or `COSTFORM_WORKSPACE`): a path is
//! the local file, a `postgres://` URL the shared PostgreSQL state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use costform_planner::workspace::{self, DEFAULT_WORKSPACE};
use costform_planner::{LocalBackend, LockedState, StateBackend};
use miette::IntoDiagnostic;

/// Whether `--state` names a PostgreSQL database rather than a file.
pub fn is_postgres(state: &Path) -> bool {
    state
        .to_str()
        .is_some_and(|text| text.starts_with("postgres://") || text.starts_with("postgresql://"))
}

/// The backend for `state` (`None`: the file `default_file`) and
/// `workspace`, and the directory result paths are relative to (and
/// `results/` goes by default): the state file's, or `results_base` for a
/// backend with no directory of its own.
pub fn open(
    state: Option<&Path>,
    default_file: PathBuf,
    workspace: Option<&str>,
    results_base: &Path,
    env: &std::collections::BTreeMap<String, String>,
) -> miette::Result<(Arc<dyn StateBackend>, PathBuf)> {
    let workspace = workspace.unwrap_or(DEFAULT_WORKSPACE);
    match state {
        Some(url) if is_postgres(url) => {
            let url = url.to_str().unwrap_or_default();
            let backend =
                costform_postgres::PostgresBackend::new(url, workspace, results_base, &|name| {
                    env.get(name).cloned()
                })
                .into_diagnostic()?;
            Ok((Arc::new(backend), results_base.to_owned()))
        }
        state => {
            let file = local_file(state, default_file, workspace)?;
            let directory = match file.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            Ok((Arc::new(LocalBackend::new(file)), directory))
        }
    }
}

/// The local state file `state` (`None`: `default_file`) names for
/// `workspace`: the file itself for the default one, a file in a
/// directory beside it for another (see [`workspace::local_file`]).
pub fn local_file(
    state: Option<&Path>,
    default_file: PathBuf,
    workspace: &str,
) -> miette::Result<PathBuf> {
    workspace::check_name("workspace", workspace).map_err(|reason| {
        miette::miette!(
            help = "name workspaces as Terraform does: `--workspace staging`",
            "{reason}"
        )
    })?;
    let file = state.map_or(default_file, Path::to_path_buf);
    Ok(workspace::local_file(&file, workspace))
}

/// After `fetch`, copies the cost rows of the reports whose results were
/// just written into a backend that keeps them (PostgreSQL's `cost_rows`,
/// for SQL); nothing for the local file, whose rows are the result files.
pub fn store_cost_rows(
    locked: &mut LockedState,
    ready: &[costform_model::ids::ReportName],
) -> miette::Result<()> {
    if ready.is_empty() || !locked.stores_cost_rows() {
        return Ok(());
    }
    let rows = costform_planner::costs::read_rows(locked.state(), locked.results_base(), ready)
        .into_diagnostic()?;
    let names: Vec<String> = ready.iter().map(ToString::to_string).collect();
    locked
        .replace_cost_rows(&names, &rows.latest)
        .into_diagnostic()
}
