//! What one Atlas answer says about its rate limit: the `RateLimit-Limit` and
//! `RateLimit-Remaining` headers of any answer, and a 429's wait and bucket.
//!
//! Atlas documents its 429 as `"detail": "Rate limit exceeded for
//! api/atlas/v2/orgs. Please retry after 55 seconds. Request capacity: 10.
//! Refill rate: 5 per 60 seconds."` with `"parameters": [path, 55, 10, 5, 60]`,
//! and says `Retry-After` "might be returned". So the wait is read from
//! `Retry-After` (seconds or an HTTP-date), else `parameters[1]`, else the
//! detail; the bucket from `parameters`, else the detail.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::Error;
use crate::pacing::TooLong;
use crate::transport::{Exchange, Outgoing};

/// A token bucket as Atlas describes it in a 429.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Refill {
    /// Tokens in a full bucket.
    pub(crate) capacity: u32,
    /// Tokens added at the end of each period.
    pub(crate) amount: u32,
    /// How often the bucket refills.
    pub(crate) period: Duration,
}

/// Everything an answer told about its scope's rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Signal {
    /// The answer was a 429.
    pub(crate) limited: bool,
    /// `RateLimit-Limit`.
    pub(crate) limit: Option<u32>,
    /// `RateLimit-Remaining`.
    pub(crate) remaining: Option<u32>,
    /// How long Atlas asked to wait (429 only).
    pub(crate) wait: Option<Duration>,
    /// The bucket's shape (429 only).
    pub(crate) refill: Option<Refill>,
}

impl Signal {
    /// The signal of an answer received just now.
    pub(crate) fn of(exchange: &Exchange) -> Self {
        Self::read(
            exchange.status,
            &exchange.headers,
            &exchange.body,
            jiff::Timestamp::now(),
        )
    }

    /// Reads the signal of one answer; `now` dates an HTTP-date `Retry-After`.
    pub(crate) fn read(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: jiff::Timestamp,
    ) -> Self {
        let header =
            |name: &str| -> Option<u32> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let mut signal = Self {
            limited: status == StatusCode::TOO_MANY_REQUESTS,
            limit: header("ratelimit-limit"),
            remaining: header("ratelimit-remaining"),
            wait: retry_after(headers, now),
            refill: None,
        };
        if !signal.limited {
            return signal;
        }
        let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let numbers: Vec<f64> = body["parameters"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .skip(1)
                    .map_while(serde_json::Value::as_f64)
                    .collect()
            })
            .unwrap_or_default();
        let detail = body["detail"].as_str().unwrap_or_default();
        signal.wait = signal
            .wait
            .or_else(|| numbers.first().copied().and_then(seconds))
            .or_else(|| number_after(detail, "retry after ").and_then(seconds));
        signal.refill = match numbers[..] {
            [_, capacity, amount, period, ..] => bucket(capacity, amount, period),
            _ => None,
        }
        .or_else(|| {
            bucket(
                number_after(detail, "Request capacity: ")?,
                number_after(detail, "Refill rate: ")?,
                number_after(detail, " per ")?,
            )
        });
        signal
    }
}

/// `Retry-After` as delay-seconds or as an HTTP-date (RFC 9110 §10.2.3); a
/// date in the past means "now".
pub(crate) fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(at.duration_since(now).try_into().unwrap_or(Duration::ZERO))
}

/// The error for a wait the run cannot afford.
pub(crate) fn rate_limit_refusal(request: &Outgoing, too_long: TooLong) -> Error {
    Error::RateLimitWait {
        url: request.url.to_string(),
        wait: too_long.wait,
        limit: too_long.limit,
    }
}

fn bucket(capacity: f64, amount: f64, period: f64) -> Option<Refill> {
    let whole = |value: f64| {
        (value >= 1.0 && value <= f64::from(u32::MAX)).then(|| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked range"
            )]
            let value = value as u32;
            value
        })
    };
    Some(Refill {
        capacity: whole(capacity)?,
        amount: whole(amount)?,
        period: seconds(period).filter(|period| !period.is_zero())?,
    })
}

/// A count of seconds as Atlas writes it (whole, or decimal for short test
/// periods); negative or absurd values are no wait at all.
fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}

/// The number right after `marker` in `text`, such as 55 in "retry after 55
/// seconds".
fn number_after(text: &str, marker: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find(&marker.to_ascii_lowercase())? + marker.len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETAIL: &str = "Rate limit exceeded for api/atlas/v2/orgs. Please retry after 55 seconds. \
                          Request capacity: 10. Refill rate: 5 per 60 seconds.";

    fn now() -> jiff::Timestamp {
        "2026-12-01T12:00:00Z".parse().unwrap()
    }

    fn limited(headers: &[(&'static str, &str)], body: &serde_json::Value) -> Signal {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Signal::read(
            StatusCode::TOO_MANY_REQUESTS,
            &map,
            body.to_string().as_bytes(),
            now(),
        )
    }

    const ATLAS: Refill = Refill {
        capacity: 10,
        amount: 5,
        period: Duration::from_secs(60),
    };

    #[test]
    fn parameters_give_the_wait_and_the_bucket() {
        let body = serde_json::json!({"detail": "other words",
            "parameters": ["api/atlas/v2/orgs", 55, 10, 5, 60]});
        let signal = limited(&[], &body);
        assert_eq!(signal.wait, Some(Duration::from_secs(55)));
        assert_eq!(signal.refill, Some(ATLAS));
    }

    #[test]
    fn the_detail_alone_gives_the_wait_and_the_bucket() {
        let signal = limited(
            &[],
            &serde_json::json!({"detail": DETAIL, "parameters": []}),
        );
        assert_eq!(signal.wait, Some(Duration::from_secs(55)));
        assert_eq!(signal.refill, Some(ATLAS));
    }

    #[test]
    fn retry_after_wins_over_the_body_and_reads_http_dates() {
        let body = serde_json::json!({"detail": DETAIL});
        let signal = limited(&[("retry-after", "3")], &body);
        assert_eq!(signal.wait, Some(Duration::from_secs(3)));
        let signal = limited(&[("retry-after", "Tue, 01 Dec 2026 12:00:42 GMT")], &body);
        assert_eq!(signal.wait, Some(Duration::from_secs(42)));
        let signal = limited(&[("retry-after", "Tue, 01 Dec 2026 11:00:00 GMT")], &body);
        assert_eq!(signal.wait, Some(Duration::ZERO), "a past date is no wait");
    }

    #[test]
    fn decimal_test_periods_and_headers_are_read() {
        let body = serde_json::json!({"parameters": ["api/atlas/v2/orgs", 1, 2, 1, 0.2]});
        let signal = limited(
            &[("ratelimit-limit", "2"), ("ratelimit-remaining", "0")],
            &body,
        );
        assert_eq!(signal.limit, Some(2));
        assert_eq!(signal.remaining, Some(0));
        assert_eq!(signal.refill.unwrap().period, Duration::from_millis(200));
    }

    #[test]
    fn a_429_without_numbers_teaches_nothing() {
        let signal = limited(
            &[],
            &serde_json::json!({"detail": "slow down", "parameters": ["x", -5]}),
        );
        assert!(signal.limited);
        assert_eq!((signal.wait, signal.refill), (None, None));
    }
}
