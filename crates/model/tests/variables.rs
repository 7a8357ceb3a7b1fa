//! Variable precedence as the SPEC states it: `--var` > `--var-file` > env
//! `COSTFORM_VAR_*` > file defaults, and overrides of undeclared names.

use std::path::Path;

use costform_model::{LoadOptions, load, parse_now};

const FILE: &str = "variables:\n  org: 5f0c8a1b2c3d4e5f6a7b8c9d\n  months: 1\nreports:\n  r:\n    org_id: \"{{ var.org }}\"\n    start_date: \"{{ today | start_of_month | add_months(-var.months) }}\"\n    end_date: \"{{ today | start_of_month }}\"\n";

fn setup() -> (tempfile::TempDir, LoadOptions) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), FILE).unwrap();
    let options = LoadOptions::new(dir.path(), parse_now("2026-11-26").unwrap());
    (dir, options)
}

fn start_date(options: &LoadOptions) -> String {
    let definitions = load(options).unwrap_or_else(|d| panic!("{d:#?}"));
    definitions.reports.values().next().unwrap().planned.request["startDate"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Var files live outside the definitions directory (inside it they would be
/// read as definition files).
fn var_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.parent().unwrap().join(format!(
        "{}-{name}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn each_source_overrides_the_ones_below_it() {
    let (dir, mut options) = setup();
    assert_eq!(start_date(&options), "2026-10-01");
    options.env.insert("COSTFORM_VAR_months".into(), "2".into());
    assert_eq!(start_date(&options), "2026-09-01");
    options
        .var_files
        .push(var_file(dir.path(), "vars.yaml", "months: 3\n"));
    assert_eq!(start_date(&options), "2026-08-01");
    options.vars.push(("months".into(), "4".into()));
    assert_eq!(start_date(&options), "2026-07-01");
}

#[test]
fn undeclared_overrides_are_errors_except_from_the_environment() {
    let (dir, mut options) = setup();
    options
        .env
        .insert("COSTFORM_VAR_unrelated".into(), "x".into());
    assert_eq!(start_date(&options), "2026-10-01");

    options.vars.push(("monhts".into(), "4".into()));
    let diagnostics = load(&options).unwrap_err();
    let d = &diagnostics.0[0];
    assert_eq!(
        (d.code, d.message.as_str()),
        (
            "costform::variable",
            "variable `monhts` is not declared in any definition file"
        )
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `months`?"));

    options.vars.clear();
    options
        .var_files
        .push(var_file(dir.path(), "vars.yml", "months: 2\nregion: eu\n"));
    let diagnostics = load(&options).unwrap_err();
    let d = &diagnostics.0[0];
    assert_eq!((d.code, d.line, d.column), ("costform::variable", 2, 1));
}

#[test]
fn conflicting_defaults_across_files_name_both() {
    let (dir, options) = setup();
    std::fs::write(
        dir.path().join("b.yaml"),
        FILE.replace("months: 1", "months: 2")
            .replace("  r:", "  s:"),
    )
    .unwrap();
    let diagnostics = load(&options).unwrap_err();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics.0[0];
    assert!(d.file.ends_with("b.yaml"));
    assert!(d.message.contains("a.yaml` line 3"), "{}", d.message);
}
