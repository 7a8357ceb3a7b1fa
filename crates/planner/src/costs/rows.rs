//! Reading the cost rows of the latest ready results the state records.
//!
//! A result file is trusted only while its bytes still hash to what the
//! state recorded when it was fetched: a hand-edited or truncated file is an
//! error naming it, never silently different figures.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use costform_model::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use costform_model::ids::ReportName;
use costform_model::kinds;

use crate::atomic::parent_dir;
use costform_model::state::{State, StateEntry};
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Why a report's rows are missing from the costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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

/// The cost rows `costs` and `check` work from.
#[derive(Debug, Default)]
pub struct CostRows {
    /// The rows of each report's latest ready result.
    pub latest: Vec<CostRow>,
    /// The rows of the results those superseded (`results/previous/`), for
    /// comparisons with months the latest results no longer cover.
    pub earlier: Vec<CostRow>,
    /// Reports left out, with why.
    pub not_included: Vec<NotIncluded>,
}

impl CostRows {
    /// The latest rows, plus the earlier rows of months (per report and
    /// currency) the latest ones do not cover: a `last_month` report then
    /// still has the month before to compare with.
    pub fn with_earlier(&self) -> Vec<CostRow> {
        let covered: std::collections::BTreeSet<(&str, &str, jiff::civil::Date)> = self
            .latest
            .iter()
            .map(|row| {
                (
                    row.report.as_str(),
                    row.currency.as_str(),
                    super::month_of(row.period_start),
                )
            })
            .collect();
        let mut rows = self.latest.clone();
        rows.extend(
            self.earlier
                .iter()
                .filter(|row| {
                    !covered.contains(&(
                        row.report.as_str(),
                        row.currency.as_str(),
                        super::month_of(row.period_start),
                    ))
                })
                .cloned(),
        );
        rows
    }
}

