//! The command line: clap types only. Turning them into validated settings is
//! `context`'s job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use costform_model::ids::ReportName;

const AFTER_HELP: &str = "\
Exit codes: 0 success; 1 error (bad input, API error, lock held, stale plan,
fetch --wait whose --timeout ran out with results still processing);
2 with --detailed-exitcode: plan has changes, or fetch has results still processing;
130 interrupted (Ctrl-C or SIGTERM) after saving the state.

Examples:
  costform validate --dir reports/
  costform plan --dir reports/ --out plan.json
  costform apply plan.json
  costform fetch --wait --timeout 10m";

/// Terraform-style plan/apply for MongoDB Atlas Cost Explorer queries.
#[derive(Debug, Parser)]
#[command(name = "costform", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory holding the report definition files (*.yaml, *.yml) [env:
    /// COSTFORM_DIR] [default: .]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Where the state lives: a file path, or a postgres:// URL for a state
    /// a team shares [env: COSTFORM_STATE] [default: DIR/costform.state.json]
    #[arg(long, global = true, value_name = "PATH_OR_URL")]
    pub state: Option<PathBuf>,

    /// The workspace: an independent state in the same backend (one per
    /// team or repository; a local file's are in `costform.state.d/NAME/`)
    /// [env: COSTFORM_WORKSPACE] [default: default]
    #[arg(long, global = true, value_name = "NAME")]
    pub workspace: Option<String>,

    /// Pin "now": YYYY-MM-DD (midnight UTC) or an RFC 3339 time. Templates and
    /// periods are rendered as of this instant [env: COSTFORM_NOW]
    #[arg(long, global = true, value_name = "WHEN")]
    pub now: Option<String>,

    /// Set a variable declared under `variables:`; repeatable; wins over
    /// --var-file. A list or map variable takes JSON: `--var 'orgs=["a","b"]'`.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Read variables from a YAML file of `name: value` pairs; repeatable.
    #[arg(long = "var-file", global = true, value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Let templates read this environment variable with env(); by default only
    /// COSTFORM_* variables are readable, so a definitions file cannot copy a
    /// secret into a plan. Repeatable.
    #[arg(long = "allow-env", global = true, value_name = "NAME")]
    pub allow_env: Vec<String>,

    /// Wait this long for the state lock instead of failing at once (e.g. 30s, 2m).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,

    /// Accept an http:// MONGODB_ATLAS_BASE_URL on a host other than loopback,
    /// which sends the credentials in clear (a warning is printed).
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    /// Plain output without colours (also NO_COLOR, or when output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// More detail: -v shows retries and each request, -vv debug output.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors and the requested output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, render and check every definition (no network, no state).
    #[command(
        after_help = "Examples:\n  costform validate\n  costform validate --strict --format json --dir reports/"
    )]
    Validate(ValidateArgs),
    /// Print, as JSON, the exact request bodies that would be sent.
    #[command(
        after_help = "Examples:\n  costform render\n  costform render last-month-by-service --now 2027-01-03"
    )]
    Render(RenderArgs),
    /// Show what apply would do: creates, requeries and forgets, as a diff against the state.
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
    /// Send the queries and record their handles (tokens, report ids) in the state.
    #[command(after_help = APPLY_HELP)]
    Apply(ApplyArgs),
    /// Retrieve results for the handles in the state.
    #[command(after_help = FETCH_HELP)]
    Fetch(FetchArgs),
    /// Show the state, or a saved plan.
    #[command(after_help = "Examples:\n  costform show\n  costform show plan.json --json")]
    Show(ShowArgs),
    /// Cost tables and month-over-month changes from the fetched results (offline).
    #[command(after_help = COSTS_HELP)]
    Costs(CostsArgs),
    /// Hold every report's budget against its latest results (exit 3 on a breach).
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Inspect and edit the state.
    #[command(subcommand, after_help = STATE_HELP)]
    State(StateCommand),
    /// Remove a lock left behind by a killed run.
    #[command(
        after_help = "The lock id is printed by the command that found the lock.\n\nExample:\n  costform force-unlock 0b5e6c1a-5f6b-4a53-9d1e-0c8f3a7b2d41"
    )]
    ForceUnlock(ForceUnlockArgs),
    /// Serve the Atlas-compatible emulator (loopback by default).
    #[command(after_help = EMULATOR_HELP)]
    Emulator(EmulatorArgs),
    /// Run the whole cycle on the bundled examples against an in-process emulator.
    #[command(after_help = "Examples:\n  costform demo\n  costform demo --dir /tmp/costform-demo")]
    Demo,
    /// Print a JSON Schema: definitions (default), state or plan.
    #[command(after_help = "Example:\n  costform schema > costform.schema.json")]
    Schema(SchemaArgs),
    /// Print shell completions.
    #[command(
        after_help = "Example:\n  costform completions bash > /etc/bash_completion.d/costform"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  costform man | man -l -")]
    Man,
}

