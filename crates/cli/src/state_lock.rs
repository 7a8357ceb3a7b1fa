//! Taking the state lock for a writing command, with `--lock-timeout`.

use costform_planner::{LockOptions, LockedState};
use miette::IntoDiagnostic;

use crate::context::Context;

/// Locks the run's state; a held lock fails fast (or after
/// `--lock-timeout`) with a message naming the holder.
pub fn lock(context: &Context, command: &str) -> miette::Result<LockedState> {
    let options = LockOptions {
        timeout: context.global.lock_timeout,
        command: command.to_owned(),
    };
    context.backend().lock(&options).into_diagnostic()
}
