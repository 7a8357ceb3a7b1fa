//! The plan: the ordered list of changes that `apply` would make, as a value.
//!
//! A plan is built first and printed or executed afterwards (the rust-lang/team
//! sync pattern), and it is the saved-plan file format too, so it carries
//! everything `apply PLANFILE` needs without re-rendering templates.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::handle::Handle;
use crate::ids::ReportName;
use crate::kinds::{HandleNoun, handle_noun};
use crate::request::PlannedRequest;

/// The plan format this build reads and writes (`costform plan --format json`
/// and `plan --out`).
pub const PLAN_FORMAT_VERSION: u32 = 3;

/// A plan, in the order its changes will be applied (by report name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always [`PLAN_FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The costform version that made the plan.
    pub costform_version: String,
    /// The resolved "now" the definitions were rendered with.
    #[schemars(with = "String")]
    pub now: Timestamp,
    /// The definitions directory, as given.
    pub definitions_dir: String,
    /// The state file the plan was computed against, as given: `apply FILE`
    /// uses it, so a plan made with `--dir` or `--state` needs neither again.
    pub state_path: String,
    /// The state the plan was computed against; `apply` refuses the plan as
    /// stale when the state has moved on since.
    pub state: StateVersion,
    /// Reports whose request and token are unchanged.
    pub unchanged: Vec<ReportName>,
    /// The changes, sorted by report name.
    pub changes: Vec<Change>,
    /// The lookups the definitions were rendered with, and where each
    /// value came from (an offline plan uses the state's cache).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<LookupUse>,
    /// Reports left out of this plan because they read a lookup never read
    /// yet, with those lookups; `apply` reads them first.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub waiting: std::collections::BTreeMap<ReportName, Vec<String>>,
}

/// One lookup's value as a plan used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupUse {
    /// The lookup's name (`lookup.NAME`).
    pub name: String,
    /// When its value was read from Atlas.
    #[schemars(with = "String")]
    pub read_at: Timestamp,
    /// Whether the value is the state's cache (`true`) or was read for this plan.
    pub cached: bool,
}

/// Which version of the state a plan was computed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateVersion {
    /// The state's lineage, or `None` when there was no state file yet.
    pub lineage: Option<String>,
    /// The state's serial (0 without a state file).
    pub serial: u64,
}

/// One report's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The report, addressed as `report.NAME`.
    pub name: ReportName,
    /// What will happen to it.
    pub action: Action,
    /// Why, in the order they were found.
    pub reasons: Vec<Reason>,
    /// The request in the state (requery and forget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<PlannedRequest>,
    /// The handle in the state (a token, a report id), which a requery
    /// supersedes (requery and forget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_handle: Option<Handle>,
    /// The request that will be sent (create and requery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<PlannedRequest>,
    /// Field-level differences between `before` and `after`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldDiff>,
}

impl Change {
    /// The address users type and see: `report.NAME`.
    pub fn address(&self) -> String {
        format!("report.{}", self.name)
    }

    /// Why the report changes, in words, as printed after its address: a
    /// reason about the stored handle names it as its kind does ("token
    /// expired", "invoice report expired").
    pub fn reasons_in_words(&self) -> String {
        let kind = self.before.as_ref().or(self.after.as_ref());
        let noun = handle_noun(kind.map_or("", |request| request.kind.as_str()));
        let reasons: Vec<String> = self
            .reasons
            .iter()
            .map(|reason| reason.describe(noun))
            .collect();
        reasons.join(", ")
    }
}

/// What `apply` does to one report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Defined but not in the state: send the query (`+`).
    Create,
    /// In both, but a new token is needed (`-/+`): queries are immutable.
    Requery,
    /// In the state but no longer defined: drop it from the state (`-`). No
    /// API call is made; tokens cannot be deleted.
    Forget,
}

impl Action {
    /// The symbol shown before the address, as in Terraform.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Requery => "-/+",
            Action::Forget => "-",
        }
    }

    /// The verb used in summaries ("3 to create").
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Requery => "requery",
            Action::Forget => "forget",
        }
    }
}

