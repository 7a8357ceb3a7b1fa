//! Invoices and their FOCUS reports: `GET /orgs/{orgId}/invoices`,
//! `POST .../invoices/{invoiceId}/reports` (201) and
//! `GET .../reports/{reportId}`.
//!
//! Documented choices: every organization has one invoice per month from
//! [`FIRST_INVOICE_MONTH`] to the current month (that one `PENDING`, the
//! others `CLOSED`), listed by `fromDate`/`toDate` on their start and end
//! dates as the spec says, newest first, without pagination. A report is
//! `PENDING` at its first poll, `RUNNING` until the emulator's processing
//! polls are used up, then `SUCCEEDED` with a `downloadUrl` on the download
//! listener (see [`crate::download`]) valid for an hour, or `FAILED` with
//! `failureReason` while [`InvoiceReports::fail_with`] is set. An unknown,
//! expired or other-organization report answers 404 `RESOURCE_NOT_FOUND`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::api_error::{ApiError, FieldViolation};
use crate::auth::refuse_unauthenticated;
use crate::media::{self, Representation};
use crate::routes::IssuedTokenMark;
use crate::state::{Shared, random_hex};
use crate::usage::invoice_id;
use crate::validation::{is_atlas_id, parse_date, validate_org_id};

/// The media type of the invoice report endpoints.
pub const REPORTS_MEDIA_TYPE: &str = "application/vnd.atlas.2025-03-12+json";

/// The first month every organization has an invoice for.
pub const FIRST_INVOICE_MONTH: &str = "2020-01-01";

/// How long a download URL stays valid unless a test says otherwise.
const URL_LIFETIME: SignedDuration = SignedDuration::from_secs(3600);

/// A report the emulator was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedReport {
    /// The report id (24 hex).
    pub report_id: String,
    /// The invoice it is for.
    pub invoice_id: String,
    /// The organization.
    pub org_id: String,
    /// The invoice's month.
    pub month: Date,
    /// When it was created.
    pub at: Timestamp,
}

/// The reports and download URLs, behind their own lock.
#[derive(Debug, Default)]
pub(crate) struct InvoiceReports {
    inner: Mutex<Reports>,
    download_base: OnceLock<String>,
}

#[derive(Debug, Default)]
struct Reports {
    issued: Vec<IssuedReport>,
    state: HashMap<String, ReportState>,
    /// Download keys to the report they serve.
    downloads: HashMap<String, Download>,
    fail_with: Option<String>,
    /// `None`: [`URL_LIFETIME`].
    url_lifetime: Option<SignedDuration>,
    /// Downloads still to refuse as expired, whatever their URL.
    refuse_next: u32,
}

#[derive(Debug, Default)]
struct ReportState {
    polls: u32,
    expired: bool,
    failed: Option<String>,
    download_key: Option<String>,
}

/// One download URL: which report it serves and whether it still works.
#[derive(Debug, Clone)]
pub(crate) struct Download {
    pub org_id: String,
    pub month: Date,
    pub expired: bool,
    pub expires_at: Timestamp,
}

