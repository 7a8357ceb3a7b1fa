//! Totals of a fetched result, for the summary `fetch` prints and for the row
//! count recorded in the state.

use std::collections::BTreeMap;

use costform_model::state::ResultFormat;
use serde_json::Value;

use crate::csv;

/// What a result adds up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSummary {
    /// Usage rows (`usageDetails` entries; CSV records after the header).
    pub rows: u64,
    /// The sum of every row's usage amount.
    pub total_usage: f64,
    /// The sum per group (`groupBy` dimension), by the group's name, or its
    /// id when the name is missing.
    pub by_group: BTreeMap<String, f64>,
}

/// The group label used for rows that have neither name nor id.
const UNKNOWN_GROUP: &str = "(unknown)";

/// Where a `groupBy` dimension's label lives: JSON keys and CSV columns, the
/// name first and the id as a fallback.
fn group_fields(group_by: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match group_by {
        "organizations" => Some((
            &["organizationName", "organizationId"],
            &["Organization Name", "Organization ID", "Organization Id"],
        )),
        "projects" => Some((
            &["projectName", "projectId"],
            &["Project Name", "Project ID", "Project Id"],
        )),
        "clusters" => Some((
            &["clusterName", "clusterId"],
            &[
                "Cluster Name",
                "Cluster Unique Id",
                "Cluster ID",
                "Cluster Id",
            ],
        )),
        "services" => Some((&["service"], &["Service"])),
        _ => None,
    }
}

/// Sums a result's usage, grouped by `group_by` when given. Lenient: a body
/// that cannot be read sums to nothing rather than failing the fetch, since
/// the file itself is what the user asked for.
pub fn summarize(body: &[u8], format: ResultFormat, group_by: Option<&str>) -> ResultSummary {
    let fields = group_by.and_then(group_fields);
    match format {
        ResultFormat::Json => summarize_json(body, fields.map(|(json, _)| json)),
        ResultFormat::Csv => summarize_csv(body, fields.map(|(_, columns)| columns)),
    }
}

fn summarize_json(body: &[u8], keys: Option<&[&str]>) -> ResultSummary {
    let mut summary = ResultSummary::default();
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return summary;
    };
    let rows = value
        .get("usageDetails")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for row in rows {
        let amount = row.get("usageAmount").map_or(0.0, |amount| match amount {
            Value::String(text) => parse_amount(text),
            other => other.as_f64().unwrap_or(0.0),
        });
        let group = keys.map(|keys| {
            keys.iter()
                .find_map(|key| {
                    row.get(*key)
                        .and_then(Value::as_str)
                        .filter(|label| !label.is_empty())
                })
                .unwrap_or(UNKNOWN_GROUP)
        });
        summary.add(amount, group);
    }
    summary
}

fn summarize_csv(body: &[u8], columns: Option<&[&str]>) -> ResultSummary {
    let mut summary = ResultSummary::default();
    let text = String::from_utf8_lossy(body);
    let mut records = csv::records(&text).into_iter();
    let Some(header) = records.next() else {
        return summary;
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|title| title.trim().eq_ignore_ascii_case(name))
    };
    let amount_column = column("Usage Amount");
    let group_columns: Option<Vec<usize>> =
        columns.map(|columns| columns.iter().filter_map(|name| column(name)).collect());
    for record in records {
        let cell = |index: usize| record.get(index).map(String::as_str).unwrap_or_default();
        let amount = amount_column.map_or(0.0, |index| parse_amount(cell(index)));
        let group = group_columns.as_ref().map(|indexes| {
            indexes
                .iter()
                .map(|index| cell(*index))
                .find(|label| !label.trim().is_empty())
                .unwrap_or(UNKNOWN_GROUP)
        });
        summary.add(amount, group);
    }
    summary
}

/// A number as exports write it: `51.19`, `$1,234.50`.
fn parse_amount(text: &str) -> f64 {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | ',') && !c.is_whitespace())
        .collect();
    digits.parse().unwrap_or(0.0)
}

impl ResultSummary {
    fn add(&mut self, amount: f64, group: Option<&str>) {
        self.rows += 1;
        self.total_usage += amount;
        if let Some(group) = group {
            *self.by_group.entry(group.to_owned()).or_default() += amount;
        }
    }
}
