//! Reading a Cost Explorer usage response: processing, ready, or an error.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use costform_model::state::ResultFormat;

use crate::error::{ApiError, Error, truncate};
use crate::transport::{Exchange, Outgoing};

/// The versioned media type for JSON requests and results.
pub const JSON_MEDIA_TYPE: &str = "application/vnd.atlas.2023-01-01+json";
/// The versioned media type for CSV results.
pub const CSV_MEDIA_TYPE: &str = "application/vnd.atlas.2023-01-01+csv";

/// What Atlas said about a query token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    /// Atlas is still computing the results: poll again later.
    Processing,
    /// The results, as Atlas sent them.
    Ready {
        /// The media type of `body`.
        content_type: String,
        /// JSON (`{"usageDetails": [...]}`) or CSV bytes.
        body: Vec<u8>,
    },
}

/// The `Accept` media type for results in `format`.
pub(crate) fn media_type(format: ResultFormat) -> &'static str {
    match format {
        ResultFormat::Json => JSON_MEDIA_TYPE,
        ResultFormat::Csv => CSV_MEDIA_TYPE,
    }
}

/// Interprets the answer to `GET .../usage/{token}?envelope=true`.
///
/// Whether Atlas puts the real status in the HTTP status line, in the envelope
/// or in both is not documented, so both are read: a bare 102, 202 or 204 and
/// an envelope `status` of 102 all mean "processing"; a body that is not an
/// envelope (CSV, or JSON without one) is the result itself.
pub(crate) fn read_usage(
    request: &Outgoing,
    exchange: Exchange,
    format: ResultFormat,
) -> Result<Usage, Error> {
    let url = request.url.as_str();
    let method = request.method.as_str();
    match exchange.status.as_u16() {
        102 | 202 | 204 => return Ok(Usage::Processing),
        200 => {}
        status if status >= 400 => {
            return Err(ApiError::from_body(status, method, url, &exchange.body).into());
        }
        status => {
            return Err(Error::InvalidResponse {
                url: url.to_owned(),
                message: format!("unexpected status {status}"),
            });
        }
    }
    let Some((status, content)) = envelope(&exchange.body) else {
        let content_type = exchange
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or(media_type(format))
            .to_owned();
        return checked(url, content_type, exchange.body, format);
    };
    match status {
        102 | 202 | 204 => Ok(Usage::Processing),
        200 => {
            let (content_type, body) = ready(content, format);
            checked(url, content_type, body, format)
        }
        status if status >= 400 => {
            let code = u16::try_from(status).unwrap_or(StatusCode::BAD_GATEWAY.as_u16());
            let content = content.unwrap_or(serde_json::Value::Null);
            Err(ApiError::from_content(code, method, url, &content).into())
        }
        status => Err(Error::InvalidResponse {
            url: url.to_owned(),
            message: format!("unexpected envelope status {status}"),
        }),
    }
}

/// `{"status": N, "content": ...}` and nothing else; a result never has a
/// top-level `status`, so this does not mistake a result for an envelope.
fn envelope(body: &[u8]) -> Option<(u64, Option<serde_json::Value>)> {
    let serde_json::Value::Object(mut object) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let status = object.get("status")?.as_u64()?;
    if object.keys().any(|key| key != "status" && key != "content") {
        return None;
    }
    Some((status, object.remove("content")))
}

/// The envelope's content as a media type and result bytes: a string is the
/// CSV (or JSON) text itself, anything else is the JSON result.
fn ready(content: Option<serde_json::Value>, format: ResultFormat) -> (String, Vec<u8>) {
    match content {
        Some(serde_json::Value::String(text)) => (media_type(format).to_owned(), text.into_bytes()),
        Some(json) => (JSON_MEDIA_TYPE.to_owned(), json.to_string().into_bytes()),
        None => (media_type(format).to_owned(), Vec::new()),
    }
}

/// A ready result, once it is known to be one: a 200 from a proxy or a
/// captive portal (an HTML page) must not be saved as results with 0 rows.
/// The media type must be the format asked for, and a JSON result must parse.
fn checked(
    url: &str,
    content_type: String,
    body: Vec<u8>,
    format: ResultFormat,
) -> Result<Usage, Error> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (suffix, sound) = match format {
        ResultFormat::Json => (
            "json",
            serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok(),
        ),
        ResultFormat::Csv => ("csv", std::str::from_utf8(&body).is_ok()),
    };
    if !essence.ends_with(suffix) {
        return Err(Error::InvalidResponse {
            url: url.to_owned(),
            message: format!(
                "a 200 answer of type `{}` ({} bytes) is not a {suffix} result",
                truncate(&essence, 100),
                body.len()
            ),
        });
    }
    if !sound {
        return Err(Error::InvalidResponse {
            url: url.to_owned(),
            message: format!("the {suffix} result ({} bytes) does not parse", body.len()),
        });
    }
    Ok(Usage::Ready { content_type, body })
}