const PLAN_HELP: &str = "\
Plan is offline and needs no credentials unless --refresh is given.

Examples:
  costform plan
  costform plan --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  costform plan --out plan.json --detailed-exitcode
  costform plan --now 2026-12-01 --target last-month-by-service";

const APPLY_HELP: &str = "\
Without PLANFILE, apply plans first and asks for confirmation on a terminal;
in CI, pass --auto-approve or apply a saved plan.

Examples:
  costform apply
  costform plan --out plan.json && costform apply plan.json
  costform apply --auto-approve --parallelism 8";

const FETCH_HELP: &str = "\
Examples:
  costform fetch
  costform fetch --wait --timeout 10m --out-dir results/
  costform fetch last-month-by-service --format csv
  costform fetch --wait --summary markdown >> \"$GITHUB_STEP_SUMMARY\"";

const EMULATOR_HELP: &str = "\
It prints its base URL and the demo credentials it accepts.

Example:
  costform emulator --listen 127.0.0.1:8080 --processing-polls 2
  # in another shell:
  export MONGODB_ATLAS_BASE_URL=http://127.0.0.1:8080
  export MONGODB_ATLAS_ACCESS_TOKEN=costform-demo-access-token
  costform apply --auto-approve";

const STATE_HELP: &str = "\
Examples:
  costform state list
  costform state show last-month-by-service
  costform state rm old-report";

/// `costform validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// text for people, json for editors and CI annotations (one object per problem).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Treat warnings (an unknown service name, a dimension without filter
    /// values) as errors: exit 1, for pull-request checks.
    #[arg(long)]
    pub strict: bool,
    /// Also list the reports read, one `report.NAME` per line with where it
    /// is defined (the JSON output always lists them).
    #[arg(long)]
    pub list: bool,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Diagnostics with the offending value underlined.
    Text,
    /// `{"valid": bool, "diagnostics": [...]}`.
    Json,
}

/// `costform render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Only these reports (default: all).
    #[arg(value_name = "NAME", value_parser = parse_address)]
    pub names: Vec<ReportName>,
}

/// Selecting and forcing reports, shared by plan and apply.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Limit the plan to this report; repeatable.
    #[arg(long = "target", value_name = "NAME", value_parser = parse_address)]
    pub targets: Vec<ReportName>,
    /// Query this report again even if nothing changed; repeatable.
    #[arg(long = "replace", value_name = "NAME", value_parser = parse_address)]
    pub replace: Vec<ReportName>,
}

/// `costform plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan, to apply exactly it later with `costform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Treat warnings in the definitions as errors: exit 1, for pull-request checks.
    #[arg(long)]
    pub strict: bool,
    /// text (Terraform-like), json (the versioned plan format) or markdown (pull requests).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub targets: TargetArgs,
    /// Ask Atlas about the stored handles (tokens, report ids) first, so
    /// expired and failed ones are re-queried (needs credentials).
    #[arg(long)]
    pub refresh: bool,
    /// Concurrent requests for --refresh.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
}

/// Output formats of `plan` and `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like text.
    Text,
    /// The versioned plan format (schemas/plan.schema.json).
    Json,
    /// A summary table and collapsed details, for a pull-request comment.
    Markdown,
}

/// `costform apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `costform plan --out`; applied exactly as saved.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Concurrent requests to Atlas.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub targets: TargetArgs,
}

