//! Which failures are worth another try, and how long to wait before it.

use std::time::Duration;

use rand::Rng as _;
use reqwest::StatusCode;

/// The delay policy: capped exponential backoff with jitter, never shorter
/// than what the server asked for with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry).
    ///
    /// "Equal jitter": half of the exponential step is fixed, half random, so
    /// concurrent clients spread out without any of them retrying instantly.
    pub(crate) fn delay(self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let step = self.base.saturating_mul(factor).min(self.max);
        let half = step / 2;
        let jitter = rand::rng().random_range(Duration::ZERO..=half);
        let chosen = half + jitter;
        retry_after.map_or(chosen, |asked| chosen.max(asked))
    }
}

/// Statuses that say "try again later": rate limiting and server trouble.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// A transport failure worth retrying: everything but a request we built
/// wrong (timeouts, refused or dropped connections, truncated bodies).
pub(crate) fn is_retryable_transport(error: &reqwest::Error) -> bool {
    !error.is_builder() && !error.is_redirect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };

    #[test]
    fn delays_grow_then_stay_under_the_cap() {
        for retry in 1..=10 {
            let nominal = POLICY.base.saturating_mul(1 << (retry - 1)).min(POLICY.max);
            let delay = POLICY.delay(retry, None);
            assert!(
                delay >= nominal / 2 && delay <= nominal,
                "retry {retry}: {delay:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_a_floor_even_above_the_cap() {
        let asked = Duration::from_secs(5);
        assert!(POLICY.delay(1, Some(asked)) >= asked);
    }
}
