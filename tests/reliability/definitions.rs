//! Issue #11, hostile definition files: templates that double a value,
//! symbolic links out of `--dir`, files that are not YAML, terminal escapes
//! and oversized files end in a clear error naming the file, with bounded
//! time and memory, and nothing of what they point at is printed.

use std::path::Path;
use std::time::Duration;

use crate::common::{self, Watched};
use crate::hostile::{assert_bounded, costform_in};
use crate::support::{self, Config};

/// Peak RSS of a `validate` refusing a hostile file: the ~64 MiB templates
/// may build plus the binary's own baseline.
const REFUSAL_RSS_KIB: u64 = 96 * 1024;

/// The head of a report whose `services` value is `services`.
fn report_with_services(services: &str) -> String {
    format!(
        "reports:\n  hostile:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"2026-01-01\"\n    end_date: \"2026-02-01\"\n    group_by: services\n    services: [{services}]\n"
    )
}

fn validate(dir: &Path, deadline: Duration) -> Watched {
    let emulator = support::emulator(Config::demo());
    common::watch(&mut costform_in(&emulator, dir, &["validate"]), deadline)
}

fn assert_refused_quickly(what: &str, watched: &Watched, file_line: &str) {
    assert_bounded(what, watched);
    assert_eq!(
        watched.status.and_then(|status| status.code()),
        Some(1),
        "{what}\n{}",
        watched.stderr
    );
    assert!(
        watched.elapsed < Duration::from_secs(2),
        "{what}: refused within 2 s"
    );
    assert!(
        watched.peak_rss_kib < REFUSAL_RSS_KIB,
        "{what}: peak RSS {} KiB",
        watched.peak_rss_kib
    );
    assert!(
        watched.stderr.contains(file_line),
        "{what}: the error names `{file_line}`\n{}",
        watched.stderr
    );
}

/// The templates: a namespace list doubled 40 times in a loop, and
/// a list doubled by 40 literal `{% set x = x + x %}`. Fuel never trips on either (one
/// instruction per doubling); before, `validate` grew to 22 GiB.
#[test]
fn a_template_doubling_a_value_is_refused_within_64_mib_and_2_s() {
    let namespace = "\"{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}\"";
    let literal = format!(
        "\"{{% set x = [1] %}}{}{{{{ x | length }}}}\"",
        "{% set x = x + x %}".repeat(40)
    );
    for (name, services) in [("namespace", namespace), ("literal", literal.as_str())] {
        let workspace = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            workspace.path().join("doubling.yaml"),
            report_with_services(services),
        )
        .expect("write the definition");
        let watched = validate(workspace.path(), Duration::from_secs(5));
        assert_refused_quickly(name, &watched, "doubling.yaml:7:");
        assert!(
            common::unwrapped(&watched.stderr).contains("is not allowed"),
            "{name}: says why\n{}",
            watched.stderr
        );
    }
}

/// `ln -s /proc/self/environ defs/env.yaml`, and a link to a credentials
/// file: refused by name, unread, so no secret reaches the output.
#[test]
fn a_definition_file_linked_from_outside_dir_is_refused_unread() {
    const MARKER: &str = "hostile-marker-linked-secret-4b9d";
    let outside = tempfile::tempdir().expect("a temporary directory");
    let credentials = outside.path().join("credentials");
    std::fs::write(
        &credentials,
        format!("[default]\naws_secret_access_key = {MARKER}\n"),
    )
    .expect("write the credentials");
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let dir = workspace.path();
    std::os::unix::fs::symlink("/proc/self/environ", dir.join("env.yaml")).expect("link environ");
    std::os::unix::fs::symlink(&credentials, dir.join("creds.yaml")).expect("link credentials");
    let emulator = support::emulator(Config::demo());
    let output =
        common::output(costform_in(&emulator, dir, &["validate"]).env("HOSTILE_SECRET", MARKER));
    let all = common::text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(!all.contains(MARKER), "a secret was printed\n{all}");
    let one_line = common::unwrapped(&all);
    for name in ["env.yaml", "creds.yaml"] {
        assert!(
            one_line.contains(&format!("{name}` is a symbolic link")),
            "`{name}` is refused by name\n{all}"
        );
    }
    assert!(
        one_line.contains("outside the definitions directory"),
        "{all}"
    );
}

/// A file that is not YAML but one long line, as `/proc/self/environ` is:
/// the diagnostic shows a window around the error, not the whole line.
#[test]
fn a_file_that_is_not_yaml_is_shown_only_around_the_error() {
    const MARKER: &str = "hostile-marker-far-along-the-line-91ac";
    let workspace = tempfile::tempdir().expect("a temporary directory");
    let environ = format!(
        "HOME=/root\0{}SECRET={MARKER}\0",
        "PADDING=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\0".repeat(40)
    );
    std::fs::write(workspace.path().join("flat.yaml"), environ).expect("write the file");
    let watched = validate(workspace.path(), Duration::from_secs(10));
    assert_refused_quickly("a one-line non-YAML file", &watched, "flat.yaml");
    assert!(
        !watched.stderr.contains(MARKER),
        "the far end of the line was printed\n{}",
        watched.stderr
    );
}

/// Escape sequences and U+202E in a definitions file (here in a report kind:
/// YAML's `\e` is ESC) are printed as escapes: they would otherwise clear
/// the screen or reverse what the reader sees.
#[test]
fn control_and_bidi_characters_in_diagnostics_are_escaped() {
    let workspace = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        workspace.path().join("bidi.yaml"),
        "reports:\n  hostile:\n    kind: \"cost\\e[2J\u{202e}_explorer\"\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    period: last_month\n",
    )
    .expect("write the definition");
    let emulator = support::emulator(Config::demo());
    for format in ["text", "json"] {
        let output = common::output(&mut costform_in(
            &emulator,
            workspace.path(),
            &["validate", "--format", format],
        ));
        let all = common::text(&output);
        assert_eq!(output.status.code(), Some(1), "{all}");
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{202e}'),
            "{format}: printed raw\n{all:?}"
        );
        assert!(
            all.contains("\\u{1b}") && all.contains("\\u{202e}"),
            "{format}: shown escaped\n{all}"
        );
    }
}

/// A 64 MiB definitions file (sparse: costs no disk) is refused before it
/// is read; before, a 1 GB file took 3.1 GB of memory.
#[test]
fn an_oversized_definitions_file_is_refused_before_it_is_read() {
    let workspace = tempfile::tempdir().expect("a temporary directory");
    std::fs::File::create(workspace.path().join("huge.yaml"))
        .and_then(|file| file.set_len(64 * 1024 * 1024))
        .expect("create a sparse file");
    let watched = validate(workspace.path(), Duration::from_secs(20));
    assert_refused_quickly("a 64 MiB file", &watched, "huge.yaml");
    assert!(
        common::unwrapped(&watched.stderr)
            .contains("a definition file is at most `16777216` bytes"),
        "{}",
        watched.stderr
    );
}
