//! Sending one request: headers, timeouts, and the retry loop around it.

use std::error::Error as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::error::{ApiError, Error};
use crate::retry::{Backoff, is_retryable_status, is_retryable_transport, retry_after};

/// A request as the client means it, rebuilt for every attempt so that
/// per-attempt headers (a Digest response with a fresh nonce count) are right.
#[derive(Debug)]
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
    /// fatal error, or `max_attempts` is reached. The last retryable response
    /// is returned as is, for the caller to turn into an error.
    pub(crate) async fn with_retries<F, Fut>(
        &self,
        request: &Outgoing,
        mut attempt: F,
    ) -> Result<Exchange, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Exchange, Failure>>,
    {
        let max = self.max_attempts.max(1);
        let mut number = 1;
        loop {
            let (reason, asked) = match attempt().await {
                Ok(exchange) if number < max && is_retryable_status(exchange.status) => (
                    status_reason(request, &exchange),
                    retry_after(&exchange.headers),
                ),
                Ok(exchange) => return Ok(exchange),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Transport(source))
                    if number < max && is_retryable_transport(&source) =>
                {
                    (error_chain(&source), None)
                }
                Err(Failure::Transport(source)) => {
                    return Err(Error::Transport {
                        url: request.url.to_string(),
                        attempts: number,
                        source,
                    });
                }
            };
            let delay = self.backoff.delay(number, asked);
            tracing::info!(
                method = %request.method,
                url = %request.url,
                attempt = format_args!("{}/{max}", number + 1),
                reason,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying atlas request"
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
            number += 1;
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
