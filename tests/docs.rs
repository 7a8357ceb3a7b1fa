//! The documentation tells the truth: README.md's console blocks run as they
//! are shown, the CI examples only use commands and flags that exist, and the
//! completions, man page and `--help` texts are complete.

#[allow(
    unused_imports,
    reason = "the shared support module re-exports more than this target needs"
)]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Environment variables that would change what costform does.
fn is_costform_setting(name: &str) -> bool {
    name.starts_with("MONGODB_ATLAS_") || name.starts_with("COSTFORM_")
}

/// The binary, with no settings from the developer's shell and no colour.
fn costform() -> Command {
    let mut command = Command::new(support::costform_bin());
    for (name, _) in std::env::vars() {
        if is_costform_setting(&name) {
            command.env_remove(name);
        }
    }
    command.env("NO_COLOR", "1");
    command
}

fn run(args: &[&str]) -> Output {
    costform()
        .args(args)
        .output()
        .expect("the costform binary runs")
}

fn stdout_of(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "`costform {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

fn copy_examples(to: &Path) {
    std::fs::create_dir_all(to).expect("create the examples copy");
    for entry in std::fs::read_dir(support::examples_dir()).expect("examples/ exists") {
        let path = entry.expect("a readable entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("a file name")))
                .expect("copy an example");
        }
    }
}

#[test]
fn readme_console_blocks_run_as_shown() {
    // trycmd cannot remove inherited variables, so run this test again in a
    // child process without them when the developer's shell has any.
    let inherited: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| is_costform_setting(name))
        .collect();
    if !inherited.is_empty() {
        let mut child =
            Command::new(std::env::current_exe().expect("the test binary knows its path"));
        child.args([
            "readme_console_blocks_run_as_shown",
            "--exact",
            "--nocapture",
        ]);
        for name in &inherited {
            child.env_remove(name);
        }
        let status = child.status().expect("the test binary runs again");
        assert!(
            status.success(),
            "README.md's console blocks failed (see above)"
        );
        return;
    }

    // The blocks run in a scratch copy: README.in/ is trycmd's working
    // directory for README.md, holding a fresh copy of examples/.
    let sandbox = tempfile::tempdir().expect("a temporary directory");
    let readme = sandbox.path().join("README.md");
    std::fs::copy(support::repo_root().join("README.md"), &readme).expect("copy README.md");
    copy_examples(&sandbox.path().join("README.in/examples"));

    let emulator = support::emulator(support::Config::demo());
    trycmd::TestCases::new()
        .register_bin("costform", support::costform_bin())
        .env("NO_COLOR", "1")
        .env("MONGODB_ATLAS_BASE_URL", emulator.base_url())
        .env(
            "MONGODB_ATLAS_ACCESS_TOKEN",
            costform_emulator::DEMO_ACCESS_TOKEN,
        )
        .timeout(std::time::Duration::from_secs(60))
        .case(&readme)
        .run();
}

/// Every shell line of a CI file's scripts (`run:` in GitHub Actions,
/// `script:`, `before_script:` and `after_script:` in GitLab CI).
fn script_lines(value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("run" | "script" | "before_script" | "after_script", Value::String(text)) => {
                        lines.extend(text.replace("\\\n", " ").lines().map(str::to_owned));
                    }
                    ("script" | "before_script" | "after_script", Value::Array(items)) => {
                        lines.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    _ => script_lines(value, lines),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                script_lines(item, lines);
            }
        }
        _ => {}
    }
}

/// The `costform` invocations of a shell line, as words without the program
/// name, redirections or shell operators.
fn costform_invocations(line: &str) -> Vec<Vec<String>> {
    let mut invocations = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut at_command_start = true;
    let mut skip_next = false;
    for word in line.split_whitespace() {
        if word.starts_with('#') {
            break;
        }
        if skip_next {
            skip_next = false;
            continue;
        }
        if matches!(word, "&&" | "||" | ";" | "|" | "(" | ")") {
            invocations.extend(current.take());
            at_command_start = true;
            continue;
        }
        if word.starts_with('>') || word.starts_with("2>") || word == "<" {
            // `>> "$GITHUB_STEP_SUMMARY"` or `>file`: the target is not an argument
            skip_next = matches!(word, ">" | ">>" | "2>" | "<");
            continue;
        }
        if at_command_start {
            at_command_start = false;
            if word == "costform" {
                current = Some(Vec::new());
            }
            continue;
        }
        if let Some(words) = current.as_mut() {
            words.push(word.trim_matches('"').trim_matches('\'').to_owned());
        }
    }
    invocations.extend(current);
    invocations
}