/// Why a report is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Defined, with no entry in the state.
    New,
    /// The rendered request differs from the one in the state.
    RequestChanged,
    /// Atlas answered 404 for the stored handle (a token, an invoice
    /// report). Read as `token_expired` too, its name before kinds other
    /// than Cost Explorer had handles.
    #[serde(alias = "token_expired")]
    HandleExpired,
    /// Atlas gave up on the stored handle (an invoice report marked
    /// `FAILED`).
    HandleFailed,
    /// Asked for with `--replace`.
    Replace,
    /// `refresh: until_closed`, results fetched while the month was open, and
    /// the data may have changed since.
    OpenMonthRefresh,
    /// The report was removed from the definitions.
    NoLongerDefined,
}

impl Reason {
    /// The reason in words, as printed after a change's address; `handle`
    /// is what the report's kind calls its handle.
    pub fn describe(self, handle: HandleNoun) -> String {
        match self {
            Reason::New => "new report".to_owned(),
            Reason::RequestChanged => "request changed".to_owned(),
            Reason::HandleExpired => format!("{} expired", handle.one),
            Reason::HandleFailed => format!("{} failed", handle.one),
            Reason::Replace => "replace requested".to_owned(),
            Reason::OpenMonthRefresh => "open month refreshed".to_owned(),
            Reason::NoLongerDefined => "no longer defined".to_owned(),
        }
    }
}

/// One field that differs between the stored and the new request. A field
/// absent on one side is `None` there. Top-level fields of the body are named
/// as sent (`startDate`); `org_id` and `kind` are named as in the definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDiff {
    /// The field's name.
    pub field: String,
    /// Its value in the state.
    pub before: Option<serde_json::Value>,
    /// Its value in the definitions.
    pub after: Option<serde_json::Value>,
}

/// How many changes of each action a plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Reports to create.
    pub create: usize,
    /// Reports to requery.
    pub requery: usize,
    /// Reports to forget.
    pub forget: usize,
}

impl Plan {
    /// Every reason this plan cannot have been written by costform as it
    /// stands: a request whose `request_sha256` is not its own, a body its
    /// kind would not have built, a change whose requests do not fit its
    /// action. A saved plan is a file anyone can edit, and `apply FILE`
    /// sends it as written and records its hashes in the state.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for change in &self.changes {
            let address = change.address();
            let (wants_before, wants_after) = match change.action {
                Action::Create => (false, true),
                Action::Requery => (true, true),
                Action::Forget => (true, false),
            };
            if change.before.is_some() != wants_before || change.after.is_some() != wants_after {
                problems.push(format!(
                    "`{address}`: a {} has {} `before` and {} `after` request",
                    change.action.verb(),
                    if wants_before { "a" } else { "no" },
                    if wants_after { "an" } else { "no" },
                ));
            }
            for (side, request) in [("before", &change.before), ("after", &change.after)] {
                if let Some(request) = request {
                    problems.extend(
                        request
                            .problems()
                            .into_iter()
                            .map(|problem| format!("`{address}` {side}: {problem}")),
                    );
                }
            }
        }
        problems
    }

    /// Whether applying the plan would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Counts of changes by action.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Requery => summary.requery += 1,
                Action::Forget => summary.forget += 1,
            }
        }
        summary
    }
}

impl Summary {
    /// The closing line of a text plan, as Terraform words it.
    pub fn sentence(&self) -> String {
        if self.create + self.requery + self.forget == 0 {
            "No changes.".to_owned()
        } else {
            format!(
                "Plan: {} to create, {} to requery, {} to forget.",
                self.create, self.requery, self.forget
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_handle_is_named_as_its_kind_names_it() {
        let token = HandleNoun {
            one: "token",
            many: "tokens",
        };
        assert_eq!(Reason::HandleExpired.describe(token), "token expired");
        assert_eq!(handle_noun("focus_report").one, "invoice report");
        assert_eq!(handle_noun("cost_explorer").count(2), "2 tokens");
    }

    #[test]
    fn a_plan_saved_before_handles_reads_token_expired() {
        let reason: Reason = serde_json::from_str(r#""token_expired""#).unwrap();
        assert_eq!(reason, Reason::HandleExpired);
        assert_eq!(
            serde_json::to_string(&reason).unwrap(),
            r#""handle_expired""#
        );
    }
}
