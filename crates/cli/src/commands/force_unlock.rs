//! `costform force-unlock LOCK_ID`: remove a lock left behind by a killed run.

use crate::args::ForceUnlockArgs;
use crate::context::Context;
use crate::exit::Exit;
use miette::IntoDiagnostic;

/// Removes the lock when its id matches, as Terraform does.
pub fn run(context: &Context, args: &ForceUnlockArgs) -> miette::Result<Exit> {
    context
        .backend()
        .force_unlock(&args.lock_id)
        .into_diagnostic()?;
    context.ui.printer().summary().line(format_args!(
        "{} The state `{}` has been unlocked.",
        context
            .ui
            .success("costform state has been successfully unlocked!"),
        context.state_location()
    ));
    Ok(Exit::Success)
}
