//! The one error type of this crate, and the parsing of Atlas's `ApiError` body.

use std::time::Duration;

use serde::Deserialize;

use crate::config::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, PRIVATE_API_KEY, PUBLIC_API_KEY};
use crate::pacing::seconds;

/// Error bodies longer than this are cut: a proxy's HTML error page is useful
/// as a hint, not as a wall of text.
const MAX_RAW_BODY: usize = 2048;

/// The most costform reads of an answer that is not a result (a token, an
/// error, a list): far above any real one.
pub(crate) const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// Everything that can go wrong talking to Atlas.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Atlas (or something in front of it) answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// No response could be obtained, even after retrying.
    #[error("request to `{url}` failed after {attempts} attempt(s)")]
    Transport {
        /// The request URL.
        url: String,
        /// How many times the request was sent.
        attempts: u32,
        /// The last transport failure.
        #[source]
        source: reqwest::Error,
    },
    /// None of the supported credential variables is set.
    #[error(
        "no Atlas credentials: set `{CLIENT_ID}` and `{CLIENT_SECRET}` (a service account), \
         `{ACCESS_TOKEN}`, or `{PUBLIC_API_KEY}` and `{PRIVATE_API_KEY}` (an API key); \
         to create a service account, open the Atlas UI at Organization > Access Manager > \
         Applications > Service Accounts and give it the Organization Billing Viewer role"
    )]
    NoCredentials,
    /// One half of a credential pair is set and the other is not.
    #[error("`{present}` is set but `{missing}` is not")]
    IncompleteCredentials {
        /// The variable that is set.
        present: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// The configured base URL cannot be used.
    #[error("`{value}` is not a usable Atlas base URL: {reason}")]
    InvalidBaseUrl {
        /// The configured value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// Atlas answered successfully, but not with what the API promises.
    #[error("unexpected response from `{url}`: {message}")]
    InvalidResponse {
        /// The request URL.
        url: String,
        /// What was wrong with the response.
        message: String,
    },
    /// A redirect the client will not follow, as it would hand the
    /// credentials to another origin or send them in clear.
    #[error(
        "refusing to follow the redirect from `{from}` to `{to}`: {reason}; nothing was sent there"
    )]
    Redirect {
        /// The request URL.
        from: String,
        /// Where the redirect pointed (cut when long).
        to: String,
        /// Why it is not followed.
        reason: String,
    },
    /// The OAuth token endpoint refused the service account.
    #[error(
        "could not obtain an access token for `{CLIENT_ID}` and `{CLIENT_SECRET}` from `{url}`{}: {detail}",
        status.map(|s| format!(" (status {s})")).unwrap_or_default()
    )]
    Auth {
        /// The token endpoint URL.
        url: String,
        /// The HTTP status, when the endpoint answered.
        status: Option<u16>,
        /// The endpoint's explanation (never the secret).
        detail: String,
    },
    /// Atlas asked to wait longer than the run may: the request fails at
    /// once instead of sleeping past the run's deadline.
    #[error(
        "rate limited: atlas asks to wait {} before sending `{url}` again, longer than the {} this run may wait",
        seconds(*wait),
        seconds(*limit)
    )]
    RateLimitWait {
        /// The request URL.
        url: String,
        /// The wait Atlas asked for (or the bucket needs).
        wait: Duration,
        /// What was left of the run's budget.
        limit: Duration,
    },
    /// Atlas refused the API key even when answering a challenge it had just
    /// issued: the keys are wrong, and no request of this run can succeed.
    #[error(
        "atlas refused the API key in `{PUBLIC_API_KEY}` and `{PRIVATE_API_KEY}` after a fresh digest challenge: {answer}"
    )]
    KeyRefused {
        /// Atlas's answer to the fresh challenge's response.
        answer: Box<ApiError>,
    },
    /// A request left unsent because the credentials already failed in this
    /// run: the first failure says why, once, instead of once per report.
    #[error("not sent: the credentials in `{first}` and `{second}` failed earlier in this run")]
    CredentialsFailedEarlier {
        /// The first variable of the failed pair.
        first: &'static str,
        /// The second variable of the failed pair.
        second: &'static str,
    },
    /// The run's deadline (`fetch --wait --timeout`) came before an answer
    /// worth keeping, so no further attempt was made.
    #[error(
        "no answer from `{url}` before the run's time limit ({attempts} attempts; the last: {reason})"
    )]
    DeadlinePassed {
        /// The request URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// Why the last attempt was not an answer.
        reason: String,
    },
    /// An answer longer than costform reads: a result past
    /// `--max-result-size`, or any other answer past `MAX_ANSWER_BYTES`
    /// (an endless body must not fill memory or disk).
    #[error("the answer from `{url}` is larger than {limit} bytes; {hint}")]
    AnswerTooLarge {
        /// The request URL.
        url: String,
        /// The limit that was passed.
        limit: u64,
        /// What the user can do about it.
        hint: &'static str,
    },
    /// An answer could not be kept in its temporary file (a full disk).
    #[error("could not keep the answer from `{url}` in a temporary file")]
    Spool {
        /// The request URL.
        url: String,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("failed to set up the http client")]
    Setup(#[source] reqwest::Error),
    /// The organization has no invoice that starts on the month asked for,
    /// so no invoice report can be made for it.
    #[error(
        "organization `{org_id}` has no invoice for the month of {month}: check `invoice_month` (invoices start on the 1st; the current month's is pending until it closes)"
    )]
    NoInvoice {
        /// The organization.
        org_id: String,
        /// The month's first day.
        month: String,
    },
    /// A report's file could not be downloaded. The URL is shown without
    /// its query, which holds the pre-signed URL's signature.
    #[error("download of `{url}` failed: {message}")]
    Download {
        /// The download URL without query or fragment.
        url: String,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// The HTTP status Atlas answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) | Error::KeyRefused { answer: api } => Some(api.status),
            Error::Auth { status, .. } => *status,
            Error::RateLimitWait { .. } => Some(429),
            _ => None,
        }
    }

    /// Atlas's `errorCode`, such as `VALIDATION_ERROR`.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Api(api) | Error::KeyRefused { answer: api } => api.error_code.as_deref(),
            _ => None,
        }
    }

    /// Whether Atlas does not know the resource: for a token, it expired.
    /// Only a 404 carrying Atlas's `ApiError` body counts: a bare 404 comes
    /// from a wrong base URL or a proxy, and must not mark tokens expired.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(api) if api.status == 404 && api.error_code.is_some())
    }
}

