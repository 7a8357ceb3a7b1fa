//! HTTP Digest for legacy API keys, reusing the server's challenge.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use http_auth::PasswordParams;
use http_auth::digest::DigestClient;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

use crate::config::{PRIVATE_API_KEY, PUBLIC_API_KEY};
use crate::error::{ApiError, Error};
use crate::secret::Secret;
use crate::transport::{Exchange, Failure, Outgoing, Transport};

/// The API key, the last challenge known good, and whether Atlas has refused
/// the key outright.
///
/// Reusing a challenge (with an increasing nonce count) saves the 401 round
/// trip on most requests. Parallel requests sharing a nonce may reach the
/// server out of count order, and a strict server refuses those: such a 401
/// is answered with the fresh challenge it carries, used by that request
/// alone (count 1, so no other request can overtake it), and shared only once
/// the server has seen that count. A 401 to that private answer can only mean
/// wrong keys.
pub(crate) struct Digest {
    username: String,
    password: Secret,
    shared: Mutex<Option<DigestClient>>,
    refused: AtomicBool,
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Digest {
    pub(crate) fn new(username: &str, password: &Secret) -> Self {
        Self {
            username: username.to_owned(),
            password: password.clone(),
            shared: Mutex::new(None),
            refused: AtomicBool::new(false),
        }
    }

    /// Sends `request` with the shared challenge's answer (or none before the
    /// first challenge), answering one 401 with the fresh challenge it carries.
    pub(crate) async fn send(
        &self,
        transport: &Transport,
        request: &Outgoing,
    ) -> Result<Exchange, Failure> {
        if self.refused.load(Ordering::Acquire) {
            return Err(Failure::Fatal(failed_earlier()));
        }
        let cached = self.answer_shared(request).map_err(Failure::Fatal)?;
        let exchange = transport.send_once(request, cached.as_ref()).await?;
        if exchange.status != StatusCode::UNAUTHORIZED {
            return Ok(exchange);
        }
        let Some(mut fresh) = fresh_challenge(&exchange.headers) else {
            return Ok(exchange);
        };
        let answer = self.answer(&mut fresh, request).map_err(Failure::Fatal)?;
        let exchange = transport.send_once(request, Some(&answer)).await?;
        if exchange.status == StatusCode::UNAUTHORIZED {
            return Err(Failure::Fatal(self.refuse(request, &exchange)));
        }
        *self.shared.lock().unwrap_or_else(PoisonError::into_inner) = Some(fresh);
        Ok(exchange)
    }

    /// The answer to the shared challenge with its next count, if there is one.
    fn answer_shared(&self, request: &Outgoing) -> Result<Option<HeaderValue>, Error> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared
            .as_mut()
            .map(|client| self.answer(client, request))
            .transpose()
    }

    fn answer(&self, client: &mut DigestClient, request: &Outgoing) -> Result<HeaderValue, Error> {
        // The digest `uri` is the request target: path and query, not the URL.
        let uri = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let answer = client
            .respond(&PasswordParams {
                username: &self.username,
                password: self.password.expose(),
                uri: &uri,
                method: request.method.as_str(),
                body: Some(&request.body),
            })
            .map_err(|message| Error::InvalidResponse {
                url: request.url.to_string(),
                message: format!("cannot answer the digest challenge: {message}"),
            })?;
        super::sensitive(&answer, &request.url)
    }

    /// The error for keys refused after a fresh challenge: in full for the
    /// first request that learns it, short for the others, so a run says it
    /// once rather than once per report.
    fn refuse(&self, request: &Outgoing, exchange: &Exchange) -> Error {
        if self.refused.swap(true, Ordering::AcqRel) {
            return failed_earlier();
        }
        let answer = ApiError::from_body(
            exchange.status.as_u16(),
            request.method.as_str(),
            request.url.as_str(),
            &exchange.body,
        );
        Error::KeyRefused {
            answer: Box::new(answer),
        }
    }
}

fn failed_earlier() -> Error {
    Error::CredentialsFailedEarlier {
        first: PUBLIC_API_KEY,
        second: PRIVATE_API_KEY,
    }
}

/// The Digest challenge of a 401, if it has one.
fn fresh_challenge(headers: &HeaderMap) -> Option<DigestClient> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|text| http_auth::parse_challenges(text).ok())
        .flatten()
        .filter(|challenge| challenge.scheme.eq_ignore_ascii_case("Digest"))
        .find_map(|challenge| DigestClient::try_from(&challenge).ok())
}
