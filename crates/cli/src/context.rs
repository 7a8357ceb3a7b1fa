//! The resolved settings of one run: where the definitions and the state are,
//! what "now" is, the environment snapshot, and how to print.
//!
//! Commands take a `Context` rather than reading the process environment, so
//! `costform demo` can run the real commands against its own emulator and
//! directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use costform_model::result_body::DEFAULT_MAX_RESULT_BYTES;
use costform_model::{Definitions, LoadOptions};
use costform_planner::StateBackend;
use jiff::Timestamp;
use miette::{IntoDiagnostic, WrapErr, miette};

use crate::args::GlobalArgs;
use crate::state_backend;
use crate::ui::{self, Ui};

/// The state file's name inside the definitions directory.
pub const DEFAULT_STATE_FILE: &str = "costform.state.json";

/// Everything a command needs to know about this run.
#[derive(Debug, Clone)]
pub struct Context {
    /// The global flags as given.
    pub global: GlobalArgs,
    /// A snapshot of the process environment (or the demo's stand-in).
    pub env: BTreeMap<String, String>,
    /// The resolved "now": `--now`, `COSTFORM_NOW`, or the clock.
    pub now: Timestamp,
    /// How to print.
    pub ui: Ui,
    /// Where the state lives, built once from `--state` and `--workspace`.
    backend: Arc<dyn StateBackend>,
    /// The directory result paths are relative to, found with the backend.
    state_dir: PathBuf,
    /// The run's Atlas client, built on first use and shared by all the
    /// command does (reading lookups, then sending queries): a service
    /// account mints one token per run, and a warning is said once.
    client: Arc<OnceLock<costform_http::Client>>,
}

impl Context {
    /// Resolves the flags against the environment. A flag wins over its
    /// `COSTFORM_*` variable; an empty variable counts as unset, as CI
    /// systems often define variables they leave empty.
    pub fn new(
        mut global: GlobalArgs,
        env: BTreeMap<String, String>,
        ui: Ui,
    ) -> miette::Result<Self> {
        let from_env = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
        global.dir = global
            .dir
            .or_else(|| from_env("COSTFORM_DIR").map(PathBuf::from));
        global.state = global
            .state
            .or_else(|| from_env("COSTFORM_STATE").map(PathBuf::from));
        global.now = global.now.or_else(|| from_env("COSTFORM_NOW"));
        global.workspace = global.workspace.or_else(|| from_env("COSTFORM_WORKSPACE"));
        let now = match &global.now {
            Some(text) => costform_model::parse_now(text).map_err(|reason| {
                miette!(
                    help = "write a date such as `2026-11-26` (midnight UTC) or an RFC 3339 time such as `2026-11-26T03:00:00Z`",
                    "invalid --now / COSTFORM_NOW `{text}`: {reason}"
                )
            })?,
            None => Timestamp::now(),
        };
        let (backend, state_dir) = open_backend(&global, &env)?;
        Ok(Self {
            global,
            env,
            now,
            ui,
            backend,
            state_dir,
            client: Arc::default(),
        })
    }

    /// This context with other definitions and state places (a saved
    /// plan's, the demo's), the backend built again for them.
    pub fn relocated(&self, dir: PathBuf, state: Option<PathBuf>) -> miette::Result<Self> {
        let mut moved = self.clone();
        moved.global.dir = Some(dir);
        moved.global.state = state;
        (moved.backend, moved.state_dir) = open_backend(&moved.global, &moved.env)?;
        Ok(moved)
    }

    /// The state backend of this run.
    pub fn backend(&self) -> &dyn StateBackend {
        self.backend.as_ref()
    }

    /// The backend, shared (for the interrupt handler's last-resort unlock).
    pub fn shared_backend(&self) -> Arc<dyn StateBackend> {
        Arc::clone(&self.backend)
    }

    /// Where the state is, for messages and saved plans: the file's path,
    /// or the database URL without its password, with the workspace.
    pub fn state_location(&self) -> String {
        self.backend.location()
    }

    /// The definitions directory (`--dir`, `COSTFORM_DIR`, or `.`).
    pub fn dir(&self) -> PathBuf {
        self.global
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The directory result paths are relative to and `results/` goes by
    /// default: the state file's (the workspace's), or the definitions
    /// directory when the state is in a database.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone()
    }

