//! Networks the user does not control (issue #11, items 5 and 9): a plain
//! `http://` base URL off loopback is refused unless allowed, and a proxy's
//! HTML page answering 200 is never saved as a ready result.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use crate::common::{self, NOW, read_json, state_path};
use crate::support::{self, Config};

#[test]
fn plaintext_off_loopback_needs_allow_insecure_http_and_is_warned() {
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    // `plan --refresh` on a state with no reports builds the client and then
    // has no token to check, so no request leaves the machine either way;
    // the examples' lookups, which `--refresh` would read, are left out.
    for entry in std::fs::read_dir(workspace.path()).expect("the examples") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("\nlookups:") || text.starts_with("lookups:") {
            std::fs::remove_file(&path).expect("remove a lookup example");
        }
    }
    let empty_state = serde_json::json!({
        "format_version": costform_model::state::STATE_FORMAT_VERSION,
        "lineage": "00000000-0000-4000-8000-000000000000",
        "serial": 1,
        "costform_version": "0.1.0",
        "reports": {},
    });
    std::fs::write(
        workspace.path().join("costform.state.json"),
        serde_json::to_string_pretty(&empty_state).expect("JSON"),
    )
    .expect("write the state");
    let plan_refresh = |allow: bool| {
        let mut command = support::costform(&emulator);
        command
            .env("MONGODB_ATLAS_BASE_URL", "http://cloud.mongodb.com")
            .arg("--dir")
            .arg(workspace.path())
            .args(["--now", NOW, "plan", "--refresh"]);
        if allow {
            command.arg("--allow-insecure-http");
        }
        common::output(&mut command)
    };

    let refused = plan_refresh(false);
    let text = common::text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("--allow-insecure-http"), "{text}");
    assert!(
        !text.contains(costform_emulator::DEMO_ACCESS_TOKEN),
        "{text}"
    );

    let allowed = plan_refresh(true);
    let text = common::text(&allowed);
    assert_eq!(allowed.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Warning: `http://cloud.mongodb.com` is plain http"),
        "{text}"
    );
}

/// A loopback server answering every request with `status`, `content_type`
/// and `body`.
fn answering(status: &'static str, content_type: &'static str, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0_u8; 8192];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

/// A loopback server answering every request with a proxy's sign-in page.
fn html_proxy() -> String {
    answering(
        "200 OK",
        "text/html",
        "<html><body>Sign in to continue</body></html>".to_owned(),
    )
}

/// Issue #11 item 12: an error answer whose `errorCode` and 5 MB `detail`
/// carry terminal escapes and a bidirectional override is printed escaped
/// and capped, not raw and whole.
#[test]
fn a_hostile_error_answer_is_printed_escaped_and_capped() {
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let detail = format!("\u{1b}[2J\u{202e}{}", "x".repeat(5 * 1024 * 1024));
    let body =
        serde_json::json!({"error": 400, "errorCode": "BAD\u{1b}]0;pwned\u{7}", "detail": detail});
    let server = answering("400 Bad Request", "application/json", body.to_string());
    let mut apply = support::costform(&emulator);
    apply
        .env("MONGODB_ATLAS_BASE_URL", server)
        .arg("--dir")
        .arg(workspace.path())
        .args([
            "--now",
            NOW,
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
        ]);
    let output = common::output(&mut apply);

    let text = common::text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "raw escapes reached the terminal"
    );
    assert!(
        text.contains("\\u{1b}"),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(
        text.len() < 9 * 3 * 4096,
        "{} bytes printed for 9 reports",
        text.len()
    );
}

#[test]
fn an_html_page_answering_200_is_not_saved_as_a_result() {
    let emulator = support::emulator(Config::demo());
    let workspace = support::workspace_with_examples();
    let dir = workspace.path();
    let applied = common::output(&mut common::apply(&emulator, dir, 4));
    assert_eq!(applied.status.code(), Some(0), "{}", common::text(&applied));

    let mut fetch = support::costform(&emulator);
    fetch
        .env("MONGODB_ATLAS_BASE_URL", html_proxy())
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "-v", "fetch"]);
    let fetched = common::output(&mut fetch);

    let text = common::text(&fetched);
    assert_eq!(fetched.status.code(), Some(1), "{text}");
    assert!(text.contains("is not a json result"), "{text}");
    let state = read_json(&state_path(dir)).expect("the state");
    for (name, entry) in state["reports"].as_object().expect("reports") {
        assert_eq!(entry["status"], "submitted", "{name}: {entry}");
        assert!(
            entry.get("result").is_none_or(serde_json::Value::is_null),
            "{name}"
        );
    }
    assert!(!dir.join("results").exists(), "no result file was written");
}
