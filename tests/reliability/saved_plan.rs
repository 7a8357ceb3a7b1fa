//! Issue #11, item 7: a saved plan is a file anyone can edit, and `apply
//! FILE` sends it as written and records its hashes. An edited plan (another
//! org, 1999 dates, an extra field) is refused with nothing sent, and the
//! next plan still sees the report as new.

use std::process::Command;

use serde_json::Value;

use crate::common::{self, NOW};
use crate::support::{self, Config};

fn costform_in(emulator: &support::EmulatorThread, dir: &std::path::Path) -> Command {
    let mut command = support::costform(emulator);
    command.current_dir(dir).args(["--now", NOW]);
    command
}

#[test]
fn an_edited_saved_plan_is_refused_and_nothing_is_sent() {
    let emulator = support::emulator(Config::demo());
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("reports.yaml"),
        "reports:\n  monthly:\n    org_id: 5f0c8a1b2c3d4e5f6a7b8c9d\n    period: last_month\n",
    )
    .expect("write the definitions");
    let planned =
        common::output(costform_in(&emulator, dir.path()).args(["plan", "--out", "plan.json"]));
    assert!(planned.status.success(), "{}", common::text(&planned));

    let path = dir.path().join("plan.json");
    let mut plan: Value = common::read_json(&path).expect("a plan");
    let after = &mut plan["changes"][0]["after"];
    after["org_id"] = Value::from("000000000000000000000001");
    after["request"]["startDate"] = Value::from("1999-01-01");
    after["request"]["endDate"] = Value::from("1999-02-01");
    after["note"] = Value::from("added by hand");
    std::fs::write(&path, serde_json::to_vec_pretty(&plan).expect("JSON")).expect("edit the plan");

    let applied = common::output(costform_in(&emulator, dir.path()).args(["apply", "plan.json"]));
    let text = common::text(&applied);
    assert_eq!(applied.status.code(), Some(1), "{text}");
    assert!(text.contains("is not a plan costform wrote"), "{text}");
    assert!(
        text.contains("unknown field `changes[0].after.note`"),
        "{text}"
    );
    assert!(
        text.contains("`request_sha256` is not the hash of its org and body"),
        "{text}"
    );
    assert!(
        emulator.request_log().is_empty(),
        "{:?}",
        emulator.request_log()
    );
    assert!(
        !common::state_path(dir.path()).exists(),
        "no state was written"
    );

    let replanned = common::output(costform_in(&emulator, dir.path()).arg("plan"));
    let text = common::text(&replanned);
    assert!(text.contains("+ report.monthly (new report)"), "{text}");
    assert!(!text.contains("No changes."), "{text}");
}
