//! Ctrl-C (and SIGTERM, which CI runners send on cancel): stop dispatching,
//! let in-flight requests finish, save the state.

use costform_planner::{Cancel, LockedState};

use crate::context::Context;
use crate::printer::Printer;
use crate::progress::BackgroundTask;

/// A cancellation signal that the first Ctrl-C or SIGTERM raises. A second
/// one exits at once: every token received is already in the journal, which
/// the next run folds into the state. The state lock `locked` holds is
/// released first (GNU `timeout` signals the whole process group, so a
/// second signal is common), so the next run needs no `force-unlock`.
pub fn on_ctrl_c(context: &Context, locked: &LockedState) -> Cancel {
    let lock = (context.shared_backend(), locked.lock_id().to_owned());
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
            let (backend, id) = lock;
            let _ = backend.force_unlock(&id);
            std::process::exit(130);
        }
    });
    cancel
}

/// Once `cancel` is raised, ends the client's waits for rate-limit tokens:
/// a request waiting (up to 15 minutes) for its organization's bucket is
/// not sent, rather than holding the interrupted run.
pub fn stop_rate_limit_waits(
    cancel: &Cancel,
    client: Option<&costform_http::Client>,
) -> BackgroundTask {
    let Some(client) = client.cloned() else {
        return BackgroundTask(None);
    };
    let cancel = cancel.clone();
    BackgroundTask(Some(tokio::spawn(async move {
        cancel.cancelled().await;
        client.stop_waiting();
    })))
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
