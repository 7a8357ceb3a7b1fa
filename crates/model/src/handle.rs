//! What Atlas returned for a submitted report, by which its results are read
//! again: a report kind's own named parts (`token` for a Cost Explorer query;
//! `invoice_id` and `report_id` for a FOCUS invoice report).
//!
//! The state store, the journal and the planner keep a handle without knowing
//! its parts, so a new kind never changes them; the kind's module names the
//! parts and parses them back into the ids its endpoints need.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{AtlasId, Token};

/// A report's handle: named parts, each kept exactly as Atlas issued it.
///
/// Every part has the bounds of a [`Token`] (1 to 4,096 bytes, no control
/// characters): refusing a shape Atlas chose would lose a report it accepted,
/// and the bounds keep a hostile answer out of terminals and files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
#[schemars(extend("minProperties" = 1))]
pub struct Handle(BTreeMap<String, String>);

impl Handle {
    /// A handle of `parts`; an error names the first part out of bounds.
    pub fn new<'a>(parts: impl IntoIterator<Item = (&'a str, String)>) -> Result<Self, String> {
        let parts: BTreeMap<String, String> = parts
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        Self::try_from(parts)
    }

    /// A handle of parts whose values are validated ids, so always within
    /// bounds; for the kinds, which name their parts with constants.
    pub fn of(parts: &[(&'static str, &dyn HandlePart)]) -> Self {
        Self(
            parts
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.as_part().to_owned()))
                .collect(),
        )
    }

    /// The part called `name`, if the handle has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The part called `name`, or an error saying the handle lacks it (a
    /// state entry edited by hand, or written for another kind).
    pub fn part(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("the handle `{self}` has no `{name}`"))
    }

    /// Every part, by name, for printing.
    pub fn parts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// An id whose every value is within a handle part's bounds.
pub trait HandlePart {
    /// The id as the handle stores it.
    fn as_part(&self) -> &str;
}

impl HandlePart for Token {
    fn as_part(&self) -> &str {
        self.as_str()
    }
}

impl HandlePart for AtlasId {
    fn as_part(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<BTreeMap<String, String>> for Handle {
    type Error = String;

    fn try_from(parts: BTreeMap<String, String>) -> Result<Self, String> {
        if parts.is_empty() {
            return Err("a handle has at least one part".to_owned());
        }
        for (name, value) in &parts {
            if Token::parse(name).is_err() || Token::parse(value).is_err() {
                return Err(format!(
                    "the handle part `{}` is empty, over {} bytes or holds control characters ({} bytes)",
                    name.escape_debug(),
                    Token::MAX_BYTES,
                    value.len()
                ));
            }
        }
        Ok(Self(parts))
    }
}

impl From<Handle> for BTreeMap<String, String> {
    fn from(handle: Handle) -> Self {
        handle.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.parts().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_round_trips_as_a_json_object() {
        let handle = Handle::new([
            ("invoice_id", "a".to_owned()),
            ("report_id", "b".to_owned()),
        ])
        .unwrap();
        let json = serde_json::to_string(&handle).unwrap();
        assert_eq!(json, r#"{"invoice_id":"a","report_id":"b"}"#);
        assert_eq!(serde_json::from_str::<Handle>(&json).unwrap(), handle);
        assert_eq!(handle.to_string(), "invoice_id=a report_id=b");
    }

    #[test]
    fn empty_handles_and_hostile_parts_are_refused() {
        assert!(serde_json::from_str::<Handle>("{}").is_err());
        assert!(serde_json::from_str::<Handle>(r#"{"token":""}"#).is_err());
        assert!(serde_json::from_str::<Handle>(r#"{"token":"a\u001b[2J"}"#).is_err());
        let long = "x".repeat(Token::MAX_BYTES + 1);
        assert!(Handle::new([("token", long)]).is_err());
    }

    #[test]
    fn a_missing_part_is_named() {
        let handle = Handle::new([("token", "t".to_owned())]).unwrap();
        assert_eq!(handle.part("token"), Ok("t"));
        let error = handle.part("report_id").unwrap_err();
        assert!(error.contains("no `report_id`"), "{error}");
    }
}
