//! Client-side token buckets: requests wait for a token of their rate-limit
//! scope instead of being sent to fail with 429.
//!
//! A scope is one organization within Atlas's `api/atlas/v2/orgs` endpoint
//! set (every Cost Explorer call, create and poll alike); other paths are not
//! paced. A scope's bucket is learned from what Atlas says (see
//! [`crate::rate_limit`]): `RateLimit-Remaining` on any answer is the truth
//! at that moment, and the first 429 teaches the refill amount, period and
//! phase, after which tokens come back on schedule. Until a scope has
//! answered, one request probes it alone, so a parallel run does not send a
//! burst into a bucket it knows nothing about; a scope whose answers carry no
//! rate-limit headers is not paced at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::Url;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::rate_limit::{Refill, Signal};

/// How long a scope pauses after `RateLimit-Remaining: 0` when its refill
/// schedule is not known yet.
const UNKNOWN_REFILL_PAUSE: Duration = Duration::from_secs(1);

/// The longest wait for a rate limit when the run set no deadline.
pub(crate) const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(15 * 60);

/// Every scope's bucket, shared by all clones of a client.
#[derive(Debug, Default)]
pub(crate) struct Pacing {
    scopes: Mutex<HashMap<String, Arc<Scope>>>,
    deadline: Mutex<Option<Instant>>,
    /// The latest wait for a token: when it ends and what the scope looked
    /// like, so a progress bar can say it waits for the rate limit.
    waiting: Mutex<Option<(Instant, String)>>,
}

/// A wait longer than the run may spend; the request fails at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TooLong {
    pub(crate) wait: Duration,
    pub(crate) limit: Duration,
}

/// A request's right to be sent; [`Permit::observe`] feeds its answer back.
#[derive(Debug)]
pub(crate) struct Permit {
    scope: Option<Arc<Scope>>,
    /// The scope's send count when this request started.
    sent: u64,
}

#[derive(Debug)]
struct Scope {
    name: String,
    bucket: Mutex<Bucket>,
    changed: Notify,
}

/// What the client believes about one scope.
#[derive(Debug, Default)]
struct Bucket {
    allowance: Allowance,
    capacity: Option<u32>,
    refill: Option<Refill>,
    /// `refill` was inferred from a bare `Retry-After`, not read from Atlas.
    guessed: bool,
    /// When the next refill is due, once a 429 has taught the schedule.
    next_refill: Option<Instant>,
    /// No request starts before this (a 429's wait, or an empty bucket).
    paused_until: Option<Instant>,
    in_flight: u32,
    /// Requests started so far, to tell how many followed a given one.
    sent: u64,
    /// The end of the last wait logged, so each wait is logged once.
    announced: Option<Instant>,
}

/// How many requests the scope may start now.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Allowance {
    /// Nothing known: one request at a time finds out.
    #[default]
    Probe,
    /// Answers carry no rate-limit headers: no pacing.
    Free,
    /// This many tokens are left.
    Tokens(u32),
}

/// What a request should do now.
enum Decision {
    Go,
    /// Wait this long (or until an answer changes the picture).
    Wait(Duration),
    /// Wait for an answer of a request in flight.
    Hold,
}

impl Pacing {
    /// Waits until a request to `url` may be sent; refuses at once when the
    /// wait would outlast the run's deadline (or [`MAX_RATE_LIMIT_WAIT`]).
    pub(crate) async fn acquire(&self, url: &Url) -> Result<Permit, TooLong> {
        let Some(org) = org_of(url) else {
            return Ok(Permit {
                scope: None,
                sent: 0,
            });
        };
        let scope = Arc::clone(
            lock(&self.scopes)
                .entry(org.to_owned())
                .or_insert_with(|| Arc::new(Scope::new(org))),
        );
        let sent = loop {
            let changed = scope.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = Instant::now();
            let (decision, line, sent) = {
                let mut bucket = lock(&scope.bucket);
                let decision = bucket.decide(now);
                let sent = bucket.sent;
                if let Decision::Wait(wait) = decision {
                    *lock(&self.waiting) = Some((now + wait, bucket.describe(&scope.name)));
                }
                // One line per wait of the scope, not one per waiting request.
                let line = match decision {
                    Decision::Wait(wait) if bucket.announced.is_none_or(|at| at < now + wait) => {
                        bucket.announced = Some(now + wait);
                        Some(format!(
                            "{}, next in {}",
                            bucket.describe(&scope.name),
                            seconds(wait)
                        ))
                    }
                    _ => None,
                };
                (decision, line, sent)
            };
            match decision {
                Decision::Go => break sent,
                Decision::Hold => changed.await,
                Decision::Wait(wait) => {
                    self.check(wait)?;
                    if let Some(line) = line {
                        tracing::info!("{line}");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = changed => {}
                    }
                }
            }
        };
        Ok(Permit {
            scope: Some(scope),
            sent,
        })
    }

