//! Variable precedence as the SPEC states it: `--var` > `--var-file` > env
//! `COSTFORM_VAR_*` > file defaults, and overrides of undeclared names.

use costform_model::{LoadOptions, load, parse_now};

const FILE: &str = "variables:\n  org: 5f0c8a1b2c3d4e5f6a7b8c9d\n  months: 1\nreports:\n  r:\n    org_id: \"{{ var.org }}\"\n    start_date: \"{{ today | start_of_month | add_months(-var.months) }}\"\n    end_date: \"{{ today | start_of_month }}\"\n";

/// A temporary directory (removed on drop) holding the definitions directory
/// `defs/`, with room next to it for var files.
struct Setup {
    root: tempfile::TempDir,
}

impl Setup {
    fn definitions(&self) -> std::path::PathBuf {
        self.root.path().join("defs")
    }

    /// Var files live outside the definitions directory (inside it they would
    /// be read as definition files).
    fn var_file(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn setup() -> (Setup, LoadOptions) {
    let root = tempfile::tempdir().unwrap();
    let setup = Setup { root };
    std::fs::create_dir(setup.definitions()).unwrap();
    std::fs::write(setup.definitions().join("a.yaml"), FILE).unwrap();
    let options = LoadOptions::new(setup.definitions(), parse_now("2026-11-26").unwrap());
    (setup, options)
}

fn start_date(options: &LoadOptions) -> String {
    let definitions = load(options).unwrap_or_else(|d| panic!("{d:#?}"));
    definitions.reports.values().next().unwrap().planned.request["startDate"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn each_source_overrides_the_ones_below_it() {
    let (dir, mut options) = setup();
    assert_eq!(start_date(&options), "2026-10-01");
    options.env.insert("COSTFORM_VAR_months".into(), "2".into());
    assert_eq!(start_date(&options), "2026-09-01");
    options
        .var_files
        .push(dir.var_file("vars.yaml", "months: 3\n"));
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
    // Not in any file: the pseudo-file `--var`, line and column 0 in JSON
    // (as for other whole-file diagnostics), and no source for miette to show.
    assert_eq!(
        serde_json::to_value(d).unwrap(),
        serde_json::json!({"file": "--var", "line": 0, "column": 0, "severity": "error",
            "code": "costform::variable",
            "message": "variable `monhts` is not declared in any definition file",
            "help": "did you mean `months`?", "related": []})
    );
    assert!(miette::Diagnostic::source_code(d).is_none());
    assert!(miette::Diagnostic::labels(d).is_none());

    options.vars.clear();
    options
        .var_files
        .push(dir.var_file("vars.yml", "months: 2\nregion: eu\n"));
    let diagnostics = load(&options).unwrap_err();
    let d = &diagnostics.0[0];
    assert_eq!((d.code, d.line, d.column), ("costform::variable", 2, 1));
}

#[test]
fn conflicting_defaults_across_files_name_both() {
    let (dir, options) = setup();
    std::fs::write(
        dir.definitions().join("b.yaml"),
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
