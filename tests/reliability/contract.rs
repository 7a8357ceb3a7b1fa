//! The Atlas contract, judged by a third party (issue #10): Stoplight Prism
//! in proxy mode between costform and the emulator validates every request
//! and every response against the vendored spec, and with `--errors` turns
//! any violation into an error answer. validate → apply → fetch with a bearer
//! token must pass through it with no violation either way.
//!
//! Prism (`@stoplight/prism-cli` 5.14.2, Node 20) is installed by `.ci/run`
//! when missing; `COSTFORM_PRISM` names its binary, else the cache path
//! `.ci/run` uses is tried.

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, NOW};
use crate::support::{self, Config};

/// The Prism binary: `COSTFORM_PRISM`, else where `.ci/run` installs it.
fn prism_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("COSTFORM_PRISM") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    let path = cache.join("costform/prism-5.14.2/node_modules/.bin/prism");
    assert!(
        path.exists(),
        "Prism is not installed at {}: run `bash .ci/run` (it installs \
         @stoplight/prism-cli@5.14.2 there) or set COSTFORM_PRISM",
        path.display()
    );
    path
}

/// A running Prism, killed when dropped so that a failing test leaves none.
struct Prism {
    child: Child,
    log: PathBuf,
    base_url: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn start_prism(upstream: &str, scratch: &std::path::Path) -> Prism {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let log = scratch.join("prism.log");
    let child = Command::new(prism_binary())
        .arg("proxy")
        .arg(support::repo_root().join("spec/atlas/billing.yaml"))
        .arg(upstream)
        .args(["--errors", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).expect("create the Prism log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("Prism starts");
    let prism = Prism {
        child,
        log,
        base_url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while !prism.log().contains("Prism is listening") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "Prism did not start:\n{}",
            prism.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Listening is logged before the socket is ready on slow machines.
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    prism
}

#[test]
fn validate_apply_fetch_through_prism_has_no_contract_violation() {
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let prism = start_prism(&emulator.base_url(), dir);

    let steps: [&[&str]; 3] = [
        &["validate"],
        &["apply", "--auto-approve"],
        &["fetch", "--wait", "--timeout", "60s"],
    ];
    for step in steps {
        let mut command = support::costform(&emulator);
        command
            .env("MONGODB_ATLAS_BASE_URL", &prism.base_url)
            .arg("--dir")
            .arg(dir)
            .args(["--now", NOW])
            .args(step);
        let output = common::output(&mut command);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{step:?}\n{}\n--- prism\n{}",
            common::text(&output),
            prism.log()
        );
    }

    // Prism writes its log asynchronously: give the last lines a moment on a
    // busy machine before counting.
    let forwarded = emulator.request_log().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = prism.log();
    while log.matches("Request received").count() < forwarded && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        log = prism.log();
    }
    let received = log.matches("Request received").count();
    let violations = log
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            line.contains("violation") || line.contains("error")
        })
        .count();
    eprintln!(
        "prism proxy: {received} requests received, {forwarded} forwarded, {violations} violations"
    );
    assert!(received > 0, "{log}");
    assert_eq!(
        received, forwarded,
        "every request reached the emulator:\n{log}"
    );
    assert_eq!(violations, 0, "{log}");
}

/// Prism in this setup does catch a violation (else the test above proves
/// nothing): a token breaking the path rule is answered 422 by Prism itself.
#[test]
fn prism_refuses_a_request_that_breaks_the_spec() {
    let emulator = support::emulator(Config::demo());
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let prism = start_prism(&emulator.base_url(), scratch.path());
    let address = prism.base_url.trim_start_matches("http://");

    let mut stream = TcpStream::connect(address).expect("connect to Prism");
    std::io::Write::write_all(
        &mut stream,
        format!(
            "GET /api/atlas/v2/orgs/5f0c8a1b2c3d4e5f6a7b8c9d/billing/costExplorer/usage/short?envelope=true HTTP/1.1\r\n\
             Host: {address}\r\nAuthorization: Bearer {}\r\n\
             Accept: application/vnd.atlas.2023-01-01+json\r\nConnection: close\r\n\r\n",
            costform_emulator::DEMO_ACCESS_TOKEN
        )
        .as_bytes(),
    )
    .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);

    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(answer.contains("minLength"), "{answer}");
    assert!(
        emulator.request_log().is_empty(),
        "Prism did not forward it"
    );
}