    /// The wait for a rate-limit token going on now, as the `-v` line puts
    /// it (`org 5f0c…: 0 of 10 left, next in 0.4 s`); `None` when no request
    /// is waiting for one.
    pub(crate) fn waiting(&self) -> Option<String> {
        let now = Instant::now();
        let waiting = lock(&self.waiting);
        let (until, scope) = waiting.as_ref().filter(|(until, _)| *until > now)?;
        Some(format!("{scope}, next in {}", seconds(*until - now)))
    }

    /// Refuses a rate-limit wait the run cannot afford.
    pub(crate) fn check(&self, wait: Duration) -> Result<(), TooLong> {
        let limit = lock(&self.deadline).map_or(MAX_RATE_LIMIT_WAIT, |deadline| {
            deadline.saturating_duration_since(Instant::now())
        });
        if wait > limit {
            return Err(TooLong { wait, limit });
        }
        Ok(())
    }

    /// What is left of the run's deadline, when it set one.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        lock(&self.deadline).map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Bounds every later rate-limit wait by `deadline` instead of
    /// [`MAX_RATE_LIMIT_WAIT`].
    pub(crate) fn set_deadline(&self, deadline: Instant) {
        *lock(&self.deadline) = Some(deadline);
    }

    /// Ends every wait for a token now (Ctrl-C): the deadline becomes now,
    /// so each waiting request fails at once, unsent, instead of sleeping
    /// out its wait; requests already sent are not touched.
    pub(crate) fn stop_waiting(&self) {
        self.set_deadline(Instant::now());
        for scope in lock(&self.scopes).values() {
            scope.changed.notify_waiters();
        }
    }
}

impl Permit {
    /// Learns from the answer to the permitted request.
    pub(crate) fn observe(&self, signal: &Signal) {
        if let Some(scope) = &self.scope {
            lock(&scope.bucket).learn(signal, self.sent, Instant::now());
            scope.changed.notify_waiters();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(scope) = &self.scope {
            let mut bucket = lock(&scope.bucket);
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
            drop(bucket);
            scope.changed.notify_waiters();
        }
    }
}

impl Scope {
    /// A scope named "org 5f0c…" in log lines.
    fn new(org: &str) -> Self {
        let short: String = org.chars().take(4).collect();
        let name = if short.len() < org.len() {
            format!("org {short}…")
        } else {
            format!("org {org}")
        };
        Self {
            name,
            bucket: Mutex::new(Bucket::default()),
            changed: Notify::new(),
        }
    }
}

impl Bucket {
    fn decide(&mut self, now: Instant) -> Decision {
        self.refill_until(now);
        if let Some(until) = self.paused_until {
            if until > now {
                return Decision::Wait(until - now);
            }
            self.paused_until = None;
            if self.allowance == Allowance::Tokens(0) && self.next_refill.is_none() {
                // Paused without a schedule: probe again rather than burst.
                self.allowance = Allowance::Probe;
            }
        }
        match self.allowance {
            Allowance::Probe if self.in_flight > 0 => return Decision::Hold,
            Allowance::Tokens(0) => {
                return match self.next_refill {
                    Some(at) => Decision::Wait(at.saturating_duration_since(now)),
                    None if self.in_flight > 0 => Decision::Hold,
                    None => {
                        self.allowance = Allowance::Probe;
                        self.start()
                    }
                };
            }
            Allowance::Tokens(left) => self.allowance = Allowance::Tokens(left - 1),
            Allowance::Probe | Allowance::Free => {}
        }
        self.start()
    }

    fn start(&mut self) -> Decision {
        self.in_flight += 1;
        self.sent += 1;
        Decision::Go
    }

    /// Adds the refills due by `now`, once the schedule is known.
    fn refill_until(&mut self, now: Instant) {
        let (Some(refill), Some(mut at)) = (self.refill, self.next_refill) else {
            return;
        };
        let mut tokens = match self.allowance {
            Allowance::Tokens(tokens) => tokens,
            Allowance::Probe | Allowance::Free => return,
        };
        while at <= now {
            tokens = tokens.saturating_add(refill.amount).min(refill.capacity);
            at += refill.period;
        }
        self.allowance = Allowance::Tokens(tokens);
        self.next_refill = Some(at);
    }

    /// Learns from the answer to the request that was the `sent`th.
    fn learn(&mut self, signal: &Signal, sent: u64, now: Instant) {
        if let Some(limit) = signal.limit {
            self.capacity = Some(limit);
        }
        if let Some(refill) = signal.refill {
            self.capacity = Some(refill.capacity);
            self.refill = Some(refill);
            self.guessed = false;
        } else if let Some(wait) = signal.wait.filter(|wait| signal.limited && !wait.is_zero())
            && (self.refill.is_none() || self.guessed)
        {
            // `Retry-After` alone: at least one token comes back per wait.
            self.refill = Some(Refill {
                capacity: self.capacity.unwrap_or(1),
                amount: 1,
                period: wait,
            });
            self.guessed = true;
        }
        // Requests started after this one may not be counted in what Atlas
        // reports yet; an answer overtaken by later ones is thus no news.
        let others = u32::try_from(self.sent.saturating_sub(sent)).unwrap_or(u32::MAX);
        if signal.limited {
            self.allowance = Allowance::Tokens(0);
            // Without a wait the retry backs off, and the scope probes meanwhile.
            if let Some(wait) = signal.wait {
                self.pause(now + wait);
                // The refill lands when Atlas said to retry: that is its phase.
                self.next_refill = self.refill.map(|_| now + wait);
            }
        } else if let Some(remaining) = signal.remaining {
            self.allowance = Allowance::Tokens(remaining.saturating_sub(others));
            if remaining == 0 && self.next_refill.is_none() {
                self.pause(now + UNKNOWN_REFILL_PAUSE);
            }
        } else if self.allowance == Allowance::Probe {
            self.allowance = Allowance::Free;
        }
    }