/// The subcommand path of an invocation (`["state", "list"]`) and its flags.
fn command_and_flags(words: &[String]) -> (Vec<String>, BTreeSet<String>) {
    let mut path = Vec::new();
    for word in words {
        if word.starts_with('-') {
            break;
        }
        let mut probe = path.clone();
        probe.push(word.clone());
        let mut args: Vec<&str> = probe.iter().map(String::as_str).collect();
        args.push("--help");
        if !run(&args).status.success() {
            break;
        }
        // a positional argument such as `plan.json` is not a subcommand
        let parent_help = {
            let mut parent: Vec<&str> = path.iter().map(String::as_str).collect();
            parent.push("--help");
            stdout_of(&parent)
        };
        if !parent_help.contains(&format!("  {word} ")) {
            break;
        }
        path.push(word.clone());
    }
    let flags = words
        .iter()
        .filter(|word| word.starts_with('-') && !word.starts_with("-$"))
        .map(|word| word.split('=').next().unwrap_or(word).to_owned())
        .collect();
    (path, flags)
}

fn help_mentions_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        help[at + flag.len()..]
            .chars()
            .next()
            .is_none_or(|next| !next.is_ascii_alphanumeric() && next != '-')
    })
}

fn check_ci_file(file: &str) -> Value {
    let path = support::repo_root().join(file);
    let text = std::fs::read_to_string(&path).expect("the CI example exists");
    let workflow: Value = serde_saphyr::from_str(&text).expect("the CI example is valid YAML");
    let mut lines = Vec::new();
    script_lines(&workflow, &mut lines);
    let invocations: Vec<Vec<String>> = lines
        .iter()
        .flat_map(|line| costform_invocations(line))
        .collect();
    assert!(!invocations.is_empty(), "{file} runs no costform command");
    for words in &invocations {
        let (path, flags) = command_and_flags(words);
        assert!(
            !path.is_empty(),
            "{file}: `costform {}` names no subcommand",
            words.join(" ")
        );
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = stdout_of(&args);
        for flag in &flags {
            assert!(
                help_mentions_flag(&help, flag),
                "{file}: `costform {}` uses `{flag}`, which `costform {} --help` does not list",
                words.join(" "),
                path.join(" ")
            );
        }
    }
    workflow
}

fn commands_used(workflow: &Value) -> BTreeSet<String> {
    let mut lines = Vec::new();
    script_lines(workflow, &mut lines);
    lines
        .iter()
        .flat_map(|line| costform_invocations(line))
        .map(|words| {
            words
                .iter()
                .take_while(|word| !word.starts_with('-'))
                .take(1)
                .cloned()
                .collect::<String>()
        })
        .collect()
}

#[test]
fn the_github_workflows_use_real_commands_and_flags() {
    for file in [
        "examples/ci/github-actions.yml",
        "examples/ci/github-actions-git-state.yml",
    ] {
        check_github_workflow(file);
    }
}

/// The recommended workflow keeps the state in PostgreSQL and never pushes
/// it to git (#15); the git variant is the no-server option.
#[test]
fn the_recommended_workflow_keeps_the_state_in_postgresql() {
    let workflow = check_ci_file("examples/ci/github-actions.yml");
    assert!(
        workflow["env"]["COSTFORM_STATE"]
            .as_str()
            .is_some_and(
                |url| url.starts_with("postgres://") && url.contains("sslmode=verify-full")
            ),
        "COSTFORM_STATE names a database verified over TLS"
    );
    let text = serde_json::to_string(&workflow).expect("JSON");
    assert!(text.contains("secrets.COSTFORM_DB_PASSWORD"));
    assert!(
        !text.contains("costform.state.json"),
        "no job commits a state file"
    );
}

fn check_github_workflow(file: &str) {
    let workflow = check_ci_file(file);
    // YAML 1.1 readers turn the `on` key into `true`; accept either spelling
    let triggers = workflow
        .get("on")
        .or_else(|| workflow.get("true"))
        .and_then(Value::as_object)
        .expect("the workflow has an `on:` map of triggers");
    for trigger in ["pull_request", "push", "schedule", "workflow_dispatch"] {
        assert!(triggers.contains_key(trigger), "no `{trigger}` trigger");
    }
    let cron = triggers["schedule"][0]["cron"].as_str();
    assert_eq!(cron, Some("0 3 1 * *"), "monthly at 03:00 UTC on the 1st");

    let concurrency = &workflow["concurrency"];
    assert!(
        concurrency["group"]
            .as_str()
            .is_some_and(|group| !group.is_empty()),
        "the workflow has a concurrency group so two applies never race"
    );
    assert_eq!(concurrency["cancel-in-progress"], Value::Bool(false));

    let used = commands_used(&workflow);
    for command in ["validate", "plan", "apply", "fetch", "costs", "check"] {
        assert!(
            used.contains(command),
            "the workflow never runs `costform {command}`"
        );
    }
    let text = serde_json::to_string(&workflow).expect("JSON");
    for secret in [
        "secrets.MONGODB_ATLAS_CLIENT_ID",
        "secrets.MONGODB_ATLAS_CLIENT_SECRET",
    ] {
        assert!(text.contains(secret), "credentials come from `{secret}`");
    }
}

