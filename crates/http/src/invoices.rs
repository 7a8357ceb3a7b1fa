//! The `focus_report` kind's adapter: find a month's invoice, ask for its
//! FOCUS report, poll the report and download its file.
//!
//! The download goes through [`crate::download::Downloader`], a client that
//! holds no Atlas credential: the URL is pre-signed and on another host.

use jiff::Timestamp;
use jiff::civil::Date;
use reqwest::StatusCode;
use serde::Deserialize;

use costform_model::ids::{AtlasId, OrgId};
use costform_model::request::RequestBody;
use costform_model::result_body::ResultBody;

use crate::client::{Client, get, post_json, unexpected};
use crate::download::Downloaded;
use crate::error::{Error, server_text};
use crate::transport::{Exchange, Outgoing};
use crate::usage::JSON_MEDIA_TYPE;

/// The media type of the invoice report endpoints (API version 2025-03-12).
pub const REPORTS_MEDIA_TYPE: &str = "application/vnd.atlas.2025-03-12+json";

/// The most invoices one lookup reads: a month has one invoice per
/// organization, and a few linked or corrected ones at most.
const INVOICES_PER_PAGE: u32 = 500;

/// What one look at an invoice report found.
#[derive(Debug)]
pub enum InvoiceReport {
    /// `PENDING` or `RUNNING`: poll again later.
    Processing,
    /// `SUCCEEDED`, and the file downloaded (decompressed when it was gzip).
    Ready(ResultBody),
    /// `FAILED`: Atlas gave up on this report for good; only a new report
    /// can have the file.
    Failed {
        /// Atlas's `failureReason`, escaped and cut.
        reason: String,
    },
}

/// `InvoiceReportResponse`, the fields read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportView {
    report_id: Option<String>,
    state: String,
    download_url: Option<String>,
    #[serde(default)]
    expires_at: Option<Timestamp>,
    failure_reason: Option<String>,
}

impl ReportView {
    /// Atlas's reason for a `FAILED` report, made safe to print.
    fn failure(&self) -> String {
        self.failure_reason
            .as_deref()
            .map_or_else(|| "no reason given".to_owned(), server_text)
    }
}

#[derive(Debug, Deserialize)]
struct InvoicePage {
    #[serde(default)]
    results: Vec<InvoiceView>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceView {
    id: String,
    start_date: Option<String>,
}

impl Client {
    /// The id of `org_id`'s invoice for the month starting `month`. The
    /// listing filters on the invoice's start (≥ `fromDate`) and end
    /// (≤ `toDate`), and an invoice ends on the next month's first instant,
    /// so the window is this month's 1st to the next month's 1st.
    pub async fn find_invoice(&self, org_id: &OrgId, month: Date) -> Result<AtlasId, Error> {
        let next = month
            .checked_add(jiff::Span::new().months(1))
            .map_err(|error| Error::InvalidResponse {
                url: String::new(),
                message: format!("no month after {month}: {error}"),
            })?;
        let path = format!(
            "/api/atlas/v2/orgs/{org_id}/invoices?fromDate={month}&toDate={next}&itemsPerPage={INVOICES_PER_PAGE}&viewLinkedInvoices=false"
        );
        let request = get(&self.base_url(), &path, JSON_MEDIA_TYPE, false)?;
        let exchange = self.send(&request).await?;
        let page: InvoicePage = parsed(&request, &exchange, StatusCode::OK)?;
        let month_text = month.to_string();
        let Some(invoice) = page.results.iter().find(|invoice| {
            invoice
                .start_date
                .as_deref()
                .is_some_and(|start| start.get(..10) == Some(month_text.as_str()))
        }) else {
            return Err(Error::NoInvoice {
                org_id: org_id.to_string(),
                month: month_text,
            });
        };
        AtlasId::parse(&invoice.id).map_err(|_| Error::InvalidResponse {
            url: request.url.to_string(),
            message: format!(
                "the invoice id `{}` is not an Atlas id",
                server_text(&invoice.id)
            ),
        })
    }

