//! Sending one request: headers, timeouts, and the retry loop around it.

use std::error::Error as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::error::{ApiError, Error};
use crate::pacing::Pacing;
use crate::rate_limit::{Signal, rate_limit_refusal};
use crate::retry::{Backoff, is_retryable_status, is_retryable_transport};

/// A request as the client means it, rebuilt for every attempt so that
/// per-attempt headers (a Digest response with a fresh nonce count) are right.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) accept: &'static str,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) body: Vec<u8>,
}

/// A response read to the end: a connection dropped mid-body is a transport
/// failure of the attempt, and so retried like any other.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Why one attempt produced no response.
pub(crate) enum Failure {
    /// The network failed; maybe retried.
    Transport(reqwest::Error),
    /// Something no retry can fix (credentials, a bad challenge).
    Fatal(Error),
}

/// The HTTP connection pool plus the retry policy and its counter.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
    pub(crate) retries: AtomicU64,
    pub(crate) pacing: Pacing,
}

impl Transport {
    /// Sends `request` once, with `authorization` if given.
    pub(crate) async fn send_once(
        &self,
        request: &Outgoing,
        authorization: Option<&HeaderValue>,
    ) -> Result<Exchange, reqwest::Error> {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .header(ACCEPT, request.accept);
        if let Some(content_type) = request.content_type {
            builder = builder
                .header(CONTENT_TYPE, content_type)
                .body(request.body.clone());
        }
        if let Some(authorization) = authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        // A run with a deadline (`fetch --wait --timeout`) bounds the whole
        // request by it, body included, not only by the client's timeout.
        if let Some(remaining) = self.pacing.remaining() {
            builder = builder.timeout(remaining.max(Duration::from_millis(1)));
        }
        tracing::debug!(method = %request.method, url = %request.url, "sending atlas request");
        let response = builder.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        tracing::debug!(method = %request.method, url = %request.url, status = status.as_u16(), "atlas answered");
        Ok(Exchange {
            status,
            headers,
            body,
        })
    }

    /// Runs `attempt` until it yields a response that is not 429 or 5xx, a
    /// fatal error, or a retry budget is spent; the last retryable response
    /// is then returned as is, for the caller to turn into an error.
    ///
    /// Two budgets: failures (5xx, timeouts, dropped connections) may be
    /// retried until `max_attempts` attempts have failed; a 429 is Atlas
    /// asking to wait, not a failure, so it spends its own budget of
    /// [`MAX_RATE_LIMITED_RETRIES`] and never the failure budget. Under heavy
    /// rate limiting a run gets slower, not broken.
    pub(crate) async fn with_retries<F, Fut>(
        &self,
        request: &Outgoing,
        mut attempt: F,
    ) -> Result<Exchange, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Exchange, Failure>>,
    {
        let mut budget = Budget::new(self.max_attempts);
        let mut sent = 0;
        loop {
            sent += 1;
            let refused = |too_long| rate_limit_refusal(request, too_long);
            let permit = self.pacing.acquire(&request.url).await.map_err(refused)?;
            let outcome = attempt().await;
            let signal = outcome.as_ref().ok().map(Signal::of).unwrap_or_default();
            permit.observe(&signal);
            drop(permit);
            let (reason, asked) = match outcome {
                Ok(exchange)
                    if is_retryable_status(exchange.status)
                        && budget.spend(exchange.status == StatusCode::TOO_MANY_REQUESTS) =>
                {
                    if let Some(wait) = signal.wait {
                        self.pacing.check(wait).map_err(refused)?;
                    }
                    (status_reason(request, &exchange), signal.wait)
                }
                Ok(exchange) => return Ok(exchange),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Transport(source))
                    if is_retryable_transport(&source) && budget.spend(false) =>
                {
                    (error_chain(&source), None)
                }
                Err(Failure::Transport(source)) => {
                    return Err(Error::Transport {
                        url: request.url.to_string(),
                        attempts: sent,
                        source,
                    });
                }
            };
            // A 429 that says how long to wait is waited out exactly (pacing
            // keeps the scope quiet meanwhile); anything else backs off.
            let delay = match asked {
                Some(wait) if signal.limited => wait,
                _ => self.backoff.delay(sent, asked),
            };
            // No retry starts past the run's deadline: the command ends on
            // time instead of retrying a slow answer ten times over.
            if self.pacing.remaining().is_some_and(|left| left <= delay) {
                return Err(Error::DeadlinePassed {
                    url: request.url.to_string(),
                    attempts: sent,
                    reason,
                });
            }
            tracing::info!(
                method = %request.method,
                url = %request.url,
                attempt = sent + 1,
                failures = format_args!("{}/{}", budget.failed, budget.max_failures),
                reason,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying atlas request"
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }
}

/// How many 429 answers one request may wait out before costform gives up.
/// Each wait is at least the server's `Retry-After`.
pub(crate) const MAX_RATE_LIMITED_RETRIES: u32 = 20;

/// The retry budgets of one request.
struct Budget {
    failed: u32,
    max_failures: u32,
    rate_limited: u32,
}

impl Budget {
    fn new(max_attempts: u32) -> Self {
        Self {
            failed: 0,
            max_failures: max_attempts.max(1),
            rate_limited: 0,
        }
    }

    /// Records a retryable answer; `true` when another attempt is allowed.
    fn spend(&mut self, rate_limited: bool) -> bool {
        if rate_limited {
            self.rate_limited += 1;
            self.rate_limited <= MAX_RATE_LIMITED_RETRIES
        } else {
            self.failed += 1;
            self.failed < self.max_failures
        }
    }
}

/// "429 RATE_LIMITED_TOKEN_BUCKET", for the retry log line.
fn status_reason(request: &Outgoing, exchange: &Exchange) -> String {
    let api = ApiError::from_body(
        exchange.status.as_u16(),
        request.method.as_str(),
        request.url.as_str(),
        &exchange.body,
    );
    match api.error_code {
        Some(code) => format!("{} {code}", exchange.status.as_u16()),
        None => exchange.status.as_u16().to_string(),
    }
}

/// The error and its causes on one line: reqwest's own message is generic
/// ("error sending request"), the cause says what happened.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
