//! Saved plan files (`plan --out FILE`, read by `apply FILE` and `show FILE`).
//!
//! A plan file is sent to Atlas as written and its hashes end up in the
//! state, yet anyone can edit it; so reading one checks everything costform
//! can check without the definitions: the format version first (a newer plan
//! may not parse), then that every field is one this build writes, then that
//! every request is one its kind could have built, hash included.

use std::path::{Path, PathBuf};

use costform_model::plan::{PLAN_FORMAT_VERSION, Plan};
use miette::{IntoDiagnostic, WrapErr};
use serde_json::Value;

use crate::context::Context;
use crate::state_backend;

/// The plan as pretty JSON, the saved and the `--format json` form alike.
pub fn to_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}

/// Writes a saved plan atomically (temp file + rename), readable only by its
/// owner like the state: it holds the same requests.
pub fn save(plan: &Plan, path: &Path) -> miette::Result<()> {
    costform_planner::write_file_atomically(path, format!("{}\n", to_json(plan)).as_bytes())
        .into_diagnostic()
}

/// Reads a saved plan and refuses one this build did not write as it is.
pub fn load(path: &Path) -> miette::Result<Plan> {
    let text = crate::context::read_file(path)?;
    let not_a_plan = || format!("`{}` is not a costform plan file", path.display());
    let document: Value = serde_json::from_str(&text)
        .into_diagnostic()
        .wrap_err_with(not_a_plan)?;
    let version = document.get("format_version").and_then(Value::as_u64);
    if version != Some(u64::from(PLAN_FORMAT_VERSION)) {
        return Err(miette::miette!(
            help = "make the plan again with this costform: `costform plan --out FILE`",
            "`{}` has plan format {}, this costform reads format {PLAN_FORMAT_VERSION}",
            path.display(),
            version.map_or_else(|| "(none)".to_owned(), |version| version.to_string()),
        ));
    }
    let plan: Plan = serde_json::from_value(document.clone())
        .into_diagnostic()
        .wrap_err_with(not_a_plan)?;
    let mut problems = Vec::new();
    let written = serde_json::to_value(&plan).into_diagnostic()?;
    unknown_fields(&document, &written, "", &mut problems);
    problems.extend(plan.problems());
    if problems.is_empty() {
        return Ok(plan);
    }
    Err(miette::miette!(
        help = "a saved plan is applied exactly as written, so costform refuses one that was edited; make it again with `costform plan --out FILE`",
        "`{}` is not a plan costform wrote:\n  - {}",
        path.display(),
        problems.join("\n  - ")
    ))
}

/// Fields of `document` that the plan type does not hold, found by comparing
/// it with the plan re-serialized (`written`): request bodies and their
/// wrappers are free-form maps to serde, so its `deny_unknown_fields` cannot
/// see an extra key there.
fn unknown_fields(document: &Value, written: &Value, at: &str, problems: &mut Vec<String>) {
    match (document, written) {
        (Value::Object(fields), Value::Object(known)) => {
            for (key, value) in fields {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match known.get(key) {
                    Some(known) => unknown_fields(value, known, &path, problems),
                    None => problems.push(format!("unknown field `{path}`")),
                }
            }
        }
        (Value::Array(items), Value::Array(known)) => {
            for (index, (item, known)) in items.iter().zip(known).enumerate() {
                unknown_fields(item, known, &format!("{at}[{index}]"), problems);
            }
        }
        _ => {}
    }
}

/// The context `apply FILE` runs in: the plan's definitions directory and
/// state file, as Terraform applies a plan against the backend it recorded.
/// A `--dir` or `--state` (or `COSTFORM_DIR`/`COSTFORM_STATE`) naming another
/// place is refused, naming both, rather than silently obeyed or ignored.
pub fn context_for(context: &Context, plan: &Plan, file: &Path) -> miette::Result<Context> {
    let planned_dir = PathBuf::from(&plan.definitions_dir);
    let planned_state = PathBuf::from(&plan.state_path);
    // A database state is the same place when it resolves to the same
    // location (the URL as given may carry a password the plan never holds).
    let in_database = state_backend::is_postgres(&planned_state);
    for (flag, given, planned) in [
        ("--dir", context.global.dir.as_ref(), &planned_dir),
        ("--state", context.global.state.as_ref(), &planned_state),
    ] {
        let same = |given: &PathBuf| {
            if flag == "--state" && in_database {
                context.state_location() == plan.state_path
            } else {
                same_place(given, planned)
            }
        };
        if let Some(given) = given
            && !same(given)
        {
            return Err(miette::miette!(
                help = format!(
                    "drop `{flag}`: `costform apply {}` uses the plan's own definitions and state; or plan again with `{flag} {}`",
                    file.display(),
                    given.display()
                ),
                "`{flag} {}` contradicts the saved plan `{}`, which was made with `{flag} {}`",
                given.display(),
                file.display(),
                planned.display()
            ));
        }
    }
    let state = match &context.global.state {
        Some(given) if in_database => given.clone(),
        _ => planned_state,
    };
    context.relocated(planned_dir, Some(state))
}

/// Whether two paths name the same file or directory, whether or not it
/// exists yet (`reports` and `./reports/` are the same place).
fn same_place(a: &Path, b: &Path) -> bool {
    a == b || absolute(a) == absolute(b)
}

fn absolute(path: &Path) -> Option<PathBuf> {
    if let Ok(resolved) = std::fs::canonicalize(path) {
        return Some(resolved);
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
}
