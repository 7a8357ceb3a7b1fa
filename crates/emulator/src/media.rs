//! Versioned media types: Atlas selects the API version from `Accept` (and
//! `Content-Type` on POST), and this path exists only in version 2023-01-01.
//!
//! Documented choices: an `Accept` header that names neither of the allowed
//! types (or is missing) answers 406 `INVALID_VERSION`; a POST whose
//! `Content-Type` is not the versioned JSON type answers 415
//! `UNSUPPORTED_MEDIA_TYPE`. Media type parameters (`; charset=utf-8`) and case
//! are ignored, and `Accept` may list several types.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};

use crate::api_error::ApiError;

/// The JSON media type of API version 2023-01-01.
pub const JSON: &str = "application/vnd.atlas.2023-01-01+json";
/// The CSV media type of API version 2023-01-01 (results only).
pub const CSV: &str = "application/vnd.atlas.2023-01-01+csv";

/// The result representation the client negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Representation {
    Json,
    Csv,
}

/// Picks the first allowed type the `Accept` header lists.
pub(crate) fn negotiate(
    headers: &HeaderMap,
    allowed: &[Representation],
) -> Result<Representation, ApiError> {
    let listed: Vec<String> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(essence)
        .collect();
    listed
        .iter()
        .find_map(|media| {
            allowed
                .iter()
                .copied()
                .find(|representation| media == representation.media_type())
        })
        .ok_or_else(|| {
            let names: Vec<_> = allowed.iter().map(|r| r.media_type()).collect();
            ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "INVALID_VERSION",
                format!("the Accept header must name {}", names.join(" or ")),
            )
        })
}

/// Requires the versioned JSON `Content-Type` on a request with a body.
pub(crate) fn require_json_content(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(essence);
    if content_type.as_deref() == Some(JSON) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("the Content-Type header must be {JSON}"),
        ))
    }
}

impl Representation {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => JSON,
            Self::Csv => CSV,
        }
    }
}

/// The media type without parameters, lower case.
fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn lists_and_parameters_are_understood() {
        let both = [Representation::Json, Representation::Csv];
        let headers = accept("text/html, application/vnd.atlas.2023-01-01+CSV; q=0.9");
        assert_eq!(negotiate(&headers, &both), Ok(Representation::Csv));
    }

    #[test]
    fn other_versions_are_not_acceptable() {
        let headers = accept("application/vnd.atlas.2023-10-01+json");
        let error = negotiate(&headers, &[Representation::Json]).expect_err("406");
        assert_eq!(error.status, StatusCode::NOT_ACCEPTABLE);
    }
}
