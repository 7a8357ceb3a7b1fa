//! OAuth client credentials for service accounts: one token per client.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::{Error, truncate};
use crate::secret::Secret;
use crate::transport::{Failure, Outgoing, Transport};

/// Refresh a token this long before it expires, so that no request leaves
/// with a token that dies in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Lifetime assumed when the endpoint does not say (Atlas issues 3600 s).
const DEFAULT_LIFETIME: u64 = 3600;

/// The service account and its current token.
///
/// The token sits behind an async mutex held while minting, so that many
/// concurrent first requests mint exactly one token: a service account may
/// hold at most 100 live tokens and the endpoint is itself rate limited.
#[derive(Debug)]
pub(crate) struct OAuth {
    client_id: String,
    client_secret: Secret,
    token_url: Url,
    cached: Mutex<Option<CachedToken>>,
}

#[derive(Debug)]
struct CachedToken {
    authorization: HeaderValue,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
    detail: Option<String>,
}

impl OAuth {
    pub(crate) fn new(client_id: &str, client_secret: &Secret, token_url: Url) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            token_url,
            cached: Mutex::new(None),
        }
    }

    /// `Bearer <token>`, minting a token first if there is none fresh.
    pub(crate) async fn authorization(&self, transport: &Transport) -> Result<HeaderValue, Error> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.authorization.clone());
        }
        let token = self.mint(transport).await?;
        let authorization = token.authorization.clone();
        *cached = Some(token);
        Ok(authorization)
    }

    /// Forgets the token a request was refused with (unless another request
    /// already replaced it), telling whether a retry with a new one makes sense.
    pub(crate) async fn invalidate(&self, used: Option<&HeaderValue>) -> bool {
        let Some(used) = used else {
            return false;
        };
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|token| token.authorization == *used)
        {
            *cached = None;
        }
        true
    }

    async fn mint(&self, transport: &Transport) -> Result<CachedToken, Error> {
        let request = Outgoing {
            method: Method::POST,
            url: self.token_url.clone(),
            accept: "application/json",
            content_type: Some("application/x-www-form-urlencoded"),
            body: b"grant_type=client_credentials".to_vec(),
        };
        let pair = format!("{}:{}", self.client_id, self.client_secret.expose());
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        let basic = super::sensitive(&basic, &self.token_url)?;
        let exchange = transport
            .with_retries(&request, || async {
                transport
                    .send_once(&request, Some(&basic))
                    .await
                    .map_err(Failure::Transport)
            })
            .await?;
        let refused = |detail: String| Error::Auth {
            url: self.token_url.to_string(),
            status: Some(exchange.status.as_u16()),
            detail,
        };
        if !exchange.status.is_success() {
            return Err(refused(error_detail(&exchange.body)));
        }
        let token: TokenResponse = serde_json::from_slice(&exchange.body)
            // Not the serde message: it could quote the token.
            .map_err(|_| {
                refused("the response is not `{access_token, expires_in}` JSON".to_owned())
            })?;
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(DEFAULT_LIFETIME));
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "minted a service account token"
        );
        Ok(CachedToken {
            authorization: super::bearer(&token.access_token, &self.token_url)?,
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        })
    }
}

/// The most specific explanation an OAuth or Atlas error body offers.
fn error_detail(body: &[u8]) -> String {
    serde_json::from_slice::<TokenError>(body)
        .ok()
        .and_then(|e| e.error_description.or(e.detail).or(e.error))
        .unwrap_or_else(|| truncate(String::from_utf8_lossy(body).trim(), 512))
}
