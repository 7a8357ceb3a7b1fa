//! The FOCUS file of an invoice report: one row per service and day of the
//! invoice's month, deterministic like the Cost Explorer results, and adding
//! up per service to exactly what the Cost Explorer answer for the same
//! organization and month says (so tests can check one kind against the
//! other). Amounts carry four decimals, as FOCUS files do; a month's cents
//! are spread over its days with the remainder on the first day.

use std::io::Write as _;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::usage::{invoice_id, month_by_service, name, project_id, quote};

/// The columns written: FOCUS 1.0's mandatory ones costform reads, and a
/// few more a reader must keep without caring about.
const HEADER: [&str; 14] = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "InvoiceId",
];

/// The FOCUS CSV of `org_id`'s invoice for the month starting `month`.
pub fn focus_csv(org_id: &str, month: Date) -> String {
    let mut csv = HEADER.join(",");
    csv.push('\n');
    let Ok(next) = month.checked_add(1.month()) else {
        return csv;
    };
    let days = u32::try_from(month.days_in_month()).unwrap_or(1).max(1);
    let project = project_id(org_id, 0);
    let invoice = invoice_id(org_id, month);
    let iso = |date: Date| format!("{date}T00:00:00Z");
    for (service, cents) in month_by_service(org_id, month) {
        let (daily, remainder) = (cents / days, cents % days);
        let mut day = month;
        for index in 0..days {
            let Ok(after) = day.checked_add(1.day()) else {
                break;
            };
            let amount = daily + if index == 0 { remainder } else { 0 };
            let cost = format!("{}.{:02}00", amount / 100, amount % 100);
            let fields = [
                org_id.to_owned(),
                name("Org", org_id),
                "USD".to_owned(),
                iso(month),
                iso(next),
                iso(day),
                iso(after),
                "Usage".to_owned(),
                cost.clone(),
                cost,
                service.clone(),
                project.clone(),
                name("Project", &project),
                invoice.clone(),
            ];
            let quoted: Vec<String> = fields.iter().map(|field| quote(field)).collect();
            csv.push_str(&quoted.join(","));
            csv.push('\n');
            day = after;
        }
    }
    csv
}

/// `text` gzip-compressed, as Atlas serves `..._focus.csv.gz`.
pub(crate) fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_has_a_row_per_service_and_day_adding_up_to_cost_explorer() {
        let month: Date = "2026-10-01".parse().unwrap();
        let org = "5f0c8a1b2c3d4e5f6a7b8c9d";
        let csv = focus_csv(org, month);
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(lines.len(), 4 * 31);
        let cents: u64 = lines
            .iter()
            .map(|line| {
                let cost = line.split(',').nth(8).unwrap();
                let (whole, fraction) = cost.split_once('.').unwrap();
                whole.parse::<u64>().unwrap() * 100 + fraction[..2].parse::<u64>().unwrap()
            })
            .sum();
        let expected: u64 = month_by_service(org, month)
            .iter()
            .map(|(_, cents)| u64::from(*cents))
            .sum();
        assert_eq!(cents, expected);
    }
}
