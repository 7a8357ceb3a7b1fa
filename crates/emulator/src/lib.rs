//! An Atlas-compatible Cost Explorer server for costform's tests and demo.
//!
//! It speaks the Atlas contract for `POST .../billing/costExplorer/usage`,
//! `GET .../billing/costExplorer/usage/{token}` and `POST /api/oauth/token`:
//! bearer, OAuth client-credentials and Digest auth, the `ApiError` body for
//! every error, validation as the OpenAPI excerpt states, "processing" polls,
//! deterministic synthetic results in JSON or CSV, and fault switches (latency,
//! 429, 500, dropped connections). It depends on no other costform crate: it
//! validates on its own so that it and the client keep each other honest.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = costform_emulator::Emulator::start(costform_emulator::Config::demo()).await?;
//! println!("{}", emulator.base_url());
//! emulator.wait_for_shutdown(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

mod api_error;
mod auth;
mod config;
mod connection;
mod delivery;
mod digest;
mod download;
mod emulator;
mod focus;
mod invoices;
mod log;
mod media;
mod oauth;
mod projects;
mod rate_limit;
mod routes;
mod state;
mod stream;
mod thread;
mod usage;
mod validation;

pub use config::{
    AuthConfig, Config, DEMO_ACCESS_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
    DEMO_PRIVATE_API_KEY, DEMO_PUBLIC_API_KEY, Faults,
};
pub use download::DownloadRequest;
pub use emulator::{Emulator, EmulatorHandle};
pub use focus::focus_csv;
pub use invoices::{FIRST_INVOICE_MONTH, IssuedReport, REPORTS_MEDIA_TYPE};
pub use log::{IssuedToken, LoggedRequest};
pub use media::{CSV as CSV_MEDIA_TYPE, JSON as JSON_MEDIA_TYPE};
pub use projects::{LARGE_ORG_PREFIX, LARGE_ORG_PROJECTS, PROJECT_NAMES, projects_of};
pub use rate_limit::TokenBucket;
pub use thread::EmulatorThread;
pub use usage::{synthetic_usage, synthetic_usage_csv};
pub use validation::SERVICES;
