//! `costform validate`: parse, render and check every definition, offline.

use std::fmt::Write as _;

use serde_json::json;

use crate::args::{ValidateArgs, ValidateFormat};
use crate::context::Context;
use crate::exit::Exit;

/// Runs `validate`; exit 1 when any definition has an error.
pub fn run(context: &Context, args: &ValidateArgs) -> miette::Result<Exit> {
    match args.format {
        ValidateFormat::Text => text(context),
        ValidateFormat::Json => Ok(json(context)),
    }
}

fn text(context: &Context) -> miette::Result<Exit> {
    let definitions = context.load_definitions()?;
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
    line.push('.');
    anstream::println!("{line}");
    Ok(Exit::Success)
}

/// One JSON document on stdout, like `terraform validate -json`: editors and
/// CI annotations read it, so it is printed even when there are errors.
fn json(context: &Context) -> Exit {
    let options = context.load_options();
    let (valid, diagnostics, reports) = match costform_model::load(&options) {
        Ok(definitions) => (true, definitions.warnings, definitions.reports.len()),
        Err(diagnostics) => (false, diagnostics, 0),
    };
    let document = json!({
        "format_version": 1,
        "valid": valid,
        "report_count": reports,
        "error_count": diagnostics.errors().count(),
        "warning_count": diagnostics.warnings().count(),
        "diagnostics": diagnostics,
    });
    anstream::println!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
    if valid { Exit::Success } else { Exit::Error }
}

/// Picks the singular or plural noun for a count.
pub fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
