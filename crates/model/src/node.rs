//! A YAML value of any shape with the location of every key and value.
//!
//! Definition files are read into [`Node`]s first and only then into the
//! typed [`crate::raw`] structs, so that an unknown key or a value of the
//! wrong shape becomes one diagnostic among many instead of stopping serde
//! at the first problem of the file.

use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::diagnostic::{SourceFile, byte_range};

/// A YAML value. Keys are kept as text in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number that fits an `i64`.
    Integer(i64),
    /// Any other number.
    Float(f64),
    /// Text.
    String(String),
    /// A sequence.
    Sequence(Vec<Spanned<Node>>),
    /// A mapping, in file order.
    Mapping(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// What the value is, for "expected ..., found ..." messages.
    pub fn shape(&self) -> &'static str {
        match self {
            Node::Null => "nothing",
            Node::Bool(_) => "a boolean",
            Node::Integer(_) | Node::Float(_) => "a number",
            Node::String(_) => "a string",
            Node::Sequence(_) => "a list",
            Node::Mapping(_) => "a mapping",
        }
    }
}

/// The text of a scalar as a string field sees it: a string as parsed, and
/// a number or boolean as written (so an all-digit id keeps every digit);
/// `None` for null, lists and mappings.
pub fn scalar_text(file: &SourceFile, node: &Spanned<Node>) -> Option<String> {
    match &node.value {
        Node::String(text) => Some(text.clone()),
        Node::Bool(_) | Node::Integer(_) | Node::Float(_) => {
            let (offset, len) = byte_range(node.referenced);
            let written = file.text.get(offset..offset + len).map(str::trim);
            Some(written.map_or_else(|| scalar_display(&node.value), str::to_owned))
        }
        Node::Null | Node::Sequence(_) | Node::Mapping(_) => None,
    }
}

fn scalar_display(node: &Node) -> String {
    match node {
        Node::Bool(value) => value.to_string(),
        Node::Integer(value) => value.to_string(),
        Node::Float(value) => value.to_string(),
        _ => String::new(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Integer(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        #[expect(
            clippy::cast_precision_loss,
            reason = "a number beyond i64 is kept as the nearest float, as YAML readers do"
        )]
        Ok(i64::try_from(value).map_or(Node::Float(value as f64), Node::Integer))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}
