//! `apply` through a fake submitter: parallelism, failures, cancel, forget.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use common::{FakeSubmitter, entry, name, now, request, token};
use costform_model::handle::Handle;
use costform_model::ids::ReportName;
use costform_model::plan::{Action, Plan};
use costform_model::request::PlannedRequest;
use costform_model::state::TokenStatus;
use costform_planner::{
    ApplyObserver, ApplyOptions, Cancel, Error, LockOptions, MemoryBackend, PlanOptions, Record,
    RemoteError, StateBackend as _, apply, plan,
};

fn plan_for(reports: &[&str], state: Option<&costform_model::state::State>) -> Plan {
    let desired: BTreeMap<ReportName, PlannedRequest> = reports
        .iter()
        .map(|report| (name(report), request("2026-10-01")))
        .collect();
    let options = PlanOptions {
        now: now(),
        definitions_dir: ".".to_owned(),
        state_path: "costform.state.json".to_owned(),
        targets: Vec::new(),
        replace: Vec::new(),
    };
    plan(&desired, state, &options).unwrap()
}

fn options(parallelism: usize) -> ApplyOptions {
    ApplyOptions {
        parallelism,
        cancel: Cancel::new(),
    }
}

fn lock(backend: &MemoryBackend) -> costform_planner::LockedState {
    let options = LockOptions {
        timeout: None,
        command: "apply".to_owned(),
    };
    backend.lock(&options).unwrap()
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ApplyObserver for Recorder {
    fn started(&self, name: &ReportName, action: Action) {
        self.0
            .lock()
            .unwrap()
            .push(format!("start {name} {}", action.verb()));
    }

    fn finished(&self, name: &ReportName, _action: Action, result: Result<&Handle, &RemoteError>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("done {name} {}", result.is_ok()));
    }
}

#[tokio::test]
async fn every_query_is_sent_with_at_most_parallelism_in_flight_and_committed() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    let names: Vec<String> = (0..12).map(|i| format!("r{i:02}")).collect();
    let plan = plan_for(&names.iter().map(String::as_str).collect::<Vec<_>>(), None);
    let submitter = FakeSubmitter::default();
    let recorder = Recorder::default();

    let report = apply(&plan, &mut locked, &submitter, &options(3), &recorder)
        .await
        .unwrap();

    assert_eq!(report.applied.len(), 12);
    assert!(report.failed.is_empty() && report.not_started.is_empty() && !report.cancelled);
    assert_eq!(submitter.max_in_flight.load(Ordering::SeqCst), 3);
    let on_disk = backend.read().unwrap().unwrap();
    assert_eq!(on_disk.serial, 1);
    for (report_name, issued) in &report.applied {
        let stored = &on_disk.reports[report_name];
        assert_eq!(
            (&stored.handle, stored.status, stored.now),
            (issued, TokenStatus::Submitted, now())
        );
        assert_eq!(stored.request, request("2026-10-01"));
    }
    let events = recorder.0.lock().unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|event| event.starts_with("start") && event.ends_with("create"))
            .count(),
        12
    );
}

/// Reports, as each answer is reported, whether its token was already in
/// the journal.
struct JournalWatcher {
    backend: MemoryBackend,
    journaled_first: Mutex<Vec<bool>>,
}

impl ApplyObserver for JournalWatcher {
    fn finished(&self, name: &ReportName, _action: Action, result: Result<&Handle, &RemoteError>) {
        let handle = result.expect("every query is answered");
        let journaled = self.backend.journal().iter().any(|record| {
            matches!(record, Record::Put { name: recorded, entry } if recorded == name && entry.handle == *handle)
        });
        self.journaled_first.lock().unwrap().push(journaled);
    }
}

/// Answers that arrive together are made durable as one group (one sync,
/// one transaction), where a sync each held up the queries after them;
/// none is reported before it is in the journal.
#[tokio::test]
async fn answers_that_arrive_together_are_journaled_as_one_group_before_they_are_reported() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    let names: Vec<String> = (0..24).map(|i| format!("r{i:02}")).collect();
    let plan = plan_for(&names.iter().map(String::as_str).collect::<Vec<_>>(), None);
    let watcher = JournalWatcher {
        backend: backend.clone(),
        journaled_first: Mutex::default(),
    };

    let report = apply(
        &plan,
        &mut locked,
        &FakeSubmitter::default(),
        &options(8),
        &watcher,
    )
    .await
    .unwrap();

    assert_eq!(report.applied.len(), 24);
    assert_eq!(*watcher.journaled_first.lock().unwrap(), vec![true; 24]);
    let groups = backend.groups();
    assert_eq!(groups.iter().sum::<usize>(), 24, "{groups:?}");
    assert!(
        groups.len() <= 6 && groups.iter().all(|&size| size <= 8),
        "answers ready together were journaled one by one: {groups:?}"
    );
}

