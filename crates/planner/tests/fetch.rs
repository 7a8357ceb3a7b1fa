//! `fetch` and the token check of `plan --refresh` through a fake reader.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{Answer, FakeReader, entry, name, remote_error, request, token};
use costform_model::state::{ResultFormat, TokenStatus};
use costform_planner::{
    Error, FetchOptions, FetchOutcome, LockOptions, LockedState, StateStore, check_tokens, fetch,
};
use sha2::{Digest as _, Sha256};

const READY: &[u8] = br#"{"usageDetails":[{"service":"Clusters","usageAmount":51.19,"usageDate":"2026-10-01"},{"service":"Storage","usageAmount":2,"usageDate":"2026-10-01"}]}"#;

/// A locked state with submitted tokens for `reports`.
fn locked_with(dir: &Path, reports: &[&str]) -> LockedState {
    let options = LockOptions {
        timeout: None,
        command: "fetch".to_owned(),
    };
    let mut locked = StateStore::lock(&dir.join("costform.state.json"), &options).unwrap();
    for (i, report) in reports.iter().enumerate() {
        let mut open = request("2026-11-01");
        open.covers_open_month = true;
        locked
            .record(&name(report), entry(open, token(u32::try_from(i).unwrap())))
            .unwrap();
    }
    locked.commit().unwrap();
    locked
}

fn options(dir: &Path) -> FetchOptions {
    FetchOptions {
        out_dir: dir.join("results"),
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        ..FetchOptions::default()
    }
}

#[tokio::test]
async fn ready_results_are_written_and_recorded_processing_ones_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["done", "later", "broken"]);
    let reader = FakeReader::default()
        .answer("done", vec![Ok(Answer::Ready(READY.to_vec()))])
        .answer("later", vec![Ok(Answer::Processing)])
        .answer("broken", vec![Err(remote_error(500, "UNEXPECTED_ERROR"))]);

    let report = fetch(&mut locked, &reader, &options(dir.path()), &())
        .await
        .unwrap();

    let outcomes: Vec<(&str, &FetchOutcome)> = report
        .reports
        .iter()
        .map(|r| (r.name.as_str(), &r.outcome))
        .collect();
    let written = dir.path().join("results").join("done.json");
    assert_eq!(
        outcomes[0],
        (
            "broken",
            &FetchOutcome::Failed(remote_error(500, "UNEXPECTED_ERROR"))
        )
    );
    let ("done", FetchOutcome::Ready { summary, path }) = outcomes[1] else {
        panic!("{:?}", outcomes[1])
    };
    assert_eq!(path, &written);
    let summary = summary.as_ref().unwrap();
    assert_eq!(summary.rows, 2);
    assert_eq!(summary.total.to_string(), "53.19");
    assert_eq!(summary.currencies, ["USD"]);
    assert_eq!(outcomes[2], ("later", &FetchOutcome::Processing));
    assert!(report.has_processing());

    let bytes = fs::read(&written).unwrap();
    let pretty: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        pretty,
        serde_json::from_slice::<serde_json::Value>(READY).unwrap()
    );
    assert!(String::from_utf8_lossy(&bytes).contains("\n  \"usageDetails\""));

    let state = StateStore::read(&dir.path().join("costform.state.json"))
        .unwrap()
        .unwrap();
    let done = &state.reports[&name("done")];
    let result = done.result.as_ref().unwrap();
    assert_eq!(done.status, TokenStatus::Ready);
    assert_eq!(
        (result.path.as_str(), result.rows, result.format),
        ("results/done.json", 2, ResultFormat::Json)
    );
    assert_eq!(result.sha256, hex::encode(Sha256::digest(&bytes)));
    assert!(result.covers_open_month);
    assert_eq!(state.reports[&name("later")].status, TokenStatus::Submitted);
    assert_eq!(
        state.reports[&name("broken")].status,
        TokenStatus::Submitted
    );
}

