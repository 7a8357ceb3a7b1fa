//! Percent-encoding for the two places costform puts foreign text into a
//! request: form bodies and Basic credentials (RFC 6749 §2.3.1), and path
//! segments (a query token Atlas chose).

use std::fmt::Write as _;

/// `application/x-www-form-urlencoded`: alphanumerics and `*-._` kept,
/// space as `+`, every other byte as `%XX`.
pub(crate) fn form_encode(text: &str) -> String {
    encode(
        text,
        |byte| matches!(byte, b'*' | b'-' | b'.' | b'_'),
        Some('+'),
    )
}

/// One path segment: RFC 3986 unreserved characters kept, every other byte
/// (`/`, `?`, `#`, `%`, space, non-ASCII) as `%XX`.
pub(crate) fn path_segment(text: &str) -> String {
    encode(text, |byte| matches!(byte, b'-' | b'.' | b'_' | b'~'), None)
}

fn encode(text: &str, keep: impl Fn(u8) -> bool, space: Option<char>) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match (byte, space) {
            (b' ', Some(plus)) => out.push(plus),
            _ if byte.is_ascii_alphanumeric() || keep(byte) => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_follows_the_html_rules() {
        assert_eq!(form_encode("mdb_sa_id_123"), "mdb_sa_id_123");
        assert_eq!(form_encode("a b:c%d+é"), "a+b%3Ac%25d%2B%C3%A9");
    }

    #[test]
    fn path_segments_cannot_escape_their_segment() {
        assert_eq!(path_segment("AB12cd"), "AB12cd");
        assert_eq!(
            path_segment("a/../b?x=1#f %"),
            "a%2F..%2Fb%3Fx%3D1%23f%20%25"
        );
    }
}