/// An error answer from Atlas, as its `ApiError` body describes it.
///
/// Bodies that are not an `ApiError` (a proxy's HTML page, plain text) are kept
/// in `detail`, cut to about 2 KB, with no `error_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (or the envelope's `status`).
    pub status: u16,
    /// `errorCode`, such as `VALIDATION_ERROR` or `RATE_LIMITED_TOKEN_BUCKET`.
    pub error_code: Option<String>,
    /// `reason`, the status text.
    pub reason: Option<String>,
    /// `detail`, the human explanation (or the raw body).
    pub detail: Option<String>,
    /// `badRequestDetail.fields` as `(field, description)` pairs.
    pub fields: Vec<(String, String)>,
    /// The request method.
    pub method: String,
    /// The request URL.
    pub url: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "atlas answered {}", self.status)?;
        if let Some(code) = &self.error_code {
            write!(f, " {code}")?;
        }
        write!(f, " for {} {}", self.method, self.url)?;
        let text = self.detail.as_ref().or(self.reason.as_ref());
        if let Some(text) = text {
            write!(f, ": {text}")?;
        }
        // Atlas often repeats a field's description in `detail`: say it once.
        let said =
            |description: &String| text.is_some_and(|text| text.contains(description.as_str()));
        let fields: Vec<_> = self
            .fields
            .iter()
            .filter(|(_, description)| !said(description))
            .collect();
        for (i, (field, description)) in fields.iter().enumerate() {
            let open = if i == 0 { " (" } else { "; " };
            write!(f, "{open}`{field}`: {description}")?;
        }
        if !fields.is_empty() {
            f.write_str(")")?;
        }
        if self.status == 404 && self.error_code.is_none() {
            f.write_str(" (not an Atlas error body: check the base URL and any proxy)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(api: ApiError) -> Self {
        Error::Api(Box::new(api))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiErrorBody {
    error_code: String,
    reason: Option<String>,
    detail: Option<String>,
    bad_request_detail: Option<BadRequestDetail>,
}

#[derive(Deserialize)]
struct BadRequestDetail {
    #[serde(default)]
    fields: Vec<FieldViolation>,
}

#[derive(Deserialize)]
struct FieldViolation {
    field: String,
    description: String,
}

impl ApiError {
    /// Reads an error response body, structured when it is an `ApiError`.
    pub(crate) fn from_body(status: u16, method: &str, url: &str, body: &[u8]) -> Self {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => Self::from_content(status, method, url, &value),
            Err(_) => Self::raw(status, method, url, &String::from_utf8_lossy(body)),
        }
    }

    /// Reads an error carried as JSON, such as an envelope's `content`.
    pub(crate) fn from_content(
        status: u16,
        method: &str,
        url: &str,
        content: &serde_json::Value,
    ) -> Self {
        if let Ok(body) = ApiErrorBody::deserialize(content) {
            let text = |value: &str| server_text(value);
            return Self {
                status,
                error_code: Some(text(&body.error_code)),
                reason: body.reason.as_deref().map(text),
                detail: body.detail.as_deref().map(text),
                fields: body
                    .bad_request_detail
                    .map(|detail| {
                        detail
                            .fields
                            .iter()
                            .take(MAX_FIELDS)
                            .map(|v| (text(&v.field), text(&v.description)))
                            .collect()
                    })
                    .unwrap_or_default(),
                method: method.to_owned(),
                url: url.to_owned(),
            };
        }
        match content {
            serde_json::Value::String(text) => Self::raw(status, method, url, text),
            other => Self::raw(status, method, url, &other.to_string()),
        }
    }

    fn raw(status: u16, method: &str, url: &str, text: &str) -> Self {
        let text = text.trim();
        Self {
            status,
            error_code: None,
            reason: None,
            detail: (!text.is_empty()).then(|| server_text(text)),
            fields: Vec::new(),
            method: method.to_owned(),
            url: url.to_owned(),
        }
    }
}

/// The most field violations of one error that are kept.
const MAX_FIELDS: usize = 20;

/// Text Atlas (or whatever answered) sent, made safe to print: cut to
/// [`MAX_RAW_BODY`] bytes, and control and bidirectional characters written
/// as escapes, so an answer cannot flood a log or drive the terminal.
pub(crate) fn server_text(text: &str) -> String {
    costform_model::printable::escaped(&truncate(text, MAX_RAW_BODY)).into_owned()
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #11 item 12: what a server says is printed escaped and capped.
    #[test]
    fn server_text_is_escaped_and_capped_on_every_field() {
        let hostile = format!("\u{1b}[2J\u{202e}{}", "x".repeat(5 * 1024 * 1024));
        let body = serde_json::json!({
            "error": 400, "errorCode": "BAD\u{1b}]0;pwned\u{7}", "detail": hostile,
            "badRequestDetail": {"fields": [{"field": "f\u{1b}", "description": "d"}]},
        });
        let error = ApiError::from_body(400, "POST", "http://x", body.to_string().as_bytes());
        let shown = error.to_string();
        assert!(shown.len() < 5 * 1024, "{} bytes shown", shown.len());
        assert!(
            !shown.chars().any(costform_model::printable::is_unsafe),
            "{shown:?}"
        );
        assert!(shown.contains("BAD\\u{1b}]0;pwned\\u{7}"), "{shown:?}");
        assert!(shown.contains("\\u{202e}"), "{shown:?}");
        let raw = ApiError::from_body(502, "GET", "http://x", b"<html>\x1b[31mproxy</html>");
        assert!(
            !raw.to_string()
                .chars()
                .any(costform_model::printable::is_unsafe)
        );
    }

    #[test]
    fn long_raw_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(2000);
        let error = ApiError::from_body(502, "GET", "https://x", body.as_bytes());
        let detail = error.detail.unwrap();
        assert!(detail.len() < 2100, "{}", detail.len());
        assert!(detail.ends_with("(4000 bytes in all)"), "{detail}");
    }

    #[test]
    fn display_lists_field_violations() {
        let body = br#"{"error":400,"errorCode":"VALIDATION_ERROR","detail":"Invalid dates",
            "badRequestDetail":{"fields":[{"field":"startDate","description":"not the 1st"}]}}"#;
        let error = ApiError::from_body(400, "POST", "https://x/y", body);
        assert_eq!(
            error.to_string(),
            "atlas answered 400 VALIDATION_ERROR for POST https://x/y: Invalid dates (`startDate`: not the 1st)"
        );
        let repeated = br#"{"error":400,"errorCode":"VALIDATION_ERROR","detail":"services[1]: must be a service",
            "badRequestDetail":{"fields":[{"field":"services[1]","description":"must be a service"}]}}"#;
        let error = ApiError::from_body(400, "POST", "https://x/y", repeated);
        assert_eq!(
            error.to_string(),
            "atlas answered 400 VALIDATION_ERROR for POST https://x/y: services[1]: must be a service"
        );
    }
}
