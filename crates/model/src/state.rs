//! The state file: which queries costform has sent and which tokens Atlas
//! returned for them.
//!
//! These are the on-disk types only; locking, the journal and atomic writes
//! belong to the planner's state store.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ReportName, Token};
use crate::lookup::LookupCache;
use crate::request::PlannedRequest;

/// The state format this build reads and writes. A newer file is refused
/// rather than rewritten, so an older costform never drops fields it does not
/// know.
pub const STATE_FORMAT_VERSION: u32 = 1;

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
    /// One entry per report that has a token, by name.
    pub reports: BTreeMap<ReportName, StateEntry>,
    /// The lookups read from Atlas by `apply`, by lookup name: what an
    /// offline `plan` renders the definitions with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, LookupCache>,
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
        }
    }
}

/// What costform knows about one report's current token. (Not
/// `deny_unknown_fields`: serde cannot combine it with `flatten`; a newer
/// layout is caught by `format_version` instead.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateEntry {
    /// The request as sent, with its kind, org and hash.
    #[serde(flatten)]
    pub request: PlannedRequest,
    /// The token Atlas returned for the request.
    pub token: Token,
    /// When Atlas accepted the request.
    #[schemars(with = "String")]
    pub applied_at: Timestamp,
    /// The "now" the request's templates were rendered with.
    #[schemars(with = "String")]
    pub now: Timestamp,
    /// Where the token stands.
    pub status: TokenStatus,
    /// The last results fetched with this token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultRecord>,
}

/// The life of a token as costform has observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Atlas accepted the query; results not fetched yet.
    Submitted,
    /// Results were fetched and written.
    Ready,
    /// Atlas answered 404 for the token: it must be queried again.
    Expired,
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
  "format_version": 1,
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
      "token": "d9ab638a801efe182f98ae3e18ea4bb47b9fda808a28a8c7de205bb0e94f7d71",
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
    fn unknown_fields_are_refused_rather_than_dropped() {
        let with_extra = SAMPLE.replacen("\"serial\": 3,", "\"serial\": 3, \"surprise\": 1,", 1);
        assert!(serde_json::from_str::<State>(&with_extra).is_err());
    }
}
