//! Ctrl-C (and SIGTERM, which CI runners send on cancel): stop dispatching,
//! let in-flight requests finish, save the state.

use costform_planner::Cancel;

use crate::printer::Printer;

/// A cancellation signal that the first Ctrl-C or SIGTERM raises. A second
/// one exits at once: every token received is already in the journal, which
/// the next run folds into the state.
pub fn on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let raised = cancel.clone();
    tokio::spawn(async move {
        if !interrupted().await {
            return;
        }
        Printer::new(false).errors().line(
            "\nInterrupt received: finishing requests in flight, then saving the state (interrupt again to quit now)...",
        );
        raised.cancel();
        if interrupted().await {
            std::process::exit(130);
        }
    });
    cancel
}

/// Waits for Ctrl-C or, on Unix, SIGTERM; `false` if no handler could be set.
async fn interrupted() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.is_ok(),
            _ = terminate.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
