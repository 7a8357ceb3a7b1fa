//! costform-http is costform's client for the Atlas Admin API: credentials
//! (bearer token, service account OAuth, API key Digest), the versioned
//! headers, retries with backoff, the `?envelope=true` polling of Cost
//! Explorer results, and one typed [`Error`] built from Atlas's `ApiError`.
//!
//! It knows nothing of plans or state files (the planner drives it through
//! its own traits, wired up by the CLI) and never prints: retries are logged
//! through `tracing`, without credentials.

mod auth;
mod client;
mod config;
mod download;
mod envelope;
mod error;
mod invoices;
mod pacing;
mod percent;
mod projects;
mod rate_limit;
mod redirect;
mod retry;
mod secret;
mod transport;
mod usage;

pub use client::Client;
pub use config::{
    ACCESS_TOKEN, BASE_URL, CLIENT_ID, CLIENT_SECRET, ClientConfig, Credentials, DEFAULT_BASE_URL,
    PRIVATE_API_KEY, PUBLIC_API_KEY,
};
pub use error::{ApiError, Error};
pub use invoices::{InvoiceReport, REPORTS_MEDIA_TYPE};
pub use secret::Secret;
pub use usage::{CSV_MEDIA_TYPE, JSON_MEDIA_TYPE, Usage};
