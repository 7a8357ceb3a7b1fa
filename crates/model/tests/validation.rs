//! Each validation rule, seen as a user sees it: the code, the position and
//! the message of the diagnostic a broken definition file produces.

use std::fmt::Write as _;
use std::path::Path;

use costform_model::{Diagnostic, Diagnostics, LoadOptions, Severity, load, parse_now};

const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";

fn options(dir: &Path) -> LoadOptions {
    LoadOptions::new(dir, parse_now("2026-11-26T03:00:00Z").unwrap())
}

fn write_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn errors_of(files: &[(&str, &str)]) -> Diagnostics {
    let dir = write_dir(files);
    load(&options(dir.path())).expect_err("expected errors")
}

fn only(diagnostics: &Diagnostics) -> &Diagnostic {
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    &diagnostics.0[0]
}

fn report(fields: &str) -> String {
    format!("reports:\n  r:\n    org_id: {ORG}\n{fields}")
}

/// Asserts code, line and column of the single diagnostic.
fn assert_single(files: &[(&str, &str)], code: &str, line: usize, column: usize) -> Diagnostic {
    let diagnostics = errors_of(files);
    let diagnostic = only(&diagnostics).clone();
    assert_eq!(
        (diagnostic.code, diagnostic.line, diagnostic.column),
        (code, line, column),
        "{diagnostic:#?}"
    );
    diagnostic
}

#[test]
fn yaml_syntax_errors_point_at_the_problem() {
    let d = assert_single(
        &[("a.yaml", "reports:\n  r: [unclosed\n")],
        "costform::yaml",
        2,
        6,
    );
    assert!(d.file.ends_with("a.yaml"));
}

#[test]
fn unknown_keys_suggest_the_closest_key() {
    let text =
        report("    start_date: 2026-01-01\n    end_date: 2026-02-01\n    group_bu: services\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::unknown_key", 6, 5);
    assert_eq!(d.message, "unknown key `group_bu`");
    assert_eq!(d.help.as_deref(), Some("did you mean `group_by`?"));
}

#[test]
fn missing_dates_are_reported_at_the_report_name() {
    let d = assert_single(
        &[("a.yaml", &report("    end_date: 2026-02-01\n"))],
        "costform::missing_field",
        2,
        3,
    );
    assert_eq!(d.message, "missing `start_date`");
}

#[test]
fn a_date_that_is_not_a_month_start_suggests_the_nearest() {
    let text = report("    start_date: \"{{ today }}\"\n    end_date: 2027-01-01\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::invalid_date", 4, 17);
    assert_eq!(
        d.message,
        "`start_date` `2026-11-26` is not the first day of a month"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("Cost Explorer ranges are whole months: use `2026-12-01`")
    );
}

#[test]
fn malformed_and_empty_ranges_are_errors() {
    let text = report("    start_date: 2026-13-01\n    end_date: 2026-02-01\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::invalid_date", 4, 17);
    assert!(
        d.message
            .contains("`2026-13-01` is not a valid calendar date"),
        "{}",
        d.message
    );
    let text = report("    start_date: 2026-02-01\n    end_date: 2026-02-01\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::invalid_date", 5, 15);
    assert_eq!(
        d.message,
        "`end_date` `2026-02-01` is not after `start_date` `2026-02-01`"
    );
}

