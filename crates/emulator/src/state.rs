//! The emulator's shared, mutable memory: queries and their tokens, minted OAuth
//! tokens, Digest nonces, fault counters and the request log.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::Rng;
use serde_json::Value;

use crate::config::{Config, Fault, Faults};
use crate::download::DownloadLog;
use crate::invoices::InvoiceReports;
use crate::log::{IssuedToken, LoggedRequest};
use crate::rate_limit::Buckets;

/// How long past its lifetime an expired nonce is still recognised as stale.
const STALE_NONCE_MEMORY: Duration = Duration::from_secs(600);

/// Shared by the connection layer, the handlers and the test-facing handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    pub buckets: Buckets,
    /// Invoice reports and their download URLs.
    pub reports: InvoiceReports,
    /// What the download listener received.
    pub downloads: DownloadLog,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    faults: Faults,
    api_requests: u64,
    processing_polls: u32,
    queries: HashMap<String, Query>,
    issued: Vec<IssuedToken>,
    log: Vec<LoggedRequest>,
    oauth_tokens: HashMap<String, Instant>,
    oauth_minted: usize,
    nonces: HashMap<String, Nonce>,
}

/// A Digest nonce the emulator issued, and the highest count used with it.
#[derive(Debug)]
struct Nonce {
    issued: Instant,
    highest_count: u32,
}

#[derive(Debug)]
struct Query {
    issued_index: usize,
    polls: u32,
    expired: bool,
}

/// What a result poll finds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Poll {
    Processing,
    Ready { body: Value },
    NotFound,
}

