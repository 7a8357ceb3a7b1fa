//! What the end-to-end tests share: the built `costform` binary, an
//! in-process emulator on loopback, and scratch workspaces seeded with the
//! examples.

#![allow(
    dead_code,
    reason = "each test target uses a different part of the support module"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use costform_emulator::{Config, EmulatorThread, Faults};

/// The `costform` binary cargo built for this test run.
pub fn costform_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_costform"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled example definition files.
pub fn examples_dir() -> PathBuf {
    repo_root().join("examples")
}

/// Starts an emulator with the demo credentials on `127.0.0.1:0`.
pub fn emulator(config: Config) -> EmulatorThread {
    EmulatorThread::start(config).expect("the emulator starts on loopback")
}

/// A `costform` command pointed at `emulator` with the demo bearer token and
/// nothing from the developer's own Atlas environment.
pub fn costform(emulator: &EmulatorThread) -> Command {
    pointed_at(Command::new(costform_bin()), emulator)
}

/// `command` (costform itself, or a wrapper that runs it) with the
/// environment of [`costform`].
pub fn pointed_at(mut command: Command, emulator: &EmulatorThread) -> Command {
    for (name, _) in std::env::vars() {
        if name.starts_with("MONGODB_ATLAS_") || name.starts_with("COSTFORM_") {
            command.env_remove(name);
        }
    }
    command
        .env("NO_COLOR", "1")
        .env("MONGODB_ATLAS_BASE_URL", emulator.base_url())
        .env(
            "MONGODB_ATLAS_ACCESS_TOKEN",
            costform_emulator::DEMO_ACCESS_TOKEN,
        );
    command
}

/// A scratch directory holding a copy of the examples.
pub fn workspace_with_examples() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for entry in std::fs::read_dir(examples_dir()).expect("examples/ exists") {
        let path = entry.expect("a readable entry").path();
        if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            std::fs::copy(
                &path,
                dir.path().join(path.file_name().expect("a file name")),
            )
            .expect("copy an example");
        }
    }
    dir
}

/// Writes `count` FOCUS report definitions into `dir`, spread over `files`
/// files: eight organizations, a distinct invoice month each from January
/// 2020 on, so every report is its own invoice.
pub fn write_many_focus_reports(dir: &Path, count: usize, files: usize) {
    let per_file = count.div_ceil(files.max(1));
    for file in 0..files {
        let mut yaml = String::from("reports:\n");
        for index in file * per_file..((file + 1) * per_file).min(count) {
            let org = index % 8 + 1;
            let months = index / 8;
            let _ = write!(
                yaml,
                "  report-{index:05}:\n    kind: focus_report\n    org_id: \"{org:024x}\"\n    invoice_month: \"{}-{:02}-01\"\n",
                2020 + months / 12,
                months % 12 + 1,
            );
        }
        std::fs::write(dir.join(format!("focus-{file:03}.yaml")), yaml)
            .expect("write a definitions file");
    }
}

/// Writes `count` definitions with distinct literal dates into `dir`, spread
/// over `files` files, for load and crash tests.
pub fn write_many_reports(dir: &Path, count: usize, files: usize) {
    let per_file = count.div_ceil(files.max(1));
    for file in 0..files {
        let mut yaml = String::from("reports:\n");
        for index in file * per_file..((file + 1) * per_file).min(count) {
            let year = 2020 + (index / 12) % 6;
            let month = index % 12 + 1;
            let _ = write!(
                yaml,
                "  report-{index:05}:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    start_date: \"{year}-{month:02}-01\"\n    end_date: \"{}-{:02}-01\"\n    group_by: services\n    services: [Clusters]\n",
                if month == 12 { year + 1 } else { year },
                if month == 12 { 1 } else { month + 1 },
            );
        }
        std::fs::write(dir.join(format!("reports-{file:03}.yaml")), yaml)
            .expect("write a definitions file");
    }
}