    fn pause(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |paused| paused.max(until)));
    }

    /// "org 5f0c…: 0 of 10 left", for the `-v` line of a wait.
    fn describe(&self, name: &str) -> String {
        let left = match self.allowance {
            Allowance::Tokens(tokens) => tokens.to_string(),
            Allowance::Probe | Allowance::Free => "?".to_owned(),
        };
        match self.capacity {
            Some(capacity) => format!("{name}: {left} of {capacity} left"),
            None => format!("{name}: {left} left"),
        }
    }
}

/// The organization whose scope a request draws from, or `None` for paths
/// outside `/api/atlas/v2/orgs/{orgId}/`.
fn org_of(url: &Url) -> Option<&str> {
    url.path()
        .strip_prefix("/api/atlas/v2/orgs/")?
        .split('/')
        .next()
        .filter(|org| !org.is_empty())
}

/// "0.4 s", "55 s", "1200 s".
pub(crate) fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(10) {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        format!("{} s", duration.as_secs())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atlas_429(wait: Duration) -> Signal {
        Signal {
            limited: true,
            limit: None,
            remaining: None,
            wait: Some(wait),
            refill: Some(Refill {
                capacity: 10,
                amount: 5,
                period: Duration::from_secs(2),
            }),
        }
    }

    fn goes(bucket: &mut Bucket, now: Instant) -> bool {
        matches!(bucket.decide(now), Decision::Go)
    }

    #[test]
    fn a_429_schedules_the_refills_it_describes() {
        let start = Instant::now();
        let mut bucket = Bucket::default();
        assert!(goes(&mut bucket, start), "an unknown scope is probed");
        bucket.learn(&atlas_429(Duration::from_millis(400)), 1, start);
        bucket.in_flight = 0;
        assert_eq!(bucket.describe("org 5f0c…"), "org 5f0c…: 0 of 10 left");
        assert!(
            matches!(bucket.decide(start), Decision::Wait(wait) if wait == Duration::from_millis(400))
        );

        let refilled = start + Duration::from_millis(400);
        let sent = (0..10).filter(|_| goes(&mut bucket, refilled)).count();
        assert_eq!(sent, 5, "one refill of 5");
        let next = start + Duration::from_millis(2400);
        assert_eq!((0..10).filter(|_| goes(&mut bucket, next)).count(), 5);
    }

    #[test]
    fn remaining_zero_pauses_a_scope_without_a_schedule_for_a_second() {
        let start = Instant::now();
        let mut bucket = Bucket::default();
        assert!(goes(&mut bucket, start));
        let empty = Signal {
            limit: Some(10),
            remaining: Some(0),
            ..Signal::default()
        };
        bucket.learn(&empty, 1, start);
        bucket.in_flight = 0;
        assert!(
            matches!(bucket.decide(start), Decision::Wait(wait) if wait == UNKNOWN_REFILL_PAUSE)
        );
        let later = start + UNKNOWN_REFILL_PAUSE;
        assert!(goes(&mut bucket, later), "one probe after the pause");
        assert!(
            matches!(bucket.decide(later), Decision::Hold),
            "not a burst"
        );
    }

    #[test]
    fn answers_without_headers_leave_a_scope_unpaced() {
        let start = Instant::now();
        let mut bucket = Bucket::default();
        assert!(goes(&mut bucket, start));
        assert!(matches!(bucket.decide(start), Decision::Hold));
        bucket.learn(&Signal::default(), 1, start);
        assert!((0..50).all(|_| goes(&mut bucket, start)));
    }

    #[test]
    fn an_answer_overtaken_by_later_requests_does_not_raise_the_count() {
        let start = Instant::now();
        let remaining = |remaining| Signal {
            limit: Some(10),
            remaining: Some(remaining),
            ..Signal::default()
        };
        let mut bucket = Bucket::default();
        assert!(goes(&mut bucket, start));
        bucket.learn(&remaining(5), 1, start);
        assert_eq!((0..10).filter(|_| goes(&mut bucket, start)).count(), 5);
        // Requests 3 to 6 were answered; request 2's answer (4 left then) comes last.
        bucket.in_flight = 1;
        bucket.learn(&remaining(4), 2, start);
        assert!(
            !goes(&mut bucket, start),
            "the four requests after it used those tokens"
        );
    }
}