/// Whether a Digest nonce may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceState {
    Fresh,
    Stale,
    Unknown,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        let inner = Inner {
            faults: config.faults.clone(),
            api_requests: 0,
            processing_polls: config.processing_polls,
            queries: HashMap::new(),
            issued: Vec::new(),
            log: Vec::new(),
            oauth_tokens: HashMap::new(),
            oauth_minted: 0,
            nonces: HashMap::new(),
        };
        Self {
            reports: InvoiceReports::default(),
            downloads: DownloadLog::default(),
            buckets: Buckets::new(config.token_bucket),
            config,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("emulator state mutex poisoned by a panicking handler")
    }

    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Replaces the faults and restarts the API request count at zero.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.faults = faults;
        inner.api_requests = 0;
    }

    /// Counts one API request and decides its fault.
    pub fn next_fault(&self) -> Option<Fault> {
        let mut inner = self.lock();
        inner.api_requests += 1;
        inner.faults.decide(inner.api_requests)
    }

    pub fn set_processing_polls(&self, polls: u32) {
        self.lock().processing_polls = polls;
    }

    /// How many polls answer "processing" (a Cost Explorer 102, an invoice
    /// report `PENDING` or `RUNNING`) before results.
    pub fn processing_polls(&self) -> u32 {
        self.lock().processing_polls
    }

    pub fn log_request(&self, entry: LoggedRequest) -> usize {
        let mut inner = self.lock();
        inner.log.push(entry);
        inner.log.len() - 1
    }

    /// Records the outcome of logged request `index`.
    pub fn finish_request(&self, index: usize, status: Option<u16>, token: Option<String>) {
        let mut inner = self.lock();
        if let Some(entry) = inner.log.get_mut(index) {
            entry.dropped = status.is_none();
            entry.status = status;
            entry.token = token;
        }
    }

    /// Marks request `index`'s response, and the token it carried, as delivered.
    pub fn mark_delivered(&self, index: usize) {
        let mut inner = self.lock();
        let Some(entry) = inner.log.get_mut(index) else {
            return;
        };
        entry.delivered = true;
        // Found through the query's index, not by a scan: a long benchmark
        // issues tens of thousands of tokens, and a scan per answer made
        // each one slower than the last.
        let token = entry.token.clone();
        let index = token
            .and_then(|token| inner.queries.get(&token))
            .map(|query| query.issued_index);
        if let Some(issued) = index.and_then(|index| inner.issued.get_mut(index)) {
            issued.delivered = true;
        }
    }

    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.lock().issued.clone()
    }

    pub fn issue_token(&self, org_id: &str, body: Value) -> String {
        let token = random_hex();
        let mut inner = self.lock();
        inner.issued.push(IssuedToken {
            token: token.clone(),
            org_id: org_id.to_owned(),
            body,
            delivered: false,
            at: Timestamp::now(),
        });
        let query = Query {
            issued_index: inner.issued.len() - 1,
            polls: 0,
            expired: false,
        };
        inner.queries.insert(token.clone(), query);
        token
    }

    /// One poll of `token` by `org_id`; the processing count applies to every
    /// token at its next poll, so changing it takes effect at once.
    pub fn poll(&self, org_id: &str, token: &str) -> Poll {
        let mut inner = self.lock();
        let processing_polls = inner.processing_polls;
        let Inner {
            queries, issued, ..
        } = &mut *inner;
        let Some(query) = queries.get_mut(&token.to_ascii_lowercase()) else {
            return Poll::NotFound;
        };
        let Some(issued) = issued.get(query.issued_index) else {
            return Poll::NotFound;
        };
        if query.expired || issued.org_id != org_id {
            return Poll::NotFound;
        }
        if query.polls < processing_polls {
            query.polls += 1;
            return Poll::Processing;
        }
        Poll::Ready {
            body: issued.body.clone(),
        }
    }

    /// Makes `token` answer 404 from now on; false if it was never issued.
    pub fn expire_token(&self, token: &str) -> bool {
        self.lock()
            .queries
            .get_mut(&token.to_ascii_lowercase())
            .map(|query| query.expired = true)
            .is_some()
    }

    pub fn expire_all_tokens(&self) {
        for query in self.lock().queries.values_mut() {
            query.expired = true;
        }
    }

    pub fn mint_oauth_token(&self) -> String {
        let token = random_hex();
        let lifetime = self.config.oauth_token_lifetime;
        let mut inner = self.lock();
        inner
            .oauth_tokens
            .retain(|_, minted| minted.elapsed() < lifetime);
        inner.oauth_tokens.insert(token.clone(), Instant::now());
        inner.oauth_minted += 1;
        token
    }

    pub fn oauth_token_valid(&self, token: &str) -> bool {
        self.lock()
            .oauth_tokens
            .get(token)
            .is_some_and(|minted| minted.elapsed() < self.config.oauth_token_lifetime)
    }

    /// Forgets a minted token: it is refused from now on.
    pub fn revoke_oauth_token(&self, token: &str) {
        self.lock().oauth_tokens.remove(token);
    }

    pub fn oauth_tokens_minted(&self) -> usize {
        self.lock().oauth_minted
    }

    /// A fresh nonce; nonces long past their lifetime are forgotten (they then
    /// answer as unknown rather than stale), so the table stays small.
    pub fn new_nonce(&self) -> String {
        let nonce = random_hex();
        let remembered = self.config.nonce_lifetime.saturating_mul(2) + STALE_NONCE_MEMORY;
        let mut inner = self.lock();
        inner
            .nonces
            .retain(|_, known| known.issued.elapsed() < remembered);
        let issued = Nonce {
            issued: Instant::now(),
            highest_count: 0,
        };
        inner.nonces.insert(nonce.clone(), issued);
        nonce
    }

    pub fn nonce_state(&self, nonce: &str) -> NonceState {
        match self.lock().nonces.get(nonce) {
            None => NonceState::Unknown,
            Some(known) if known.issued.elapsed() < self.config.nonce_lifetime => NonceState::Fresh,
            Some(_) => NonceState::Stale,
        }
    }

    /// Records `count` as used with `nonce`; with `strict_nonce_count`, false
    /// when it is not above every count already used with that nonce.
    pub fn use_nonce_count(&self, nonce: &str, count: u32) -> bool {
        let strict = self.config.strict_nonce_count;
        let mut inner = self.lock();
        let Some(known) = inner.nonces.get_mut(nonce) else {
            return false;
        };
        if strict && count <= known.highest_count {
            return false;
        }
        known.highest_count = known.highest_count.max(count);
        true
    }
}

/// 32 random bytes as 64 lowercase hex digits.
pub(crate) fn random_hex() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}