impl InvoiceReports {
    fn lock(&self) -> MutexGuard<'_, Reports> {
        self.inner
            .lock()
            .expect("emulator reports mutex poisoned by a panicking handler")
    }

    /// Sets the download listener's base URL, once, when it is bound.
    pub fn set_download_base(&self, base: String) {
        let _ = self.download_base.set(base);
    }

    pub fn issued(&self) -> Vec<IssuedReport> {
        self.lock().issued.clone()
    }

    /// Reports that reach `SUCCEEDED` from now on fail with `reason`
    /// instead; `None` lets them succeed again.
    pub fn fail_with(&self, reason: Option<String>) {
        self.lock().fail_with = reason;
    }

    /// Makes every download URL handed out so far answer 403; the next read
    /// of a report hands out a fresh one.
    pub fn expire_download_urls(&self) {
        for download in self.lock().downloads.values_mut() {
            download.expired = true;
        }
    }

    /// Download URLs handed out from now on expire `lifetime` after (a
    /// negative one: already expired when handed out).
    pub fn set_url_lifetime(&self, lifetime: SignedDuration) {
        self.lock().url_lifetime = Some(lifetime);
    }

    /// The next `count` downloads are refused as expired, as a URL that
    /// expired between the report's read and the download is.
    pub fn refuse_next_downloads(&self, count: u32) {
        self.lock().refuse_next = count;
    }

    /// Makes `report_id` answer 404; false if it was never created.
    pub fn expire_report(&self, report_id: &str) -> bool {
        self.lock()
            .state
            .get_mut(report_id)
            .map(|report| report.expired = true)
            .is_some()
    }

    /// The download behind `key`, if any, marked expired when its time is
    /// up or a refusal was asked for.
    pub fn download(&self, key: &str) -> Option<Download> {
        let mut reports = self.lock();
        if !reports.downloads.contains_key(key) {
            return None;
        }
        let refuse = reports.refuse_next > 0;
        reports.refuse_next = reports.refuse_next.saturating_sub(1);
        let download = reports.downloads.get_mut(key)?;
        if refuse || download.expires_at <= Timestamp::now() {
            download.expired = true;
        }
        Some(download.clone())
    }

    fn create(&self, org_id: &str, invoice: &str, month: Date) -> String {
        let report_id = random_hex()[..24].to_owned();
        let mut reports = self.lock();
        reports.issued.push(IssuedReport {
            report_id: report_id.clone(),
            invoice_id: invoice.to_owned(),
            org_id: org_id.to_owned(),
            month,
            at: Timestamp::now(),
        });
        reports
            .state
            .insert(report_id.clone(), ReportState::default());
        report_id
    }

    /// One poll: the report's view, or `None` when it is unknown here.
    fn poll(&self, org_id: &str, invoice: &str, report_id: &str, processing: u32) -> Option<Value> {
        let base = self.download_base.get().cloned().unwrap_or_default();
        let mut guard = self.lock();
        let Reports {
            issued,
            state,
            downloads,
            fail_with,
            url_lifetime,
            ..
        } = &mut *guard;
        let lifetime = url_lifetime.unwrap_or(URL_LIFETIME);
        let report = issued.iter().find(|report| report.report_id == report_id)?;
        let status = state.get_mut(report_id)?;
        if status.expired || report.org_id != org_id || report.invoice_id != invoice {
            return None;
        }
        let mut view = json!({
            "reportId": report_id, "invoiceId": invoice,
            "reportType": "FOCUS", "reportFormat": "CSV",
        });
        if status.polls < processing {
            status.polls += 1;
            view["state"] = Value::from(if status.polls == 1 {
                "PENDING"
            } else {
                "RUNNING"
            });
            return Some(view);
        }
        if status.failed.is_none() && status.download_key.is_none() {
            status.failed.clone_from(fail_with);
        }
        if let Some(reason) = &status.failed {
            view["state"] = Value::from("FAILED");
            view["failureReason"] = Value::from(reason.clone());
            return Some(view);
        }
        let current = status
            .download_key
            .as_ref()
            .and_then(|key| downloads.get(key))
            .filter(|download| !download.expired && download.expires_at > Timestamp::now());
        let expires_at = if let Some(download) = current {
            download.expires_at
        } else {
            let key = random_hex();
            let expires_at = Timestamp::now() + lifetime;
            let download = Download {
                org_id: org_id.to_owned(),
                month: report.month,
                expired: false,
                expires_at,
            };
            downloads.insert(key.clone(), download);
            status.download_key = Some(key);
            expires_at
        };
        let key = status.download_key.clone().unwrap_or_default();
        view["state"] = Value::from("SUCCEEDED");
        view["downloadUrl"] = Value::from(format!(
            "{base}/reports/{key}_focus.csv.gz?X-Emulated-Signature={}",
            &random_hex()[..16]
        ));
        view["expiresAt"] = Value::from(expires_at.to_string());
        Some(view)
    }
}

