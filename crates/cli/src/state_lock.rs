//! Taking the state lock for a writing command, with `--lock-timeout`.

use costform_planner::{LockOptions, LockedState, StateBackend};
use miette::IntoDiagnostic;

use crate::context::Context;

/// Locks the run's state; a held lock fails fast (or after
/// `--lock-timeout`) with a message naming the holder.
pub fn lock(context: &Context, command: &str) -> miette::Result<LockedState> {
    lock_backend(context, context.backend(), command)
}

/// Locks the state in `backend` (another than the run's: `state migrate`'s
/// target) with the run's `--lock-timeout`.
pub fn lock_backend(
    context: &Context,
    backend: &dyn StateBackend,
    command: &str,
) -> miette::Result<LockedState> {
    let options = LockOptions {
        timeout: context.global.lock_timeout,
        command: command.to_owned(),
    };
    backend.lock(&options).into_diagnostic()
}
