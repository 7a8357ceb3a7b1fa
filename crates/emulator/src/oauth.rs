//! `POST /api/oauth/token`: the OAuth 2.0 client-credentials exchange for
//! service accounts, answered as Atlas does (RFC 6749 error bodies, not ApiError),
//! and `POST /api/oauth/revoke` (RFC 7009: form `token=…`, the same Basic
//! credentials, 200 whether or not the token was live).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::state::Shared;

/// Mints an access token for a configured service account.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let granted = String::from_utf8_lossy(&body)
        .split('&')
        .any(|pair| pair.trim() == "grant_type=client_credentials");
    if !granted {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if !known_client(&shared, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let access_token = shared.mint_oauth_token();
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": shared.config.oauth_token_lifetime.as_secs(),
    }))
    .into_response()
}

/// Revokes a token minted for a configured service account.
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !known_client(&shared, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let token = String::from_utf8_lossy(&body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("token=").and_then(form_decode));
    let Some(token) = token else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    shared.revoke_oauth_token(&token);
    StatusCode::OK.into_response()
}

/// Whether the `Authorization: Basic` header names a configured service account.
fn known_client(shared: &Shared, headers: &HeaderMap) -> bool {
    basic_credentials(headers).is_some_and(|(id, secret)| {
        shared
            .config
            .auth
            .service_accounts
            .iter()
            .any(|(known_id, known_secret)| *known_id == id && *known_secret == secret)
    })
}

/// The `(client_id, client_secret)` of an `Authorization: Basic` header, each
/// form-urldecoded as RFC 6749 §2.3.1 has clients encode them.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// `application/x-www-form-urlencoded` text decoded: `+` is a space, `%XX`
/// a byte; `None` for a broken escape or bytes that are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(byte) = rest.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                let high = char::from(rest.next()?).to_digit(16)?;
                let low = char::from(rest.next()?).to_digit(16)?;
                u8::try_from(high * 16 + low).ok()?
            }
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}
