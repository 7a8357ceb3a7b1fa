//! The HTML cost report in a real browser: headless Chromium opens the page
//! with every network route closed, a screenshot is taken, and the test
//! checks that the chart was painted and that the figures the text output
//! prints are in the rendered page.
//!
//! Chromium is Debian's `chromium`; `.ci/run` installs it when it is missing.
//! Without it this test fails and says so: it is never skipped.

#[path = "support/mod.rs"]
#[allow(
    unused_imports,
    reason = "the shared support module re-exports more than this target needs"
)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Config;

const DEFINITIONS: &str = "reports:
  by-project:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    period: last_3_months
    group_by: projects
    projects: [65a1b2c3d4e5f6a7b8c9d0e1, 65a1b2c3d4e5f6a7b8c9d0e2]
  by-service:
    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d
    period: last_month
    group_by: services
    services: [Clusters, Storage]
";

/// The first series colour of the chart (plotters' `Palette99`, index 0).
const FIRST_SERIES_RGB: [u8; 3] = [230, 25, 75];

fn chromium() -> PathBuf {
    let path = PathBuf::from("/usr/bin/chromium");
    assert!(
        path.exists(),
        "the browser test needs Debian's chromium: `apt-get install chromium` (bash .ci/run installs it)"
    );
    path
}

/// Runs Chromium headless on `page` with networking off, waiting at most a
/// minute; returns its stdout.
fn run_chromium(page: &Path, profile: &Path, extra: &[String]) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            // Networking off: every request would go to a closed loopback
            // port, and no name resolves.
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--hide-scrollbars",
            "--window-size=1200,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child
            .try_wait()
            .expect("chromium can be waited on")
            .is_some()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("chromium's output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn costform_ok(emulator: &support::EmulatorThread, dir: &Path, args: &[&str]) -> String {
    let output = support::costform(emulator)
        .args(args)
        .args(["--now", "2026-11-26", "--dir"])
        .arg(dir)
        .output()
        .expect("costform runs");
    assert!(
        output.status.success(),
        "costform {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_html_report_renders_its_chart_and_figures_in_chromium_offline() {
    let emulator = support::emulator(Config::demo());
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("reports.yaml"), DEFINITIONS).expect("write definitions");
    costform_ok(&emulator, dir.path(), &["apply", "--auto-approve"]);
    costform_ok(
        &emulator,
        dir.path(),
        &["fetch", "--wait", "--timeout", "30s"],
    );
    let page = dir.path().join("costs.html");
    let page_arg = page.to_string_lossy().into_owned();
    costform_ok(
        &emulator,
        dir.path(),
        &[
            "costs",
            "--compare",
            "previous",
            "--format",
            "html",
            "--out",
            &page_arg,
        ],
    );
    let text = costform_ok(&emulator, dir.path(), &["costs", "--compare", "previous"]);

    let profile = dir.path().join("profile");
    let dom = run_chromium(&page, &profile, &["--dump-dom".to_owned()]);
    assert!(dom.contains("<svg"), "the chart is in the rendered page");
    // Every figure of the text output's total lines is in the page.
    let totals: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("total"))
        .flat_map(|line| line.split_whitespace().skip(1))
        .collect();
    assert!(totals.len() >= 5, "the text output has totals: {text}");
    for figure in totals {
        assert!(
            dom.contains(&format!("<td>{figure}</td>")),
            "{figure} is not in the page"
        );
    }

    let screenshot = dir.path().join("costs.png");
    run_chromium(
        &page,
        &profile,
        &[format!("--screenshot={}", screenshot.display())],
    );
    let painted = pixels_of(&screenshot, FIRST_SERIES_RGB);
    assert!(
        painted > 2_000,
        "the chart area is blank: {painted} pixels of the first series' colour"
    );
}

/// How many pixels of the PNG at `path` have exactly the colour `rgb`.
fn pixels_of(path: &Path, rgb: [u8; 3]) -> usize {
    let file = std::fs::File::open(path).expect("the screenshot exists");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|pixel| pixel[..3] == rgb)
        .count()
}
