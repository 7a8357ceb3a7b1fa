//! Cost rows: every fetched result, of any report kind, normalised into one
//! shape that tables, deltas, budgets and the database backend are built from.
//!
//! Amounts are [`Decimal`]s, never binary floating point: a budget of
//! 1000.00 against spend of exactly 1000.00 must hold, and a total of a
//! hundred thousand cents must come to the cent. Each kind turns its own
//! result format into rows (`kinds::cost_explorer_rows`, `kinds::focus_rows`);
//! this module holds the row, the money parsing and the reading limits they
//! share.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use jiff::civil::Date;
pub use rust_decimal::Decimal;
use serde::Serialize;

/// One amount of spend for one period and one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostRow {
    /// The report (or report instance) the result belongs to.
    pub report: String,
    /// The report kind that produced the result.
    pub kind: String,
    /// The organization the query ran for.
    pub org_id: String,
    /// The first day of the period (a month start for monthly kinds).
    pub period_start: Date,
    /// The day after the period ends (exclusive, as Atlas's end dates are).
    pub period_end: Date,
    /// What `group_id` identifies: `organizations`, `projects`, `clusters`,
    /// `services`, or a kind's own dimension.
    pub dimension: String,
    /// The group's id (an Atlas id, or the service name for `services`).
    pub group_id: String,
    /// The group's name as the result gives it, when it does.
    pub group_name: Option<String>,
    /// The Atlas service (SKU family), when the result names one.
    pub service: Option<String>,
    /// The amount, exactly as the result states it (serialized as a string,
    /// so JSON readers do not turn it into a float).
    pub amount: Decimal,
    /// ISO 4217 code: `USD` for Cost Explorer, the FOCUS `BillingCurrency`.
    pub currency: String,
}

/// Who a result belongs to: the fields every row of it shares.
#[derive(Debug, Clone, Copy)]
pub struct ResultOrigin<'a> {
    /// The report's address.
    pub report: &'a str,
    /// The organization the query ran for.
    pub org_id: &'a str,
    /// The file the result was read from, named in every error.
    pub file: &'a str,
}

/// Why a result could not be turned into cost rows. Every variant names the
/// file, and the row where there is one (the header is row 1 in CSV; the
/// first `usageDetails` entry is row 1 in JSON).
#[derive(Debug, thiserror::Error)]
pub enum CostRowsError {
    /// One row is unusable.
    #[error("`{file}` row {row}: {problem}")]
    Row {
        /// The result file.
        file: String,
        /// The row, counted from 1.
        row: u64,
        /// What is wrong with it.
        problem: String,
    },
    /// The file as a whole is unusable (not CSV or JSON, a required column
    /// missing, unreadable).
    #[error("`{file}`: {problem}")]
    File {
        /// The result file.
        file: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl CostRowsError {
    pub(crate) fn row(origin: &ResultOrigin<'_>, row: u64, problem: impl Into<String>) -> Self {
        Self::Row {
            file: origin.file.to_owned(),
            row,
            problem: problem.into(),
        }
    }

    pub(crate) fn file(origin: &ResultOrigin<'_>, problem: impl Into<String>) -> Self {
        Self::File {
            file: origin.file.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The rows a row visitor (`visit_json`, `visit_csv`, a kind's
/// `visit_cost_rows`) hands out, collected: for small results and tests.
pub fn collect_rows(
    visit: impl FnOnce(&mut dyn FnMut(CostRow)) -> Result<(), CostRowsError>,
) -> Result<Vec<CostRow>, CostRowsError> {
    let mut rows = Vec::new();
    visit(&mut |row| rows.push(row))?;
    Ok(rows)
}

/// Parses an amount as results write it: `51.19`, `0.0000031`, `-12.5`,
/// `1.5E+2`, or with a currency sign and thousands separators (`$1,234.50`).
/// Every digit is kept; text that is not a number is an error, never a zero.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | ',') && !c.is_whitespace())
        .collect();
    let parsed = if digits.contains(['e', 'E']) {
        Decimal::from_scientific(&digits)
    } else {
        Decimal::from_str_exact(&digits)
    };
    parsed.map_err(|_| format!("amount `{}` is not a number", shorten(text)))
}

/// The longest CSV record (or JSON row) read before giving up on a file: a
/// real row is a few hundred bytes, and a hostile one must not be buffered
/// whole.
pub const MAX_ROW_BYTES: u64 = 1024 * 1024;

/// Server-supplied text quoted in an error, cut so that a hostile file
/// cannot flood the terminal.
pub(crate) fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= LIMIT {
        clean
    } else {
        let head: String = clean.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}

/// A reader that fails once more than [`MAX_ROW_BYTES`] have been read past
/// the start of the current row, so that one endless record cannot grow a
/// buffer without bound. The row's reader moves the mark after each row.
struct RowLimit<R> {
    inner: R,
    read: u64,
    row_start: Rc<Cell<u64>>,
}

impl<R: Read> RowLimit<R> {
    /// Wraps `inner`; the returned cell is the current row's start offset.
    fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let row_start = Rc::new(Cell::new(0));
        let limit = Self {
            inner,
            read: 0,
            row_start: Rc::clone(&row_start),
        };
        (limit, row_start)
    }
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.read.saturating_sub(self.row_start.get()) > MAX_ROW_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLong));
        }
        let count = self.inner.read(buffer)?;
        self.read += count as u64;
        Ok(count)
    }
}

