//! The download listener: the host a report's pre-signed `downloadUrl`
//! points at, on a second port, as Atlas's files live on another host
//! than its API.
//!
//! It answers `GET /reports/{key}_focus.csv.gz` with the gzip-compressed
//! FOCUS file, 403 `Request has expired` (as S3 says it) for a URL made
//! stale by [`crate::EmulatorHandle::expire_download_urls`], 404 for a key
//! it never handed out. It checks no credential, and records the
//! `Authorization` header of every request so that tests can assert that
//! no Atlas credential ever reaches it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;

use crate::focus::{focus_csv, gzip};
use crate::state::Shared;

/// One request the download listener received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRequest {
    /// When it arrived.
    pub at: Timestamp,
    /// The path, without the query.
    pub path: String,
    /// The `Authorization` header as sent, whole: it should never be there.
    pub authorization: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// The download listener's request log.
#[derive(Debug, Default)]
pub(crate) struct DownloadLog(Mutex<Vec<DownloadRequest>>);

impl DownloadLog {
    pub fn entries(&self) -> Vec<DownloadRequest> {
        self.0
            .lock()
            .expect("emulator download log mutex poisoned")
            .clone()
    }

    fn push(&self, entry: DownloadRequest) {
        self.0
            .lock()
            .expect("emulator download log mutex poisoned")
            .push(entry);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/reports/{file}", get(download))
        .with_state(shared)
}

async fn download(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let key = file.strip_suffix("_focus.csv.gz").unwrap_or(&file);
    let response = match shared.reports.download(key) {
        None => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
        Some(download) if download.expired => (
            StatusCode::FORBIDDEN,
            [(CONTENT_TYPE, "application/xml")],
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        )
            .into_response(),
        Some(download) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "application/gzip")],
            gzip(&focus_csv(&download.org_id, download.month)),
        )
            .into_response(),
    };
    shared.downloads.push(DownloadRequest {
        at: Timestamp::now(),
        path: format!("/reports/{file}"),
        authorization: headers
            .get(AUTHORIZATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        status: response.status().as_u16(),
    });
    response
}
