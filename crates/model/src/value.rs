//! A variable's value: text, a number, a boolean, or a list or map of those.
//!
//! Lists and maps are what "monthly cost by project for two orgs" needs: a
//! list of org ids to `for_each` over, a map of team names to project ids.
//! They come from YAML (definition files, var files) or JSON (`--var`,
//! `COSTFORM_VAR_*`), and reach templates as minijinja values, not text.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;

use crate::node::Node;

/// A variable's value.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Value {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A decimal number.
    Float(f64),
    /// Text.
    String(String),
    /// A sequence of values.
    List(Vec<Value>),
    /// Names to values, sorted by name.
    Map(BTreeMap<String, Value>),
}

/// The types a variable may declare with `type:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Text.
    String,
    /// A whole or decimal number.
    Number,
    /// `true` / `false`.
    Bool,
    /// A sequence.
    List,
    /// A mapping.
    Map,
}

impl ValueType {
    /// Every `type:` name, for messages and did-you-mean hints.
    pub const NAMES: [&'static str; 5] = ["string", "number", "bool", "list", "map"];

    /// The type named `name` in a `type:` key.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::String,
            Self::Number,
            Self::Bool,
            Self::List,
            Self::Map,
        ]
        .into_iter()
        .find(|known| known.name() == name)
    }

    /// The name written in `type:`.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::List => "list",
            Self::Map => "map",
        }
    }

    /// Whether `value` is of this type.
    pub fn admits(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Self::String, Value::String(_))
                | (Self::Number, Value::Integer(_) | Value::Float(_))
                | (Self::Bool, Value::Bool(_))
                | (Self::List, Value::List(_))
                | (Self::Map, Value::Map(_))
        )
    }

    /// The type in words, for "variable `x` is a list, but ... gives text".
    pub fn described(self) -> &'static str {
        match self {
            Self::String => "text",
            Self::Number => "a number",
            Self::Bool => "a boolean",
            Self::List => "a list",
            Self::Map => "a map",
        }
    }
}

impl Value {
    /// What the value is, in words.
    pub fn described(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "text",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The value of a YAML node; `None` for null, with where it is when a
    /// nested null is the problem left to the caller.
    pub fn from_node(node: &Node) -> Option<Self> {
        Some(match node {
            Node::Null => return None,
            Node::Bool(value) => Value::Bool(*value),
            Node::Integer(value) => Value::Integer(*value),
            Node::Float(value) => Value::Float(*value),
            Node::String(value) => Value::String(value.clone()),
            Node::Sequence(items) => Value::List(
                items
                    .iter()
                    .map(|item| Value::from_node(&item.value))
                    .collect::<Option<_>>()?,
            ),
            Node::Mapping(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| Some((key.value.clone(), Value::from_node(&value.value)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// The value of a JSON document (`--var 'orgs=["a","b"]'`); `None` for
    /// `null` anywhere in it.
    pub fn from_json(json: &serde_json::Value) -> Option<Self> {
        Some(match json {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(value) => Value::Bool(*value),
            serde_json::Value::Number(number) => match number.as_i64() {
                Some(value) => Value::Integer(value),
                None => Value::Float(number.as_f64()?),
            },
            serde_json::Value::String(value) => Value::String(value.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect::<Option<_>>()?)
            }
            serde_json::Value::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| Some((key.clone(), Value::from_json(value)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// The value as JSON, for messages and for sizing what a template reads.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(value) => serde_json::Value::from(*value),
            Value::Integer(value) => serde_json::Value::from(*value),
            Value::Float(value) => serde_json::Value::from(*value),
            Value::String(value) => serde_json::Value::from(value.as_str()),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(key, value)| (key.clone(), value.to_json()))
                .collect(),
        }
    }

    /// The value as templates see it: lists and maps stay lists and maps.
    pub fn to_template(&self) -> minijinja::Value {
        match self {
            Value::Bool(value) => minijinja::Value::from(*value),
            Value::Integer(value) => minijinja::Value::from(*value),
            Value::Float(value) => minijinja::Value::from(*value),
            Value::String(value) => minijinja::Value::from(value.as_str()),
            Value::List(items) => items.iter().map(Value::to_template).collect(),
            Value::Map(entries) => minijinja::Value::from(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_template()))
                    .collect::<BTreeMap<String, minijinja::Value>>(),
            ),
        }
    }
}

impl fmt::Display for Value {
    /// Text as is; anything else as JSON (`["a","b"]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(value) => f.write_str(value),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_and_maps_keep_their_shape() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"orgs": ["a", "b"], "months": 3, "share": 0.5}"#).unwrap();
        let value = Value::from_json(&json).unwrap();
        let Value::Map(entries) = &value else {
            panic!("a map: {value:?}")
        };
        assert_eq!(
            entries["orgs"],
            Value::List(vec![Value::String("a".into()), Value::String("b".into())])
        );
        assert_eq!(entries["months"], Value::Integer(3));
        assert_eq!(entries["share"], Value::Float(0.5));
        assert_eq!(
            value.to_string(),
            r#"{"months":3,"orgs":["a","b"],"share":0.5}"#
        );
        assert!(Value::from_json(&serde_json::json!([1, null])).is_none());
    }

    #[test]
    fn declared_types_admit_their_values_only() {
        assert!(ValueType::Number.admits(&Value::Integer(1)));
        assert!(ValueType::Number.admits(&Value::Float(1.5)));
        assert!(!ValueType::List.admits(&Value::String("[a]".into())));
        assert!(ValueType::Map.admits(&Value::Map(BTreeMap::new())));
        for name in ValueType::NAMES {
            assert_eq!(ValueType::parse(name).map(ValueType::name), Some(name));
        }
    }

    #[test]
    fn templates_see_lists_as_lists() {
        let list = Value::List(vec![Value::String("a".into()), Value::Integer(2)]);
        let seen = list.to_template();
        assert_eq!(seen.len(), Some(2));
        assert_eq!(
            seen.get_item_by_index(1).unwrap(),
            minijinja::Value::from(2)
        );
        let map = Value::Map(BTreeMap::from([("a".to_owned(), Value::Integer(1))]));
        assert_eq!(
            map.to_template().get_attr("a").unwrap(),
            minijinja::Value::from(1)
        );
    }
}
