//! Cost rows from a Cost Explorer result: `{"usageDetails": [...]}` as JSON,
//! or the CSV export with the columns of the spec's example.
//!
//! Rows are monthly (`usageDate` is the month's first day) and labelled
//! `USD`: Cost Explorer states no currency and bills in dollars. The group of
//! a row is the query's `groupBy` dimension; a query without one is grouped
//! by service, as Atlas answers it.

use std::fmt;
use std::io::Read;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::cost_rows::{
    CostRow, CostRowsError, CsvRecords, ResultOrigin, collect_rows, parse_amount, shorten,
};
use crate::kinds::cost_explorer::NAME;

/// Cost Explorer's currency: it states none, and Atlas bills in dollars.
const CURRENCY: &str = "USD";

/// The dimension rows are grouped by when the query names no `groupBy`.
const UNGROUPED: &str = "services";

/// One `usageDetails` entry; unknown fields are ignored, amounts kept as the
/// literal text so that no digit passes through binary floating point.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageDetail {
    usage_date: Option<String>,
    usage_amount: Option<Box<RawValue>>,
    service: Option<String>,
    organization_id: Option<String>,
    organization_name: Option<String>,
    project_id: Option<String>,
    project_name: Option<String>,
    cluster_id: Option<String>,
    cluster_name: Option<String>,
}

/// The fields of one row, whichever format it came in.
struct Fields<'a> {
    date: Option<&'a str>,
    amount: Option<&'a str>,
    service: Option<&'a str>,
    organization: (Option<&'a str>, Option<&'a str>),
    project: (Option<&'a str>, Option<&'a str>),
    cluster: (Option<&'a str>, Option<&'a str>),
}

/// The rows of a JSON result. `group_by` is the query's `groupBy`.
pub fn rows_from_json(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    body: impl Read,
) -> Result<Vec<CostRow>, CostRowsError> {
    collect_rows(|sink| visit_json(origin, group_by, body, sink))
}

/// Hands each row of a JSON result to `sink` as it is read: one
/// `usageDetails` entry in memory at a time, whatever the result's size.
pub fn visit_json(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    body: impl Read,
    sink: &mut dyn FnMut(CostRow),
) -> Result<(), CostRowsError> {
    let mut rows = RowsSeed {
        origin,
        group_by,
        sink,
        failed: None,
    };
    let mut reader = serde_json::Deserializer::from_reader(std::io::BufReader::new(body));
    let parsed = (&mut rows)
        .deserialize(&mut reader)
        .and_then(|()| reader.end());
    if let Some(error) = rows.failed {
        return Err(error);
    }
    parsed.map_err(|error| {
        CostRowsError::file(origin, format!("not a Cost Explorer JSON result: {error}"))
    })
}

/// Reads `{"usageDetails": [...]}` entry by entry. A row's own problem is
/// kept in `failed` (serde's error would flatten it to text) and ends the
/// reading.
struct RowsSeed<'a, 'o> {
    origin: &'a ResultOrigin<'o>,
    group_by: Option<&'a str>,
    sink: &'a mut dyn FnMut(CostRow),
    failed: Option<CostRowsError>,
}

impl<'de> DeserializeSeed<'de> for &mut RowsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut RowsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with `usageDetails`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "usageDetails" {
                map.next_value_seed(DetailsSeed(&mut *self))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `usageDetails` array of a [`RowsSeed`].
struct DetailsSeed<'s, 'a, 'o>(&'s mut RowsSeed<'a, 'o>);

impl<'de> DeserializeSeed<'de> for DetailsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DetailsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a `usageDetails` array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let rows = self.0;
        let mut number = 0;
        while let Some(detail) = seq.next_element::<UsageDetail>()? {
            number += 1;
            match detail_row(rows.origin, rows.group_by, number, &detail) {
                Ok(row) => (rows.sink)(row),
                Err(error) => {
                    rows.failed = Some(error);
                    return Err(de::Error::custom("a row could not be read"));
                }
            }
        }
        Ok(())
    }
}

