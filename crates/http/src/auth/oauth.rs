//! OAuth client credentials for service accounts: one token per client,
//! revoked when the run ends.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::{CLIENT_ID, CLIENT_SECRET};
use crate::error::{Error, server_text};
use crate::percent::form_encode;
use crate::secret::Secret;
use crate::transport::{Outgoing, Transport};

/// Refresh a token this long before it expires, so that no request leaves
/// with a token that dies in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Lifetime assumed when the endpoint does not say (Atlas issues 3600 s).
const DEFAULT_LIFETIME: u64 = 3600;

/// The longest lifetime believed: far beyond any run, and small enough that
/// adding it to the clock cannot overflow, whatever `expires_in` says.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// The service account and its current token.
///
/// The token sits behind an async mutex held while minting, so that many
/// concurrent first requests mint exactly one token: a service account may
/// hold at most 100 live tokens and the endpoint is limited to about 10
/// tokens a minute. A failed mint is remembered, so a run makes one attempt,
/// not one per report.
#[derive(Debug)]
pub(crate) struct OAuth {
    client_id: String,
    client_secret: Secret,
    token_url: Url,
    revoke_url: Url,
    minted: Mutex<Minted>,
}

#[derive(Debug)]
enum Minted {
    Nothing,
    Token(CachedToken),
    Failed,
}

#[derive(Debug)]
struct CachedToken {
    token: Secret,
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
    pub(crate) fn new(
        client_id: &str,
        client_secret: &Secret,
        token_url: Url,
        revoke_url: Url,
    ) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            token_url,
            revoke_url,
            minted: Mutex::new(Minted::Nothing),
        }
    }

    /// `Bearer <token>`, minting a token first if there is none fresh.
    pub(crate) async fn authorization(&self, transport: &Transport) -> Result<HeaderValue, Error> {
        let mut minted = self.minted.lock().await;
        match &*minted {
            Minted::Token(token) if Instant::now() < token.refresh_at => {
                return Ok(token.authorization.clone());
            }
            Minted::Failed => {
                return Err(Error::CredentialsFailedEarlier {
                    first: CLIENT_ID,
                    second: CLIENT_SECRET,
                });
            }
            Minted::Token(_) | Minted::Nothing => {}
        }
        match self.mint(transport).await {
            Ok(token) => {
                let authorization = token.authorization.clone();
                *minted = Minted::Token(token);
                Ok(authorization)
            }
            Err(error) => {
                *minted = Minted::Failed;
                Err(error)
            }
        }
    }

    /// Forgets the token a request was refused with (unless another request
    /// already replaced it), so that the retry gets a new one.
    pub(crate) async fn invalidate(&self, used: &HeaderValue) {
        let mut minted = self.minted.lock().await;
        if matches!(&*minted, Minted::Token(token) if token.authorization == *used) {
            *minted = Minted::Nothing;
        }
    }

    /// Revokes the current token, best effort: one attempt, any failure only
    /// logged, so that ending a run never fails it. Keeps the service account
    /// far from its cap of live tokens.
    pub(crate) async fn revoke(&self, transport: &Transport) {
        let token = match std::mem::replace(&mut *self.minted.lock().await, Minted::Nothing) {
            Minted::Token(token) => token.token,
            Minted::Nothing | Minted::Failed => return,
        };
        let request = Outgoing {
            method: Method::POST,
            url: self.revoke_url.clone(),
            accept: "application/json",
            content_type: Some("application/x-www-form-urlencoded"),
            body: format!("token={}", form_encode(token.expose())).into_bytes(),
            reads_result: false,
        };
        let outcome = match self.basic() {
            Ok(basic) => transport.send_once(&request, Some(&basic)).await,
            Err(_) => return,
        };
        match outcome {
            Ok(exchange) => tracing::debug!(
                status = exchange.status.as_u16(),
                "revoked the service account token"
            ),
            Err(error) => tracing::debug!(%error, "could not revoke the service account token"),
        }
    }

    /// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1
    /// asks, so that a `:` or `%` in either survives the trip.
    fn basic(&self) -> Result<HeaderValue, Error> {
        let pair = format!(
            "{}:{}",
            form_encode(&self.client_id),
            form_encode(self.client_secret.expose())
        );
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        super::sensitive(&basic, &self.token_url)
    }

    async fn mint(&self, transport: &Transport) -> Result<CachedToken, Error> {
        let request = Outgoing {
            method: Method::POST,
            url: self.token_url.clone(),
            accept: "application/json",
            content_type: Some("application/x-www-form-urlencoded"),
            body: b"grant_type=client_credentials".to_vec(),
            reads_result: false,
        };
        let basic = self.basic()?;
        let exchange = transport
            .with_retries(&request, || async {
                transport.send_once(&request, Some(&basic)).await
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
        let lifetime = lifetime.min(MAX_LIFETIME);
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let now = Instant::now();
        let refresh_at = now
            .checked_add(lifetime.saturating_sub(margin))
            .ok_or_else(|| refused("`expires_in` is out of range".to_owned()))?;
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "minted a service account token"
        );
        Ok(CachedToken {
            authorization: super::bearer(&token.access_token, &self.token_url)?,
            token: Secret::new(token.access_token),
            refresh_at,
        })
    }
}

/// The most specific explanation an OAuth or Atlas error body offers.
fn error_detail(body: &[u8]) -> String {
    let text = serde_json::from_slice::<TokenError>(body)
        .ok()
        .and_then(|e| e.error_description.or(e.detail).or(e.error))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    server_text(&text)
}