/// `results/NAME.json` is the latest result; each fetch's result stays in
/// `results/history/` under the report, fetch time and request hash, and the
/// state names the run (the lock id) and the history file.
#[tokio::test]
async fn every_fetched_result_is_kept_in_the_history_with_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["done"]);
    let second =
        br#"{"usageDetails":[{"service":"Clusters","usageAmount":1,"usageDate":"2026-10-01"}]}"#;
    let reader = FakeReader::default().answer(
        "done",
        vec![
            Ok(Answer::Ready(READY.to_vec())),
            Ok(Answer::Ready(second.to_vec())),
        ],
    );

    let mut kept = Vec::new();
    for _ in 0..2 {
        fetch(&mut locked, &reader, &options(dir.path()), &())
            .await
            .unwrap();
        let state = StateStore::read(&dir.path().join("costform.state.json"))
            .unwrap()
            .unwrap();
        let result = state.reports[&name("done")].result.clone().unwrap();
        assert_eq!(result.run.as_deref(), Some(locked.lock_id()));
        kept.push(result);
    }

    let histories: Vec<&str> = kept
        .iter()
        .map(|result| result.history.as_deref().unwrap())
        .collect();
    assert_ne!(histories[0], histories[1]);
    let hash: String = request("2026-11-01")
        .request_sha256
        .chars()
        .take(12)
        .collect();
    for (history, result) in histories.iter().zip(&kept) {
        let stamp = result.fetched_at.strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
        assert_eq!(
            *history,
            format!("results/history/done.{stamp}.{hash}.json")
        );
    }
    let read = |path: &str| fs::read(dir.path().join(path)).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&read(histories[0])).unwrap(),
        serde_json::from_slice::<serde_json::Value>(READY).unwrap()
    );
    assert_eq!(read(histories[1]), read("results/done.json"));
    assert_eq!(
        hex::encode(Sha256::digest(read(histories[0]))),
        kept[0].sha256
    );
}

#[tokio::test]
async fn an_unknown_token_is_marked_expired_and_skipped_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["old"]);
    let reader =
        FakeReader::default().answer("old", vec![Err(remote_error(404, "RESOURCE_NOT_FOUND"))]);

    let report = fetch(&mut locked, &reader, &options(dir.path()), &())
        .await
        .unwrap();
    assert_eq!(report.reports[0].outcome, FetchOutcome::Expired);
    assert_eq!(
        StateStore::read(&dir.path().join("costform.state.json"))
            .unwrap()
            .unwrap()
            .reports[&name("old")]
            .status,
        TokenStatus::Expired
    );

    let again = fetch(&mut locked, &reader, &options(dir.path()), &())
        .await
        .unwrap();
    assert!(again.reports.is_empty());
    assert_eq!(reader.calls_for("old"), 1);
}

/// A handle Atlas gave up on (a FAILED invoice report) is recorded
/// `failed` with the handle kept, and not polled again: `--wait` does not
/// wait on it, and the next fetch leaves it alone.
#[tokio::test]
async fn a_failed_report_is_recorded_with_its_handle_and_skipped_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["doomed"]);
    let handle = locked.state().reports[&name("doomed")].handle.clone();
    let reader = FakeReader::default().answer("doomed", vec![Ok(Answer::Failed("no usage"))]);
    let options = FetchOptions {
        wait: true,
        ..options(dir.path())
    };

    let report = fetch(&mut locked, &reader, &options, &()).await.unwrap();
    assert_eq!(
        report.reports[0].outcome,
        FetchOutcome::ReportFailed("no usage".to_owned())
    );
    let stored = StateStore::read(&dir.path().join("costform.state.json"))
        .unwrap()
        .unwrap();
    let entry = &stored.reports[&name("doomed")];
    assert_eq!(entry.status, TokenStatus::Failed);
    assert_eq!(entry.handle, handle, "the handle is kept until replaced");

    let again = fetch(&mut locked, &reader, &options, &()).await.unwrap();
    assert!(again.reports.is_empty());
    assert_eq!(reader.calls_for("doomed"), 1);
}

#[tokio::test]
async fn wait_polls_until_ready_and_csv_rows_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["slow"]);
    let csv = b"Billed Date,Usage Amount,Service\n2026-10-01,1.5,Clusters\n2026-10-01,2.5,\"Storage, extra\"\n\n"
        .to_vec();
    let reader = FakeReader::default().answer(
        "slow",
        vec![
            Ok(Answer::Processing),
            Ok(Answer::Processing),
            Ok(Answer::Ready(csv.clone())),
        ],
    );
    let options = FetchOptions {
        wait: true,
        format: ResultFormat::Csv,
        ..options(dir.path())
    };

    let report = fetch(&mut locked, &reader, &options, &()).await.unwrap();

    assert!(matches!(
        &report.reports[0].outcome,
        FetchOutcome::Ready { summary: Ok(summary), .. } if summary.rows == 2
    ));
    assert_eq!(reader.calls_for("slow"), 3);
    assert_eq!(
        fs::read(dir.path().join("results").join("slow.csv")).unwrap(),
        csv
    );
    assert!(
        reader
            .calls
            .lock()
            .unwrap()
            .iter()
            .all(|(_, format)| *format == ResultFormat::Csv)
    );
}

