//! The Atlas client: the two Cost Explorer calls over auth and retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

use costform_model::ids::{OrgId, Token};
use costform_model::request::RequestBody;
use costform_model::state::ResultFormat;

use crate::auth::Auth;
use crate::config::ClientConfig;
use crate::download::Downloader;
use crate::error::{ApiError, Error};
use crate::pacing::Pacing;
use crate::percent::path_segment;
use crate::redirect::{self, MAX_REDIRECTS};
use crate::retry::Backoff;
use crate::transport::{Exchange, Outgoing, Transport};
use crate::usage::{JSON_MEDIA_TYPE, Usage, media_type, read_usage};

/// A client for one Atlas base URL and one set of credentials.
///
/// Cloning is cheap and clones share everything: the connection pool, the
/// service account's token, the Digest challenge and the retry counter, so a
/// run should build one client and hand clones to its tasks.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_url: String,
    transport: Transport,
    auth: Auth,
    downloader: Downloader,
}

#[derive(Deserialize)]
struct Created {
    token: String,
}

impl Client {
    /// Builds the client; no request is sent yet.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        config.check_transport_security()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("costform/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Redirects are followed by `send`, which re-authenticates for
            // the new URL and refuses to leave the origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::Setup)?;
        let transport = Transport {
            http,
            backoff: Backoff {
                base: config.base_backoff,
                max: config.max_backoff,
            },
            max_attempts: config.max_attempts,
            retries: AtomicU64::new(0),
            pacing: Pacing::default(),
            max_result_bytes: config.max_result_bytes,
        };
        let auth = Auth::new(&config.credentials, &config.base_url)?;
        let downloader = Downloader::new(&config);
        Ok(Self {
            inner: Arc::new(Inner {
                base_url: config.base_url,
                transport,
                auth,
                downloader,
            }),
        })
    }

    /// How many retries this client (and its clones) has performed so far.
    pub fn retries(&self) -> u64 {
        self.inner.transport.retries.load(Ordering::Relaxed)
    }

    /// Bounds every later wait for a rate limit by `deadline` (a run's
    /// `--timeout`) instead of 15 minutes: a request Atlas asks to wait past
    /// it fails at once, naming the wait, rather than sleeping in vain.
    pub fn set_deadline(&self, deadline: std::time::Instant) {
        self.inner.transport.pacing.set_deadline(deadline.into());
    }

    /// Ends every wait for a rate-limit token now: waiting requests fail
    /// unsent instead of sleeping out a wait of up to 15 minutes. For
    /// Ctrl-C, after which nothing new should start.
    pub fn stop_waiting(&self) {
        self.inner.transport.pacing.stop_waiting();
    }

    /// What a request is waiting for when it waits for a rate-limit token
    /// rather than for Atlas, for a progress bar to say so; `None` when no
    /// request is waiting for one.
    pub fn rate_limit_wait(&self) -> Option<String> {
        self.inner.transport.pacing.waiting()
    }

    /// Ends the run's use of the credentials: a service account's token is
    /// revoked (`POST /api/oauth/revoke`), best effort, never failing. Call it
    /// once, after the last request; a process killed before it leaves the
    /// token to expire on its own.
    pub async fn close(&self) {
        self.inner.auth.close(&self.inner.transport).await;
    }

    /// Creates a Cost Explorer query and returns its token.
    ///
    /// A POST whose connection drops after Atlas received it is retried like
    /// any other failure, so Atlas may create the query twice. That is
    /// harmless: queries are read-only and the token returned last simply
    /// supersedes the lost one.
    pub async fn create_cost_explorer_query(
        &self,
        org_id: &OrgId,
        body: &RequestBody,
    ) -> Result<Token, Error> {
        let path = format!("/api/atlas/v2/orgs/{org_id}/billing/costExplorer/usage");
        let request = post_json(&self.inner.base_url, &path, JSON_MEDIA_TYPE, body)?;
        let exchange = self.send(&request).await?;
        if !matches!(exchange.status, StatusCode::OK | StatusCode::ACCEPTED) {
            return Err(unexpected(&request, &exchange));
        }
        let invalid = |message: String| Error::InvalidResponse {
            url: request.url.to_string(),
            message,
        };
        let created: Created = serde_json::from_slice(&exchange.body)
            .map_err(|e| invalid(format!("expected `{{\"token\": ...}}`: {e}")))?;
        // Not the parse error: it would echo a token of any size.
        Token::parse(&created.token).map_err(|_| {
            invalid(format!(
                "the token is empty, over {} bytes or holds control characters ({} bytes)",
                Token::MAX_BYTES,
                created.token.len()
            ))
        })
    }

    /// Asks for a query's results; [`Usage::Processing`] means poll again.
    /// An unknown or expired token is an error for which
    /// [`Error::is_not_found`] holds.
    pub async fn get_cost_explorer_usage(
        &self,
        org_id: &OrgId,
        token: &Token,
        format: ResultFormat,
    ) -> Result<Usage, Error> {
        let token = path_segment(token.as_str());
        let path =
            format!("/api/atlas/v2/orgs/{org_id}/billing/costExplorer/usage/{token}?envelope=true");
        let request = get(&self.inner.base_url, &path, media_type(format), true)?;
        let exchange = self.send(&request).await?;
        read_usage(&request, exchange, format)
    }

    /// The base URL, for the kinds' adapters to build their paths on.
    pub(crate) fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The credential-free client for pre-signed download URLs.
    pub(crate) fn downloader(&self) -> &Downloader {
        &self.inner.downloader
    }

    /// Sends `request` with retries, following redirects that stay on its
    /// origin (see [`crate::redirect`]).
    pub(crate) async fn send(&self, request: &Outgoing) -> Result<Exchange, Error> {
        let Inner {
            transport, auth, ..
        } = &*self.inner;
        let mut current = request.clone();
        for _ in 0..=MAX_REDIRECTS {
            let exchange = transport
                .with_retries(&current, || auth.send(transport, &current))
                .await?;
            match redirect::next_request(&current, &exchange)? {
                Some(next) => current = next,
                None => return Ok(exchange),
            }
        }
        Err(Error::InvalidResponse {
            url: request.url.to_string(),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }
}

/// An error for a response that is neither the success nor a retryable one.
pub(crate) fn unexpected(request: &Outgoing, exchange: &Exchange) -> Error {
    let status = exchange.status.as_u16();
    if status >= 400 {
        return ApiError::from_body(
            status,
            request.method.as_str(),
            request.url.as_str(),
            &exchange.body,
        )
        .into();
    }
    Error::InvalidResponse {
        url: request.url.to_string(),
        message: format!("unexpected status {status}"),
    }
}

/// A POST of `body` as JSON in `media_type` (also what it accepts back).
pub(crate) fn post_json(
    base_url: &str,
    path: &str,
    media_type: &'static str,
    body: &RequestBody,
) -> Result<Outgoing, Error> {
    Ok(Outgoing {
        method: Method::POST,
        url: endpoint(base_url, path)?,
        accept: media_type,
        content_type: Some(media_type),
        body: serde_json::to_vec(body).map_err(|e| Error::InvalidResponse {
            url: path.to_owned(),
            message: format!("the request body cannot be serialized: {e}"),
        })?,
        reads_result: false,
    })
}

/// A GET of `path` accepting `accept`; `reads_result` when its 200 answer
/// is a result, read to a spool up to the result limit.
pub(crate) fn get(
    base_url: &str,
    path: &str,
    accept: &'static str,
    reads_result: bool,
) -> Result<Outgoing, Error> {
    Ok(Outgoing {
        method: Method::GET,
        url: endpoint(base_url, path)?,
        accept,
        content_type: None,
        body: Vec::new(),
        reads_result,
    })
}

/// `base_url` joined with `path` (which starts with `/`).
pub(crate) fn endpoint(base_url: &str, path: &str) -> Result<Url, Error> {
    Url::parse(&format!("{base_url}{path}")).map_err(|e| Error::InvalidBaseUrl {
        value: base_url.to_owned(),
        reason: e.to_string(),
    })
}
