//! `costform completions SHELL`.

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::exit::Exit;

/// Prints the completion script for the shell.
pub fn run(args: &CompletionsArgs) -> Exit {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "costform",
        &mut std::io::stdout(),
    );
    Exit::Success
}