/// The months an organization has invoices for, newest first, as of now.
fn invoice_months() -> Vec<Date> {
    let first: Date = FIRST_INVOICE_MONTH.parse().unwrap_or_default();
    let today = Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut months = Vec::new();
    let mut month = first;
    while month <= today {
        months.push(month);
        match month.checked_add(1.month()) {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    months.reverse();
    months
}

/// The month of `org_id`'s invoice `invoice`, if it has one.
fn invoice_month(org_id: &str, invoice: &str) -> Option<Date> {
    invoice_months()
        .into_iter()
        .find(|month| invoice_id(org_id, *month) == invoice)
}

/// `GET /orgs/{orgId}/invoices`.
pub(crate) async fn list_invoices(
    State(shared): State<Arc<Shared>>,
    Path(org_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let outcome = (|| -> Result<Value, ApiError> {
        media::negotiate(&headers, &[Representation::Json])?;
        validate_org_id(&org_id)?;
        let (from, to) = (query_date(&uri, "fromDate")?, query_date(&uri, "toDate")?);
        let this_month = invoice_months().first().copied();
        let results: Vec<Value> = invoice_months()
            .into_iter()
            .filter_map(|month| {
                let end = month.checked_add(1.month()).ok()?;
                let listed = from.is_none_or(|from| month >= from) && to.is_none_or(|to| end <= to);
                listed.then(|| invoice_view(&org_id, month, end, Some(month) == this_month))
            })
            .collect();
        Ok(json!({ "results": results, "totalCount": results.len(), "links": [] }))
    })();
    match outcome {
        Ok(body) => (
            StatusCode::OK,
            [(CONTENT_TYPE, media::JSON)],
            body.to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

fn invoice_view(org_id: &str, month: Date, end: Date, pending: bool) -> Value {
    json!({
        "id": invoice_id(org_id, month),
        "orgId": org_id,
        "startDate": format!("{month}T00:00:00Z"),
        "endDate": format!("{end}T00:00:00Z"),
        "statusName": if pending { "PENDING" } else { "CLOSED" },
        "amountBilledCents": 0,
    })
}

fn query_date(uri: &Uri, name: &'static str) -> Result<Option<Date>, ApiError> {
    let Some(value) = uri
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| {
            pair.split_once('=')
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| value)
        })
    else {
        return Ok(None);
    };
    parse_date(value).map(Some).ok_or_else(|| {
        ApiError::validation(
            "INVALID_PARAMETER",
            vec![FieldViolation::new(name, "must be a date, YYYY-MM-DD")],
        )
    })
}

/// `POST .../invoices/{invoiceId}/reports`.
pub(crate) async fn create_report(
    State(shared): State<Arc<Shared>>,
    Path((org_id, invoice)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let outcome = (|| -> Result<(String, Value), ApiError> {
        require_reports_media(&headers, true)?;
        validate_org_id(&org_id)?;
        let body: Value = serde_json::from_slice(&body).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_JSON",
                format!("the request body is not valid JSON: {error}"),
            )
        })?;
        validate_report_request(&body)?;
        let month = invoice_month(&org_id, &invoice).ok_or_else(|| {
            ApiError::not_found(format!("no invoice {invoice} in organization {org_id}"))
        })?;
        let report_id = shared.reports.create(&org_id, &invoice, month);
        let mut view = json!({
            "reportId": report_id, "invoiceId": invoice,
            "reportType": "FOCUS", "reportFormat": "CSV", "state": "PENDING",
        });
        if let Some(version) = body.get("formatSpecVersion") {
            view["formatSpecVersion"] = version.clone();
        }
        Ok((report_id, view))
    })();
    match outcome {
        Ok((report_id, view)) => {
            let mut response = (
                StatusCode::CREATED,
                [(CONTENT_TYPE, REPORTS_MEDIA_TYPE)],
                view.to_string(),
            )
                .into_response();
            response.extensions_mut().insert(IssuedTokenMark(report_id));
            response
        }
        Err(error) => error.into_response(),
    }
}

/// `GET .../invoices/{invoiceId}/reports/{reportId}`.
pub(crate) async fn read_report(
    State(shared): State<Arc<Shared>>,
    Path((org_id, invoice, report_id)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let outcome = (|| {
        require_reports_media(&headers, false)?;
        validate_org_id(&org_id)?;
        let processing = shared.processing_polls();
        if !is_atlas_id(&report_id) {
            return Err(ApiError::validation(
                "INVALID_PARAMETER",
                vec![FieldViolation::new(
                    "reportId",
                    "must be a 24-hexadecimal digit string",
                )],
            ));
        }
        shared
            .reports
            .poll(&org_id, &invoice, &report_id, processing)
            .ok_or_else(|| ApiError::not_found(format!("no invoice report {report_id}")))
    })();
    match outcome {
        Ok(view) => (
            StatusCode::OK,
            [(CONTENT_TYPE, REPORTS_MEDIA_TYPE)],
            view.to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The 2025-03-12 media type in `Accept` (and `Content-Type` on a POST):
/// these endpoints exist in no other version.
fn require_reports_media(headers: &HeaderMap, with_body: bool) -> Result<(), ApiError> {
    let names = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case(REPORTS_MEDIA_TYPE)
            })
    };
    if !names(ACCEPT) {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "INVALID_VERSION",
            format!("the Accept header must name {REPORTS_MEDIA_TYPE}"),
        ));
    }
    if with_body && !names(CONTENT_TYPE) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("the Content-Type must be {REPORTS_MEDIA_TYPE}"),
        ));
    }
    Ok(())
}

/// `InvoiceReportRequest`: `reportType` FOCUS, `reportFormat` CSV, an
/// optional string `formatSpecVersion`, nothing else.
fn validate_report_request(body: &Value) -> Result<(), ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::validation(
            "VALIDATION_ERROR",
            vec![FieldViolation::new("body", "must be an object")],
        ));
    };
    let mut fields = Vec::new();
    for key in object.keys() {
        if !["reportType", "reportFormat", "formatSpecVersion"].contains(&key.as_str()) {
            fields.push(FieldViolation::new(
                key.clone(),
                "is not a field of InvoiceReportRequest",
            ));
        }
    }
    if object.get("reportType").and_then(Value::as_str) != Some("FOCUS") {
        fields.push(FieldViolation::new("reportType", "must be FOCUS"));
    }
    if object.get("reportFormat").and_then(Value::as_str) != Some("CSV") {
        fields.push(FieldViolation::new("reportFormat", "must be CSV"));
    }
    if object
        .get("formatSpecVersion")
        .is_some_and(|version| !version.is_string())
    {
        fields.push(FieldViolation::new("formatSpecVersion", "must be a string"));
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation("VALIDATION_ERROR", fields))
    }
}
