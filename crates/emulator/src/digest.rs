//! HTTP Digest as Atlas speaks it for legacy API keys: realm `MMS Public API`,
//! MD5, `qop="auth"`, and a `uri` that is the request's path and query.

use md5::{Digest, Md5};

/// The realm Atlas names in its challenges.
pub(crate) const REALM: &str = "MMS Public API";

/// The `WWW-Authenticate` value for a fresh challenge.
pub(crate) fn challenge(nonce: &str, stale: bool) -> String {
    format!(
        "Digest realm=\"{REALM}\", domain=\"\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\", stale={stale}"
    )
}

/// The parameters of an `Authorization: Digest ...` header.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub qop: String,
    pub nc: String,
    pub cnonce: String,
    pub response: String,
    pub algorithm: Option<String>,
}

impl Credentials {
    /// Parses the part after `Digest `; `None` if a required parameter is missing.
    pub fn parse(parameters: &str) -> Option<Self> {
        let mut credentials = Self::default();
        let mut seen = 0_u8;
        for (key, value) in split_parameters(parameters) {
            let slot = match key.to_ascii_lowercase().as_str() {
                "username" => &mut credentials.username,
                "realm" => &mut credentials.realm,
                "nonce" => &mut credentials.nonce,
                "uri" => &mut credentials.uri,
                "qop" => &mut credentials.qop,
                "nc" => &mut credentials.nc,
                "cnonce" => &mut credentials.cnonce,
                "response" => &mut credentials.response,
                "algorithm" => {
                    credentials.algorithm = Some(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
            seen += 1;
        }
        (seen >= 8).then_some(credentials)
    }

    /// Whether the response hash proves knowledge of `password` for this request.
    pub fn verify(&self, method: &str, password: &str) -> bool {
        let algorithm_ok = self
            .algorithm
            .as_deref()
            .is_none_or(|algorithm| algorithm.eq_ignore_ascii_case("MD5"));
        algorithm_ok
            && self.realm == REALM
            && self.qop == "auth"
            && self
                .response
                .eq_ignore_ascii_case(&self.expected_response(method, password))
    }

    /// The RFC 7616 `response` for MD5 with `qop=auth`.
    pub fn expected_response(&self, method: &str, password: &str) -> String {
        let ha1 = md5_hex(&format!("{}:{}:{password}", self.username, self.realm));
        let ha2 = md5_hex(&format!("{method}:{}", self.uri));
        md5_hex(&format!(
            "{ha1}:{}:{}:{}:{}:{ha2}",
            self.nonce, self.nc, self.cnonce, self.qop
        ))
    }
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// Splits `key=value, key="quoted, value"` pairs, unescaping quoted values.
fn split_parameters(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.trim().is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(chars.next()),
                        other => value.push(other),
                    }
                }
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
            }
        }
        pairs.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example_verifies() {
        // RFC 2617 section 3.5, with the realm swapped for Atlas's.
        let header = r#"username="Mufasa", realm="MMS Public API", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="x", opaque="5ccc""#;
        let mut credentials = Credentials::parse(header).expect("complete header");
        assert_eq!(credentials.uri, "/dir/index.html");
        assert_eq!(credentials.nc, "00000001");
        credentials.response = credentials.expected_response("GET", "Circle Of Life");
        assert!(credentials.verify("GET", "Circle Of Life"));
        assert!(!credentials.verify("GET", "circle of life"));
        assert!(!credentials.verify("POST", "Circle Of Life"));
    }

    #[test]
    fn incomplete_header_is_rejected() {
        assert_eq!(Credentials::parse(r#"username="a", nonce="b""#), None);
    }
}