/// The cost row of one `usageDetails` entry, the `number`th.
fn detail_row(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    number: u64,
    detail: &UsageDetail,
) -> Result<CostRow, CostRowsError> {
    let amount = detail.usage_amount.as_deref().map(|raw| {
        let text = raw.get();
        text.strip_prefix('"')
            .and_then(|quoted| quoted.strip_suffix('"'))
            .unwrap_or(text)
    });
    let fields = Fields {
        date: detail.usage_date.as_deref(),
        amount,
        service: detail.service.as_deref(),
        organization: (
            detail.organization_id.as_deref(),
            detail.organization_name.as_deref(),
        ),
        project: (detail.project_id.as_deref(), detail.project_name.as_deref()),
        cluster: (detail.cluster_id.as_deref(), detail.cluster_name.as_deref()),
    };
    row(origin, group_by, number, &fields)
}

/// The CSV columns, by the names Atlas's export uses (matched without case;
/// the id columns have been seen spelled `ID` and `Id`).
const DATE: &[&str] = &["Billed Date", "Usage Date"];
const AMOUNT: &[&str] = &["Usage Amount"];
const SERVICE: &[&str] = &["Service"];
const ORGANIZATION_ID: &[&str] = &["Organization ID"];
const ORGANIZATION_NAME: &[&str] = &["Organization Name"];
const PROJECT_ID: &[&str] = &["Project ID"];
const PROJECT_NAME: &[&str] = &["Project Name"];
const CLUSTER_ID: &[&str] = &["Cluster Unique Id", "Cluster ID"];
const CLUSTER_NAME: &[&str] = &["Cluster Name"];

/// The rows of a CSV result. `group_by` is the query's `groupBy`.
pub fn rows_from_csv(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    body: impl Read,
) -> Result<Vec<CostRow>, CostRowsError> {
    collect_rows(|sink| visit_csv(origin, group_by, body, sink))
}

/// Hands each row of a CSV result to `sink` as it is read.
pub fn visit_csv(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    body: impl Read,
    sink: &mut dyn FnMut(CostRow),
) -> Result<(), CostRowsError> {
    let (mut records, header) = CsvRecords::open(origin, body)?;
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|title| names.iter().any(|name| title.eq_ignore_ascii_case(name)))
    };
    let (Some(date), Some(amount)) = (column(DATE), column(AMOUNT)) else {
        return Err(CostRowsError::file(
            origin,
            "not a Cost Explorer CSV result: no `Billed Date` and `Usage Amount` columns",
        ));
    };
    let optional = [
        column(SERVICE),
        column(ORGANIZATION_ID),
        column(ORGANIZATION_NAME),
        column(PROJECT_ID),
        column(PROJECT_NAME),
        column(CLUSTER_ID),
        column(CLUSTER_NAME),
    ];
    while let Some((number, record)) = records.next(origin)? {
        let cell = |index: Option<usize>| {
            index
                .and_then(|index| record.get(index))
                .filter(|text| !text.is_empty())
        };
        let [
            service,
            org_id,
            org_name,
            project_id,
            project_name,
            cluster_id,
            cluster_name,
        ] = optional.map(cell);
        let fields = Fields {
            date: cell(Some(date)),
            amount: cell(Some(amount)),
            service,
            organization: (org_id, org_name),
            project: (project_id, project_name),
            cluster: (cluster_id, cluster_name),
        };
        sink(row(origin, group_by, number, &fields)?);
    }
    Ok(())
}

