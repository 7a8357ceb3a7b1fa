//! HTTP Digest for legacy API keys, reusing the server's challenge.

use std::sync::{Mutex, PoisonError};

use http_auth::PasswordParams;
use http_auth::digest::DigestClient;
use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

use crate::error::Error;
use crate::secret::Secret;
use crate::transport::Outgoing;

/// The API key and the last challenge seen. Reusing the challenge (with an
/// increasing nonce count) saves the extra 401 round trip on every request
/// after the first; a stale nonce costs one redo.
pub(crate) struct Digest {
    username: String,
    password: Secret,
    challenge: Mutex<Option<DigestClient>>,
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
            challenge: Mutex::new(None),
        }
    }

    /// The answer to the cached challenge, or nothing before the first one.
    pub(crate) fn authorization(&self, request: &Outgoing) -> Result<Option<HeaderValue>, Error> {
        let mut challenge = self
            .challenge
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(client) = challenge.as_mut() else {
            return Ok(None);
        };
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
        super::sensitive(&answer, &request.url).map(Some)
    }

    /// Keeps the Digest challenge of a 401, telling whether there was one.
    pub(crate) fn accept_challenge(&self, headers: &HeaderMap) -> bool {
        let fresh = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|text| http_auth::parse_challenges(text).ok())
            .flatten()
            .filter(|challenge| challenge.scheme.eq_ignore_ascii_case("Digest"))
            .find_map(|challenge| DigestClient::try_from(&challenge).ok());
        let Some(fresh) = fresh else {
            return false;
        };
        *self
            .challenge
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(fresh);
        true
    }
}