/// The error [`RowLimit`] raises, recognised by the readers to name the row.
#[derive(Debug, thiserror::Error)]
#[error("a row is longer than {MAX_ROW_BYTES} bytes")]
struct RowTooLong;

/// Whether an I/O error is [`RowLimit`]'s.
fn is_row_too_long(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<RowTooLong>().is_some())
}

/// A CSV result read record by record within [`MAX_ROW_BYTES`], counting
/// rows as a spreadsheet does (the header is row 1) and skipping blank lines.
pub(crate) struct CsvRecords<R: Read> {
    reader: csv::Reader<RowLimit<R>>,
    row_start: Rc<Cell<u64>>,
    record: csv::StringRecord,
    number: u64,
}

impl<R: Read> CsvRecords<R> {
    /// Opens `body` and reads its header (cells trimmed).
    pub(crate) fn open(
        origin: &ResultOrigin<'_>,
        body: R,
    ) -> Result<(Self, csv::StringRecord), CostRowsError> {
        let (limited, row_start) = RowLimit::new(body);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(limited);
        let header = reader
            .headers()
            .map_err(|error| csv_error(origin, 1, &error))?
            .clone();
        let records = Self {
            reader,
            row_start,
            record: csv::StringRecord::new(),
            number: 1,
        };
        Ok((records, header))
    }

    /// The next non-blank record and its row number, `None` at the end.
    pub(crate) fn next(
        &mut self,
        origin: &ResultOrigin<'_>,
    ) -> Result<Option<(u64, &csv::StringRecord)>, CostRowsError> {
        loop {
            self.number += 1;
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return Ok(None),
                Ok(true) => self.row_start.set(self.reader.position().byte()),
                Err(error) => return Err(csv_error(origin, self.number, &error)),
            }
            if !self.record.iter().all(str::is_empty) {
                return Ok(Some((self.number, &self.record)));
            }
        }
    }
}

/// A CSV reading error, naming the row (and the limit, when that is why).
fn csv_error(origin: &ResultOrigin<'_>, row: u64, error: &csv::Error) -> CostRowsError {
    match error.kind() {
        csv::ErrorKind::Io(io) if is_row_too_long(io) => {
            CostRowsError::row(origin, row, io.to_string())
        }
        csv::ErrorKind::Utf8 { .. } => CostRowsError::row(origin, row, "not UTF-8 text"),
        _ => CostRowsError::row(origin, row, format!("not CSV: {error}")),
    }
}

/// A decimal written as text, for tests.
#[cfg(test)]
pub(crate) fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hundred_thousand_cents_add_up_exactly() {
        let cycle = ["0.01", "0.02", "0.07"];
        let amounts: Vec<Decimal> = (0..100_000)
            .map(|index| parse_amount(cycle[index % 3]).expect("an amount"))
            .collect();
        // 33,334 × 0.01 + 33,333 × 0.02 + 33,333 × 0.07 = 3333.31
        assert_eq!(amounts.iter().sum::<Decimal>(), dec("3333.31"));
        let float: f64 = (0..100_000)
            .map(|index| [0.01, 0.02, 0.07][index % 3])
            .sum();
        assert_ne!(
            float.to_string(),
            "3333.31",
            "binary floating point would have drifted; the decimal sum did not"
        );
    }

    #[test]
    fn amounts_keep_every_digit_and_accept_export_forms() {
        assert_eq!(parse_amount("0.0000031").unwrap().to_string(), "0.0000031");
        assert_eq!(parse_amount("$1,234.50").unwrap(), dec("1234.50"));
        assert_eq!(parse_amount("-12.5").unwrap(), dec("-12.5"));
        assert_eq!(parse_amount("1.5E+2").unwrap(), dec("150"));
    }

    #[test]
    fn text_that_is_not_a_number_is_an_error_not_a_zero() {
        for text in ["", "abc", "12.3.4", "NaN", "1e999"] {
            assert!(parse_amount(text).is_err(), "{text:?} parsed");
        }
        let long = "x".repeat(10_000);
        let message = parse_amount(&long).unwrap_err();
        assert!(message.len() < 80, "{message}");
    }
}
