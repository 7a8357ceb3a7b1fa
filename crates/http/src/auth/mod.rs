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
    OAuth(OAuth),
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
                Auth::OAuth(OAuth::new(client_id, client_secret, token_url))
            }
            Credentials::ApiKey {
                public_key,
                private_key,
            } => Auth::Digest(Digest::new(public_key, private_key)),
        })
    }

    /// Sends `request` authenticated, answering one 401 by refreshing the
    /// credentials (a new OAuth token, a new Digest challenge) and resending.
    pub(crate) async fn send(
        &self,
        transport: &Transport,
        request: &Outgoing,
    ) -> Result<Exchange, Failure> {
        let authorization = self
            .authorization(transport, request)
            .await
            .map_err(Failure::Fatal)?;
        let exchange = transport
            .send_once(request, authorization.as_ref())
            .await
            .map_err(Failure::Transport)?;
        if exchange.status != StatusCode::UNAUTHORIZED
            || !self.renew(&exchange, authorization.as_ref()).await
        {
            return Ok(exchange);
        }
        let authorization = self
            .authorization(transport, request)
            .await
            .map_err(Failure::Fatal)?;
        transport
            .send_once(request, authorization.as_ref())
            .await
            .map_err(Failure::Transport)
    }

    async fn authorization(
        &self,
        transport: &Transport,
        request: &Outgoing,
    ) -> Result<Option<HeaderValue>, Error> {
        match self {
            Auth::Bearer(token) => bearer(token.expose(), &request.url).map(Some),
            Auth::OAuth(oauth) => oauth.authorization(transport).await.map(Some),
            Auth::Digest(digest) => digest.authorization(request),
        }
    }

    /// After a 401: whether sending again with renewed credentials can help.
    async fn renew(&self, exchange: &Exchange, used: Option<&HeaderValue>) -> bool {
        match self {
            Auth::Bearer(_) => false,
            Auth::OAuth(oauth) => oauth.invalidate(used).await,
            Auth::Digest(digest) => digest.accept_challenge(&exchange.headers),
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
