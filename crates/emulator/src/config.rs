//! What an emulator is told at start: where to listen, whom to let in, how slow
//! and how faulty to be.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::rate_limit::TokenBucket;

/// The demo bearer token; a public test value printed by `costform emulator`.
pub const DEMO_ACCESS_TOKEN: &str = "costform-demo-access-token";
/// The demo service account client id (OAuth client credentials).
pub const DEMO_CLIENT_ID: &str = "mdb_sa_id_costform_demo";
/// The demo service account client secret (OAuth client credentials).
pub const DEMO_CLIENT_SECRET: &str = "mdb_sa_sk_costform_demo";
/// The demo API key's public half (the Digest user name).
pub const DEMO_PUBLIC_API_KEY: &str = "costformdemo";
/// The demo API key's private half (the Digest password).
pub const DEMO_PRIVATE_API_KEY: &str = "costform-demo-private-key";

/// Everything an [`crate::Emulator`] needs to start.
///
/// `Config::default()` is [`Config::demo`]: a loopback listener on a free port
/// that accepts the documented demo credentials.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; loopback unless the address says otherwise.
    pub listen: SocketAddr,
    /// The credentials each auth mode accepts.
    pub auth: AuthConfig,
    /// How many polls of a fresh token answer "processing" before its results are ready.
    pub processing_polls: u32,
    /// Fault switches active from the start (see [`Faults`]).
    pub faults: Faults,
    /// How long a Digest nonce stays valid; older nonces get a `stale=true` challenge.
    pub nonce_lifetime: Duration,
    /// How long a minted OAuth access token is accepted (`expires_in`).
    pub oauth_token_lifetime: Duration,
    /// Atlas's rate limiting, one bucket per organization; `None` meters nothing.
    pub token_bucket: Option<TokenBucket>,
    /// Refuse a Digest nonce count already seen with its nonce, or lower than
    /// one seen (a request overtaken by a later one), as a strict server does;
    /// off by default, as Atlas is not documented to check counts.
    pub strict_nonce_count: bool,
}

impl Config {
    /// The configuration behind `costform emulator` and `costform demo`: the
    /// public demo credentials for all three auth modes, one processing poll.
    pub fn demo() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            auth: AuthConfig::demo(),
            processing_polls: 1,
            faults: Faults::default(),
            nonce_lifetime: Duration::from_secs(300),
            oauth_token_lifetime: Duration::from_secs(3600),
            token_bucket: None,
            strict_nonce_count: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::demo()
    }
}

/// The credentials the emulator accepts; an empty list disables that mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// Static bearer tokens (as `MONGODB_ATLAS_ACCESS_TOKEN` would carry).
    pub access_tokens: Vec<String>,
    /// Service accounts as `(client_id, client_secret)`, exchanged at `/api/oauth/token`.
    pub service_accounts: Vec<(String, String)>,
    /// Legacy API keys as `(public_key, private_key)`, used with HTTP Digest.
    pub api_keys: Vec<(String, String)>,
}

impl AuthConfig {
    /// The documented demo credentials, one of each mode.
    pub fn demo() -> Self {
        Self {
            access_tokens: vec![DEMO_ACCESS_TOKEN.to_owned()],
            service_accounts: vec![(DEMO_CLIENT_ID.to_owned(), DEMO_CLIENT_SECRET.to_owned())],
            api_keys: vec![(
                DEMO_PUBLIC_API_KEY.to_owned(),
                DEMO_PRIVATE_API_KEY.to_owned(),
            )],
        }
    }
}

/// Fault switches, so that client tests can exercise retries and crashes.
///
/// Faults are counted over API requests only (paths under `/api/atlas/v2/`; the
/// OAuth token endpoint is never faulted). The Nth API request since the faults
/// were last set, counting from 1, is dropped if `drop_every` divides N, else
/// answered 429 if `rate_limit_every` divides N, else 500 if `server_error_every`
/// divides N. Faults are decided after `latency` and before authentication, as a
/// gateway in front of Atlas would. `Some(0)` means off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added before every API request is answered.
    pub latency: Duration,
    /// Every Nth API request answers 429 `RATE_LIMITED_TOKEN_BUCKET` with `Retry-After`.
    pub rate_limit_every: Option<u32>,
    /// The `Retry-After` value, in seconds, of rate-limited answers.
    pub retry_after_secs: u64,
    /// Every Nth API request answers 500 `UNEXPECTED_ERROR`.
    pub server_error_every: Option<u32>,
    /// Every Nth API request has its connection closed without any response.
    pub drop_every: Option<u32>,
}

/// The fault chosen for one API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Drop,
    RateLimit { retry_after_secs: u64 },
    ServerError,
}

impl Faults {
    /// The fault for the `n`th API request (counting from 1), in the documented order.
    pub(crate) fn decide(&self, n: u64) -> Option<Fault> {
        let hits = |every: Option<u32>| every.is_some_and(|e| n.is_multiple_of(u64::from(e)));
        if hits(self.drop_every) {
            Some(Fault::Drop)
        } else if hits(self.rate_limit_every) {
            Some(Fault::RateLimit {
                retry_after_secs: self.retry_after_secs,
            })
        } else if hits(self.server_error_every) {
            Some(Fault::ServerError)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_wins_over_rate_limit_and_server_error() {
        let faults = Faults {
            drop_every: Some(3),
            rate_limit_every: Some(2),
            server_error_every: Some(1),
            retry_after_secs: 7,
            ..Faults::default()
        };
        let decided: Vec<_> = (1..=6).map(|n| faults.decide(n)).collect();
        assert_eq!(
            decided,
            vec![
                Some(Fault::ServerError),
                Some(Fault::RateLimit {
                    retry_after_secs: 7
                }),
                Some(Fault::Drop),
                Some(Fault::RateLimit {
                    retry_after_secs: 7
                }),
                Some(Fault::ServerError),
                Some(Fault::Drop),
            ]
        );
    }

    #[test]
    fn zero_means_off() {
        let faults = Faults {
            drop_every: Some(0),
            ..Faults::default()
        };
        assert_eq!(faults.decide(5), None);
    }
}
