//! Reading a Cost Explorer usage response: processing, ready, or an error.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use costform_model::state::ResultFormat;

use costform_model::result_body::ResultBody;

use crate::envelope::{self, Content, Unwrapped};
use crate::error::{ApiError, Error, truncate};
use crate::transport::{Exchange, Outgoing};

/// The versioned media type for JSON requests and results.
pub const JSON_MEDIA_TYPE: &str = "application/vnd.atlas.2023-01-01+json";
/// The versioned media type for CSV results.
pub const CSV_MEDIA_TYPE: &str = "application/vnd.atlas.2023-01-01+csv";

/// What Atlas said about a query token.
#[derive(Debug)]
pub enum Usage {
    /// Atlas is still computing the results: poll again later.
    Processing,
    /// The results, as Atlas sent them (unwrapped from the envelope).
    Ready {
        /// The media type of `body`.
        content_type: String,
        /// JSON (`{"usageDetails": [...]}`) or CSV bytes, spooled to a
        /// temporary file when large.
        body: ResultBody,
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
///
/// A result may be hundreds of megabytes: it is read as a stream, never
/// parsed into a tree (see [`crate::envelope`]).
pub(crate) fn read_usage(
    request: &Outgoing,
    exchange: Exchange,
    format: ResultFormat,
) -> Result<Usage, Error> {
    let url = request.url.as_str();
    let method = request.method.as_str();
    let spool_failed = |source| Error::Spool {
        url: url.to_owned(),
        source,
    };
    let mut result = match (exchange.status.as_u16(), exchange.result) {
        (102 | 202 | 204, _) => return Ok(Usage::Processing),
        (200, Some(result)) => result,
        (status, _) if status >= 400 => {
            return Err(ApiError::from_body(status, method, url, &exchange.body).into());
        }
        (status, _) => {
            return Err(Error::InvalidResponse {
                url: url.to_owned(),
                message: format!("unexpected status {status}"),
            });
        }
    };
    let header_type = exchange
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or(media_type(format))
        .to_owned();
    let (status, content) = match envelope::unwrap(&mut result).map_err(spool_failed)? {
        Unwrapped::NotEnvelope { parses } => {
            return checked(url, header_type, result, format, parses);
        }
        Unwrapped::Envelope { status, content } => (status, content),
    };
    match status {
        102 | 202 | 204 => Ok(Usage::Processing),
        200 => match content {
            Content::Absent => checked(url, media_type(format).to_owned(), result, format, true),
            Content::Text(text) => checked(url, media_type(format).to_owned(), text, format, true),
            Content::Json(json) => checked(url, JSON_MEDIA_TYPE.to_owned(), json, format, true),
        },
        status if status >= 400 => {
            let code = u16::try_from(status).unwrap_or(StatusCode::BAD_GATEWAY.as_u16());
            let content = content.into_value().map_err(spool_failed)?;
            Err(ApiError::from_content(code, method, url, &content).into())
        }
        status => Err(Error::InvalidResponse {
            url: url.to_owned(),
            message: format!("unexpected envelope status {status}"),
        }),
    }
}

/// A ready result, once it is known to be one: a 200 from a proxy or a
/// captive portal (an HTML page) must not be saved as results with 0 rows.
/// The media type must be the format asked for, and a JSON result must parse
/// (`parses`: found while unwrapping; a CSV result is checked for UTF-8 here).
fn checked(
    url: &str,
    content_type: String,
    mut body: ResultBody,
    format: ResultFormat,
    parses: bool,
) -> Result<Usage, Error> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (suffix, sound) = match format {
        ResultFormat::Json => ("json", parses),
        ResultFormat::Csv => ("csv", envelope::is_utf8(&mut body)),
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
