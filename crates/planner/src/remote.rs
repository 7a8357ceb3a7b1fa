//! The traits through which the engines reach Atlas. The CLI implements them
//! with the HTTP client; tests implement them in memory.

use std::fmt;
use std::future::Future;

use costform_model::handle::Handle;
use costform_model::ids::ReportName;
use costform_model::request::PlannedRequest;
use costform_model::result_body::ResultBody;
use costform_model::state::{ResultFormat, StateEntry};

/// Sends one report's request and returns what Atlas answered with, as the
/// kind's handle (a Cost Explorer token; an invoice and report id). The
/// engines keep the handle without looking inside it.
pub trait Submitter: Send + Sync {
    /// Submits `request` for report `name`.
    fn submit(
        &self,
        name: &ReportName,
        request: &PlannedRequest,
    ) -> impl Future<Output = Result<Handle, RemoteError>> + Send;
}

/// Reads the results of one handle, however its kind gets them.
pub trait ResultReader: Send + Sync {
    /// Looks once at the results of `entry`'s handle, in `format`.
    fn read(
        &self,
        name: &ReportName,
        entry: &StateEntry,
        format: ResultFormat,
    ) -> impl Future<Output = Result<ReadOutcome, RemoteError>> + Send;

    /// Asks only whether Atlas still knows `entry`'s handle, for `plan
    /// --refresh`: an error for which [`RemoteError::is_not_found`] holds
    /// means expired; [`Checked::Failed`], that Atlas gave up on it. By
    /// default one read; a kind whose read downloads a file answers from
    /// the report's state alone.
    fn check(
        &self,
        name: &ReportName,
        entry: &StateEntry,
    ) -> impl Future<Output = Result<Checked, RemoteError>> + Send {
        async move {
            self.read(name, entry, ResultFormat::Json)
                .await
                .map(Checked::from)
        }
    }
}

/// What a check of a handle Atlas still knows found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Processing or ready: nothing to do.
    Live,
    /// Atlas gave up on it for good (a `FAILED` invoice report).
    Failed {
        /// Why, in words: the kind's and Atlas's.
        reason: String,
    },
}

/// What a read says of a handle's standing (the read is the check).
impl From<ReadOutcome> for Checked {
    fn from(outcome: ReadOutcome) -> Self {
        match outcome {
            ReadOutcome::Failed { reason } => Checked::Failed { reason },
            ReadOutcome::Processing | ReadOutcome::Ready(_) => Checked::Live,
        }
    }
}

/// What one look at a handle's results found.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Atlas is still computing (a 102, a `PENDING` or `RUNNING` report).
    Processing,
    /// The results, as returned, spooled to a temporary file when large.
    Ready(ResultBody),
    /// Atlas gave up on the handle for good (a `FAILED` invoice report):
    /// polling it again cannot help, a new query can.
    Failed {
        /// Why, in words: the kind's and Atlas's.
        reason: String,
    },
}

/// A failed call, as the engines need to know it: 404 means an expired handle;
/// the rest is shown to the user with Atlas's `errorCode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// Atlas's `errorCode`, if any.
    pub error_code: Option<String>,
    /// What went wrong, in words.
    pub message: String,
}

impl RemoteError {
    /// Whether Atlas does not know the handle (any more): a 404 with Atlas's
    /// `errorCode`. A bare 404 (a wrong base URL, a proxy) is an error, so
    /// that it cannot mark every handle expired.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404) && self.error_code.is_some()
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "{status} ")?;
        }
        if let Some(code) = &self.error_code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RemoteError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_atlas_404_means_expired() {
        let error = |status, code: Option<&str>| RemoteError {
            status,
            error_code: code.map(str::to_owned),
            message: String::new(),
        };
        assert!(error(Some(404), Some("RESOURCE_NOT_FOUND")).is_not_found());
        assert!(!error(Some(404), None).is_not_found());
        assert!(!error(Some(400), Some("INVALID_PARAMETER")).is_not_found());
    }
}