/// The rows of every report in `names` (every report when empty) that has a
/// ready result (and of the result it superseded, when kept), and the
/// reports left out with why. `state_dir` is where relative result paths
/// start.
pub fn read_rows(
    state: &State,
    state_dir: &Path,
    names: &[ReportName],
) -> Result<CostRows, RowsError> {
    let mut rows = Vec::new();
    let mut earlier = Vec::new();
    let mut not_included = Vec::new();
    for (name, entry) in &state.reports {
        if !names.is_empty() && !names.contains(name) {
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
        let results_dir = entry.result.as_ref().map_or_else(
            || state_dir.join("results"),
            |result| parent_dir(&state_dir.join(&result.path)).to_path_buf(),
        );
        earlier.extend(previous_rows(name.as_str(), state_dir, &results_dir)?);
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
    Ok(CostRows {
        latest: rows,
        earlier,
        not_included,
    })
}

/// The rows of the result `report`'s latest one superseded, read with the
/// request that produced it; none when nothing was superseded yet.
fn previous_rows(
    report: &str,
    state_dir: &Path,
    results_dir: &Path,
) -> Result<Vec<CostRow>, RowsError> {
    let previous = results_dir.join("previous");
    let record = previous.join(format!("{report}.entry.json"));
    let Ok(text) = std::fs::read_to_string(&record) else {
        return Ok(Vec::new());
    };
    let unusable = |problem: String| {
        RowsError::Rows(CostRowsError::File {
            file: record.display().to_string(),
            problem,
        })
    };
    let entry: StateEntry = serde_json::from_str(&text)
        .map_err(|error| unusable(format!("not a superseded result's record: {error}")))?;
    let (Some(kind), Some(result)) = (kinds::find(&entry.request.kind), &entry.result) else {
        return Ok(Vec::new());
    };
    let file_name = Path::new(&result.path).file_name().unwrap_or_default();
    let path = previous.join(file_name);
    let bytes = read_checked(report, &path, &entry)?;
    let file = path
        .strip_prefix(state_dir)
        .unwrap_or(&path)
        .display()
        .to_string();
    let origin = ResultOrigin {
        report,
        org_id: entry.request.org_id.as_str(),
        file: &file,
    };
    Ok(kind.cost_rows(&origin, &entry.request, result.format, &mut &bytes[..])?)
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

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"usageDetails": [
        {"service": "Clusters", "usageAmount": 10.25, "usageDate": "2026-10-01"},
        {"service": "Storage", "usageAmount": 0.75, "usageDate": "2026-10-01"}]}"#;

    /// A state with one report `r` whose result `results/r.json` hashes to
    /// the sum of `recorded`, and one report `later` with no result.
    fn state(recorded: &str) -> State {
        let sha256 = hex::encode(Sha256::digest(recorded.as_bytes()));
        let entry = |result: serde_json::Value| {
            serde_json::json!({
                "kind": "cost_explorer", "org_id": "5f0c8a1b2c3d4e5f6a7b8c9d",
                "request": {"startDate": "2026-10-01", "endDate": "2026-11-01"},
                "request_sha256": "0", "handle": {"token": "a".repeat(64)},
                "applied_at": "2026-11-26T00:00:00Z", "now": "2026-11-26T00:00:00Z",
                "status": "ready", "result": result,
            })
        };
        serde_json::from_value(serde_json::json!({
            "format_version": costform_model::state::STATE_FORMAT_VERSION,
            "lineage": "l", "serial": 1, "costform_version": "0.1.0",
            "reports": {
                "r": entry(serde_json::json!({
                    "fetched_at": "2026-11-26T00:00:00Z", "path": "results/r.json",
                    "format": "json", "rows": 2, "sha256": sha256,
                })),
                "later": entry(serde_json::Value::Null),
            },
        }))
        .expect("a state")
    }

    fn workspace(content: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("results")).expect("results/");
        std::fs::write(dir.path().join("results/r.json"), content).expect("a result");
        dir
    }

    #[test]
    fn ready_results_become_rows_and_the_rest_are_named() {
        let dir = workspace(BODY);
        let CostRows {
            latest: rows,
            not_included,
            ..
        } = read_rows(&state(BODY), dir.path(), &[]).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows.iter()
                .map(|row| row.amount)
                .sum::<costform_model::cost_rows::Decimal>()
                .to_string(),
            "11.00"
        );
        assert_eq!(not_included.len(), 1);
        assert_eq!(not_included[0].report, "later");
        let only = read_rows(
            &state(BODY),
            dir.path(),
            &[ReportName::parse("later").unwrap()],
        )
        .expect("rows");
        assert!(only.latest.is_empty());
    }

    #[test]
    fn a_result_edited_after_fetch_is_refused_by_name() {
        let edited = BODY.replace("10.25", "1.25");
        let dir = workspace(&edited);
        let error = read_rows(&state(BODY), dir.path(), &[]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("results/r.json` of report.r was changed since it was fetched"),
            "{message}"
        );
        assert!(message.contains("costform fetch r"), "{message}");
    }

    #[test]
    fn a_corrupt_result_that_still_matches_its_hash_names_file_and_row() {
        let corrupt = BODY.replace("0.75", "\"n/a\"");
        let dir = workspace(&corrupt);
        let error = read_rows(&state(&corrupt), dir.path(), &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`results/r.json` row 2: amount `n/a` is not a number"
        );
    }

    #[test]
    fn a_hundred_thousand_rows_are_all_counted() {
        let rows: Vec<String> = (0..100_000)
            .map(|index| {
                format!(
                    r#"{{"service": "S{}", "usageAmount": 0.01, "usageDate": "2026-10-01"}}"#,
                    index % 7
                )
            })
            .collect();
        let body = format!(r#"{{"usageDetails": [{}]}}"#, rows.join(","));
        let dir = workspace(&body);
        let rows = read_rows(&state(&body), dir.path(), &[])
            .expect("rows")
            .latest;
        assert_eq!(rows.len(), 100_000);
        let total: costform_model::cost_rows::Decimal = rows.iter().map(|row| row.amount).sum();
        assert_eq!(total.to_string(), "1000.00");
    }
}
