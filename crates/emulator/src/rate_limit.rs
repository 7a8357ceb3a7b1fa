//! Atlas's rate limiting as the emulator plays it: one token bucket per
//! organization over the `api/atlas/v2/orgs` endpoint set, answering exactly
//! as Atlas documents it, so that clients can learn a schedule from it.
//!
//! A bucket starts full at an organization's first request and gains `refill`
//! tokens (up to `capacity`) at every whole `period` since then. Every metered
//! answer carries `RateLimit-Limit` and `RateLimit-Remaining`; a request that
//! finds the bucket empty answers 429 `RATE_LIMITED_TOKEN_BUCKET` with an
//! integer `Retry-After`, the wait in `detail` and the documented `parameters`
//! `[path, wait, capacity, refill, period]`. Whole-second periods read exactly
//! like Atlas; shorter ones (for fast tests) are written as decimal seconds.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Number, Value, json};

use crate::api_error::ApiError;

/// The endpoint set Atlas names in its 429s for organization paths.
const ENDPOINT_SET: &str = "api/atlas/v2/orgs";

/// A token bucket's shape: `capacity` requests at once, then `refill` more
/// every `period`. Parsed from `CAPACITY:REFILL/PERIOD`, e.g. `10:5/60s` or
/// `10:5/200ms`, as `costform emulator --token-bucket` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens in a full bucket (Atlas's "Request capacity").
    pub capacity: u32,
    /// Tokens added at each period's end (Atlas's "Refill rate: N per ...").
    pub refill: u32,
    /// The refill period; must not be zero.
    pub period: Duration,
}

impl FromStr for TokenBucket {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not `CAPACITY:REFILL/PERIOD` such as `10:5/60s`");
        let (capacity, rest) = text.split_once(':').ok_or_else(invalid)?;
        let (refill, period) = rest.split_once('/').ok_or_else(invalid)?;
        let period = if let Some(millis) = period.strip_suffix("ms") {
            Duration::from_millis(millis.parse().map_err(|_| invalid())?)
        } else {
            let seconds = period.strip_suffix('s').unwrap_or(period);
            Duration::from_secs(seconds.parse().map_err(|_| invalid())?)
        };
        let bucket = Self {
            capacity: capacity.parse().map_err(|_| invalid())?,
            refill: refill.parse().map_err(|_| invalid())?,
            period,
        };
        if bucket.capacity == 0 || bucket.refill == 0 || period.is_zero() {
            return Err(format!(
                "`{text}`: capacity, refill and period must not be zero"
            ));
        }
        Ok(bucket)
    }
}

/// The buckets of every organization, or none when rate limiting is off.
#[derive(Debug)]
pub(crate) struct Buckets {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    shape: Option<TokenBucket>,
    levels: HashMap<String, Level>,
}

/// One organization's bucket.
#[derive(Debug)]
struct Level {
    tokens: u32,
    since: Instant,
    refills: u64,
}

/// The bucket's verdict on one metered request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Metered {
    /// Sent on; `remaining` tokens are left.
    Allowed { capacity: u32, remaining: u32 },
    /// Refused until the next refill, `wait` from now.
    Limited { shape: TokenBucket, wait: Duration },
}

impl Buckets {
    pub(crate) fn new(shape: Option<TokenBucket>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                shape,
                levels: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("rate limit mutex poisoned by a panicking handler")
    }

    /// Replaces the shape; every organization starts again with a full bucket.
    pub(crate) fn reshape(&self, shape: Option<TokenBucket>) {
        let mut inner = self.lock();
        inner.shape = shape;
        inner.levels.clear();
    }

