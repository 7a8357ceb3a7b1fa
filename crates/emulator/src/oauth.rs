//! `POST /api/oauth/token`: the OAuth 2.0 client-credentials exchange for
//! service accounts, answered as Atlas does (RFC 6749 error bodies, not ApiError).

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
    let known = basic_credentials(&headers).is_some_and(|(id, secret)| {
        shared
            .config
            .auth
            .service_accounts
            .iter()
            .any(|(known_id, known_secret)| *known_id == id && *known_secret == secret)
    });
    if !known {
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

/// The `(client_id, client_secret)` of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}
