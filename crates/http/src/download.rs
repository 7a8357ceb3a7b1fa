//! Downloading a report file from a pre-signed URL.
//!
//! The URL is on another host than Atlas and carries its own signature, so
//! this client has no credential to send: it is a separate `reqwest` client
//! with no auth layer, no default headers and no cookies. It keeps the main
//! client's transport rules: `https` unless the host is loopback (or the
//! user allowed plain http), redirects only while they stay on `https`,
//! and every download bounded in size (compressed and decompressed, by the
//! result limit `fetch --max-result-size`) and in time. The file goes to a
//! [`ResultBody`] spool, so its size costs no memory.

use std::io::{self, BufReader, Read as _, Write as _};
use std::sync::OnceLock;
use std::time::Duration;

use costform_model::result_body::ResultBody;

use reqwest::StatusCode;
use reqwest::redirect::{Attempt, Policy};

use crate::config::{ClientConfig, is_loopback};
use crate::error::{Error, server_text};

/// The most redirects a download follows.
const MAX_REDIRECTS: usize = 5;

/// The gzip magic number: a report file may come compressed whatever its
/// headers say (`..._focus.csv.gz`).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What a download found.
#[derive(Debug)]
pub(crate) enum Downloaded {
    /// The file, decompressed when it was gzip, spooled to a temporary file
    /// when large (FOCUS files have a row per resource and day).
    Body(ResultBody),
    /// The URL was refused as expired (403, or an answer saying so): the
    /// caller reads the report again for a fresh one.
    Expired,
}

/// A client without credentials for pre-signed URLs, built on the first
/// download: building one loads the system's root certificates, which a
/// run without FOCUS reports should not pay for.
#[derive(Debug)]
pub(crate) struct Downloader {
    http: OnceLock<reqwest::Client>,
    connect_timeout: Duration,
    timeout: Duration,
    max_bytes: u64,
    allow_insecure_http: bool,
}

impl Downloader {
    /// The download client for `config`'s timeouts and bounds.
    pub(crate) fn new(config: &ClientConfig) -> Self {
        Self {
            http: OnceLock::new(),
            connect_timeout: config.connect_timeout,
            timeout: config.download_timeout,
            max_bytes: config.max_result_bytes,
            allow_insecure_http: config.allow_insecure_http,
        }
    }

    fn http(&self) -> Result<&reqwest::Client, Error> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let allow_insecure_http = self.allow_insecure_http;
        let http = reqwest::Client::builder()
            .user_agent(concat!("costform/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(Policy::custom(move |attempt| {
                follow(attempt, allow_insecure_http)
            }))
            .build()
            .map_err(Error::Setup)?;
        Ok(self.http.get_or_init(|| http))
    }

    /// Downloads `url` whole, refusing a file over the size bound.
    pub(crate) async fn download(&self, url: &str) -> Result<Downloaded, Error> {
        let parsed = reqwest::Url::parse(url).map_err(|error| Error::Download {
            url: shown(url),
            message: format!("not a URL: {error}"),
        })?;
        let failed = |message: String| Error::Download {
            url: shown(url),
            message,
        };
        if !self.allowed(&parsed) {
            return Err(failed(
                "only `https://` URLs are downloaded (or `http://` on loopback)".to_owned(),
            ));
        }
        let mut response = self
            .http()?
            .get(parsed)
            .send()
            .await
            .map_err(|error| failed(transport_text(error)))?;
        let status = response.status();
        if status == StatusCode::FORBIDDEN || status == StatusCode::GONE {
            tracing::info!(url = %shown(url), %status, "download refused: taken as an expired URL");
            return Ok(Downloaded::Expired);
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(failed(format!(
                "status {status}: {}",
                server_text(&text.chars().take(500).collect::<String>())
            )));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.max_bytes)
        {
            return Err(failed(self.too_large()));
        }
        let spool_failed = |error: io::Error| failed(format!("could not keep the file: {error}"));
        let mut body = ResultBody::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(transport_text(error)))?
        {
            if body.len() + chunk.len() as u64 > self.max_bytes {
                return Err(failed(self.too_large()));
            }
            body.write_all(&chunk).map_err(spool_failed)?;
        }
        if body.head(GZIP_MAGIC.len()).map_err(spool_failed)? != GZIP_MAGIC {
            return Ok(Downloaded::Body(body));
        }
        let mut plain = ResultBody::new();
        let compressed = BufReader::new(body.reader().map_err(spool_failed)?);
        io::copy(
            &mut flate2::read::MultiGzDecoder::new(compressed)
                .take(self.max_bytes.saturating_add(1)),
            &mut plain,
        )
        .map_err(|error| failed(format!("the gzip file does not decompress: {error}")))?;
        if plain.len() > self.max_bytes {
            return Err(failed(format!("{} once decompressed", self.too_large())));
        }
        Ok(Downloaded::Body(plain))
    }

    fn allowed(&self, url: &reqwest::Url) -> bool {
        url.scheme() == "https"
            || (url.scheme() == "http" && (self.allow_insecure_http || is_loopback(url)))
    }

    fn too_large(&self) -> String {
        format!(
            "the file is larger than the {} bytes allowed; raise the limit with \
             `--max-result-size` if the file is real",
            self.max_bytes
        )
    }
}

/// Follows a redirect only while it keeps to https (or loopback http), and
/// at most [`MAX_REDIRECTS`] times.
fn follow(attempt: Attempt<'_>, allow_insecure_http: bool) -> reqwest::redirect::Action {
    if attempt.previous().len() > MAX_REDIRECTS {
        return attempt.error("too many redirects");
    }
    let url = attempt.url();
    let secure = url.scheme() == "https"
        || (url.scheme() == "http" && (allow_insecure_http || is_loopback(url)));
    if secure {
        attempt.follow()
    } else {
        attempt.error("a redirect away from https")
    }
}

/// The URL without its query and fragment, which hold the signature.
fn shown(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    server_text(&url[..end])
}

/// A transport error without the URL it carries (whose query is the
/// signature), with its causes.
fn transport_text(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
