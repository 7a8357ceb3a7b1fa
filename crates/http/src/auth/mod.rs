//! Turning credentials into an `Authorization` header, per request.

mod digest;
mod oauth;

use reqwest::header::HeaderValue;
use reqwest::{StatusCode, Url};

use crate::config::Credentials;
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::{Exchange, Failure, Outgoing, Transport};

use digest::Digest;
use oauth::OAuth;

/// One authentication scheme with whatever it caches between requests.
#[derive(Debug)]
pub(crate) enum Auth {
    Bearer(Secret),
    /// Boxed: two URLs and the token cache dwarf the other variants.
    ServiceAccount(Box<OAuth>),
    Digest(Digest),
}

impl Auth {
    pub(crate) fn new(credentials: &Credentials, base_url: &str) -> Result<Self, Error> {
        Ok(match credentials {
            Credentials::AccessToken(token) => Auth::Bearer(token.clone()),
            Credentials::ServiceAccount {
                client_id,
                client_secret,
            } => {
                let token_url = crate::client::endpoint(base_url, "/api/oauth/token")?;
                let revoke_url = crate::client::endpoint(base_url, "/api/oauth/revoke")?;
                Auth::ServiceAccount(Box::new(OAuth::new(
                    client_id,
                    client_secret,
                    token_url,
                    revoke_url,
                )))
            }
            Credentials::ApiKey {
                public_key,
                private_key,
            } => Auth::Digest(Digest::new(public_key, private_key)),
        })
    }

    /// Sends `request` authenticated, answering one 401 by refreshing the
    /// credentials (a new OAuth token, a fresh Digest challenge) and resending.
    pub(crate) async fn send(
        &self,
        transport: &Transport,
        request: &Outgoing,
    ) -> Result<Exchange, Failure> {
        let oauth = match self {
            Auth::Digest(digest) => return digest.send(transport, request).await,
            Auth::Bearer(token) => {
                let authorization = bearer(token.expose(), &request.url).map_err(Failure::Fatal)?;
                return transport.send_once(request, Some(&authorization)).await;
            }
            Auth::ServiceAccount(oauth) => oauth,
        };
        let authorization = oauth
            .authorization(transport)
            .await
            .map_err(Failure::Fatal)?;
        let exchange = transport.send_once(request, Some(&authorization)).await?;
        if exchange.status != StatusCode::UNAUTHORIZED {
            return Ok(exchange);
        }
        oauth.invalidate(&authorization).await;
        let authorization = oauth
            .authorization(transport)
            .await
            .map_err(Failure::Fatal)?;
        transport.send_once(request, Some(&authorization)).await
    }

    /// Ends the run's use of the credentials: revokes a minted OAuth token.
    pub(crate) async fn close(&self, transport: &Transport) {
        if let Auth::ServiceAccount(oauth) = self {
            oauth.revoke(transport).await;
        }
    }
}

/// `Bearer <token>`, marked sensitive so no header dump shows it.
fn bearer(token: &str, url: &Url) -> Result<HeaderValue, Error> {
    sensitive(&format!("Bearer {token}"), url)
}

fn sensitive(value: &str, url: &Url) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::from_str(value).map_err(|_| Error::InvalidResponse {
        url: url.to_string(),
        message: "the credentials contain characters that cannot be sent in a header".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
}
