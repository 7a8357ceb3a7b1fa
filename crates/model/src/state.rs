//! The state file: which queries costform has sent and which handles
//! (tokens, report ids) Atlas returned for them.
//!
//! These are the on-disk types only; locking, the journal and atomic writes
//! belong to the planner's state store.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::handle::Handle;
use crate::ids::ReportName;
use crate::lookup::LookupCache;
use crate::request::PlannedRequest;

/// The state format this build writes. A newer file is refused rather than
/// rewritten, so an older costform never drops fields it does not know; an
/// older one is read through [`upgrade`]. Format 2 replaced each entry's
/// `token` with the kind's `handle`.
pub const STATE_FORMAT_VERSION: u32 = 2;

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Always [`STATE_FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// A UUID set when the state is first written and never changed, so a
    /// saved plan made against another state is recognised as stale.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    /// The costform version that last wrote the file.
    pub costform_version: String,
    /// One entry per report that has a handle, by name.
    pub reports: BTreeMap<ReportName, StateEntry>,
    /// The lookups read from Atlas by `apply`, by lookup name: what an
    /// offline `plan` renders the definitions with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, LookupCache>,
    /// The format the file had when read, when older than this build's:
    /// the next write upgrades it, and says so. Never written.
    #[serde(skip)]
    pub upgraded_from: Option<u32>,
}

impl State {
    /// An empty state with a fresh lineage, as used before the first apply.
    pub fn new(lineage: String) -> Self {
        Self {
            format_version: STATE_FORMAT_VERSION,
            lineage,
            serial: 0,
            costform_version: env!("CARGO_PKG_VERSION").to_owned(),
            reports: BTreeMap::new(),
            lookups: BTreeMap::new(),
            upgraded_from: None,
        }
    }
}

/// Brings a state file's JSON of an older format to this build's, in place,
/// and returns the format it had (`None` when it needed nothing). Pure, so
/// every reader of state files (the store, tests, a future backend) upgrades
/// the same way; a newer format is left alone for the caller to refuse.
pub fn upgrade(document: &mut serde_json::Value) -> Option<u32> {
    let version = document.get("format_version")?.as_u64()?;
    if version != 1 {
        return None;
    }
    if let Some(reports) = document
        .get_mut("reports")
        .and_then(serde_json::Value::as_object_mut)
    {
        reports.values_mut().for_each(upgrade_entry);
    }
    document["format_version"] = serde_json::Value::from(STATE_FORMAT_VERSION);
    Some(1)
}

/// Moves a format 1 entry's `token` into `handle: {"token": ...}`; an entry
/// that already has a handle is left as it is. For journal lines, which a
/// run of an older costform may have left.
pub fn upgrade_entry(entry: &mut serde_json::Value) {
    let Some(entry) = entry.as_object_mut() else {
        return;
    };
    if entry.contains_key("handle") {
        return;
    }
    if let Some(token) = entry.remove("token") {
        entry.insert("handle".to_owned(), serde_json::json!({ "token": token }));
    }
}

/// What costform knows about one report's current handle. (Not
/// `deny_unknown_fields`: serde cannot combine it with `flatten`; a newer
/// layout is caught by `format_version` instead.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateEntry {
    /// The request as sent, with its kind, org and hash.
    #[serde(flatten)]
    pub request: PlannedRequest,
    /// What Atlas returned for the request, in the kind's own parts
    /// (`{"token": ...}`, `{"invoice_id": ..., "report_id": ...}`).
    pub handle: Handle,
    /// When Atlas accepted the request.
    #[schemars(with = "String")]
    pub applied_at: Timestamp,
    /// The "now" the request's templates were rendered with.
    #[schemars(with = "String")]
    pub now: Timestamp,
    /// Where the handle stands.
    pub status: TokenStatus,
    /// The last results fetched with this handle, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultRecord>,
}

/// The life of a handle (a token, a report) as costform has observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Atlas accepted the query; results not fetched yet.
    Submitted,
    /// Results were fetched and written.
    Ready,
    /// Atlas answered 404 for the handle: it must be queried again.
    Expired,
    /// Atlas gave up on the handle for good (an invoice report marked
    /// `FAILED`): it must be queried again. The handle is kept until a new
    /// one replaces it.
    Failed,
}

impl TokenStatus {
    /// Whether Atlas may still answer for the handle: not expired, not
    /// failed. `fetch` and `plan --refresh` only look at live handles.
    pub fn is_live(self) -> bool {
        matches!(self, TokenStatus::Submitted | TokenStatus::Ready)
    }
}

/// The results file written by `costform fetch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultRecord {
    /// When the results were retrieved.
    #[schemars(with = "String")]
    pub fetched_at: Timestamp,
    /// The file written, relative to the state file's directory when it lies
    /// below it, so the state stays valid in another checkout.
    pub path: String,
    /// The format asked of Atlas.
    pub format: ResultFormat,
    /// The number of usage rows in the result.
    pub rows: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Whether the result covers a month that had not closed when fetched:
    /// such figures are not final.
    #[serde(default)]
    pub covers_open_month: bool,
    /// The fetch run that wrote it: the id of the lock that run held (the
    /// one `force-unlock` names), so a result can be traced to its run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The copy kept in the results history
    /// (`history/NAME.FETCHED_AT.REQUEST_HASH.EXT` beside `path`), which a
    /// later fetch does not replace; relative like `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// The representation asked of Atlas for results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultFormat {
    /// `application/vnd.atlas.2023-01-01+json`
    #[default]
    Json,
    /// `application/vnd.atlas.2023-01-01+csv`
    Csv,
}

impl ResultFormat {
    /// The file extension of results in this format.
    pub fn extension(self) -> &'static str {
        match self {
            ResultFormat::Json => "json",
            ResultFormat::Csv => "csv",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "format_version": 2,
  "lineage": "6c1d1f0e-4b8e-4f7e-9a43-0d1d5a0a2b11",
  "serial": 3,
  "costform_version": "0.1.0",
  "reports": {
    "last-month-by-service": {
      "kind": "cost_explorer",
      "org_id": "5f0c8a1b2c3d4e5f6a7b8c9d",
      "request": { "startDate": "2026-10-01", "endDate": "2026-11-01", "groupBy": "services" },
      "request_sha256": "00",
      "covers_open_month": false,
      "handle": { "token": "d9ab638a801efe182f98ae3e18ea4bb47b9fda808a28a8c7de205bb0e94f7d71" },
      "applied_at": "2026-11-26T03:00:00Z",
      "now": "2026-11-26T00:00:00Z",
      "status": "submitted"
    }
  }
}"#;

    #[test]
    fn the_documented_layout_round_trips() {
        let state: State = serde_json::from_str(SAMPLE).unwrap();
        let entry = &state.reports[&ReportName::parse("last-month-by-service").unwrap()];
        assert_eq!(entry.status, TokenStatus::Submitted);
        assert_eq!(entry.request.request["groupBy"], "services");
        let written = serde_json::to_string_pretty(&state).unwrap();
        assert_eq!(serde_json::from_str::<State>(&written).unwrap(), state);
    }

    #[test]
    fn a_format_1_file_becomes_format_2_with_its_token_as_the_handle() {
        let token = "d9ab638a801efe182f98ae3e18ea4bb47b9fda808a28a8c7de205bb0e94f7d71";
        let old = SAMPLE
            .replacen("\"format_version\": 2", "\"format_version\": 1", 1)
            .replacen(
                &format!("\"handle\": {{ \"token\": \"{token}\" }}"),
                &format!("\"token\": \"{token}\""),
                1,
            );
        assert!(old.contains("\"token\": \"d9ab"), "{old}");
        let mut document: serde_json::Value = serde_json::from_str(&old).unwrap();
        assert_eq!(upgrade(&mut document), Some(1));
        let upgraded: State = serde_json::from_value(document).unwrap();
        assert_eq!(upgraded, serde_json::from_str::<State>(SAMPLE).unwrap());
        let mut current: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(upgrade(&mut current), None);
    }

    #[test]
    fn unknown_fields_are_refused_rather_than_dropped() {
        let with_extra = SAMPLE.replacen("\"serial\": 3,", "\"serial\": 3, \"surprise\": 1,", 1);
        assert!(serde_json::from_str::<State>(&with_extra).is_err());
    }
}
