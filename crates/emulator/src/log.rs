//! What the emulator remembers of its traffic, for tests to assert on: every
//! request (including rejected and faulted ones) and every token issued.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use jiff::Timestamp;
use serde_json::Value;

/// One request as received, with its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// When the request head arrived.
    pub at: Timestamp,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?`, if any.
    pub query: Option<String>,
    /// Request headers (repeated names grouped), names lower case; `authorization`
    /// values are cut to their scheme (`Bearer`, `Digest`, `Basic`) so that no
    /// credential is ever kept.
    pub headers: Vec<(String, String)>,
    /// The response status; `None` while unanswered or when the connection was
    /// dropped by a fault.
    pub status: Option<u16>,
    /// Whether a fault closed the connection instead of answering.
    pub dropped: bool,
    /// The token a successful create-query POST issued.
    pub token: Option<String>,
    /// Whether the whole response (head and body) was handed to the connection;
    /// a client killed before that never saw the token.
    pub delivered: bool,
}

impl LoggedRequest {
    /// The value of header `name` (lower case), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A token the emulator issued, with the query it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    /// The 64 lowercase hex token.
    pub token: String,
    /// The organization the query was created in.
    pub org_id: String,
    /// The request body as received.
    pub body: Value,
    /// Whether the 202 answer carrying the token was fully handed to the connection.
    pub delivered: bool,
    /// When the token was issued.
    pub at: Timestamp,
}

/// The headers as logged: names lower case, credentials cut to their scheme.
pub(crate) fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let logged = if *name == AUTHORIZATION {
                text.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                text.into_owned()
            };
            (name.as_str().to_owned(), logged)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn authorization_keeps_only_the_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert_eq!(
            redacted_headers(&headers),
            vec![("authorization".to_owned(), "Bearer".to_owned())]
        );
    }
}
