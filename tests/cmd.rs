//! End-to-end cases for the `costform` binary.
//!
//! The trycmd cases under `tests/cmd/` are what a user sees: every validation
//! rule with its rendered diagnostic, `render` of the examples, and the
//! plan/apply/fetch lifecycle against one in-process emulator. The Rust tests
//! below cover what a snapshot cannot: tokens and result files checked against
//! the emulator's own data, tokens expired between two commands, and the
//! emulator served from the CLI and spoken to with plain `curl`.
//!
//! `tests/cmd/pending/` holds cases for known bugs, written for the correct
//! behaviour; they are not run until the bug is fixed and they move into
//! `tests/cmd/validate/`.

#[path = "support/mod.rs"]
mod support;

use costform_emulator::DEMO_ACCESS_TOKEN;
use support::Config;

/// Every `*.toml` and `*.trycmd` case, with the emulator's URL and the demo
/// token in the environment and nothing of the developer's own Atlas or
/// costform settings.
#[test]
fn cli_cases() {
    let emulator = support::emulator(Config::demo());
    let base_url = emulator.base_url();
    let cases = trycmd::TestCases::new();
    // trycmd cannot remove an inherited variable, so a developer's own
    // settings are blanked instead: costform treats an empty value as unset.
    for (name, _) in std::env::vars() {
        if name.starts_with("MONGODB_ATLAS_") || name.starts_with("COSTFORM_") {
            cases.env(name, "");
        }
    }
    cases
        .env("MONGODB_ATLAS_BASE_URL", base_url.clone())
        .env("MONGODB_ATLAS_ACCESS_TOKEN", DEMO_ACCESS_TOKEN)
        .env("NO_COLOR", "1")
        .register_bin("costform", support::costform_bin());
    let cases_dir = support::repo_root().join("tests/cmd");
    for glob in [
        "validate/*.toml",
        "render/*.toml",
        "lifecycle/*.trycmd",
        "fetch/*.trycmd",
    ] {
        cases.case(cases_dir.join(glob));
    }
    cases
        .insert_var("[EMULATOR]", base_url)
        .expect("a valid redaction");
    cases.run();
}
