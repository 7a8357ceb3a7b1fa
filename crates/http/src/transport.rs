//! Sending one request: headers, timeouts, and the retry loop around it.

use std::error::Error as _;
use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use costform_model::result_body::ResultBody;

use crate::error::{ApiError, Error, MAX_ANSWER_BYTES};
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
    /// Whether a 200 answer is a result, read into [`Exchange::result`]
    /// up to the client's result limit instead of into memory.
    pub(crate) reads_result: bool,
}

/// A response read to the end: a connection dropped mid-body is a transport
/// failure of the attempt, and so retried like any other.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The answer, when it is not a result: at most [`MAX_ANSWER_BYTES`].
    pub(crate) body: Vec<u8>,
    /// The answer, when it is a result (a 200 to a request that
    /// [`Outgoing::reads_result`]): spooled to a temporary file.
    pub(crate) result: Option<ResultBody>,
}

/// Why one attempt produced no response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The network failed; maybe retried.
    Transport(reqwest::Error),
    /// Something no retry can fix (credentials, a bad challenge).
    Fatal(Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(error) => f.write_str(&error_chain(error)),
            Failure::Fatal(error) => error.fmt(f),
        }
    }
}

/// The HTTP connection pool plus the retry policy and its counter.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
    pub(crate) retries: AtomicU64,
    pub(crate) pacing: Pacing,
    /// The largest result read (`fetch --max-result-size`).
    pub(crate) max_result_bytes: u64,
}

impl Transport {
    /// Sends `request` once, with `authorization` if given.
    pub(crate) async fn send_once(
        &self,
        request: &Outgoing,
        authorization: Option<&HeaderValue>,
    ) -> Result<Exchange, Failure> {
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
        let mut response = builder.send().await.map_err(Failure::Transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let is_result = request.reads_result && status == StatusCode::OK;
        let (limit, hint) = if is_result {
            (self.max_result_bytes, RESULT_LIMIT_HINT)
        } else {
            (MAX_ANSWER_BYTES, "costform reads no longer answer")
        };
        let too_large = || {
            Failure::Fatal(Error::AnswerTooLarge {
                url: request.url.to_string(),
                limit,
                hint,
            })
        };
        // Read chunk by chunk against the limit: an endless body ends the
        // attempt at the limit instead of filling memory.
        let mut body = ResultBody::new();
        while let Some(chunk) = response.chunk().await.map_err(Failure::Transport)? {
            if body.len() + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.write_all(&chunk).map_err(|error| {
                Failure::Fatal(Error::Spool {
                    url: request.url.to_string(),
                    source: error,
                })
            })?;
        }
        tracing::debug!(method = %request.method, url = %request.url, status = status.as_u16(), bytes = body.len(), "atlas answered");
        let (body, result) = if is_result {
            (Vec::new(), Some(body))
        } else {
            let bytes = body.head(usize::MAX).map_err(|error| {
                Failure::Fatal(Error::Spool {
                    url: request.url.to_string(),
                    source: error,
                })
            })?;
            (bytes, None)
        };
        Ok(Exchange {
            status,
            headers,
            body,
            result,
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

/// What to do about a result past its limit.
const RESULT_LIMIT_HINT: &str = "raise the limit with `--max-result-size` if the result is real";

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
