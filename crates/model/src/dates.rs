//! Calendar arithmetic on `YYYY-MM-DD` dates: the template filters, the
//! `period` shorthands and the resolution of "now".
//!
//! Cost Explorer ranges are whole months, so everything here works on civil
//! dates in UTC; month arithmetic clamps to the month's end the way people
//! count ("January 31st plus one month" is the end of February).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Parses `--now` / `COSTFORM_NOW`: `YYYY-MM-DD` (midnight UTC) or an RFC 3339
/// timestamp with an offset (converted to UTC). The error completes
/// "invalid now: ...".
pub fn parse_now(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(date) = parse_date(text) {
        return date
            .to_zoned_datetime(TimeZone::UTC)
            .map(|zoned| zoned.timestamp())
            .map_err(|err| format!("`{text}` is out of range: {err}"));
    }
    text.parse::<Timestamp>().map_err(|_| {
        format!("`{text}` is neither a `YYYY-MM-DD` date nor an RFC 3339 timestamp such as `2026-11-26T03:00:00Z`")
    })
}

/// The UTC calendar day of `now`, which templates see as `today`.
pub fn today(now: Timestamp) -> Date {
    now.to_zoned_datetime(TimeZone::UTC).date()
}

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(format!("`{text}` is not a `YYYY-MM-DD` date"));
    }
    text.parse::<Date>()
        .map_err(|_| format!("`{text}` is not a valid calendar date"))
}

/// The first day of `date`'s month.
pub fn start_of_month(date: Date) -> Date {
    date.first_of_month()
}

/// The first day of `date`'s calendar quarter.
pub fn start_of_quarter(date: Date) -> Date {
    let month = (date.month() - 1) / 3 * 3 + 1;
    date.with().month(month).day(1).build().unwrap_or(date)
}

/// January 1st of `date`'s year.
pub fn start_of_year(date: Date) -> Date {
    date.first_of_year()
}

/// `date` moved by `days` (negative goes back).
pub fn add_days(date: Date, days: i64) -> Result<Date, String> {
    date.checked_add(
        jiff::Span::new()
            .try_days(days)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|_| format!("`{date}` plus {days} days is out of range"))
}

/// `date` moved by `months`, clamped to the end of the target month
/// (`2026-01-31` + 1 month = `2026-02-28`).
pub fn add_months(date: Date, months: i64) -> Result<Date, String> {
    let out_of_range = || format!("`{date}` plus {months} months is out of range");
    let index = (i64::from(date.year()) * 12 + i64::from(date.month() - 1))
        .checked_add(months)
        .ok_or_else(out_of_range)?;
    let year = i16::try_from(index.div_euclid(12)).map_err(|_| out_of_range())?;
    let month = i8::try_from(index.rem_euclid(12) + 1).map_err(|_| out_of_range())?;
    let first = Date::new(year, month, 1).map_err(|_| out_of_range())?;
    let day = date.day().min(first.days_in_month());
    Date::new(year, month, day).map_err(|_| out_of_range())
}

/// `date` moved by `years` (February 29th becomes the 28th in other years).
pub fn add_years(date: Date, years: i64) -> Result<Date, String> {
    add_months(date, years.saturating_mul(12))
}

/// `date` formatted with a strftime pattern (`%Y-%m`, `%B %Y`, ...).
pub fn format_date(date: Date, format: &str) -> Result<String, String> {
    jiff::fmt::strtime::format(format, date)
        .map_err(|err| format!("bad date format `{format}`: {err}"))
}

/// The `period:` shorthands, with M the first of the current UTC month.
pub const PERIODS: &[&str] = &[
    "this_month",
    "last_month",
    "last_3_months",
    "last_6_months",
    "last_12_months",
    "year_to_date",
    "last_year",
];

/// The `[start, end)` range of a `period:` shorthand at `now`, or `None` for
/// an unknown name.
pub fn period_range(period: &str, now: Timestamp) -> Option<(Date, Date)> {
    let month = start_of_month(today(now));
    let shift = |months| add_months(month, months).ok();
    let year = start_of_year(month);
    Some(match period {
        "this_month" => (month, shift(1)?),
        "last_month" => (shift(-1)?, month),
        "last_3_months" => (shift(-3)?, month),
        "last_6_months" => (shift(-6)?, month),
        "last_12_months" => (shift(-12)?, month),
        "year_to_date" => (year, shift(1)?),
        "last_year" => (add_years(year, -1).ok()?, year),
        _ => return None,
    })
}

