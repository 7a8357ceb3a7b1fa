//! Totals of a fetched result, for the summary `fetch` prints and for the row
//! count recorded in the state: the result's cost rows added up, exactly.
//!
//! The result's kind reads its own format (`ReportKind::cost_rows`), so the
//! planner knows nothing of Cost Explorer's fields or CSV columns.

use std::collections::BTreeMap;
use std::io::Read;

use costform_model::cost_rows::{CostRowsError, Decimal, ResultOrigin};
use costform_model::kinds;
use costform_model::request::PlannedRequest;
use costform_model::state::ResultFormat;

/// What a result adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSummary {
    /// Cost rows (`usageDetails` entries; CSV records after the header).
    pub rows: u64,
    /// The sum of every row's amount.
    pub total: Decimal,
    /// The sum per group of the request's dimension, by the group's name, or
    /// its id when the name is missing.
    pub by_group: BTreeMap<String, Decimal>,
    /// What the groups are (`services`, `projects`, ...), as the kind's rows
    /// say; `None` for a result without rows.
    pub dimension: Option<String>,
    /// The currencies of the rows (one, unless the result mixes them).
    pub currencies: Vec<String>,
}

/// Adds up the result `body` of `request`, written in `format`, row by row
/// as it is read: the rows are never all in memory.
pub fn summarize(
    origin: &ResultOrigin<'_>,
    request: &PlannedRequest,
    format: ResultFormat,
    body: &mut dyn Read,
) -> Result<ResultSummary, CostRowsError> {
    let kind = kinds::find(&request.kind).ok_or_else(|| CostRowsError::File {
        file: origin.file.to_owned(),
        problem: format!(
            "report kind `{}` is not known to this costform",
            request.kind
        ),
    })?;
    let mut summary = ResultSummary::default();
    kind.visit_cost_rows(origin, request, format, body, &mut |row| {
        summary.rows += 1;
        summary.total += row.amount;
        let label = row.group_name.unwrap_or(row.group_id);
        *summary.by_group.entry(label).or_default() += row.amount;
        if summary.dimension.is_none() {
            summary.dimension = Some(row.dimension);
        }
        if !summary.currencies.contains(&row.currency) {
            summary.currencies.push(row.currency);
        }
    })?;
    Ok(summary)
}