    /// Asks for a report of `invoice_id` and returns its id (201).
    pub async fn create_invoice_report(
        &self,
        org_id: &OrgId,
        invoice_id: &AtlasId,
        body: &RequestBody,
    ) -> Result<AtlasId, Error> {
        let path = format!("/api/atlas/v2/orgs/{org_id}/invoices/{invoice_id}/reports");
        let request = post_json(&self.base_url(), &path, REPORTS_MEDIA_TYPE, body)?;
        let exchange = self.send(&request).await?;
        let view: ReportView = parsed(&request, &exchange, StatusCode::CREATED)?;
        let id = view.report_id.unwrap_or_default();
        AtlasId::parse(&id).map_err(|_| Error::InvalidResponse {
            url: request.url.to_string(),
            message: format!("the report id `{}` is not an Atlas id", server_text(&id)),
        })
    }

    /// Whether Atlas still knows a report and has not given up on it: an
    /// error for which [`Error::is_not_found`] holds when it expired, Atlas's
    /// reason when it is `FAILED`, `None` in any other state. Reads the
    /// report only, never its file.
    pub async fn check_invoice_report(
        &self,
        org_id: &OrgId,
        invoice_id: &AtlasId,
        report_id: &AtlasId,
    ) -> Result<Option<String>, Error> {
        let path = format!("/api/atlas/v2/orgs/{org_id}/invoices/{invoice_id}/reports/{report_id}");
        let request = get(&self.base_url(), &path, REPORTS_MEDIA_TYPE, false)?;
        let exchange = self.send(&request).await?;
        let view: ReportView = parsed(&request, &exchange, StatusCode::OK)?;
        Ok((view.state == "FAILED").then(|| view.failure()))
    }

    /// Looks once at a report; when it has succeeded, downloads its file.
    /// A download URL past its `expiresAt`, or refused as expired, is
    /// renewed once by reading the report again. A report Atlas no longer
    /// knows is an error for which [`Error::is_not_found`] holds.
    pub async fn read_invoice_report(
        &self,
        org_id: &OrgId,
        invoice_id: &AtlasId,
        report_id: &AtlasId,
    ) -> Result<InvoiceReport, Error> {
        let path = format!("/api/atlas/v2/orgs/{org_id}/invoices/{invoice_id}/reports/{report_id}");
        let request = get(&self.base_url(), &path, REPORTS_MEDIA_TYPE, false)?;
        for renewal in [false, true] {
            let exchange = self.send(&request).await?;
            let view: ReportView = parsed(&request, &exchange, StatusCode::OK)?;
            let url = match view.state.as_str() {
                "PENDING" | "RUNNING" => return Ok(InvoiceReport::Processing),
                "FAILED" => {
                    return Ok(InvoiceReport::Failed {
                        reason: view.failure(),
                    });
                }
                "SUCCEEDED" => view.download_url.ok_or_else(|| Error::InvalidResponse {
                    url: request.url.to_string(),
                    message: "a SUCCEEDED report without `downloadUrl`".to_owned(),
                })?,
                other => {
                    return Err(Error::InvalidResponse {
                        url: request.url.to_string(),
                        message: format!("unknown report state `{}`", server_text(other)),
                    });
                }
            };
            if view.expires_at.is_some_and(|at| at <= Timestamp::now()) && !renewal {
                tracing::info!(report = %report_id, "the download URL has expired; reading the report again");
                continue;
            }
            match self.downloader().download(&url).await? {
                Downloaded::Body(body) => return Ok(InvoiceReport::Ready(body)),
                Downloaded::Expired if !renewal => {
                    tracing::info!(report = %report_id, "the download URL was refused as expired; reading the report again");
                }
                Downloaded::Expired => break,
            }
        }
        Err(Error::Download {
            url: request.url.to_string(),
            message: "the download URL was still refused as expired after reading the report again"
                .to_owned(),
        })
    }
}

/// The JSON body of an answer with status `expected`, or the error it is.
fn parsed<T: serde::de::DeserializeOwned>(
    request: &Outgoing,
    exchange: &Exchange,
    expected: StatusCode,
) -> Result<T, Error> {
    if exchange.status != expected {
        return Err(unexpected(request, exchange));
    }
    serde_json::from_slice(&exchange.body).map_err(|error| Error::InvalidResponse {
        url: request.url.to_string(),
        message: format!("the answer does not parse: {error}"),
    })
}
