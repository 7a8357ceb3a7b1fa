//! A cancellation signal a Ctrl-C handler can raise while apply or fetch run.

use std::sync::Arc;

use tokio::sync::watch;

/// Cheap to clone; every clone sees the same signal. Engines stop dispatching
/// new work once it is raised and let what is in flight finish, so that every
/// token Atlas has already issued is still recorded.
#[derive(Debug, Clone)]
pub struct Cancel {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl Cancel {
    /// A signal that has not been raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the signal; safe to call from any thread, any number of times.
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has been raised.
    pub fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the signal is raised (at once if it already was).
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = receiver.wait_for(|raised| *raised).await;
    }
}
