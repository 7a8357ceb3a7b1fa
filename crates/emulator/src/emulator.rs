//! Starting and stopping an emulator inside a tokio runtime, and the handle
//! tests use to steer and observe it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{Config, Faults};
use crate::connection::accept_loop;
use crate::log::{IssuedToken, LoggedRequest};
use crate::rate_limit::TokenBucket;
use crate::routes::router;
use crate::state::Shared;

/// A running emulator on the current tokio runtime; it stops when dropped.
///
/// The accessors live on [`EmulatorHandle`], which this derefs to, so that an
/// [`crate::EmulatorThread`] offers exactly the same ones.
#[derive(Debug)]
pub struct Emulator {
    handle: EmulatorHandle,
    server: JoinHandle<()>,
}

impl Emulator {
    /// Binds `config.listen` and starts serving in a background task.
    pub async fn start(config: Config) -> io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let server = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            router(Arc::clone(&shared)),
        ));
        Ok(Self {
            handle: EmulatorHandle { shared, address },
            server,
        })
    }

    /// A cloneable handle for steering the emulator from elsewhere.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// Serves until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then stops;
    /// what `costform emulator` runs after printing the base URL.
    pub async fn wait_for_shutdown<F: Future>(self, signal: F) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting, closes every open connection and waits until done.
    pub async fn shutdown(mut self) {
        self.server.abort();
        // The task was aborted; its `JoinError::Cancelled` is the expected outcome.
        let _ = (&mut self.server).await;
    }
}

impl Deref for Emulator {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Steers and observes a running emulator; cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    address: SocketAddr,
}

impl EmulatorHandle {
    /// The URL to use as `MONGODB_ATLAS_BASE_URL`, e.g. `http://127.0.0.1:38233`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address actually bound (the port is chosen by the OS for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Every request received so far, in arrival order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.request_log()
    }

    /// Every token issued so far, in issue order.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.shared.issued_tokens()
    }

    /// How many OAuth access tokens `/api/oauth/token` has minted.
    pub fn oauth_tokens_minted(&self) -> usize {
        self.shared.oauth_tokens_minted()
    }

    /// The faults now in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Replaces the faults; the API request count restarts, so the next API
    /// request is number 1 for the new switches.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// How many polls answer "processing" before results; applies to every
    /// token at its next poll.
    pub fn set_processing_polls(&self, polls: u32) {
        self.shared.set_processing_polls(polls);
    }

    /// Makes `token` answer 404 from now on; false if it was never issued.
    pub fn expire_token(&self, token: &str) -> bool {
        self.shared.expire_token(token)
    }

    /// Replaces the rate limiting (see [`crate::TokenBucket`]); every
    /// organization starts again with a full bucket.
    pub fn set_token_bucket(&self, bucket: Option<TokenBucket>) {
        self.shared.buckets.reshape(bucket);
    }

    /// Makes every token issued so far answer 404.
    pub fn expire_all_tokens(&self) {
        self.shared.expire_all_tokens();
    }
}