#[test]
fn period_with_dates_is_an_error_and_unknown_periods_get_a_hint() {
    let text = report("    period: last_month\n    end_date: 2026-02-01\n");
    assert_single(&[("a.yaml", &text)], "costform::invalid_period", 5, 15);
    let d = assert_single(
        &[("a.yaml", &report("    period: last_mnth\n"))],
        "costform::invalid_period",
        4,
        13,
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `last_month`?"));
}

#[test]
fn ids_must_be_24_lowercase_hex() {
    let text = "reports:\n  r:\n    org_id: 5F0C8A1B2C3D4E5F6A7B8C9D\n    period: last_month\n    group_by: projects\n    projects: [65a1b2c3d4e5f6a7b8c9d0e1, nope]\n";
    let diagnostics = errors_of(&[("a.yaml", text)]);
    let found: Vec<(&str, usize, usize)> = diagnostics
        .iter()
        .map(|d| (d.code, d.line, d.column))
        .collect();
    assert_eq!(
        found,
        [
            ("costform::invalid_id", 3, 13),
            ("costform::invalid_id", 6, 42)
        ]
    );
    assert!(
        diagnostics.0[1]
            .message
            .starts_with("`nope` is not a 24-character")
    );
}

#[test]
fn group_by_outside_the_enum_suggests_a_dimension() {
    let d = assert_single(
        &[(
            "a.yaml",
            &report("    period: last_month\n    group_by: project\n"),
        )],
        "costform::invalid_value",
        5,
        15,
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `projects`?"));
}

#[test]
fn unknown_kinds_suggest_a_registered_kind() {
    let d = assert_single(
        &[(
            "a.yaml",
            &report("    kind: cost_explorr\n    period: last_month\n"),
        )],
        "costform::unknown_kind",
        4,
        11,
    );
    assert_eq!(d.message, "unknown report kind `cost_explorr`");
    assert_eq!(d.help.as_deref(), Some("did you mean `cost_explorer`?"));
}

#[test]
fn template_errors_point_inside_the_template() {
    let text = report("    period: \"{{ var.nope }}\"\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::template", 4, 17);
    assert_eq!(d.message, "template error: `var.nope` is undefined");
    let text = report("    period: \"{{ today | }}\"\n");
    let d = assert_single(&[("a.yaml", &text)], "costform::template", 4, 25);
    assert!(d.message.contains("syntax error"), "{}", d.message);
}

#[test]
fn duplicate_names_across_files_name_both_places() {
    let text = report("    period: last_month\n");
    let d = assert_single(
        &[("a.yaml", &text), ("b.yaml", &text)],
        "costform::duplicate_report",
        2,
        3,
    );
    assert!(d.file.ends_with("b.yaml"));
    assert!(d.message.contains("a.yaml` line 2"), "{}", d.message);
}

#[test]
fn report_names_follow_the_pattern() {
    let text = format!("reports:\n  Bad_Name:\n    org_id: {ORG}\n    period: last_month\n");
    assert_single(&[("a.yaml", &text)], "costform::invalid_name", 2, 3);
}

#[test]
fn an_empty_directory_or_reports_map_is_an_error() {
    let d = assert_single(
        &[("notes.txt", "hello"), (".hidden.yaml", "reports: {}")],
        "costform::no_definitions",
        0,
        0,
    );
    assert!(d.help.as_deref().unwrap().contains("--dir"));
    assert!(d.help.as_deref().unwrap().contains("examples/"));
    assert_single(
        &[("a.yaml", "reports: {}\n")],
        "costform::no_reports",
        1,
        10,
    );
}

#[test]
fn every_problem_is_collected_and_sorted_by_file_and_line() {
    let bad = report("    period: last_mnth\n    group_by: project\n");
    let diagnostics = errors_of(&[("b.yaml", &bad), ("a.yaml", "reports:\n  x: [\n")]);
    let found: Vec<(String, usize)> = diagnostics
        .iter()
        .map(|d| {
            (
                d.file.file_name().unwrap().to_string_lossy().into_owned(),
                d.line,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("a.yaml".into(), 2),
            ("b.yaml".into(), 4),
            ("b.yaml".into(), 5)
        ]
    );
}

#[test]
fn unknown_services_and_unfiltered_group_by_are_warnings_only() {
    let text = report("    period: last_month\n    group_by: projects\n    services: [Clusterz]\n");
    let dir = write_dir(&[("a.yaml", &text)]);
    let definitions = load(&options(dir.path())).unwrap();
    let found: Vec<(&str, Severity, usize)> = definitions
        .warnings
        .iter()
        .map(|d| (d.code, d.severity, d.line))
        .collect();
    assert_eq!(
        found,
        [
            ("costform::group_by_without_filter", Severity::Warning, 5),
            ("costform::unknown_service", Severity::Warning, 6)
        ]
    );
    assert_eq!(
        definitions.warnings.0[1].help.as_deref(),
        Some("did you mean `Clusters`?")
    );
    assert_eq!(definitions.reports.len(), 1);
}

#[test]
fn defaults_merge_shallowly_and_reports_override_them() {
    let text = format!(
        "defaults:\n  org_id: {ORG}\n  period: last_month\n  group_by: services\n  services: [Clusters]\nreports:\n  a: {{}}\n  b:\n    services: [Storage]\n"
    );
    let dir = write_dir(&[("a.yaml", &text)]);
    let definitions = load(&options(dir.path())).unwrap();
    let services: Vec<String> = definitions
        .reports
        .values()
        .map(|r| r.planned.request["services"].to_string())
        .collect();
    assert_eq!(services, ["[\"Clusters\"]", "[\"Storage\"]"]);
}

#[test]
fn env_cannot_read_secrets_without_allow_env() {
    let text = report(
        "    period: last_month\n    group_by: services\n    services: [\"{{ env('MONGODB_ATLAS_CLIENT_SECRET') }}\"]\n",
    );
    let dir = write_dir(&[("a.yaml", &text)]);
    let mut options = options(dir.path());
    options
        .env
        .insert("MONGODB_ATLAS_CLIENT_SECRET".into(), "hunter2".into());
    let diagnostics = load(&options).unwrap_err();
    let d = only(&diagnostics);
    assert_eq!(d.code, "costform::template");
    assert!(
        d.message
            .contains("`--allow-env MONGODB_ATLAS_CLIENT_SECRET`"),
        "{}",
        d.message
    );
    assert!(!format!("{diagnostics:?}").contains("hunter2"));
}

#[test]
fn billion_laughs_is_refused() {
    let mut text =
        String::from("variables:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        writeln!(text, "  a{level}: &a{level} [{refs}]").unwrap();
    }
    text.push_str("reports:\n  r:\n    period: last_month\n");
    let started = std::time::Instant::now();
    let diagnostics = errors_of(&[("bomb.yaml", &text)]);
    let d = only(&diagnostics);
    assert_eq!(d.code, "costform::yaml");
    assert!(
        d.message.contains("too many aliases") && d.message.contains("billion laughs"),
        "{}",
        d.message
    );
    assert!(
        d.help
            .as_deref()
            .unwrap_or_default()
            .contains("1000 aliases")
    );
    assert!((2..=11).contains(&d.line), "points into the aliases: {d:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn diagnostics_render_through_miette() {
    let diagnostics = errors_of(&[("a.yaml", &report("    period: last_mnth\n"))]);
    assert_eq!(diagnostics.to_string(), "1 error in the definitions");
    let related: Vec<String> = miette::Diagnostic::related(&diagnostics)
        .unwrap()
        .map(ToString::to_string)
        .collect();
    assert_eq!(related, ["`last_mnth` is not a `period`"]);
}

#[test]
fn unknown_keys_do_not_hide_the_other_problems_of_the_file() {
    let text = r#"reports:
  Bad_Name:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    start_date: "2026-10-15"
    end_date: "2026-11-01"
    group_by: service
    servics: [Clusters]
  ok-one:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9
    period: last_month
    srvices: [Clusters]
  tmpl:
    org_id: "{{ var.orgg }}"
    start_date: "{{ today | start_of_month | add_months(-1) }"
    end_date: "{{ today | start_of_month }}"
"#;
    let diagnostics = errors_of(&[("a.yaml", text)]);
    let found: Vec<(usize, &str, &str, Option<&str>)> = diagnostics
        .iter()
        .map(|d| (d.line, d.code, d.message.as_str(), d.help.as_deref()))
        .collect();
    let services = Some("did you mean `services`?");
    assert_eq!(found.len(), 8, "{found:#?}");
    assert_eq!((found[0].0, found[0].1), (2, "costform::invalid_name"));
    assert_eq!((found[1].0, found[1].1), (4, "costform::invalid_date"));
    assert_eq!(
        found[1].3,
        Some("Cost Explorer ranges are whole months: use `2026-10-01`")
    );
    assert_eq!(
        (found[2].0, found[2].1, found[2].3),
        (6, "costform::invalid_value", services)
    );
    assert_eq!(
        found[3],
        (
            7,
            "costform::unknown_key",
            "unknown key `servics`",
            services
        )
    );
    assert_eq!((found[4].0, found[4].1), (9, "costform::invalid_id"));
    assert_eq!(
        found[5],
        (
            11,
            "costform::unknown_key",
            "unknown key `srvices`",
            services
        )
    );
    assert_eq!((found[6].0, found[6].1), (13, "costform::template"));
    assert!(
        found[6].2.contains("`var.orgg` is undefined"),
        "{}",
        found[6].2
    );
    assert_eq!((found[7].0, found[7].1), (14, "costform::template"));
    assert!(found[7].2.contains("syntax error"), "{}", found[7].2);
}

#[test]
fn unknown_keys_are_reported_at_every_level() {
    let text = format!(
        "variabels:\n  x: 1\ndefaults:\n  org: {ORG}\nreports:\n  r:\n    org_id: {ORG}\n    period: last_month\n    refresh: sometimes_maybe\n"
    );
    let diagnostics = errors_of(&[("a.yaml", &text)]);
    let found: Vec<(usize, &str, Option<&str>)> = diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        found[0],
        (
            1,
            "unknown key `variabels`",
            Some("did you mean `variables`?")
        )
    );
    assert_eq!(
        found[1],
        (4, "unknown key `org`", Some("did you mean `org_id`?"))
    );
    assert_eq!(found[2].0, 9, "{found:#?}");
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn a_value_of_the_wrong_shape_is_one_problem_among_others() {
    let text = format!(
        "reports:\n  r:\n    org_id: {ORG}\n    period: last_month\n    services: Clusters\n    include_partial_matches: maybe\n  s:\n    org_id: {ORG}\n    period: last_mnth\n"
    );
    let diagnostics = errors_of(&[("a.yaml", &text)]);
    let found: Vec<(usize, &str, &str)> = diagnostics
        .iter()
        .map(|d| (d.line, d.code, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                "costform::yaml",
                "`services` must be a list, found a string"
            ),
            (
                6,
                "costform::yaml",
                "`include_partial_matches` must be `true` or `false`, found a string"
            ),
            (
                9,
                "costform::invalid_period",
                "`last_mnth` is not a `period`"
            ),
        ]
    );
}

#[test]
fn an_all_digit_id_keeps_every_digit() {
    let text = "reports:\n  r:\n    org_id: 123456789012345678901234\n    period: last_month\n";
    let dir = write_dir(&[("a.yaml", text)]);
    let definitions = load(&options(dir.path())).unwrap();
    let report = definitions.reports.values().next().unwrap();
    assert_eq!(report.planned.org_id.as_str(), "123456789012345678901234");
}
