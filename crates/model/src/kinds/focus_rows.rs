//! Cost rows from a FOCUS invoice report: the FinOps Open Cost and Usage
//! Specification's CSV, one line per charge and day.
//!
//! Rows are daily and grouped by project (FOCUS's sub-account is the Atlas
//! project). The amount is `BilledCost`, what the invoice charges; the
//! currency is the row's own `BillingCurrency`. Columns beyond the ones read
//! here stay in the raw file and are no error; a column FOCUS makes optional
//! may be missing.

use std::io::Read;

use jiff::civil::Date;

use crate::cost_rows::{
    CostRow, CostRowsError, CsvRecords, ResultOrigin, collect_rows, parse_amount, shorten,
};

/// The kind whose results these are.
const KIND: &str = "focus_report";

/// FOCUS's sub-account is the Atlas project.
const DIMENSION: &str = "projects";

/// The columns every FOCUS file has (FOCUS 1.0 mandatory columns).
const REQUIRED: [&str; 4] = [
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BilledCost",
    "BillingCurrency",
];

/// The cost rows of a FOCUS CSV file, already decompressed.
pub fn rows_from_focus_csv(
    origin: &ResultOrigin<'_>,
    body: impl Read,
) -> Result<Vec<CostRow>, CostRowsError> {
    collect_rows(|sink| visit_focus_csv(origin, body, sink))
}

/// Hands each cost row of a FOCUS CSV file to `sink` as it is read: FOCUS
/// files have a row per resource and day, and are large.
pub fn visit_focus_csv(
    origin: &ResultOrigin<'_>,
    body: impl Read,
    sink: &mut dyn FnMut(CostRow),
) -> Result<(), CostRowsError> {
    let (mut records, header) = CsvRecords::open(origin, body)?;
    let column = |name: &str| header.iter().position(|title| title == name);
    let mut required = [0; 4];
    for (slot, name) in required.iter_mut().zip(REQUIRED) {
        *slot = column(name).ok_or_else(|| {
            CostRowsError::file(origin, format!("not a FOCUS file: no `{name}` column"))
        })?;
    }
    let [start, end, billed, currency] = required;
    let optional = [
        column("SubAccountId"),
        column("SubAccountName"),
        column("ServiceName"),
    ];
    while let Some((number, record)) = records.next(origin)? {
        let cell = |index: usize| record.get(index).unwrap_or_default();
        let present = |index: Option<usize>| index.map(cell).filter(|text| !text.is_empty());
        let problem = |text: String| CostRowsError::row(origin, number, text);
        let day = |index: usize, what: &str| {
            let text = cell(index);
            text.get(..10)
                .and_then(|day| day.parse::<Date>().ok())
                .ok_or_else(|| problem(format!("{what} `{}` is not a date", shorten(text))))
        };
        let amount = parse_amount(cell(billed)).map_err(problem)?;
        let currency_code = cell(currency);
        if currency_code.is_empty() {
            return Err(problem("no BillingCurrency".to_owned()));
        }
        let [account_id, account_name, service] = optional.map(present);
        sink(CostRow {
            report: origin.report.to_owned(),
            kind: KIND.to_owned(),
            org_id: origin.org_id.to_owned(),
            period_start: day(start, "ChargePeriodStart")?,
            period_end: day(end, "ChargePeriodEnd")?,
            dimension: DIMENSION.to_owned(),
            group_id: account_id
                .or(account_name)
                .unwrap_or(origin.org_id)
                .to_owned(),
            group_name: account_name.map(str::to_owned),
            service: service.map(str::to_owned),
            amount,
            currency: currency_code.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::cost_rows::dec;

    const ORIGIN: ResultOrigin<'static> = ResultOrigin {
        report: "october-focus",
        org_id: "5f0c8a1b2c3d4e5f6a7b8c9d",
        file: "results/october-focus.csv",
    };

    #[test]
    fn daily_rows_keep_every_decimal_and_ignore_unknown_columns() {
        let csv = "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,EffectiveCost,ServiceName,SubAccountId,SubAccountName,x_AtlasSku,Tags\n\
                   1.234567,USD,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1.2,Clusters,65a1b2c3d4e5f6a7b8c9d0e1,prod-api,ATLAS_AWS_INSTANCE_M10,\"{\"\"env\"\":\"\"prod\"\"}\"\n\
                   0.000001,USD,2026-10-02T00:00:00Z,2026-10-03T00:00:00Z,,Storage,65a1b2c3d4e5f6a7b8c9d0e1,prod-api,SKU,\n";
        let rows = rows_from_focus_csv(&ORIGIN, csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].period_start.to_string(), "2026-10-01");
        assert_eq!(rows[0].period_end.to_string(), "2026-10-02");
        assert_eq!(rows[0].group_id, "65a1b2c3d4e5f6a7b8c9d0e1");
        assert_eq!(rows[0].group_name.as_deref(), Some("prod-api"));
        assert_eq!(rows[1].service.as_deref(), Some("Storage"));
        assert_eq!(
            rows.iter().map(|row| &row.amount).sum::<Decimal>(),
            dec("1.234568")
        );
        assert!(
            rows.iter()
                .all(|row| row.kind == "focus_report" && row.dimension == "projects")
        );
    }

    #[test]
    fn missing_optional_columns_fall_back_to_the_org() {
        let csv = "ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n2026-10-01,2026-10-02,3.50,EUR\n";
        let rows = rows_from_focus_csv(&ORIGIN, csv.as_bytes()).unwrap();
        assert_eq!(rows[0].group_id, ORIGIN.org_id);
        assert_eq!(
            (rows[0].group_name.as_deref(), rows[0].service.as_deref()),
            (None, None)
        );
        assert_eq!(rows[0].currency, "EUR");
    }

    #[test]
    fn a_missing_required_column_or_bad_cell_is_named() {
        let csv = "ChargePeriodStart,ChargePeriodEnd,BilledCost\n2026-10-01,2026-10-02,1\n";
        let error = rows_from_focus_csv(&ORIGIN, csv.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`results/october-focus.csv`: not a FOCUS file: no `BillingCurrency` column"
        );
        let csv = "ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n2026-10-01,2026-10-02,1,USD\nyesterday,2026-10-02,1,USD\n";
        let error = rows_from_focus_csv(&ORIGIN, csv.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`results/october-focus.csv` row 3: ChargePeriodStart `yesterday` is not a date"
        );
    }

    #[test]
    fn an_empty_file_is_refused_and_a_header_alone_is_no_rows() {
        assert!(rows_from_focus_csv(&ORIGIN, &b""[..]).is_err());
        let header = "ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n";
        assert!(
            rows_from_focus_csv(&ORIGIN, header.as_bytes())
                .unwrap()
                .is_empty()
        );
    }
}