#[tokio::test]
async fn wait_gives_up_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["never"]);
    let reader = FakeReader::default().answer("never", vec![Ok(Answer::Processing)]);
    let options = FetchOptions {
        wait: true,
        timeout: Some(Duration::from_millis(30)),
        ..options(dir.path())
    };

    let report = fetch(&mut locked, &reader, &options, &()).await.unwrap();

    assert_eq!(report.reports[0].outcome, FetchOutcome::Processing);
    assert!(reader.calls_for("never") >= 2);
}

/// A report still processing waits for its next poll without holding one
/// of the `parallelism` places: 9 reports at a parallelism of 4 are all
/// asked once before any is asked again, and the whole run takes one
/// report's back-off, not three rounds of it.
#[tokio::test]
async fn reports_still_processing_do_not_hold_a_place_while_they_wait() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..9).map(|i| format!("r{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut locked = locked_with(dir.path(), &refs);
    let mut reader = FakeReader::default();
    for name in &refs {
        let mut answers = vec![Ok(Answer::Processing); 4];
        answers.push(Ok(Answer::Ready(READY.to_vec())));
        reader = reader.answer(name, answers);
    }
    let options = FetchOptions {
        wait: true,
        parallelism: 4,
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(800),
        ..options(dir.path())
    };

    let started = std::time::Instant::now();
    let report = fetch(&mut locked, &reader, &options, &()).await.unwrap();
    let elapsed = started.elapsed();

    assert!(
        report
            .reports
            .iter()
            .all(|fetched| matches!(fetched.outcome, FetchOutcome::Ready { .. })),
        "{report:?}"
    );
    let calls = reader.calls.lock().unwrap();
    assert_eq!(calls.len(), 45);
    let first_round: std::collections::BTreeSet<_> =
        calls.iter().take(9).map(|(name, _)| name.clone()).collect();
    assert_eq!(first_round.len(), 9, "{calls:?}");
    // One report's back-off is at most 100 + 200 + 400 + 800 ms; holding
    // places would take three rounds of at least half that each (2.25 s).
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn names_not_in_the_state_are_refused_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut locked = locked_with(dir.path(), &["known"]);
    let options = FetchOptions {
        names: vec![name("zeta"), name("known"), name("alpha")],
        ..options(dir.path())
    };
    let error = fetch(&mut locked, &FakeReader::default(), &options, &())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UnknownReports { names } if *names == [name("alpha"), name("zeta")])
    );
    assert!(error.to_string().contains("`alpha`, `zeta`"), "{error}");
}

#[tokio::test]
async fn refresh_marks_unknown_tokens_expired_and_given_up_ones_failed_in_memory_only() {
    let dir = tempfile::tempdir().unwrap();
    let locked = locked_with(dir.path(), &["gone", "live", "flaky", "doomed"]);
    let mut state = locked.state().clone();
    let reader = FakeReader::default()
        .answer("gone", vec![Err(remote_error(404, "RESOURCE_NOT_FOUND"))])
        .answer("doomed", vec![Ok(Answer::Failed("no usage"))])
        .answer("live", vec![Ok(Answer::Processing)])
        .answer("flaky", vec![Err(remote_error(503, "SERVICE_UNAVAILABLE"))]);

    let checked = check_tokens(&mut state, &reader, 2).await;

    assert_eq!(checked.expired, [name("gone")]);
    assert_eq!(checked.failed, [(name("doomed"), "no usage".to_owned())]);
    assert_eq!(state.reports[&name("doomed")].status, TokenStatus::Failed);
    assert_eq!(
        checked
            .unchecked
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["flaky"]
    );
    assert_eq!(state.reports[&name("gone")].status, TokenStatus::Expired);
    assert_eq!(state.reports[&name("flaky")].status, TokenStatus::Submitted);
    assert_eq!(
        locked.state().reports[&name("gone")].status,
        TokenStatus::Submitted
    );
}