/// The first of the month nearest to `date`: the suggestion for a date that
/// is not a month start (the 1st–15th round down, later days round up).
pub fn nearest_month_start(date: Date) -> Date {
    let first = start_of_month(date);
    if date.day() <= 15 {
        first
    } else {
        add_months(first, 1).unwrap_or(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        parse_date(text).unwrap()
    }

    #[test]
    fn adding_months_clamps_to_the_month_end() {
        assert_eq!(add_months(d("2026-01-31"), 1).unwrap(), d("2026-02-28"));
        assert_eq!(add_months(d("2028-01-31"), 1).unwrap(), d("2028-02-29"));
        assert_eq!(add_months(d("2026-03-31"), -1).unwrap(), d("2026-02-28"));
        assert_eq!(add_months(d("2026-05-31"), 1).unwrap(), d("2026-06-30"));
    }

    #[test]
    fn month_arithmetic_rolls_over_years_both_ways() {
        assert_eq!(add_months(d("2026-12-15"), 1).unwrap(), d("2027-01-15"));
        assert_eq!(add_months(d("2027-01-01"), -1).unwrap(), d("2026-12-01"));
        assert_eq!(add_months(d("2027-01-01"), -13).unwrap(), d("2025-12-01"));
        assert_eq!(add_months(d("2026-06-01"), 24).unwrap(), d("2028-06-01"));
        assert!(add_months(d("2026-06-01"), i64::MAX).is_err());
    }

    #[test]
    fn leap_days_survive_only_in_leap_years() {
        assert_eq!(add_years(d("2028-02-29"), 1).unwrap(), d("2029-02-28"));
        assert_eq!(add_years(d("2028-02-29"), 4).unwrap(), d("2032-02-29"));
        assert_eq!(add_days(d("2028-02-28"), 1).unwrap(), d("2028-02-29"));
        assert_eq!(add_days(d("2026-03-01"), -1).unwrap(), d("2026-02-28"));
        assert_eq!(add_days(d("2026-12-31"), 1).unwrap(), d("2027-01-01"));
    }

    #[test]
    fn quarters_start_in_january_april_july_and_october() {
        for (day, quarter) in [
            ("2026-01-01", "2026-01-01"),
            ("2026-03-31", "2026-01-01"),
            ("2026-04-01", "2026-04-01"),
            ("2026-08-15", "2026-07-01"),
            ("2026-12-31", "2026-10-01"),
        ] {
            assert_eq!(start_of_quarter(d(day)), d(quarter), "{day}");
        }
        assert_eq!(start_of_year(d("2026-08-15")), d("2026-01-01"));
        assert_eq!(start_of_month(d("2026-08-15")), d("2026-08-01"));
    }

    #[test]
    fn dates_must_be_strict_calendar_days() {
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2026-2-01").is_err());
        assert!(parse_date("2026-02-01T00:00").is_err());
        assert_eq!(
            format_date(d("2026-02-01"), "%B %Y").unwrap(),
            "February 2026"
        );
    }

    #[test]
    fn now_accepts_a_date_or_rfc3339_converted_to_utc() {
        assert_eq!(
            parse_now("2026-11-26").unwrap().to_string(),
            "2026-11-26T00:00:00Z"
        );
        assert_eq!(
            parse_now("2026-11-30T23:30:00-02:00").unwrap().to_string(),
            "2026-12-01T01:30:00Z"
        );
        assert_eq!(
            today(parse_now("2026-11-30T23:30:00-02:00").unwrap()),
            d("2026-12-01")
        );
        assert!(parse_now("yesterday").unwrap_err().contains("`yesterday`"));
    }

    fn range(period: &str, now: &str) -> (String, String) {
        let (start, end) = period_range(period, parse_now(now).unwrap()).unwrap();
        (start.to_string(), end.to_string())
    }

    #[test]
    fn periods_follow_the_spec_table() {
        let now = "2026-11-26T10:00:00Z";
        let expected = [
            ("this_month", "2026-11-01", "2026-12-01"),
            ("last_month", "2026-10-01", "2026-11-01"),
            ("last_3_months", "2026-08-01", "2026-11-01"),
            ("last_6_months", "2026-05-01", "2026-11-01"),
            ("last_12_months", "2025-11-01", "2026-11-01"),
            ("year_to_date", "2026-01-01", "2026-12-01"),
            ("last_year", "2025-01-01", "2026-01-01"),
        ];
        for (period, start, end) in expected {
            assert_eq!(
                range(period, now),
                (start.to_owned(), end.to_owned()),
                "{period}"
            );
        }
        assert_eq!(period_range("fortnight", parse_now(now).unwrap()), None);
    }

    #[test]
    fn periods_in_january_reach_into_the_previous_year() {
        let now = "2027-01-03";
        assert_eq!(
            range("last_month", now),
            ("2026-12-01".into(), "2027-01-01".into())
        );
        assert_eq!(
            range("this_month", now),
            ("2027-01-01".into(), "2027-02-01".into())
        );
        assert_eq!(
            range("year_to_date", now),
            ("2027-01-01".into(), "2027-02-01".into())
        );
        assert_eq!(
            range("last_3_months", now),
            ("2026-10-01".into(), "2027-01-01".into())
        );
        assert_eq!(
            range("last_year", now),
            ("2026-01-01".into(), "2027-01-01".into())
        );
    }

    #[test]
    fn the_suggested_month_start_is_the_nearest() {
        assert_eq!(nearest_month_start(d("2026-10-03")), d("2026-10-01"));
        assert_eq!(nearest_month_start(d("2026-09-30")), d("2026-10-01"));
        assert_eq!(nearest_month_start(d("2026-12-31")), d("2027-01-01"));
    }
}
