//! Validated identifiers: report names, Atlas ids and query tokens.
//!
//! Each is a newtype whose only constructor checks the rule Atlas (or costform)
//! states for it, so a value of the type is known to be well formed wherever it
//! travels: into a request path, the state file or a plan.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a string is not a valid identifier of some kind; the text completes
/// "`VALUE` is not a valid ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not {expected}")]
pub struct InvalidId {
    /// The rejected input.
    pub value: String,
    /// What a valid value looks like, in words.
    pub expected: &'static str,
}

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $expected:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "pattern": $pattern })
            }
        }

        impl $name {
            /// The pattern a valid value matches, as written in the JSON Schemas.
            pub const PATTERN: &'static str = $pattern;
            /// A valid value described for error messages.
            pub const EXPECTED: &'static str = $expected;

            /// Checks `value` against the rule for this identifier.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(InvalidId { value: value.to_owned(), expected: $expected })
                }
            }

            /// The identifier as sent and stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_newtype!(
    /// A report's address: the key under `reports:` (`NAME`), or one
    /// instance of a `for_each` report (`NAME["KEY"]`, as Terraform writes
    /// instance addresses). Kept short and free of `/`, quotes and control
    /// characters because it names result files.
    ReportName,
    "^[a-z0-9][a-z0-9_-]{0,62}(\\[\"[\\p{L}\\p{N}\\-_.(),:&@+']{1,64}\"\\])?$",
    "a valid report name (lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most 63 characters)",
    |s| match s.split_once("[\"") {
        None => is_report_name(s),
        Some((base, rest)) => {
            is_report_name(base) && rest.strip_suffix("\"]").is_some_and(is_instance_key)
        }
    }
);

impl ReportName {
    /// The instance `KEY` of this report, `NAME["KEY"]`. A key follows
    /// Atlas's rule for project names, so a lookup's project names are keys
    /// as they are, and every key is safe in an address, on a command line
    /// and in a file name.
    pub fn instance(&self, key: &str) -> Result<ReportName, InvalidId> {
        if is_instance_key(key) {
            Ok(Self(format!("{}[\"{key}\"]", self.base())))
        } else {
            Err(InvalidId {
                value: key.to_owned(),
                expected: "a valid instance key (1 to 64 letters, digits or `-_.(),:&@+'`, as Atlas project names)",
            })
        }
    }

    /// The report's name without its instance key.
    pub fn base(&self) -> &str {
        self.0.split_once("[\"").map_or(&self.0, |(base, _)| base)
    }

    /// The instance key, for an instance of a `for_each` report.
    pub fn key(&self) -> Option<&str> {
        self.0
            .split_once("[\"")
            .and_then(|(_, rest)| rest.strip_suffix("\"]"))
    }

    /// Whether this address names `other`: itself, or, without a key, every
    /// instance of the report (`--target report.per-org`).
    pub fn covers(&self, other: &ReportName) -> bool {
        self == other || (self.key().is_none() && other.base() == self.0)
    }
}

fn is_report_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_')
}

fn is_instance_key(key: &str) -> bool {
    (1..=64).contains(&key.chars().count())
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.(),:&@+'".contains(c))
}

id_newtype!(
    /// An Atlas organization id, the `{orgId}` path parameter.
    OrgId,
    "^([a-f0-9]{24})$",
    "a 24-character lowercase hexadecimal Atlas id",
    is_atlas_id
);

id_newtype!(
    /// An Atlas project, cluster or organization id used as a filter value.
    AtlasId,
    "^([a-f0-9]{24})$",
    "a 24-character lowercase hexadecimal Atlas id",
    is_atlas_id
);

id_newtype!(
    /// The token Atlas returns for a created Cost Explorer query, stored and
    /// sent exactly as issued (percent-encoded in a path). The spec gives a
    /// length of 64 and no pattern, so any shape is kept: refusing a token
    /// would turn a query Atlas accepted into a failure. Only the bounds that
    /// keep a hostile answer harmless are checked: not empty, at most
    /// [`Token::MAX_BYTES`], no control characters (they would reach the
    /// terminal).
    Token,
    "^[^\\x00-\\x1F\\x7F-\\x9F]+$",
    "a Cost Explorer token (1 to 4096 bytes, no control characters)",
    |s| !s.is_empty() && s.len() <= Token::MAX_BYTES && !s.chars().any(char::is_control)
);

impl Token {
    /// The longest token kept; Atlas's are 64 characters.
    pub const MAX_BYTES: usize = 4096;
}

fn is_atlas_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_follow_the_documented_pattern() {
        for ok in ["a", "last-month", "q1_2026", "9lives", &"a".repeat(63)] {
            assert!(ReportName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", "Upper", "a b", "a.b", &"a".repeat(64)] {
            assert!(ReportName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instance_addresses_are_names_with_a_key() {
        let base = ReportName::parse("per-org").unwrap();
        let instance = base.instance("prod-web").unwrap();
        assert_eq!(instance.as_str(), r#"per-org["prod-web"]"#);
        assert_eq!(
            ReportName::parse(r#"per-org["prod-web"]"#),
            Ok(instance.clone())
        );
        assert_eq!(
            (instance.base(), instance.key()),
            ("per-org", Some("prod-web"))
        );
        assert!(base.covers(&instance) && base.covers(&base) && !instance.covers(&base));
        assert!(!ReportName::parse("per").unwrap().covers(&instance));
        for bad in ["a/b", "", "a\"b", "..\u{0}", &"k".repeat(65)] {
            assert!(base.instance(bad).is_err(), "{bad:?}");
        }
        for bad in [
            r#"per-org["a"#,
            r#"per-org[""]"#,
            r#"Per["a"]"#,
            r#"per-org["a"]x"#,
        ] {
            assert!(ReportName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn atlas_ids_are_24_lowercase_hex() {
        assert!(OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").is_ok());
        assert!(OrgId::parse("5F0C8A1B2C3D4E5F6A7B8C9D").is_err());
        assert!(OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9").is_err());
        assert!(AtlasId::parse("zzzzzzzzzzzzzzzzzzzzzzzz").is_err());
    }

    #[test]
    fn tokens_of_any_printable_shape_are_kept() {
        let long = "x".repeat(Token::MAX_BYTES);
        for ok in [
            &"ab".repeat(32),
            &"AB".repeat(32),
            "a",
            "tok-en_/+=.é",
            &long,
        ] {
            assert!(Token::parse(ok).is_ok(), "{ok}");
        }
        let too_long = "x".repeat(Token::MAX_BYTES + 1);
        for bad in ["", "a\u{1b}[2Jb", "a\nb", "a\u{9b}b", &too_long] {
            assert!(Token::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invalid_ids_are_refused_when_deserialized() {
        let err = serde_json::from_str::<OrgId>("\"nope\"").unwrap_err();
        assert!(
            err.to_string().contains("`nope` is not a 24-character"),
            "{err}"
        );
    }
}