/// `costform fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Only these reports (default: every report with a live handle).
    #[arg(value_name = "NAME", value_parser = parse_address)]
    pub names: Vec<ReportName>,
    /// Poll until every result is ready (1 s growing to 30 s between polls).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this long (e.g. 90s, 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "wait")]
    pub timeout: Option<std::time::Duration>,
    /// The result files: json as Atlas returns it, or csv (asks Atlas for CSV).
    #[arg(long, value_enum, default_value_t = ResultFormatArg::Json)]
    pub format: ResultFormatArg,
    /// How to print the end summary.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub summary: SummaryFormat,
    /// Where result files go [default: results/ next to the state file].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Concurrent requests to Atlas.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Exit 2 when some results are still processing.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// The largest result read (e.g. 512MiB, 2GiB); a larger one fails its
    /// report and is not written. Results stream to disk, so memory stays
    /// flat whatever this is.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_result_size: u64,
}

/// Result file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultFormatArg {
    /// NAME.json.
    Json,
    /// NAME.csv.
    Csv,
}

/// Summary formats of `fetch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// A table.
    Text,
    /// One JSON object.
    Json,
    /// A table for a pull-request comment or step summary.
    Markdown,
}

const COSTS_HELP: &str = "Amounts are exact decimals: rounded to cents only as they are printed, never in csv or json. Currencies are never added together.

Examples:
  costform costs
  costform costs --compare previous --format markdown > costs.md
  costform costs by-project --by group --format html --out costs.html";

/// `costform costs`.
#[derive(Debug, Args)]
pub struct CostsArgs {
    /// Reports to include (`NAME` or `report.NAME`; default: every report with a result).
    #[arg(value_name = "NAME", value_parser = parse_address)]
    pub names: Vec<ReportName>,
    /// What the table's rows are: months (daily results added up), days, groups or services.
    #[arg(long, value_enum, default_value_t = CostsBy::Month)]
    pub by: CostsBy,
    /// Compare the latest month with the month before or the same month a year before.
    #[arg(long, value_enum)]
    pub compare: Option<CostsCompare>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CostsFormat::Text)]
    pub format: CostsFormat,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The rows of a `costs` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostsBy {
    /// One row per month.
    Month,
    /// One row per day (FOCUS results).
    Day,
    /// One row per group (project, cluster, …), months as columns.
    Group,
    /// One row per service, months as columns.
    Service,
}

/// What `costs --compare` compares the latest month with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostsCompare {
    /// The month before.
    Previous,
    /// The same month a year before.
    Year,
}

/// Output formats of `costs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostsFormat {
    /// Aligned columns for a terminal.
    Text,
    /// Tables for a pull-request comment (under 65,000 characters).
    Markdown,
    /// One tidy table for a spreadsheet or `COPY`.
    Csv,
    /// Versioned JSON, amounts as decimal strings.
    Json,
    /// One self-contained page with charts.
    Html,
}

const CHECK_HELP: &str = "Exit codes: 0 every budget holds, 3 a budget is breached, 1 an error (or, with --require-results, a report not checked).

Examples:
  costform check
  costform check --format markdown >> \"$GITHUB_STEP_SUMMARY\"";

/// `costform check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Reports to check (`NAME` or `report.NAME`; default: every report with a `budget:`).
    #[arg(value_name = "NAME", value_parser = parse_address)]
    pub names: Vec<ReportName>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit 1 when a report with a budget has no result to check.
    #[arg(long)]
    pub require_results: bool,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per report or breach.
    Text,
    /// A list for a pull-request comment.
    Markdown,
    /// Versioned JSON.
    Json,
}

/// `costform show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan (default: show the state).
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `costform state ...`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the reports in the state, one per line.
    #[command(after_help = "Example:\n  costform state list --dir reports/")]
    List,
    /// Show one report's entry as JSON.
    #[command(after_help = "Example:\n  costform state show last-month-by-service")]
    Show {
        /// The report.
        #[arg(value_parser = parse_address)]
        name: ReportName,
    },
    /// Remove a report from the state (its handle is not touched in Atlas).
    #[command(
        after_help = "The report is planned as new again if it is still defined.\n\nExample:\n  costform state rm old-report"
    )]
    Rm {
        /// The reports.
        #[arg(required = true, value_parser = parse_address)]
        names: Vec<ReportName>,
    },
    /// Copy the state to another backend (a file or a postgres:// URL).
    ///
    /// Every report, the lineage and the serial are copied; the target must
    /// hold no state yet; the source is left as it is.
    #[command(
        after_help = "Examples:\n  costform state migrate --to 'postgres://ci@db.internal/finops?sslmode=verify-full'\n  costform --state 'postgres://ci@db.internal/finops' state migrate --to costform.state.json"
    )]
    Migrate {
        /// Where to copy the state to.
        #[arg(long, value_name = "PATH_OR_URL")]
        to: PathBuf,
    },
}

