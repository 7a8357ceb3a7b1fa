//! `costform validate`: parse, render and check every definition, offline.

use std::fmt::Write as _;

use costform_model::Definitions;
use serde_json::json;

use crate::args::{ValidateArgs, ValidateFormat};
use crate::context::{Context, Strictness};
use crate::exit::Exit;

/// Runs `validate`; exit 1 when any definition has an error, or a warning
/// with `--strict`.
pub fn run(context: &Context, args: &ValidateArgs) -> miette::Result<Exit> {
    match args.format {
        ValidateFormat::Text => text(context, args),
        ValidateFormat::Json => Ok(json(context, args.strict)),
    }
}

fn text(context: &Context, args: &ValidateArgs) -> miette::Result<Exit> {
    let definitions = context.load_definitions_with(Strictness::from_flag(args.strict))?;
    let warnings = definitions.warnings.len();
    let reports = definitions.reports.len();
    let files = definitions
        .reports
        .values()
        .map(|report| &report.file)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut line = format!(
        "{} {reports} {} in {files} {} valid",
        context.ui.success("Success!"),
        plural(reports, "report", "reports"),
        plural(files, "file", "files"),
    );
    if warnings > 0 {
        let _ = write!(
            line,
            ", with {warnings} {}",
            plural(warnings, "warning", "warnings")
        );
    }
    let waiting = definitions.waiting.len();
    if waiting > 0 {
        let _ = write!(
            line,
            "; {waiting} more {} for a lookup never read (`costform plan --refresh` reads it)",
            plural(waiting, "waits", "wait")
        );
    }
    line.push('.');
    let printer = context.ui.printer();
    printer.summary().line(line);
    if args.list {
        printer.stdout().print(list(&definitions));
    }
    Ok(Exit::Success)
}

/// `report.NAME  FILE:LINE`, one report a line in name order, the names
/// padded so the places line up.
fn list(definitions: &Definitions) -> String {
    let width = definitions
        .reports
        .keys()
        .map(|name| name.as_str().len() + "report.".len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (name, report) in &definitions.reports {
        let _ = writeln!(
            out,
            "{:width$}  {}:{}",
            format!("report.{name}"),
            report.file.display(),
            report.line
        );
    }
    out
}

/// One JSON document on stdout, like `terraform validate -json`: editors and
/// CI annotations read it, so it is printed even when there are errors.
/// `report_count` counts every report read; `reports` lists the valid ones;
/// `waiting` the reports reading a lookup never read, with those lookups,
/// which the text output counts too.
fn json(context: &Context, strict: bool) -> Exit {
    let options = context.load_options();
    let (loaded, read) = costform_model::load_counting(&options);
    let (valid, diagnostics, reports, waiting) = match loaded {
        Ok(definitions) => {
            let reports: Vec<_> = definitions
                .reports
                .values()
                .map(|report| {
                    json!({
                        "name": report.name,
                        "file": report.file.display().to_string(),
                        "line": report.line,
                    })
                })
                .collect();
            let waiting: Vec<_> = definitions
                .waiting
                .iter()
                .map(|(name, lookups)| json!({ "name": name, "lookups": lookups }))
                .collect();
            let valid = !strict || definitions.warnings.is_empty();
            (valid, definitions.warnings, reports, waiting)
        }
        Err(diagnostics) => (false, diagnostics, Vec::new(), Vec::new()),
    };
    let document = json!({
        "format_version": 1,
        "valid": valid,
        "strict": strict,
        "report_count": read,
        "error_count": diagnostics.errors().count(),
        "warning_count": diagnostics.warnings().count(),
        "reports": reports,
        "waiting": waiting,
        "diagnostics": diagnostics,
    });
    context
        .ui
        .printer()
        .stdout()
        .line(serde_json::to_string_pretty(&document).unwrap_or_default());
    if valid { Exit::Success } else { Exit::Error }
}

/// Picks the singular or plural noun for a count.
pub fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