    /// Takes a token for a request to `path`; `None` when the path is not
    /// metered (not under an organization) or rate limiting is off.
    pub(crate) fn take(&self, path: &str, now: Instant) -> Option<Metered> {
        let org = path
            .strip_prefix("/api/atlas/v2/orgs/")?
            .split('/')
            .next()
            .filter(|org| !org.is_empty())?;
        let mut inner = self.lock();
        let shape = inner.shape?;
        let level = inner.levels.entry(org.to_owned()).or_insert(Level {
            tokens: shape.capacity,
            since: now,
            refills: 0,
        });
        let elapsed = now.saturating_duration_since(level.since);
        let periods =
            u64::try_from(elapsed.as_nanos() / shape.period.as_nanos()).unwrap_or(u64::MAX);
        if periods > level.refills {
            let added = (periods - level.refills).saturating_mul(u64::from(shape.refill));
            let tokens = u64::from(level.tokens).saturating_add(added);
            level.tokens =
                u32::try_from(tokens.min(u64::from(shape.capacity))).unwrap_or(shape.capacity);
            level.refills = periods;
        }
        if level.tokens > 0 {
            level.tokens -= 1;
            return Some(Metered::Allowed {
                capacity: shape.capacity,
                remaining: level.tokens,
            });
        }
        let next = u32::try_from(level.refills + 1)
            .ok()
            .and_then(|n| shape.period.checked_mul(n))
            .unwrap_or(Duration::MAX);
        let wait = level
            .since
            .checked_add(next)
            .map_or(Duration::MAX, |at| at.saturating_duration_since(now));
        Some(Metered::Limited { shape, wait })
    }
}

impl Metered {
    /// The 429 for a refused request; `None` when it was allowed.
    pub(crate) fn refusal(&self) -> Option<Response> {
        let Metered::Limited { shape, wait } = self else {
            return None;
        };
        // Atlas speaks in whole seconds; never "retry after 0 seconds".
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let period = seconds_number(shape.period);
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED_TOKEN_BUCKET",
            format!(
                "Rate limit exceeded for {ENDPOINT_SET}. Please retry after {seconds} seconds. \
                 Request capacity: {}. Refill rate: {} per {period} seconds.",
                shape.capacity, shape.refill
            ),
        );
        let mut body = error.body();
        body["parameters"] = json!([ENDPOINT_SET, seconds, shape.capacity, shape.refill, period]);
        let mut response = (
            error.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
        Some(response)
    }

    /// `RateLimit-Limit` and `RateLimit-Remaining`, on every metered answer.
    pub(crate) fn add_headers(&self, headers: &mut HeaderMap) {
        let (limit, remaining) = match self {
            Metered::Allowed {
                capacity,
                remaining,
            } => (*capacity, *remaining),
            Metered::Limited { shape, .. } => (shape.capacity, 0),
        };
        headers.insert("ratelimit-limit", HeaderValue::from(limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    }
}

/// Whole seconds as an integer (as Atlas writes them), shorter test periods
/// as a decimal.
fn seconds_number(duration: Duration) -> Value {
    if duration.subsec_nanos() == 0 {
        Value::from(duration.as_secs())
    } else {
        Number::from_f64(duration.as_secs_f64()).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/api/atlas/v2/orgs/5f0c8a1b2c3d4e5f6a7b8c9d/billing/costExplorer/usage";

    fn shape() -> TokenBucket {
        "2:1/60s".parse().unwrap()
    }

    #[test]
    fn shapes_parse_from_the_flag_syntax() {
        assert_eq!(
            "10:5/200ms".parse::<TokenBucket>(),
            Ok(TokenBucket {
                capacity: 10,
                refill: 5,
                period: Duration::from_millis(200)
            })
        );
        assert_eq!(shape().period, Duration::from_secs(60));
        assert!("10:5".parse::<TokenBucket>().is_err());
        assert!("0:5/1s".parse::<TokenBucket>().is_err());
    }

    #[test]
    fn a_bucket_empties_then_refills_at_whole_periods() {
        let buckets = Buckets::new(Some(shape()));
        let start = Instant::now();
        let remaining = |metered| match metered {
            Some(Metered::Allowed { remaining, .. }) => Some(remaining),
            _ => None,
        };
        assert_eq!(remaining(buckets.take(PATH, start)), Some(1));
        assert_eq!(remaining(buckets.take(PATH, start)), Some(0));
        let later = start + Duration::from_secs(5);
        assert_eq!(
            buckets.take(PATH, later),
            Some(Metered::Limited {
                shape: shape(),
                wait: Duration::from_secs(55)
            })
        );
        let refilled = start + Duration::from_secs(60);
        assert_eq!(remaining(buckets.take(PATH, refilled)), Some(0));
        assert!(buckets.take("/api/oauth/token", start).is_none());
    }

    #[test]
    fn the_refusal_reads_as_atlas_documents_it() {
        let refused = Metered::Limited {
            shape: "10:5/60s".parse().unwrap(),
            wait: Duration::from_millis(54_200),
        };
        let response = refused.refusal().unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "55");
    }
}
