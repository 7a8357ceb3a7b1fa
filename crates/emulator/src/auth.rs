//! Authentication of API requests: a static or minted bearer token, or HTTP
//! Digest with a configured API key.
//!
//! Documented choice: a missing or wrong credential answers 401 with errorCode
//! `UNAUTHORIZED` (never enveloped, as a gateway would answer). When API keys are
//! configured, every 401 carries a Digest challenge with a fresh nonce, and
//! `stale=true` when the request used a known but expired nonce. With
//! `strict_nonce_count`, a nonce count not above every count already used
//! with its nonce (a replay, or a parallel request overtaken by a later one)
//! is refused with a fresh challenge and `stale=false`.

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::digest::{self, Credentials};
use crate::state::{NonceState, Shared};

/// The 401 answer, unless the request carries a credential the emulator accepts.
pub(crate) fn refuse_unauthenticated(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let failure = if scheme.eq_ignore_ascii_case("Bearer") {
        check_bearer(shared, rest.trim())
    } else if scheme.eq_ignore_ascii_case("Digest") {
        check_digest(shared, method, uri, rest)
    } else {
        Err(Failure::new(
            "no credentials: send a Bearer token or use HTTP Digest",
        ))
    };
    failure.err().map(|failure| reject(shared, &failure))
}

/// Why a request was refused.
struct Failure {
    detail: &'static str,
    stale: bool,
}

impl Failure {
    fn new(detail: &'static str) -> Self {
        Self {
            detail,
            stale: false,
        }
    }
}

fn check_bearer(shared: &Shared, token: &str) -> Result<(), Failure> {
    let configured = shared
        .config
        .auth
        .access_tokens
        .iter()
        .any(|known| known == token);
    if configured || shared.oauth_token_valid(token) {
        Ok(())
    } else {
        Err(Failure::new("the bearer token is unknown or expired"))
    }
}

fn check_digest(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    parameters: &str,
) -> Result<(), Failure> {
    let credentials =
        Credentials::parse(parameters).ok_or(Failure::new("the Digest header is incomplete"))?;
    let request_uri = uri.path_and_query().map_or("/", |path| path.as_str());
    if credentials.uri != request_uri {
        return Err(Failure::new("the Digest uri does not match the request"));
    }
    let password = shared
        .config
        .auth
        .api_keys
        .iter()
        .find(|(public, _)| *public == credentials.username)
        .map(|(_, private)| private.as_str())
        .ok_or(Failure::new("the API key is unknown"))?;
    if !credentials.verify(method.as_str(), password) {
        return Err(Failure::new("the Digest response does not match"));
    }
    match shared.nonce_state(&credentials.nonce) {
        NonceState::Fresh => {
            let count = u32::from_str_radix(&credentials.nc, 16)
                .map_err(|_| Failure::new("the Digest nonce count is not 8 hex digits"))?;
            if shared.use_nonce_count(&credentials.nonce, count) {
                Ok(())
            } else {
                Err(Failure::new(
                    "the Digest nonce count was already used or arrived out of order",
                ))
            }
        }
        NonceState::Stale => Err(Failure {
            detail: "the Digest nonce has expired",
            stale: true,
        }),
        NonceState::Unknown => Err(Failure::new("the Digest nonce is unknown")),
    }
}

fn reject(shared: &Shared, failure: &Failure) -> Response {
    let mut response = ApiError::unauthorized(failure.detail).into_response();
    if !shared.config.auth.api_keys.is_empty() {
        let challenge = digest::challenge(&shared.new_nonce(), failure.stale);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
    }
    response
}
