//! Which redirects the client follows: only those that stay on the origin
//! the credentials were configured for.
//!
//! Atlas does not redirect API calls, so a redirect comes from something in
//! front of it (a proxy, a wrong base URL). Following one to another scheme,
//! host or port would hand that place the bearer token or a Digest answer;
//! following one from `https` to `http` would send them in clear. Such a
//! redirect is an error naming both URLs, and nothing is sent to the target.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode, Url};

use crate::error::{Error, truncate};
use crate::transport::{Exchange, Outgoing};

/// How many same-origin redirects one request may follow.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// The request to send next when `exchange` is a redirect the client may
/// follow; `None` when it is not a redirect at all.
pub(crate) fn next_request(
    request: &Outgoing,
    exchange: &Exchange,
) -> Result<Option<Outgoing>, Error> {
    let keeps_method = match exchange.status {
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER => false,
        _ => return Ok(None),
    };
    let location = exchange
        .headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| Error::InvalidResponse {
            url: request.url.to_string(),
            message: format!(
                "a {} redirect without a usable `Location`",
                exchange.status.as_u16()
            ),
        })?;
    let refuse = |to: String, reason: &str| Error::Redirect {
        from: request.url.to_string(),
        to: truncate(&to, 512),
        reason: reason.to_owned(),
    };
    let target = request
        .url
        .join(location)
        .map_err(|_| refuse(location.to_owned(), "the location is not a URL"))?;
    if request.url.scheme() == "https" && target.scheme() != "https" {
        return Err(refuse(
            target.to_string(),
            "it leaves `https` for plaintext",
        ));
    }
    if !same_origin(&request.url, &target) {
        return Err(refuse(
            target.to_string(),
            "credentials are only sent to the configured scheme, host and port",
        ));
    }
    if !keeps_method && request.method != Method::GET {
        return Err(refuse(
            target.to_string(),
            "it would turn the request into a GET",
        ));
    }
    Ok(Some(Outgoing {
        url: target,
        ..request.clone()
    }))
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn redirect(from: &str, status: u16, location: &str) -> Result<Option<Outgoing>, Error> {
        let request = Outgoing {
            method: Method::GET,
            url: Url::parse(from).unwrap(),
            accept: "application/json",
            content_type: None,
            body: Vec::new(),
            reads_result: false,
        };
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        let exchange = Exchange {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Vec::new(),
            result: None,
        };
        next_request(&request, &exchange)
    }

    #[test]
    fn same_origin_redirects_are_followed() {
        let next = redirect("https://cloud.mongodb.com/a", 307, "/b?x=1")
            .unwrap()
            .unwrap();
        assert_eq!(next.url.as_str(), "https://cloud.mongodb.com/b?x=1");
        let next = redirect(
            "https://cloud.mongodb.com/a",
            302,
            "https://cloud.mongodb.com:443/c",
        )
        .unwrap()
        .unwrap();
        assert_eq!(next.url.path(), "/c");
    }

    #[test]
    fn redirects_elsewhere_or_to_plaintext_are_refused() {
        for (from, location) in [
            ("https://cloud.mongodb.com/a", "http://cloud.mongodb.com/a"),
            ("https://cloud.mongodb.com/a", "https://evil.example/a"),
            (
                "https://cloud.mongodb.com/a",
                "https://cloud.mongodb.com:8443/a",
            ),
            ("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a"),
            ("http://127.0.0.1:8080/a", "https://127.0.0.1:8080/a"),
        ] {
            let error = redirect(from, 307, location).unwrap_err();
            assert!(
                matches!(error, Error::Redirect { .. }),
                "{location}: {error:?}"
            );
        }
    }

    #[test]
    fn other_statuses_are_not_redirects() {
        assert!(
            redirect("https://cloud.mongodb.com/a", 200, "/b")
                .unwrap()
                .is_none()
        );
        assert!(
            redirect("https://cloud.mongodb.com/a", 304, "/b")
                .unwrap()
                .is_none()
        );
    }
}
