//! The planner's `Submitter` and `ResultReader`, implemented with the Atlas
//! client. This is the only place where report kinds meet endpoints: one arm
//! per kind, calling that kind's adapter in `costform-http`.

use costform_http::{Client, InvoiceReport, Usage};
use costform_model::handle::Handle;
use costform_model::ids::ReportName;
use costform_model::kinds::{cost_explorer, focus_report};
use costform_model::request::PlannedRequest;
use costform_model::state::{ResultFormat, StateEntry};
use costform_planner::{Checked, ReadOutcome, RemoteError, ResultReader, Submitter};

/// Sends queries with the client. Without a client (a plan that only forgets
/// needs no credentials) every submission fails, which the planner never asks
/// for in that case.
pub struct AtlasSubmitter {
    client: Option<Client>,
}

impl AtlasSubmitter {
    /// Wraps a configured client, or none when no query will be sent.
    pub fn new(client: Option<Client>) -> Self {
        Self { client }
    }

    /// Ends the run's use of Atlas (revokes a minted service account token).
    pub async fn close(&self) {
        if let Some(client) = &self.client {
            client.close().await;
        }
    }

    /// The client, when queries will be sent.
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }
}

impl Submitter for AtlasSubmitter {
    async fn submit(
        &self,
        _name: &ReportName,
        request: &PlannedRequest,
    ) -> Result<Handle, RemoteError> {
        let Some(client) = &self.client else {
            return Err(local("no Atlas client configured".to_owned()));
        };
        match request.kind.as_str() {
            cost_explorer::NAME => client
                .create_cost_explorer_query(&request.org_id, &request.request)
                .await
                .map(|token| cost_explorer::handle(&token))
                .map_err(|error| remote(&error)),
            focus_report::NAME => submit_focus_report(client, request).await,
            other => Err(unsupported(other)),
        }
    }
}

/// Reads results with the client.
pub struct AtlasReader {
    client: Client,
}

impl AtlasReader {
    /// Wraps a configured client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Ends the run's use of Atlas (revokes a minted service account token).
    pub async fn close(&self) {
        self.client.close().await;
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl ResultReader for AtlasReader {
    async fn read(
        &self,
        _name: &ReportName,
        entry: &StateEntry,
        format: ResultFormat,
    ) -> Result<ReadOutcome, RemoteError> {
        match entry.request.kind.as_str() {
            cost_explorer::NAME => match self
                .client
                .get_cost_explorer_usage(
                    &entry.request.org_id,
                    &cost_explorer::token(&entry.handle).map_err(local)?,
                    format,
                )
                .await
            {
                // No answer before the run's deadline counts as processing:
                // as far as this run knows the result is not ready, and its
                // token stays good for the next fetch.
                Ok(Usage::Processing) | Err(costform_http::Error::DeadlinePassed { .. }) => {
                    Ok(ReadOutcome::Processing)
                }
                Ok(Usage::Ready { body, .. }) => Ok(ReadOutcome::Ready(body)),
                Err(error) => Err(remote(&error)),
            },
            focus_report::NAME => read_focus_report(&self.client, entry).await,
            other => Err(unsupported(other)),
        }
    }

    async fn check(&self, name: &ReportName, entry: &StateEntry) -> Result<Checked, RemoteError> {
        match entry.request.kind.as_str() {
            focus_report::NAME => {
                let (invoice, report) = focus_report::ids(&entry.handle).map_err(local)?;
                let failure = self
                    .client
                    .check_invoice_report(&entry.request.org_id, &invoice, &report)
                    .await
                    .map_err(|error| remote(&error))?;
                Ok(failure.map_or(Checked::Live, |reason| Checked::Failed {
                    reason: invoice_report_failed(&reason),
                }))
            }
            _ => self
                .read(name, entry, ResultFormat::Json)
                .await
                .map(Checked::from),
        }
    }
}

/// Finds the month's invoice, then asks for its FOCUS report. The lookup
/// only reads, so a failure before the POST loses nothing.
async fn submit_focus_report(
    client: &Client,
    request: &PlannedRequest,
) -> Result<Handle, RemoteError> {
    let month = focus_report::invoice_month(request).map_err(local)?;
    let invoice = client
        .find_invoice(&request.org_id, month)
        .await
        .map_err(|error| remote(&error))?;
    let body = focus_report::report_request(request);
    let report = client
        .create_invoice_report(&request.org_id, &invoice, &body)
        .await
        .map_err(|error| remote(&error))?;
    Ok(focus_report::handle(&invoice, &report))
}

async fn read_focus_report(
    client: &Client,
    entry: &StateEntry,
) -> Result<ReadOutcome, RemoteError> {
    let (invoice, report) = focus_report::ids(&entry.handle).map_err(local)?;
    match client
        .read_invoice_report(&entry.request.org_id, &invoice, &report)
        .await
    {
        Ok(InvoiceReport::Processing) | Err(costform_http::Error::DeadlinePassed { .. }) => {
            Ok(ReadOutcome::Processing)
        }
        Ok(InvoiceReport::Ready(body)) => Ok(ReadOutcome::Ready(body)),
        Ok(InvoiceReport::Failed { reason }) => Ok(ReadOutcome::Failed {
            reason: invoice_report_failed(&reason),
        }),
        Err(error) => Err(remote(&error)),
    }
}

/// Atlas's reason for a `FAILED` invoice report, said as the kind's.
fn invoice_report_failed(reason: &str) -> String {
    format!("atlas could not make the invoice report: {reason}")
}

fn remote(error: &costform_http::Error) -> RemoteError {
    // A request left unsent because the credentials were refused earlier in
    // the run fails for that refusal: counted with it, so the one
    // credentials error speaks for every report instead of a line each.
    let status = match error {
        costform_http::Error::CredentialsFailedEarlier { .. } => Some(401),
        other => other.status(),
    };
    RemoteError {
        status,
        error_code: error.error_code().map(str::to_owned),
        message: error.to_string(),
    }
}

/// A failure found before anything was sent.
fn local(message: String) -> RemoteError {
    RemoteError {
        status: None,
        error_code: None,
        message,
    }
}

fn unsupported(kind: &str) -> RemoteError {
    local(format!(
        "report kind `{kind}` has no Atlas endpoint in this costform"
    ))
}
