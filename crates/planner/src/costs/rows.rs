//! Reading the cost rows of the latest ready results the state records.
//!
//! A result file is trusted only while its bytes still hash to what the
//! state recorded when it was fetched: a hand-edited or truncated file is an
//! error naming it, never silently different figures.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use costform_model::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use costform_model::kinds;
use costform_model::state::{State, StateEntry};
use sha2::{Digest, Sha256};

/// Why a report's rows are missing from the costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotIncluded {
    /// The report.
    pub report: String,
    /// Why, in words a user can act on.
    pub reason: String,
}

/// Why the cost rows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    /// The file could not be opened or read.
    #[error("failed to read result `{path}` of report.{report}")]
    Read {
        /// The report.
        report: String,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file's bytes no longer match the state.
    #[error(
        "result `{path}` of report.{report} was changed since it was fetched (sha256 {actual}, the state recorded {expected}): run `costform fetch {report}` to download it again"
    )]
    Changed {
        /// The report.
        report: String,
        /// The file.
        path: String,
        /// What the state recorded.
        expected: String,
        /// What the file hashes to now.
        actual: String,
    },
    /// The file is not a result of its kind.
    #[error(transparent)]
    Rows(#[from] CostRowsError),
}

/// The rows of every report in `names` (every report when empty) that has a
/// ready result, and the reports left out with why. `state_dir` is where
/// relative result paths start.
pub fn read_rows(
    state: &State,
    state_dir: &Path,
    names: &[String],
) -> Result<(Vec<CostRow>, Vec<NotIncluded>), RowsError> {
    let mut rows = Vec::new();
    let mut not_included = Vec::new();
    for (name, entry) in &state.reports {
        if !names.is_empty() && !names.iter().any(|wanted| wanted == name.as_str()) {
            continue;
        }
        let left_out = |reason: &str| NotIncluded {
            report: name.to_string(),
            reason: reason.to_owned(),
        };
        let Some(kind) = kinds::find(&entry.request.kind) else {
            not_included.push(left_out("its kind is not known to this costform"));
            continue;
        };
        let Some(result) = &entry.result else {
            not_included.push(left_out("no result fetched yet: run `costform fetch`"));
            continue;
        };
        let path = state_dir.join(&result.path);
        let bytes = read_checked(name.as_str(), &path, entry)?;
        let origin = ResultOrigin {
            report: name.as_str(),
            org_id: entry.request.org_id.as_str(),
            file: &result.path,
        };
        rows.extend(kind.cost_rows(&origin, &entry.request, result.format, &mut &bytes[..])?);
    }
    Ok((rows, not_included))
}

/// The file's bytes, refused when they no longer hash to the recorded sum.
fn read_checked(report: &str, path: &Path, entry: &StateEntry) -> Result<Vec<u8>, RowsError> {
    let read_error = |source| RowsError::Read {
        report: report.to_owned(),
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    BufReader::new(File::open(path).map_err(read_error)?)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let expected = entry
        .result
        .as_ref()
        .map(|result| result.sha256.clone())
        .unwrap_or_default();
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != expected {
        return Err(RowsError::Changed {
            report: report.to_owned(),
            path: path.display().to_string(),
            expected,
            actual,
        });
    }
    Ok(bytes)
}
