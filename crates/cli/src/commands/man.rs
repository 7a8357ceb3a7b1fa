//! `costform man`: the man page, generated from the same clap definitions as
//! `--help` so the two never disagree.

use clap::CommandFactory;
use miette::IntoDiagnostic;

use crate::args::Cli;
use crate::exit::Exit;

/// Prints the roff man page to stdout.
pub fn run() -> miette::Result<Exit> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .into_diagnostic()?;
    Ok(Exit::Success)
}
