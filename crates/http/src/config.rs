//! Where to connect, with which credentials, and how patiently.

use std::time::Duration;

use costform_model::result_body::DEFAULT_MAX_RESULT_BYTES;

use crate::error::Error;
use crate::secret::Secret;

/// Env: the Atlas base URL.
pub const BASE_URL: &str = "MONGODB_ATLAS_BASE_URL";
/// Env: a ready-made bearer token.
pub const ACCESS_TOKEN: &str = "MONGODB_ATLAS_ACCESS_TOKEN";
/// Env: a service account's client id.
pub const CLIENT_ID: &str = "MONGODB_ATLAS_CLIENT_ID";
/// Env: a service account's client secret.
pub const CLIENT_SECRET: &str = "MONGODB_ATLAS_CLIENT_SECRET";
/// Env: an API key's public half (the Digest user name).
pub const PUBLIC_API_KEY: &str = "MONGODB_ATLAS_PUBLIC_API_KEY";
/// Env: an API key's private half (the Digest password).
pub const PRIVATE_API_KEY: &str = "MONGODB_ATLAS_PRIVATE_API_KEY";

/// Atlas itself, used when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://cloud.mongodb.com";

/// How the client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A bearer token obtained elsewhere (`atlas auth`, a CI secret).
    AccessToken(Secret),
    /// A service account: the client mints one OAuth token and reuses it.
    ServiceAccount {
        /// The client id (not secret on its own).
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// A legacy programmatic API key, sent through HTTP Digest.
    ApiKey {
        /// The public key, the Digest user name.
        public_key: String,
        /// The private key, the Digest password.
        private_key: Secret,
    },
}

/// Everything [`crate::Client::new`] needs. Every request is bounded by both
/// timeouts, so a stuck connection never hangs a run.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The Atlas base URL, without a trailing slash.
    pub base_url: String,
    /// The credentials to authenticate with.
    pub credentials: Credentials,
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long one request may take, body included.
    pub request_timeout: Duration,
    /// How many attempts of a request may fail (5xx, timeouts, dropped
    /// connections) before it is given up, first try included. 429 answers
    /// do not count: they have their own, larger budget.
    pub max_attempts: u32,
    /// The first retry's nominal delay; later ones double.
    pub base_backoff: Duration,
    /// The longest delay chosen by backoff (`Retry-After` may exceed it).
    pub max_backoff: Duration,
    /// Accept an `http://` base URL on a host other than loopback, which
    /// sends the credentials in clear; off unless the user asks for it.
    pub allow_insecure_http: bool,
    /// The largest result read, in bytes (`fetch --max-result-size`): a
    /// Cost Explorer answer, or a report file downloaded (compressed and
    /// decompressed). A larger one fails its report instead of filling the
    /// disk.
    pub max_result_bytes: u64,
    /// How long downloading one report file may take (a FOCUS file of a
    /// large organization is tens of megabytes).
    pub download_timeout: Duration,
}

impl ClientConfig {
    /// A config with the default timeouts and retry policy.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, Error> {
        Ok(Self {
            base_url: normalize_base_url(base_url)?,
            credentials,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 10,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            allow_insecure_http: false,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            download_timeout: Duration::from_secs(600),
        })
    }

    /// Whether requests would carry the credentials in clear over a network:
    /// an `http://` base URL on a host other than loopback.
    pub fn is_plaintext_remote(&self) -> bool {
        reqwest::Url::parse(&self.base_url)
            .is_ok_and(|url| url.scheme() == "http" && !is_loopback(&url))
    }

    /// Refuses plaintext to a remote host unless it was explicitly allowed.
    pub(crate) fn check_transport_security(&self) -> Result<(), Error> {
        if self.is_plaintext_remote() && !self.allow_insecure_http {
            return Err(Error::InvalidBaseUrl {
                value: self.base_url.clone(),
                reason: "`http://` would send the credentials in clear; use `https://`, \
                         or pass `--allow-insecure-http` if this network is trusted"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Reads the base URL and the first credentials that are set, in the
    /// documented order: access token, service account, API key. `env` is
    /// usually `|name| std::env::var(name).ok()`; empty values count as unset.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let base_url = get(BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let credentials = if let Some(token) = get(ACCESS_TOKEN) {
            Credentials::AccessToken(Secret::new(token))
        } else if let Some((client_id, secret)) = pair(&get, CLIENT_ID, CLIENT_SECRET)? {
            Credentials::ServiceAccount {
                client_id,
                client_secret: Secret::new(secret),
            }
        } else if let Some((public_key, private)) = pair(&get, PUBLIC_API_KEY, PRIVATE_API_KEY)? {
            Credentials::ApiKey {
                public_key,
                private_key: Secret::new(private),
            }
        } else {
            return Err(Error::NoCredentials);
        };
        Self::new(&base_url, credentials)
    }
}

/// Both halves of a credential pair, none, or an error naming the missing one.
fn pair(
    get: &impl Fn(&str) -> Option<String>,
    first: &'static str,
    second: &'static str,
) -> Result<Option<(String, String)>, Error> {
    match (get(first), get(second)) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::IncompleteCredentials {
            present: first,
            missing: second,
        }),
        (None, Some(_)) => Err(Error::IncompleteCredentials {
            present: second,
            missing: first,
        }),
    }
}

/// `localhost` or a loopback address: traffic that never leaves the machine.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// Checks the base URL and drops trailing slashes so paths can be appended.
fn normalize_base_url(value: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(value.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "the scheme must be `https` (or `http` for a local emulator)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Show the URL without them: this error is printed.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(Error::InvalidBaseUrl {
            value: shown.to_string(),
            reason: "credentials belong in the environment variables, not the URL".to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