/// `costform force-unlock`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock id to remove.
    pub lock_id: String,
}

/// `costform emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Polls that answer "processing" before a token's results are ready.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub processing_polls: u32,
    /// Delay added to every API response (e.g. 20ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub latency: Option<std::time::Duration>,
    /// Answer 429 (with Retry-After) to every Nth API request.
    #[arg(long, value_name = "N")]
    pub rate_limit_every: Option<u32>,
    /// Retry-After seconds sent with 429s.
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    pub retry_after: u64,
    /// Answer 500 to every Nth API request.
    #[arg(long, value_name = "N")]
    pub server_error_every: Option<u32>,
    /// Drop the connection of every Nth API request.
    #[arg(long, value_name = "N")]
    pub drop_every: Option<u32>,
    /// Rate-limit each organization as Atlas does: a token bucket of CAPACITY
    /// requests refilled by REFILL every PERIOD (e.g. 10:5/60s).
    #[arg(long, value_name = "CAPACITY:REFILL/PERIOD")]
    pub token_bucket: Option<costform_emulator::TokenBucket>,
}

/// `costform schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value_t = SchemaKind::Definitions)]
    pub kind: SchemaKind,
}

/// The JSON Schemas costform publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Definition files (schemas/costform.schema.json).
    Definitions,
    /// The state file (schemas/state.schema.json).
    State,
    /// Saved and JSON plans (schemas/plan.schema.json).
    Plan,
    /// `costs --format json` (schemas/costs.schema.json).
    Costs,
}

/// `costform completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// A report as users type it: `NAME`, or `report.NAME` as `plan` and
/// `state list` print it, so an address can be pasted back.
fn parse_address(text: &str) -> Result<ReportName, String> {
    ReportName::parse(text.strip_prefix("report.").unwrap_or(text)).map_err(|error| {
        if text.contains('[') {
            format!(
                "`{text}` is not a report address: an instance is written `report.NAME[\"KEY\"]`, quoted for the shell: 'report.NAME[\"KEY\"]'"
            )
        } else {
            error.to_string()
        }
    })
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// Parses "30s", "2m", "1h 30m" or ISO 8601 ("PT30S").
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let signed: jiff::SignedDuration = text
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. `30s`, `2m` or `1h 30m`"))?;
    std::time::Duration::try_from(signed).map_err(|_| format!("`{text}` must not be negative"))
}

/// Reads a size as written by people: `1GiB`, `512 MiB`, `10MB`, `4096`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || format!("`{text}` is not a size; write e.g. `512MiB`, `2GiB` or `1000000`");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(invalid()),
    };
    match number.checked_mul(scale) {
        Some(0) => Err(format!("`{text}` must be more than zero")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes_read_with_binary_and_decimal_units() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "GiB", "1.5GiB", "-1", "1TB", "0"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_read_like_terraform_timeouts() {
        assert_eq!(
            parse_duration("30s"),
            Ok(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("2m"),
            Ok(std::time::Duration::from_secs(120))
        );
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("`soon` is not a duration")
        );
    }

    #[test]
    fn report_addresses_are_names() {
        assert_eq!(parse_address("report.fy2026"), parse_address("fy2026"));
        assert_eq!(parse_address("fy2026").unwrap().as_str(), "fy2026");
        assert!(parse_address("report.").is_err());
        let instance = parse_address(r#"report.per-org["emea"]"#).unwrap();
        assert_eq!((instance.base(), instance.key()), ("per-org", Some("emea")));
        assert!(
            parse_address("report.per-org[emea]")
                .unwrap_err()
                .contains(r#"report.NAME["KEY"]"#)
        );
    }

    #[test]
    fn vars_split_at_the_first_equals_sign() {
        assert_eq!(parse_var("org=a=b"), Ok(("org".into(), "a=b".into())));
        assert!(parse_var("=x").is_err());
    }
}
