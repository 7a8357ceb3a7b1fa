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
use crate::download::DownloadRequest;
use crate::invoices::IssuedReport;
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
    downloads: JoinHandle<()>,
}

impl Emulator {
    /// Binds `config.listen` and starts serving in a background task.
    pub async fn start(config: Config) -> io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        // The download host is another listener on the same interface, as
        // Atlas's files live on another host than its API.
        let download_listener = TcpListener::bind((config.listen.ip(), 0)).await?;
        let download_address = download_listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        shared
            .reports
            .set_download_base(format!("http://{download_address}"));
        let server = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            router(Arc::clone(&shared)),
        ));
        let download_router = crate::download::router(Arc::clone(&shared));
        let downloads = tokio::spawn(async move {
            // Ends only when aborted with the emulator.
            let _ = axum::serve(download_listener, download_router).await;
        });
        Ok(Self {
            handle: EmulatorHandle {
                shared,
                address,
                download_address,
            },
            server,
            downloads,
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
        self.downloads.abort();
        // The tasks were aborted; their `JoinError::Cancelled` is the expected outcome.
        let _ = (&mut self.server).await;
        let _ = (&mut self.downloads).await;
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
        self.downloads.abort();
    }
}

/// Steers and observes a running emulator; cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    address: SocketAddr,
    download_address: SocketAddr,
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

    /// The download host's base URL (the second listener), where every
    /// `downloadUrl` points.
    pub fn download_base_url(&self) -> String {
        format!("http://{}", self.download_address)
    }

    /// Every request the download host received, with its `Authorization`
    /// header if one was sent.
    pub fn download_log(&self) -> Vec<DownloadRequest> {
        self.shared.downloads.entries()
    }

    /// Every invoice report created so far, in creation order.
    pub fn issued_reports(&self) -> Vec<IssuedReport> {
        self.shared.reports.issued()
    }

    /// Reports that finish from now on answer `FAILED` with `reason`;
    /// `None` lets them succeed again.
    pub fn fail_reports(&self, reason: Option<&str>) {
        self.shared.reports.fail_with(reason.map(str::to_owned));
    }

    /// Makes every download URL handed out so far answer 403 (expired); the
    /// next read of a report hands out a fresh one.
    pub fn expire_download_urls(&self) {
        self.shared.reports.expire_download_urls();
    }

    /// Download URLs handed out from now on expire `lifetime` after (a
    /// negative one: already past their `expiresAt` when handed out).
    pub fn set_download_url_lifetime(&self, lifetime: jiff::SignedDuration) {
        self.shared.reports.set_url_lifetime(lifetime);
    }

    /// The next `count` downloads are refused as expired (403), as a URL
    /// that expired between the report's read and the download is.
    pub fn refuse_next_downloads(&self, count: u32) {
        self.shared.reports.refuse_next_downloads(count);
    }

    /// Makes invoice report `report_id` answer 404 from now on; false if it
    /// was never created.
    pub fn expire_report(&self, report_id: &str) -> bool {
        self.shared.reports.expire_report(report_id)
    }
}