    /// Loads, renders and validates the definitions; prints warnings to
    /// stderr and fails with every error at once. With `--strict` a warning
    /// fails the run too, so a pull-request check cannot pass what main will
    /// reject.
    pub fn load_definitions_with(&self, strictness: Strictness) -> miette::Result<Definitions> {
        self.load_definitions_from(&self.load_options(), strictness)
    }

    /// As [`Context::load_definitions_with`], with `options` (lookups known).
    pub fn load_definitions_from(
        &self,
        options: &LoadOptions,
        strictness: Strictness,
    ) -> miette::Result<Definitions> {
        let definitions = costform_model::load(options).map_err(miette::Report::new)?;
        self.show_warnings(definitions, strictness)
    }

    /// Prints the warnings of loaded definitions, or fails with `--strict`.
    pub fn show_warnings(
        &self,
        definitions: Definitions,
        strictness: Strictness,
    ) -> miette::Result<Definitions> {
        let count = definitions.warnings.len();
        if count > 0 && strictness == Strictness::Strict {
            ui::print_report(&miette::Report::new(definitions.warnings));
            return Err(miette!(
                help = "fix the warnings above, or run without `--strict`",
                "{count} {} in the definitions, and `--strict` makes warnings errors",
                if count == 1 { "warning" } else { "warnings" }
            ));
        }
        if count > 0 && !self.ui.quiet {
            ui::print_report(&miette::Report::new(definitions.warnings.clone()));
        }
        Ok(definitions)
    }

    /// What the model needs to load the definitions.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            dir: self.dir(),
            now: self.now,
            vars: self.global.vars.clone(),
            var_files: self.global.var_files.clone(),
            env: self.env.clone(),
            allow_env: self.global.allow_env.clone(),
            lookups: BTreeMap::new(),
        }
    }

    /// Reads an environment variable from the run's snapshot.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    /// The run's Atlas client, configured from the environment snapshot
    /// on first use; later calls share it (clones share the connection pool
    /// and the service account's token).
    pub fn client(&self) -> miette::Result<costform_http::Client> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = self.client_reading_up_to(DEFAULT_MAX_RESULT_BYTES)?;
        Ok(self.client.get_or_init(|| client).clone())
    }

    /// Ends the run's use of the shared client, if one was built (revokes a
    /// service account's token). For the end of a command.
    pub async fn close_client(&self) {
        if let Some(client) = self.client.get() {
            client.close().await;
        }
    }

    /// [`Context::client`] reading results of up to `max_result_bytes`
    /// (`fetch --max-result-size`).
    pub fn client_reading_up_to(
        &self,
        max_result_bytes: u64,
    ) -> miette::Result<costform_http::Client> {
        let mut config =
            costform_http::ClientConfig::from_env(|name| self.env_var(name)).into_diagnostic()?;
        config.allow_insecure_http = self.global.allow_insecure_http;
        config.max_result_bytes = max_result_bytes;
        if config.allow_insecure_http && config.is_plaintext_remote() {
            self.ui.status(&format!(
                "{} `{}` is plain http: the credentials cross the network in clear",
                self.ui.warn("Warning:"),
                config.base_url
            ));
        }
        costform_http::Client::new(config).into_diagnostic()
    }

    /// The default results directory: `results/` next to the state file.
    pub fn results_dir(&self) -> PathBuf {
        self.state_dir().join("results")
    }
}

/// The backend `--state` and `--workspace` name: a local file by default.
fn open_backend(
    global: &GlobalArgs,
    env: &BTreeMap<String, String>,
) -> miette::Result<(Arc<dyn StateBackend>, PathBuf)> {
    let dir = global.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    state_backend::open(
        global.state.as_deref(),
        dir.join(DEFAULT_STATE_FILE),
        global.workspace.as_deref(),
        &dir,
        env,
    )
}

/// Whether warnings in the definitions fail the run (`--strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Warnings are shown and the run goes on.
    Lenient,
    /// Warnings are errors.
    Strict,
}

impl Strictness {
    /// From the `--strict` flag.
    pub fn from_flag(strict: bool) -> Self {
        if strict { Self::Strict } else { Self::Lenient }
    }
}

/// Reads a file the user named, with the path in the error.
pub fn read_file(path: &Path) -> miette::Result<String> {
    std::fs::read_to_string(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("failed to read `{}`", path.display()))
}
