//! `for_each`: one report instance per element of a list or a map.
//!
//! The key of an instance is what its address shows, `report.NAME["KEY"]`:
//! the element itself for a list of text, the `name` of an object (a
//! lookup's projects), the key of a map. Keys must be text, unique, and fit
//! an address and a file name; each problem is reported where it is written
//! (the element of a literal list, or the `for_each` line for a template).

use std::collections::BTreeMap;

use minijinja::value::{Value, ValueKind};
use serde_saphyr::{Location, Spanned};

use crate::diagnostic::{Diagnostics, SourceFile, code};
use crate::ids::ReportName;
use crate::node::Node;
use crate::template::{Renderer, describe_value};
use crate::value::Value as VariableValue;

/// One element: its address, its key and what `each.value` is.
pub(crate) struct Instance {
    pub(crate) address: ReportName,
    pub(crate) key: String,
    pub(crate) value: Value,
}

/// The instances of report `name`, or `None` after pushing every problem.
pub(crate) fn instances(
    file: &SourceFile,
    name: &ReportName,
    for_each: &Spanned<Node>,
    renderer: &mut Renderer,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Instance>> {
    let errors = diagnostics.errors().count();
    let at = for_each.referenced;
    let elements: Vec<(Result<String, String>, Value, Location)> = match &for_each.value {
        Node::String(template) => {
            let value = match renderer.evaluate(template) {
                Ok(value) => value,
                Err(err) => {
                    diagnostics.push(file.error_at(code::TEMPLATE, at, err.message));
                    return None;
                }
            };
            match value.kind() {
                ValueKind::Seq => value
                    .try_iter()
                    .into_iter()
                    .flatten()
                    .map(|item| (list_key(&item), item, at))
                    .collect(),
                ValueKind::Map => value
                    .try_iter()
                    .into_iter()
                    .flatten()
                    .map(|key| {
                        let item = value.get_item(&key).unwrap_or_default();
                        let text = key.as_str().map(str::to_owned).ok_or_else(|| {
                            format!("a map key is {}: keys must be text", describe_value(&key))
                        });
                        (text, item, at)
                    })
                    .collect(),
                _ => {
                    let message = format!(
                        "`for_each` must be a list or a map, but `{template}` renders {}",
                        describe_value(&value)
                    );
                    diagnostics.push(file.error_at(code::FOR_EACH, at, message));
                    return None;
                }
            }
        }
        Node::Sequence(items) => items
            .iter()
            .map(|item| {
                let value = template_value(&item.value);
                (list_key(&value), value, item.referenced)
            })
            .collect(),
        Node::Mapping(entries) => entries
            .iter()
            .map(|(key, item)| {
                (
                    Ok(key.value.clone()),
                    template_value(&item.value),
                    key.referenced,
                )
            })
            .collect(),
        other => {
            let message = format!(
                "`for_each` must be a list or a map, found {}",
                other.shape()
            );
            let help = "write a list (`[a, b]`), a map, or a template such as `\"{{ var.orgs }}\"`";
            diagnostics.push(file.error_at(code::FOR_EACH, at, message).with_help(help));
            return None;
        }
    };
    let mut seen: BTreeMap<String, Location> = BTreeMap::new();
    let mut instances = Vec::with_capacity(elements.len());
    for (key, value, at) in elements {
        let key = match key {
            Ok(key) => key,
            Err(problem) => {
                let message = format!("`for_each` element is not usable as a key: {problem}");
                let help =
                    "for_each keys are text: a list of text, a map, or objects with a `name`";
                diagnostics.push(file.error_at(code::FOR_EACH, at, message).with_help(help));
                continue;
            }
        };
        if let Some(first) = seen.get(&key) {
            let message = if *first == at {
                format!("`for_each` key `{key}` appears more than once")
            } else {
                format!(
                    "`for_each` key `{key}` appears more than once (first on line {})",
                    first.line()
                )
            };
            let help = "each instance needs its own key: remove the duplicate";
            diagnostics.push(file.error_at(code::FOR_EACH, at, message).with_help(help));
            continue;
        }
        let address = match name.instance(&key) {
            Ok(address) => address,
            Err(err) => {
                diagnostics.push(file.error_at(code::FOR_EACH, at, err.to_string()));
                continue;
            }
        };
        seen.insert(key.clone(), at);
        instances.push(Instance {
            address,
            key,
            value,
        });
    }
    (diagnostics.errors().count() == errors).then_some(instances)
}

/// The key of a list element: text as it is, an object by its `name`.
fn list_key(item: &Value) -> Result<String, String> {
    if let Some(text) = item.as_str() {
        return Ok(text.to_owned());
    }
    if item.kind() == ValueKind::Map
        && let Ok(name) = item.get_attr("name")
        && let Some(name) = name.as_str()
    {
        return Ok(name.to_owned());
    }
    Err(format!(
        "it is {}, and keys must be text (or objects with a `name`)",
        describe_value(item)
    ))
}

/// A literal element as templates see it.
fn template_value(node: &Node) -> Value {
    VariableValue::from_node(node).map_or_else(Value::default, |value| value.to_template())
}