#[test]
fn the_gitlab_pipeline_uses_real_commands_and_flags() {
    let pipeline = check_ci_file("examples/ci/gitlab-ci.yml");
    assert_eq!(
        pipeline[".costform"]["resource_group"].as_str(),
        Some("costform-state"),
        "jobs that touch the state share a resource group"
    );
    let used = commands_used(&pipeline);
    for command in ["validate", "plan", "apply", "fetch", "costs", "check"] {
        assert!(
            used.contains(command),
            "the pipeline never runs `costform {command}`"
        );
    }
}

/// The CI examples wait for results with a timeout and keep fetch's exit
/// status: a pipe (`| tee`) would turn "timed out: N still processing" into
/// a green job without results.
#[test]
fn the_ci_examples_fail_when_results_are_still_processing() {
    for file in [
        "examples/ci/github-actions.yml",
        "examples/ci/github-actions-git-state.yml",
        "examples/ci/gitlab-ci.yml",
    ] {
        let workflow = check_ci_file(file);
        let mut lines = Vec::new();
        script_lines(&workflow, &mut lines);
        let fetches: Vec<&String> = lines
            .iter()
            .filter(|line| {
                costform_invocations(line)
                    .iter()
                    .any(|words| words.first().is_some_and(|word| word == "fetch"))
            })
            .collect();
        assert!(!fetches.is_empty(), "{file} never fetches");
        for line in fetches {
            assert!(
                line.contains("--wait") && line.contains("--timeout"),
                "{file}: `{line}` does not wait with a timeout"
            );
            assert!(
                !line.replace("||", "").contains('|'),
                "{file}: `{line}` pipes fetch, hiding its exit status"
            );
        }
    }
}

#[test]
fn the_ci_line_reader_finds_invocations_and_their_flags() {
    assert_eq!(
        costform_invocations(
            r#"costform plan --format markdown >> "$GITHUB_STEP_SUMMARY" && costform apply plan.json"#
        ),
        vec![
            vec![
                "plan".to_owned(),
                "--format".to_owned(),
                "markdown".to_owned()
            ],
            vec!["apply".to_owned(), "plan.json".to_owned()],
        ]
    );
    assert!(costform_invocations(r#"git commit -m "costform: state""#).is_empty());
    assert!(help_mentions_flag("  --out <FILE>", "--out"));
    assert!(!help_mentions_flag("  --out-dir <DIR>", "--out"));
}

/// The subcommands, as `costform --help` lists them.
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("`costform --help` lists commands");
    section
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_cover_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("costform"), "{shell}: no `costform`");
        for command in ["plan", "apply", "fetch"] {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
    }
}

#[test]
fn the_man_page_names_every_subcommand() {
    // roff escapes the hyphen: `force\-unlock`
    let page = stdout_of(&["man"]).replace("\\-", "-");
    assert!(page.contains(".TH"), "not a roff page:\n{page}");
    let commands = subcommands();
    assert!(commands.len() >= 10, "too few subcommands: {commands:?}");
    for command in &commands {
        assert!(
            page.contains(command.as_str()),
            "the man page omits `{command}`"
        );
    }
}

#[test]
fn every_help_ends_with_an_example() {
    let mut paths: Vec<Vec<String>> = vec![Vec::new()];
    for command in subcommands() {
        let help = stdout_of(&[command.as_str(), "--help"]);
        if let Some(section) = help.split("Commands:\n").nth(1) {
            for line in section.lines().take_while(|line| line.starts_with("  ")) {
                if let Some(child) = line.split_whitespace().next().filter(|c| *c != "help") {
                    paths.push(vec![command.clone(), child.to_owned()]);
                }
            }
        }
        paths.push(vec![command]);
    }
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = stdout_of(&args);
        let last_heading = help
            .lines()
            .rfind(|line| !line.starts_with(' ') && line.ends_with(':'))
            .unwrap_or_default();
        assert!(
            last_heading.starts_with("Example"),
            "`costform {}` ends without an example:\n{help}",
            args.join(" ")
        );
        let example = help.rsplit(last_heading).next().unwrap_or_default();
        assert!(
            example.contains("costform "),
            "`costform {}`'s example runs no costform command",
            args.join(" ")
        );
    }
}
