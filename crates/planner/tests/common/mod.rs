//! Builders and in-memory fakes shared by the planner's tests.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use costform_model::handle::Handle;
use costform_model::ids::{OrgId, ReportName};
use costform_model::request::PlannedRequest;
use costform_model::result_body::ResultBody;
use costform_model::state::{ResultFormat, State, StateEntry, TokenStatus};
use costform_planner::{Cancel, ReadOutcome, RemoteError, ResultReader, Submitter};
use jiff::Timestamp;

pub const ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";

pub fn name(text: &str) -> ReportName {
    ReportName::parse(text).unwrap()
}

pub fn now() -> Timestamp {
    "2026-11-26T00:00:00Z".parse().unwrap()
}

/// A request for the month starting at `start`.
pub fn request(start: &str) -> PlannedRequest {
    let body =
        serde_json::json!({ "startDate": start, "endDate": "2026-12-01", "groupBy": "services" });
    let serde_json::Value::Object(body) = body else {
        unreachable!()
    };
    PlannedRequest::new("cost_explorer", OrgId::parse(ORG).unwrap(), body)
}

/// A distinct, valid Cost Explorer handle per number.
pub fn token(number: u32) -> Handle {
    Handle::new([("token", format!("{number:064}"))]).unwrap()
}

pub fn entry(request: PlannedRequest, handle: Handle) -> StateEntry {
    StateEntry {
        request,
        handle,
        applied_at: now(),
        now: now(),
        status: TokenStatus::Submitted,
        result: None,
    }
}

pub fn state(entries: impl IntoIterator<Item = (ReportName, StateEntry)>) -> State {
    let mut state = State::new("6c1d1f0e-4b8e-4f7e-9a43-0d1d5a0a2b11".to_owned());
    state.serial = 3;
    state.reports = entries.into_iter().collect();
    state
}

pub fn remote_error(status: u16, code: &str) -> RemoteError {
    RemoteError {
        status: Some(status),
        error_code: Some(code.to_owned()),
        message: "refused".to_owned(),
    }
}

/// Issues token N for the Nth call; refuses the names in `refuse`; counts
/// how many calls overlap; raises `cancel` after `cancel_after` calls.
#[derive(Default)]
pub struct FakeSubmitter {
    pub refuse: BTreeSet<ReportName>,
    pub calls: Mutex<Vec<ReportName>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub cancel_after: Option<(usize, Cancel)>,
}

impl Submitter for FakeSubmitter {
    async fn submit(
        &self,
        name: &ReportName,
        _request: &PlannedRequest,
    ) -> Result<Handle, RemoteError> {
        let number = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(name.clone());
            calls.len()
        };
        if let Some((after, cancel)) = &self.cancel_after
            && number >= *after
        {
            cancel.cancel();
        }
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight
            .fetch_max(now_in_flight, Ordering::SeqCst);
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.refuse.contains(name) {
            return Err(remote_error(400, "INVALID_DATE_RANGE"));
        }
        Ok(token(u32::try_from(number).unwrap()))
    }
}

/// A scripted [`ReadOutcome`], which (holding a spool) cannot be cloned.
#[derive(Debug, Clone)]
pub enum Answer {
    Processing,
    Ready(Vec<u8>),
    Failed(&'static str),
}

/// Answers each report from a script; the last answer repeats.
#[derive(Default)]
pub struct FakeReader {
    pub script: Mutex<BTreeMap<ReportName, VecDeque<Result<Answer, RemoteError>>>>,
    pub calls: Mutex<Vec<(ReportName, ResultFormat)>>,
}

impl FakeReader {
    pub fn answer(self, report: &str, answers: Vec<Result<Answer, RemoteError>>) -> Self {
        self.script
            .lock()
            .unwrap()
            .insert(name(report), answers.into());
        self
    }

    pub fn calls_for(&self, report: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(called, _)| *called == name(report))
            .count()
    }
}

impl ResultReader for FakeReader {
    async fn read(
        &self,
        name: &ReportName,
        _entry: &StateEntry,
        format: ResultFormat,
    ) -> Result<ReadOutcome, RemoteError> {
        self.calls.lock().unwrap().push((name.clone(), format));
        let mut script = self.script.lock().unwrap();
        let answers = script.get_mut(name).expect("a scripted report");
        let answer = if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers[0].clone()
        };
        answer.map(|answer| match answer {
            Answer::Processing => ReadOutcome::Processing,
            Answer::Ready(bytes) => ReadOutcome::Ready(ResultBody::from_bytes(&bytes)),
            Answer::Failed(reason) => ReadOutcome::Failed {
                reason: reason.to_owned(),
            },
        })
    }
}
