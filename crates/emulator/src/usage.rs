//! Deterministic synthetic usage details: a function of the orgId and the
//! request body only, so that tests can compute what the emulator serves.
//!
//! One row per month in `[startDate, endDate)` per group key. Group keys per
//! `groupBy`: `organizations` the filter's ids (or the orgId), `projects` and
//! `clusters` the filter's ids (or two synthetic ids derived from the orgId),
//! `services` or no `groupBy` the services filter (or Clusters, Storage, Backup,
//! Data Transfer). Rows not grouped by service carry the services filter's first
//! entry as `service`, or `Atlas`. Amounts are 0.00 to 9999.99, from a SHA-256 of
//! the row's identity, so key order in the body does not change them.

use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::validation::parse_date;

/// The services reported when the request names none.
const DEFAULT_SERVICES: [&str; 4] = ["Clusters", "Storage", "Backup", "Data Transfer"];

/// The CSV header, as in the spec's example plus the service column.
const CSV_HEADER: [&str; 10] = [
    "Billed Date",
    "Invoice Id",
    "Organization Name",
    "Organization ID",
    "Project Name",
    "Project Id",
    "Cluster Name",
    "Cluster Unique Id",
    "Service",
    "Usage Amount",
];

/// The JSON results (`{"usageDetails": [...]}`) the emulator serves for a query
/// on `org_id` with `body`; an unusable body yields no rows rather than a panic.
pub fn synthetic_usage(org_id: &str, body: &Value) -> Value {
    let rows: Vec<Value> = rows(org_id, body).iter().map(Row::to_json).collect();
    json!({ "usageDetails": rows })
}

/// The CSV results for the same rows as [`synthetic_usage`].
pub fn synthetic_usage_csv(org_id: &str, body: &Value) -> String {
    let mut csv = CSV_HEADER.join(",");
    csv.push('\n');
    for row in rows(org_id, body) {
        let fields = row.csv_fields();
        let quoted: Vec<String> = fields.iter().map(|field| quote(field)).collect();
        csv.push_str(&quoted.join(","));
        csv.push('\n');
    }
    csv
}

/// The invoice id of `org_id`'s month starting `month`: the `invoiceId` its
/// Cost Explorer rows carry, and the id its invoice is listed under.
pub(crate) fn invoice_id(org_id: &str, month: Date) -> String {
    hex_id(&[org_id, "invoice", &month.to_string()])
}

/// A synthetic project id of `org_id`, as Cost Explorer rows name them.
pub(crate) fn project_id(org_id: &str, index: usize) -> String {
    hex_id(&[org_id, "project", &index.to_string()])
}

/// What the Cost Explorer answer for `org_id`'s month starting `month`,
/// grouped by service, charges each service, in cents: what the month's
/// FOCUS file must add up to.
pub(crate) fn month_by_service(org_id: &str, month: Date) -> Vec<(String, u32)> {
    let Ok(end) = month.checked_add(1.month()) else {
        return Vec::new();
    };
    let body = json!({ "startDate": month.to_string(), "endDate": end.to_string(), "groupBy": "services" });
    rows(org_id, &body)
        .into_iter()
        .map(|row| (row.service, row.cents))
        .collect()
}

/// What one row is grouped by.
enum GroupKey {
    Organization(String),
    Project(String),
    Cluster(String),
    Service(String),
}

struct Row {
    date: Date,
    invoice_id: String,
    organization_id: String,
    service: String,
    project_id: Option<String>,
    cluster_id: Option<String>,
    cents: u32,
}

