//! Issue #11 item 3, large results: a result streams from the socket to a
//! temporary file and on to `results/`, its rows counted as they are read,
//! so peak memory stays flat in the result's size; a result past
//! `--max-result-size` (or an endless body) fails its report with a clear
//! error, writes nothing, and keeps the token.
//!
//! The results come from a loopback server of this file's own that streams
//! a generated envelope in chunks, so that no test holds the body either.

use std::io::{self, BufRead as _, BufReader, BufWriter, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{self, NOW, Watched};
use crate::support::{self, Config};

/// One generated usage row: 128 bytes with its separator, a cent each.
const ROW: &[u8] = br#"{"usageDate":"2026-10-01","service":"Clusters","usageAmount":0.01,"organizationId":"5f0c8a1b2c3d4e5f6a7b8c9d","x":"padding-"},"#;

/// Rows per chunk written: 64 KiB.
const ROWS_PER_CHUNK: u64 = 512;

/// Peak RSS allowed whatever the result's size, in KiB: the binary's own
/// footprint plus the spool's 1 MiB in memory and a few buffers.
const FLAT_RSS_KIB: u64 = 64 * 1024;

/// A loopback server answering every request with one enveloped result of
/// `rows` rows (endless when `None`); returns its base URL.
fn serve_result(rows: Option<u64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                // The client hanging up (the size cap) ends the answer.
                let _ = answer(stream, rows);
            });
        }
    });
    url
}

/// Reads the request head, then streams the result in chunked encoding.
fn answer(stream: TcpStream, rows: Option<u64>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 && line != "\r\n" {
        line.clear();
    }
    let mut out = BufWriter::new(stream);
    out.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.atlas.2023-01-01+json\r\n\
          transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )?;
    let mut chunk = |bytes: &[u8]| -> io::Result<()> {
        write!(out, "{:x}\r\n", bytes.len())?;
        out.write_all(bytes)?;
        out.write_all(b"\r\n")
    };
    chunk(br#"{"status":200,"content":{"usageDetails":["#)?;
    let block = ROW.repeat(usize::try_from(ROWS_PER_CHUNK).expect("a small count"));
    let mut left = rows.unwrap_or(u64::MAX);
    while left > 0 {
        let take = left.min(ROWS_PER_CHUNK);
        let bytes = usize::try_from(take).expect("a small count") * ROW.len();
        let mut part = block[..bytes].to_vec();
        if take == left {
            part.pop(); // the last row's comma
        }
        chunk(&part)?;
        left -= take;
    }
    chunk(b"]}}")?;
    chunk(b"")?;
    out.flush()
}

/// A workspace with one applied report (against the emulator), ready to
/// fetch from elsewhere.
fn applied_workspace() -> tempfile::TempDir {
    let emulator = support::emulator(Config::demo());
    let workspace = tempfile::tempdir().expect("a temporary directory");
    support::write_many_reports(workspace.path(), 1, 1);
    let output = common::output(&mut common::apply(&emulator, workspace.path(), 1));
    assert!(output.status.success(), "{}", common::text(&output));
    workspace
}

/// `costform fetch` of `dir` from the server at `url`, watched.
fn fetch_from(url: &str, dir: &Path, extra: &[&str]) -> Watched {
    let mut command = Command::new(support::costform_bin());
    for (name, _) in std::env::vars() {
        if name.starts_with("MONGODB_ATLAS_") || name.starts_with("COSTFORM_") {
            command.env_remove(name);
        }
    }
    command
        .env("NO_COLOR", "1")
        .env("MONGODB_ATLAS_BASE_URL", url)
        .env(
            "MONGODB_ATLAS_ACCESS_TOKEN",
            costform_emulator::DEMO_ACCESS_TOKEN,
        )
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "fetch"])
        .args(extra);
    common::watch(&mut command, Duration::from_secs(300))
}

/// Prints the run's figures, then checks its exit code.
fn assert_exit(what: &str, watched: &Watched, code: i32) {
    let exit = watched.status.and_then(|status| status.code());
    eprintln!(
        "{what}: exit {exit:?} in {:?}, peak RSS {} MiB",
        watched.elapsed,
        watched.peak_rss_kib / 1024
    );
    assert_eq!(exit, Some(code), "{}{}", watched.stdout, watched.stderr);
}

/// A result of 16 MB (256 MB with `COSTFORM_RELIABILITY_FULL=1`) is written
/// whole, its rows counted exactly, within a peak RSS that does not grow
/// with it (before: about eleven times the body).
#[test]
fn a_large_result_is_written_with_flat_memory() {
    let megabytes: u64 = if common::full_run() { 256 } else { 16 };
    let rows = megabytes * 1_000_000 / ROW.len() as u64;
    let workspace = applied_workspace();
    let dir = workspace.path();

    let watched = fetch_from(&serve_result(Some(rows)), dir, &[]);

    assert_exit(&format!("{megabytes} MB result ({rows} rows)"), &watched, 0);
    assert!(
        watched.peak_rss_kib < FLAT_RSS_KIB,
        "peak RSS {} KiB for a {megabytes} MB result",
        watched.peak_rss_kib
    );
    let state = common::read_json(&common::state_path(dir)).expect("the state");
    let entry = state["reports"]
        .as_object()
        .and_then(|reports| reports.values().next())
        .expect("one report")
        .clone();
    assert_eq!(entry["status"], "ready");
    assert_eq!(entry["result"]["rows"], rows);
    let written = dir.join(entry["result"]["path"].as_str().expect("a path"));
    let size = std::fs::metadata(&written).expect("the result file").len();
    assert!(size > megabytes * 1_000_000, "{size} bytes written");
    // The cents add up exactly, whatever the count.
    let cents = rows.to_string();
    let total = format!(
        "{}.{:0>2}",
        &cents[..cents.len() - 2],
        &cents[cents.len() - 2..]
    );
    assert!(
        watched.stdout.replace(',', "").contains(&total),
        "total {total} not in\n{}",
        watched.stdout
    );
}

/// An endless body ends at `--max-result-size`: the report fails naming the
/// limit and the flag, nothing is written, the token stays `submitted`, and
/// neither time nor memory runs away.
#[test]
fn an_endless_result_stops_at_the_size_limit_and_keeps_the_token() {
    let workspace = applied_workspace();
    let dir = workspace.path();
    let before = common::read_json(&common::state_path(dir)).expect("the state");

    let watched = fetch_from(&serve_result(None), dir, &["--max-result-size", "16MiB"]);

    assert_exit("endless result", &watched, 1);
    let said = common::unwrapped(&format!("{}{}", watched.stdout, watched.stderr));
    assert!(said.contains("larger than 16777216 bytes"), "{said}");
    assert!(said.contains("--max-result-size"), "{said}");
    assert!(watched.peak_rss_kib < FLAT_RSS_KIB);
    let after = common::read_json(&common::state_path(dir)).expect("the state");
    assert_eq!(common::state_tokens(&after), common::state_tokens(&before));
    assert!(
        after["reports"]
            .as_object()
            .expect("reports")
            .values()
            .all(|entry| entry["status"] == "submitted")
    );
    assert!(
        !dir.join("results").exists() || dir.join("results").read_dir().unwrap().next().is_none()
    );
}
