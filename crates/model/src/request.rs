//! A rendered request: what one report would send to Atlas, independent of
//! which report kind built it.
//!
//! The planner compares and stores requests without knowing their shape, so a
//! new report kind needs no planner change: it only has to produce a
//! [`PlannedRequest`].

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::OrgId;

/// The JSON body sent to Atlas, with keys in the order the report kind wrote
/// them (stable, so plans and state diffs are reviewable).
pub type RequestBody = serde_json::Map<String, serde_json::Value>;

/// When costform should query a report again although its request is unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Refresh {
    /// Keep the token until the request changes (the default).
    #[default]
    Never,
    /// Re-query after each fetch while the date range covers a month that has
    /// not closed yet, so scheduled runs keep open-month figures fresh.
    UntilClosed,
}

impl Refresh {
    /// Whether this is the default, so serializers can leave it out.
    pub fn is_never(&self) -> bool {
        matches!(self, Refresh::Never)
    }
}

/// Everything the planner and the submitter need about one report's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedRequest {
    /// The report kind that built this request (`cost_explorer`).
    pub kind: String,
    /// The organization the request is sent for.
    pub org_id: OrgId,
    /// The exact JSON body.
    pub request: RequestBody,
    /// SHA-256 of the canonical JSON of `request` (see [`request_sha256`]).
    pub request_sha256: String,
    /// Whether the date range includes a month that had not closed at `now`.
    #[serde(default)]
    pub covers_open_month: bool,
    /// The report's refresh policy.
    #[serde(default, skip_serializing_if = "Refresh::is_never")]
    pub refresh: Refresh,
}

impl PlannedRequest {
    /// Builds a planned request, computing its hash.
    pub fn new(kind: &str, org_id: OrgId, request: RequestBody) -> Self {
        let request_sha256 = request_sha256(&org_id, &request);
        Self {
            kind: kind.to_owned(),
            org_id,
            request,
            request_sha256,
            covers_open_month: false,
            refresh: Refresh::Never,
        }
    }

    /// What is wrong with a request read from a file rather than built by
    /// its kind: an unknown kind, a body the kind rejects, a hash that is not
    /// the body's.
    pub fn problems(&self) -> Vec<String> {
        let Some(kind) = crate::kinds::find(&self.kind) else {
            return vec![format!("unknown report kind `{}`", self.kind)];
        };
        let mut problems = kind.check_body(&self.request);
        if request_sha256(&self.org_id, &self.request) != self.request_sha256 {
            problems.push("`request_sha256` is not the hash of its org and body".to_owned());
        }
        problems
    }
}

/// The identity of a request: SHA-256 over the org id and the body serialized
/// with object keys sorted, so that key order never makes two equal requests
/// look different. The org id is part of it because it is part of the URL.
pub fn request_sha256(org_id: &OrgId, request: &RequestBody) -> String {
    let mut canonical = String::new();
    let _ = writeln!(canonical, "{org_id}");
    write_canonical(&serde_json::Value::Object(request.clone()), &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> RequestBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let org = OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").unwrap();
        let a = body(r#"{"startDate":"2026-10-01","endDate":"2026-11-01"}"#);
        let b = body(r#"{"endDate":"2026-11-01","startDate":"2026-10-01"}"#);
        assert_eq!(request_sha256(&org, &a), request_sha256(&org, &b));
    }

    #[test]
    fn values_and_org_change_the_hash() {
        let org = OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").unwrap();
        let other = OrgId::parse("000000000000000000000000").unwrap();
        let a = body(r#"{"startDate":"2026-10-01"}"#);
        let b = body(r#"{"startDate":"2026-09-01"}"#);
        assert_ne!(request_sha256(&org, &a), request_sha256(&org, &b));
        assert_ne!(request_sha256(&org, &a), request_sha256(&other, &a));
        assert_eq!(request_sha256(&org, &a).len(), 64);
    }
}