fn row(
    origin: &ResultOrigin<'_>,
    group_by: Option<&str>,
    number: u64,
    fields: &Fields<'_>,
) -> Result<CostRow, CostRowsError> {
    let problem = |text: String| CostRowsError::row(origin, number, text);
    let date_text = fields
        .date
        .ok_or_else(|| problem("no usage date".to_owned()))?;
    let period_start: Date = date_text
        .get(..10)
        .and_then(|day| day.parse().ok())
        .ok_or_else(|| problem(format!("usage date `{}` is not a date", shorten(date_text))))?;
    let period_end = period_start
        .checked_add(1.month())
        .map_err(|_| problem(format!("usage date `{period_start}` is out of range")))?;
    let amount_text = fields
        .amount
        .ok_or_else(|| problem("no usage amount".to_owned()))?;
    let amount = parse_amount(amount_text).map_err(problem)?;
    let dimension = group_by.unwrap_or(UNGROUPED);
    let (id, name) = match dimension {
        "organizations" => fields.organization,
        "projects" => fields.project,
        "clusters" => fields.cluster,
        _ => (fields.service, fields.service),
    };
    let group_id = id
        .or(name)
        .ok_or_else(|| problem(format!("no {dimension} id or name to group by")))?;
    Ok(CostRow {
        report: origin.report.to_owned(),
        kind: NAME.to_owned(),
        org_id: origin.org_id.to_owned(),
        period_start,
        period_end,
        dimension: dimension.to_owned(),
        group_id: group_id.to_owned(),
        group_name: name.map(str::to_owned),
        service: fields.service.map(str::to_owned),
        amount,
        currency: CURRENCY.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read};

    use rust_decimal::Decimal;

    use super::*;
    use crate::cost_rows::dec;

    const ORIGIN: ResultOrigin<'static> = ResultOrigin {
        report: "by-project",
        org_id: "5f0c8a1b2c3d4e5f6a7b8c9d",
        file: "results/by-project.json",
    };

    #[test]
    fn json_rows_for_each_group_by() {
        let body = r#"{"usageDetails": [
            {"invoiceId": "x", "organizationId": "5f0c8a1b2c3d4e5f6a7b8c9d", "organizationName": "Acme",
             "projectId": "65a1b2c3d4e5f6a7b8c9d0e1", "projectName": "prod-api",
             "clusterId": "32b6e34b3d91647abb20e7b8", "clusterName": "Cluster0",
             "service": "Clusters", "usageAmount": 51.19, "usageDate": "2024-09-01", "extra": [1]}
        ]}"#;
        let expected = [
            ("organizations", "5f0c8a1b2c3d4e5f6a7b8c9d", "Acme"),
            ("projects", "65a1b2c3d4e5f6a7b8c9d0e1", "prod-api"),
            ("clusters", "32b6e34b3d91647abb20e7b8", "Cluster0"),
            ("services", "Clusters", "Clusters"),
        ];
        for (group_by, id, name) in expected {
            let rows = rows_from_json(&ORIGIN, Some(group_by), body.as_bytes()).unwrap();
            assert_eq!(rows.len(), 1);
            let row = &rows[0];
            assert_eq!(
                (row.dimension.as_str(), row.group_id.as_str()),
                (group_by, id)
            );
            assert_eq!(row.group_name.as_deref(), Some(name));
            assert_eq!(row.amount, dec("51.19"));
            assert_eq!(row.period_start.to_string(), "2024-09-01");
            assert_eq!(row.period_end.to_string(), "2024-10-01");
            assert_eq!(row.currency, "USD");
            assert_eq!(row.service.as_deref(), Some("Clusters"));
        }
    }

    #[test]
    fn json_amounts_are_read_from_their_text_not_through_a_float() {
        let body = r#"{"usageDetails": [
            {"service": "Storage", "usageAmount": 1234567.123456789012, "usageDate": "2026-10-01"},
            {"service": "Backup", "usageAmount": "12.345678", "usageDate": "2026-10-01"}]}"#;
        let rows = rows_from_json(&ORIGIN, None, body.as_bytes()).unwrap();
        assert_eq!(rows[0].amount.to_string(), "1234567.123456789012");
        assert_eq!(rows[1].amount.to_string(), "12.345678");
        assert_eq!(rows[1].dimension, "services");
    }

    #[test]
    fn csv_rows_match_the_json_rows_of_the_same_result() {
        let csv = "Billed Date,Invoice Id,Organization Name,Organization ID,Project Name,Project Id,Cluster Name,Cluster Unique Id,Service,Usage Amount\n\
                   2026-10-01,inv,\"Acme, Inc.\",5f0c8a1b2c3d4e5f6a7b8c9d,prod-api,65a1b2c3d4e5f6a7b8c9d0e1,,,Clusters,10.50\n\
                   \n\
                   2026-11-01,inv,\"Acme, Inc.\",5f0c8a1b2c3d4e5f6a7b8c9d,\"prod \"\"web\"\"\",75a1b2c3d4e5f6a7b8c9d0e1,,,Storage,\"1,000.25\"\n";
        let rows = rows_from_csv(&ORIGIN, Some("projects"), csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].group_id, "65a1b2c3d4e5f6a7b8c9d0e1");
        assert_eq!(rows[1].group_name.as_deref(), Some("prod \"web\""));
        assert_eq!(
            rows.iter().map(|row| &row.amount).sum::<Decimal>(),
            dec("1010.75")
        );
        let by_org = rows_from_csv(&ORIGIN, Some("organizations"), csv.as_bytes()).unwrap();
        assert_eq!(by_org[0].group_name.as_deref(), Some("Acme, Inc."));
    }

    #[test]
    fn empty_results_are_no_rows() {
        assert!(
            rows_from_json(&ORIGIN, None, &b"{\"usageDetails\": []}"[..])
                .unwrap()
                .is_empty()
        );
        assert!(
            rows_from_json(&ORIGIN, None, &b"{}"[..])
                .unwrap()
                .is_empty()
        );
        let header_only = "Billed Date,Service,Usage Amount\n";
        assert!(
            rows_from_csv(&ORIGIN, None, header_only.as_bytes())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_non_numeric_amount_names_the_file_and_row() {
        let body = r#"{"usageDetails": [
            {"service": "Storage", "usageAmount": 1, "usageDate": "2026-10-01"},
            {"service": "Storage", "usageAmount": "lots", "usageDate": "2026-10-01"}]}"#;
        let error = rows_from_json(&ORIGIN, None, body.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`results/by-project.json` row 2: amount `lots` is not a number"
        );
        let csv =
            "Billed Date,Service,Usage Amount\n2026-10-01,Storage,1\n2026-10-01,Storage,n/a\n";
        let error = rows_from_csv(&ORIGIN, None, csv.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("row 3: amount `n/a` is not a number"),
            "{error}"
        );
    }

    #[test]
    fn a_result_that_is_neither_format_is_an_error() {
        let html = "<html><body>proxy login</body></html>";
        let error = rows_from_json(&ORIGIN, None, html.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not a Cost Explorer JSON result"),
            "{error}"
        );
        let error = rows_from_csv(&ORIGIN, None, html.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no `Billed Date` and `Usage Amount` columns"),
            "{error}"
        );
    }

    /// An endless row: the header, then one field that never ends.
    struct Endless {
        header: &'static [u8],
        served: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if let Some((first, rest)) = self.header.split_first() {
                buffer[0] = *first;
                self.header = rest;
                return Ok(1);
            }
            assert!(
                self.served < 64 * 1024 * 1024,
                "the reader kept reading one row"
            );
            buffer.fill(b'9');
            self.served += buffer.len() as u64;
            Ok(buffer.len())
        }
    }

    #[test]
    fn an_endless_row_is_refused_by_number_without_buffering_it() {
        let body = Endless {
            header: b"Billed Date,Service,Usage Amount\n2026-10-01,Storage,",
            served: 0,
        };
        let error = rows_from_csv(&ORIGIN, None, body).unwrap_err();
        assert!(
            error.to_string().contains("row 2: a row is longer than"),
            "{error}"
        );
    }
}
