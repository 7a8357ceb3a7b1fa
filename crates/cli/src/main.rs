//! `costform`: Terraform-style plan/apply for MongoDB Atlas Cost Explorer
//! queries. This crate wires the model, planner, client and emulator together
//! and is the only one that prints.

mod addresses;
mod args;
mod atlas;
mod commands;
mod context;
mod costs;
mod credentials;
mod exit;
mod interrupt;
mod lookups;
mod output;
mod plan_file;
mod printer;
mod progress;
mod state_backend;
mod state_lock;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::context::Context;
use crate::exit::Exit;
use crate::ui::Ui;

fn main() -> ExitCode {
    // Usage errors exit 1 like every other bad input: clap's own 2 would read
    // as "plan has changes" to a script using --detailed-exitcode.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            }
            .into();
        }
    };
    let ui = Ui::detect(
        cli.global.no_color,
        cli.global.quiet,
        std::env::var_os("NO_COLOR").is_some(),
    );
    ui.install_miette();
    init_tracing(cli.global.verbose, cli.global.quiet, ui.color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            ui.printer().errors().line(format_args!(
                "error: failed to start the async runtime: {error}"
            ));
            return Exit::Error.into();
        }
    };
    let env = std::env::vars().collect();
    let outcome = runtime.block_on(async {
        let context = Context::new(cli.global.clone(), env, ui)?;
        let outcome = run(&context, &cli.command).await;
        // The shared client's token (a service account's) ends with the run,
        // whichever way the command ended.
        context.close_client().await;
        outcome
    });
    match outcome {
        Ok(exit) => exit.into(),
        Err(report) => {
            ui.printer().errors().line(format_args!("{report:?}"));
            Exit::Error.into()
        }
    }
}

/// Dispatches to the subcommand.
async fn run(context: &Context, command: &Command) -> miette::Result<Exit> {
    match command {
        Command::Validate(args) => commands::validate::run(context, args),
        Command::Render(args) => commands::render::run(context, args),
        Command::Plan(args) => commands::plan::run(context, args).await,
        Command::Apply(args) => commands::apply::run(context, args).await,
        Command::Fetch(args) => commands::fetch::run(context, args).await,
        Command::Show(args) => commands::show::run(context, args),
        Command::Costs(args) => commands::costs::run(context, args),
        Command::Check(args) => commands::check::run(context, args),
        Command::State(command) => commands::state::run(context, command),
        Command::ForceUnlock(args) => commands::force_unlock::run(context, args),
        Command::Emulator(args) => commands::emulator::run(context, args).await,
        Command::Demo => commands::demo::run(context).await,
        Command::Schema(args) => Ok(commands::schema::run(args)),
        Command::Completions(args) => Ok(commands::completions::run(args)),
        Command::Man => commands::man::run(),
    }
}

/// Logs go to stderr: warnings by default, retries and requests with `-v`,
/// debug detail with `-vv`. Secrets never reach a log line: the client
/// redacts them before logging.
fn init_tracing(verbose: u8, quiet: bool, color: bool) {
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, _) => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(verbose > 1)
        .without_time()
        .init();
}
