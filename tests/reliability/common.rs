//! Helpers the reliability tests share: sizes, seeds, child processes watched
//! with a deadline and their peak memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `--now` every test pins, so that plans do not depend on the clock.
pub const NOW: &str = "2026-11-26";

/// `costform --dir DIR --now NOW apply --auto-approve --parallelism N`
/// against `emulator`, with no terminal on stdin and output captured.
pub fn apply(emulator: &crate::support::EmulatorThread, dir: &Path, parallelism: u16) -> Command {
    let mut command = crate::support::costform(emulator);
    command
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "apply", "--auto-approve", "--parallelism"])
        .arg(parallelism.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// An emulator that answers every API request after `latency`, so that
/// requests are in flight when a test kills or starves costform.
pub fn slow_emulator(latency: Duration) -> crate::support::EmulatorThread {
    crate::support::emulator(crate::support::Config {
        faults: crate::support::Faults {
            latency,
            ..crate::support::Faults::default()
        },
        ..crate::support::Config::demo()
    })
}

/// Whether the full-size run the issue describes was asked for.
pub fn full_run() -> bool {
    std::env::var_os("COSTFORM_RELIABILITY_FULL").is_some_and(|value| value != "0")
}

/// The RNG seed: `COSTFORM_SEED` to replay a failure, else the clock. It is
/// printed so that a failing run can be replayed.
pub fn seed() -> u64 {
    let seed = std::env::var("COSTFORM_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_nanos();
            u64::try_from(nanos % u128::from(u64::MAX)).expect("reduced below u64::MAX")
        });
    eprintln!("reliability seed: COSTFORM_SEED={seed}");
    seed
}

/// The default state file in definitions directory `dir`.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("costform.state.json")
}

/// `path` with `suffix` appended to its file name, as costform names the
/// backup, journal and lock files.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The JSON in `path`, `None` when there is no such file; panics (failing the
/// test) when the file exists but is not JSON.
pub fn read_json(path: &Path) -> Option<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("cannot read {}: {error}", path.display()),
    };
    Some(
        serde_json::from_str(&text).unwrap_or_else(|error| {
            panic!("{} is not valid JSON ({error}):\n{text}", path.display())
        }),
    )
}

/// Report name -> token, from a state document.
pub fn state_tokens(state: &Value) -> Vec<(String, String)> {
    state_handle_parts(state, "token")
}

/// Each report's handle part `part` (`token`, `report_id`), by report name.
pub fn state_handle_parts(state: &Value, part: &str) -> Vec<(String, String)> {
    state["reports"]
        .as_object()
        .expect("the state has a reports object")
        .iter()
        .map(|(name, entry)| {
            let value = entry["handle"][part]
                .as_str()
                .unwrap_or_else(|| panic!("each entry's handle has a `{part}`: {entry}"));
            (name.clone(), value.to_owned())
        })
        .collect()
}

/// Runs `command` to completion with its output captured.
pub fn output(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("costform starts")
}

/// `stdout` and `stderr` of `output` as one lossy string, for messages.
pub fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How a watched child ended.
#[derive(Debug)]
pub struct Watched {
    /// Its exit status, `None` when it overran the deadline and was killed.
    pub status: Option<ExitStatus>,
    /// How long it ran.
    pub elapsed: Duration,
    /// The highest `VmHWM` (peak resident set) seen, in KiB.
    pub peak_rss_kib: u64,
    /// Its captured stdout and stderr.
    pub stdout: String,
    /// Its captured stderr.
    pub stderr: String,
}

/// Runs `command` with stdout and stderr captured to files, polling its peak
/// RSS every few milliseconds; kills it at `deadline`. `VmHWM` is a high-water
/// mark, so polling misses at most the last few milliseconds of growth.
pub fn watch(command: &mut Command, deadline: Duration) -> Watched {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let stdout_path = scratch.path().join("stdout");
    let stderr_path = scratch.path().join("stderr");
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("create stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .expect("costform starts");
    let started = Instant::now();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak_rss_kib = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(&status_file) {
            peak_rss_kib = peak_rss_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait for costform") {
            break Some(status);
        }
        if started.elapsed() > deadline {
            child.kill().expect("kill an overrunning costform");
            child.wait().expect("reap the killed costform");
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Watched {
        status,
        elapsed: started.elapsed(),
        peak_rss_kib,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

/// `VmHWM` from a `/proc/PID/status` file, in KiB; `None` once the process
/// is a zombie (the line is gone) or the file is.
fn vm_hwm_kib(status_file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A miette report as one line: its wrapped lines (`│ ` gutters dropped)
/// joined, with no space after a line that wrapped at a hyphen, so that ids
/// and phrases can be searched whole whatever the terminal width.
pub fn unwrapped(report: &str) -> String {
    let mut joined = String::new();
    for line in report.lines() {
        let line = line
            .trim()
            .trim_start_matches(['│', '×', '╰', '─', '▶'])
            .trim();
        if line.is_empty() {
            continue;
        }
        if !joined.is_empty() && !joined.ends_with('-') {
            joined.push(' ');
        }
        joined.push_str(line);
    }
    joined
}