#[tokio::test]
async fn a_refused_query_is_listed_with_its_error_code_and_the_others_are_kept() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    let plan = plan_for(&["a", "b", "c"], None);
    let submitter = FakeSubmitter {
        refuse: [name("b")].into(),
        ..FakeSubmitter::default()
    };

    let report = apply(&plan, &mut locked, &submitter, &options(1), &())
        .await
        .unwrap();

    assert_eq!(
        report
            .applied
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        (
            report.failed[0].0.as_str(),
            report.failed[0].1.error_code.as_deref()
        ),
        ("b", Some("INVALID_DATE_RANGE"))
    );
    let on_disk = backend.read().unwrap().unwrap();
    assert_eq!(
        on_disk
            .reports
            .keys()
            .map(ReportName::as_str)
            .collect::<Vec<_>>(),
        ["a", "c"]
    );
}

#[tokio::test]
async fn cancel_stops_dispatching_and_keeps_what_was_issued() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    let plan = plan_for(&["a", "b", "c", "d", "e"], None);
    let options = options(1);
    let submitter = FakeSubmitter {
        cancel_after: Some((2, options.cancel.clone())),
        ..FakeSubmitter::default()
    };

    let report = apply(&plan, &mut locked, &submitter, &options, &())
        .await
        .unwrap();

    assert!(report.cancelled);
    assert_eq!(
        report
            .applied
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        report
            .not_started
            .iter()
            .map(ReportName::as_str)
            .collect::<Vec<_>>(),
        ["c", "d", "e"]
    );
    assert_eq!(submitter.calls.lock().unwrap().len(), 2);
    assert_eq!(backend.read().unwrap().unwrap().reports.len(), 2);
}

#[tokio::test]
async fn forget_and_requery_update_the_state_without_calls_for_forgets() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    locked
        .record(&name("gone"), entry(request("2026-10-01"), token(90)))
        .unwrap();
    locked
        .record(&name("old"), entry(request("2026-09-01"), token(91)))
        .unwrap();
    locked.commit().unwrap();
    let plan = plan_for(&["old"], Some(locked.state()));
    let submitter = FakeSubmitter::default();

    let report = apply(&plan, &mut locked, &submitter, &options(4), &())
        .await
        .unwrap();

    assert_eq!(report.forgotten, [name("gone")]);
    assert_eq!(*submitter.calls.lock().unwrap(), [name("old")]);
    let on_disk = backend.read().unwrap().unwrap();
    assert_eq!(on_disk.reports.keys().collect::<Vec<_>>(), [&name("old")]);
    assert_eq!(on_disk.reports[&name("old")].handle, token(1));
    assert_eq!(on_disk.reports[&name("old")].request, request("2026-10-01"));
}

#[tokio::test]
async fn a_token_the_backend_cannot_keep_stops_dispatch_and_travels_in_the_error() {
    let backend = MemoryBackend::new();
    let mut locked = lock(&backend);
    let plan = plan_for(&["a", "b", "c"], None);
    let submitter = FakeSubmitter::default();
    locked
        .record(&name("z"), entry(request("2026-10-01"), token(99)))
        .unwrap();
    backend.fail_writes(true);

    let error = apply(&plan, &mut locked, &submitter, &options(1), &())
        .await
        .unwrap_err();

    // The first token could not be recorded: nothing more was sent, and
    // the token is in the message for the user to keep.
    assert_eq!(submitter.calls.lock().unwrap().len(), 1);
    let Error::Unsaved {
        tokens, text, kept, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!((*tokens, kept.as_ref()), (1, None));
    assert!(text.contains(&format!("{:064}", 1)), "{text}");
    // What was recorded before the failure is still there for the next run.
    backend.fail_writes(false);
    drop(locked);
    assert_eq!(
        backend.read().unwrap().unwrap().reports[&name("z")].handle,
        token(99)
    );
}