fn rows(org_id: &str, body: &Value) -> Vec<Row> {
    let date = |field: &str| body.get(field).and_then(Value::as_str).and_then(parse_date);
    let (Some(start), Some(end)) = (date("startDate"), date("endDate")) else {
        return Vec::new();
    };
    let keys = group_keys(org_id, body);
    let default_service = strings(body, "services")
        .into_iter()
        .next()
        .unwrap_or_else(|| "Atlas".to_owned());
    let mut rows = Vec::new();
    let mut month = start;
    while month < end {
        for key in &keys {
            rows.push(Row::new(org_id, month, key, &default_service));
        }
        match month.checked_add(1.month()) {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    rows
}

fn group_keys(org_id: &str, body: &Value) -> Vec<GroupKey> {
    let or_synthetic = |field: &str, kind: &str| {
        let ids = strings(body, field);
        if ids.is_empty() {
            (0..2)
                .map(|index| hex_id(&[org_id, kind, &index.to_string()]))
                .collect()
        } else {
            ids
        }
    };
    match body.get("groupBy").and_then(Value::as_str) {
        Some("organizations") => {
            let ids = strings(body, "organizations");
            let ids = if ids.is_empty() {
                vec![org_id.to_owned()]
            } else {
                ids
            };
            ids.into_iter().map(GroupKey::Organization).collect()
        }
        Some("projects") => or_synthetic("projects", "project")
            .into_iter()
            .map(GroupKey::Project)
            .collect(),
        Some("clusters") => or_synthetic("clusters", "cluster")
            .into_iter()
            .map(GroupKey::Cluster)
            .collect(),
        _ => {
            let services = strings(body, "services");
            if services.is_empty() {
                DEFAULT_SERVICES
                    .iter()
                    .map(|s| GroupKey::Service((*s).to_owned()))
                    .collect()
            } else {
                services.into_iter().map(GroupKey::Service).collect()
            }
        }
    }
}

impl Row {
    fn new(org_id: &str, date: Date, key: &GroupKey, default_service: &str) -> Self {
        let mut row = Self {
            date,
            invoice_id: invoice_id(org_id, date),
            organization_id: org_id.to_owned(),
            service: default_service.to_owned(),
            project_id: None,
            cluster_id: None,
            cents: 0,
        };
        match key {
            GroupKey::Organization(id) => row.organization_id.clone_from(id),
            GroupKey::Project(id) => row.project_id = Some(id.clone()),
            GroupKey::Cluster(id) => row.cluster_id = Some(id.clone()),
            GroupKey::Service(name) => row.service.clone_from(name),
        }
        let identity = [
            row.organization_id.as_str(),
            &row.date.to_string(),
            &row.service,
            row.project_id.as_deref().unwrap_or_default(),
            row.cluster_id.as_deref().unwrap_or_default(),
        ];
        let digest = hash(&identity);
        let number = u64::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ]);
        row.cents = u32::try_from(number % 1_000_000).unwrap_or_default();
        row
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("invoiceId".into(), self.invoice_id.clone().into());
        object.insert("organizationId".into(), self.organization_id.clone().into());
        object.insert(
            "organizationName".into(),
            name("Org", &self.organization_id).into(),
        );
        if let Some(id) = &self.project_id {
            object.insert("projectId".into(), id.clone().into());
            object.insert("projectName".into(), name("Project", id).into());
        }
        if let Some(id) = &self.cluster_id {
            object.insert("clusterId".into(), id.clone().into());
            object.insert("clusterName".into(), name("Cluster", id).into());
        }
        object.insert("service".into(), self.service.clone().into());
        object.insert("usageAmount".into(), (f64::from(self.cents) / 100.0).into());
        object.insert("usageDate".into(), self.date.to_string().into());
        Value::Object(object)
    }

    fn csv_fields(&self) -> [String; 10] {
        let optional_name = |kind: &str, id: &Option<String>| {
            id.as_deref().map(|id| name(kind, id)).unwrap_or_default()
        };
        [
            self.date.to_string(),
            self.invoice_id.clone(),
            name("Org", &self.organization_id),
            self.organization_id.clone(),
            optional_name("Project", &self.project_id),
            self.project_id.clone().unwrap_or_default(),
            optional_name("Cluster", &self.cluster_id),
            self.cluster_id.clone().unwrap_or_default(),
            self.service.clone(),
            format!("{}.{:02}", self.cents / 100, self.cents % 100),
        ]
    }
}

/// A readable synthetic name, e.g. `Emulated Project c9d0e1`. The tail of an
/// id, not its head: Atlas ids start with a timestamp, so ids created together
/// share their first characters and would share a name.
pub(crate) fn name(kind: &str, id: &str) -> String {
    let short: String = id
        .chars()
        .skip(id.chars().count().saturating_sub(6))
        .collect();
    format!("Emulated {kind} {short}")
}

fn strings(body: &Value, field: &str) -> Vec<String> {
    body.get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn hash(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().into()
}

/// A 24-hex id derived from `parts`, shaped like an Atlas id.
fn hex_id(parts: &[&str]) -> String {
    hex::encode(&hash(parts)[..12])
}

pub(crate) fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_month_and_service_by_default() {
        let body = json!({"startDate": "2024-11-01", "endDate": "2025-02-01"});
        let usage = synthetic_usage("5f0c8a1b2c3d4e5f6a7b8c9d", &body);
        let rows = usage["usageDetails"].as_array().expect("rows");
        assert_eq!(rows.len(), 12);
        assert_eq!(rows[0]["usageDate"], "2024-11-01");
        assert_eq!(rows[11]["usageDate"], "2025-01-01");
        assert_eq!(rows[11]["service"], "Data Transfer");
    }

    #[test]
    fn csv_quotes_fields_with_commas() {
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            quote("Cloud Manager Standard/Premium"),
            "Cloud Manager Standard/Premium"
        );
    }

    #[test]
    fn unusable_body_yields_no_rows() {
        let usage = synthetic_usage("x", &json!(["not", "an", "object"]));
        assert_eq!(usage, json!({"usageDetails": []}));
    }
}
