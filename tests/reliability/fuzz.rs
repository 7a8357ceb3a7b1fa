//! A structure-aware fuzz of the definition parser and renderer through
//! `costform_model::load`: generated documents (random keys and values,
//! templates, dates, anchors and aliases, mutations of valid reports) never
//! panic, and every error points at a file and, when it is about a place in
//! it, a line.
//!
//! cargo-fuzz needs a nightly toolchain, which this machine does not have,
//! and proptest is not a dev-dependency of this crate (adding it would mean
//! committing `crates/cli/Cargo.toml`, which others are editing); so this is a
//! seeded generator on `rand`: `COSTFORM_FUZZ_CASES` sets the case count (256
//! by default), `COSTFORM_SEED` replays a run. Inputs worth keeping live in
//! `corpus/` and are replayed by `corpus_replays_cleanly`.

use std::fmt::Write as _;
use std::path::Path;

use costform_model::{LoadOptions, load, parse_now};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};

use crate::common::{self, NOW};

const KEYS: &[&str] = &[
    "org_id",
    "start_date",
    "end_date",
    "period",
    "group_by",
    "services",
    "projects",
    "clusters",
    "kind",
    "defaults",
    "variables",
    "reports",
    "include_partial_match",
    "x",
];
const VALUES: &[&str] = &[
    "5f0c8a1b2c3d4e5f6a7b8c9d",
    "\"2026-01-01\"",
    "\"2026-02-01\"",
    "2026-13-01",
    "last_month",
    "this_month",
    "services",
    "projects",
    "[Clusters, Storage]",
    "[]",
    "{}",
    "~",
    "null",
    "\"{{ today | start_of_month }}\"",
    "\"{{ today | add_months(-1) | start_of_month }}\"",
    "\"{{ var.missing }}\"",
    "\"{{ env('COSTFORM_X', default='2026-01-01') }}\"",
    "\"{% if %}\"",
    "\"{{ now | date('%Y-%m-01') }}\"",
    "\"{{ '2026-01-01' | add_days(99999999999) }}\"",
    "*anchor",
    "&anchor 1",
    "!!binary aGVsbG8=",
    "\"\\u0000\"",
    "'''",
    "-1",
    "1e309",
    "[[[[[",
    "\"é✓\"",
];

/// One generated document: a mapping of reports with random keys and values,
/// sometimes with anchors, aliases and junk lines.
fn document(rng: &mut StdRng) -> String {
    let mut yaml = String::new();
    if rng.random_bool(0.3) {
        yaml.push_str("defaults: &anchor\n  org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n");
    }
    if rng.random_bool(0.3) {
        yaml.push_str("variables:\n  month: \"2026-01-01\"\n");
    }
    yaml.push_str("reports:\n");
    for report in 0..rng.random_range(0..4) {
        let name = if rng.random_bool(0.9) {
            format!("r-{report}")
        } else {
            "Bad Name".to_owned()
        };
        let _ = writeln!(yaml, "  {name}:");
        for _ in 0..rng.random_range(0..8) {
            let key = KEYS.choose(rng).expect("keys");
            let value = VALUES.choose(rng).expect("values");
            let _ = writeln!(yaml, "    {key}: {value}");
        }
        if rng.random_bool(0.2) {
            yaml.push_str("    <<: *anchor\n");
        }
    }
    // Byte-level mutations on top of the structure.
    for _ in 0..rng.random_range(0..3) {
        if yaml.is_empty() {
            break;
        }
        let at = rng.random_range(0..yaml.len());
        if yaml.is_char_boundary(at) {
            let junk = ["\t", ":", "- ", "\n  ", "{{", "%}", "&a ", "*a", "'", "\""]
                .choose(rng)
                .expect("junk");
            yaml.insert_str(at, junk);
        }
    }
    yaml
}

/// Loads `yaml` as the only definitions file and checks the answer.
fn check(yaml: &str, dir: &Path) -> Result<(), String> {
    let file = dir.join("fuzz.yaml");
    std::fs::write(&file, yaml).map_err(|error| error.to_string())?;
    let options = LoadOptions::new(dir, parse_now(NOW).expect("a valid --now"));
    let answer =
        std::panic::catch_unwind(|| load(&options)).map_err(|_| "load panicked".to_owned())?;
    if let Err(diagnostics) = answer {
        if !diagnostics.has_errors() {
            return Err("load failed without an error diagnostic".to_owned());
        }
        for diagnostic in diagnostics.errors() {
            if diagnostic.file.as_os_str().is_empty() {
                return Err(format!("an error without a file: {}", diagnostic.message));
            }
            if diagnostic.file == file && diagnostic.line == 0 && diagnostic.column != 0 {
                return Err(format!("a column without a line: {}", diagnostic.message));
            }
        }
    }
    Ok(())
}

#[test]
fn generated_definitions_never_panic_and_errors_carry_a_file() {
    let cases: usize = std::env::var("COSTFORM_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(256);
    let seed = common::seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut failures = Vec::new();
    for case in 0..cases {
        let yaml = document(&mut rng);
        if let Err(problem) = check(&yaml, scratch.path()) {
            failures.push(format!("case {case}: {problem}\n{yaml}"));
        }
    }
    eprintln!(
        "fuzz: {cases} cases (seed {seed}), {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}:\n{}",
        failures.join("\n---\n")
    );
}

#[test]
fn corpus_replays_cleanly() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reliability/corpus");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&corpus).expect("the corpus exists") {
        let path = entry.expect("a corpus entry").path();
        let yaml = std::fs::read_to_string(&path).expect("a UTF-8 corpus file");
        check(&yaml, scratch.path())
            .unwrap_or_else(|problem| panic!("{}: {problem}", path.display()));
        replayed += 1;
    }
    assert!(replayed >= 5, "the corpus holds its inputs");
}
