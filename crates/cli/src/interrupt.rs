//! Ctrl-C: stop dispatching, let in-flight requests finish, save the state.

use costform_planner::Cancel;

/// A cancellation signal that the first Ctrl-C raises. A second Ctrl-C exits
/// at once: every token received is already in the journal, which the next
/// run folds into the state.
pub fn on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let raised = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        anstream::eprintln!(
            "\nInterrupt received: finishing requests in flight, then saving the state (Ctrl-C again to quit now)..."
        );
        raised.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    cancel
}
