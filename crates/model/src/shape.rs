//! From parsed YAML ([`Node`]s) to the typed [`crate::raw`] structs, with a
//! diagnostic for every unknown key and every value of the wrong shape.
//!
//! This is where "unknown keys are errors" is enforced, instead of serde's
//! `deny_unknown_fields`, which stops at the first one: here every unknown
//! key of every report is reported, with a did-you-mean hint, and the known
//! keys next to it are still read and validated.

use serde_saphyr::Spanned;

use crate::budget;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, code, did_you_mean};
use crate::kinds::{self, KeySpec, Shape};
use crate::node::{Node, scalar_text};
use crate::raw::{
    Entries, FILE_KEYS, Field, RawDefinitionFile, RawReport, RawVariable, report_keys,
};
use crate::template::is_template;
use crate::value::Value;

/// Reads a whole definition file. `None` when nothing in it can be used
/// (not a mapping, or no `reports:`); otherwise the reports whose shape is
/// right, every other problem pushed to `diagnostics`.
pub fn definition_file(
    file: &SourceFile,
    root: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Option<RawDefinitionFile> {
    let entries = match root.value {
        Node::Mapping(entries) => entries,
        Node::Null => {
            diagnostics.push(missing_reports(file));
            return None;
        }
        other => {
            let message = format!(
                "a definition file is a mapping with `reports:`, found {}",
                other.shape()
            );
            diagnostics.push(file.error_at(code::YAML, root.referenced, message));
            return None;
        }
    };
    let mut variables = Entries::default();
    let mut lookups = Entries::default();
    let mut defaults = None;
    let mut reports = None;
    for (key, value) in entries {
        match key.value.as_str() {
            "variables" => variables = declarations(file, value, diagnostics),
            "lookups" => lookups = crate::lookup::read(file, value, diagnostics),
            "defaults" => defaults = Some(report(file, "`defaults:`", value, diagnostics).0),
            "reports" => reports = Some(report_map(file, value, diagnostics)),
            _ => diagnostics.push(unknown_key(file, &key, FILE_KEYS)),
        }
    }
    let Some(reports) = reports else {
        diagnostics.push(missing_reports(file));
        return None;
    };
    Some(RawDefinitionFile {
        variables,
        lookups,
        defaults,
        reports,
    })
}

/// The entries of a mapping, or `None` (with a diagnostic) when `node` is
/// something else; null is an empty mapping.
pub(crate) fn mapping(
    file: &SourceFile,
    what: &str,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<(Spanned<String>, Spanned<Node>)>> {
    match node.value {
        Node::Mapping(entries) => Some(entries),
        Node::Null => Some(Vec::new()),
        other => {
            let message = format!(
                "`{what}` must be a mapping of names to values, found {}",
                other.shape()
            );
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            None
        }
    }
}

/// A flat mapping of names to values: a var file.
pub fn values(
    file: &SourceFile,
    what: &str,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Entries<Spanned<Value>> {
    let Some(entries) = mapping(file, what, node, diagnostics) else {
        return Entries::default();
    };
    let mut values = Vec::with_capacity(entries.len());
    for (name, node) in entries {
        match value(file, &name, &node) {
            Ok(value) => values.push((name, value)),
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
    }
    Entries(values)
}

/// A variable's value: anything but null, at any depth.
fn value(
    file: &SourceFile,
    name: &Spanned<String>,
    node: &Spanned<Node>,
) -> Result<Spanned<Value>, Box<Diagnostic>> {
    if let Some(value) = Value::from_node(&node.value) {
        return Ok(Spanned::new(value, node.referenced, node.defined));
    }
    let (found, at) = if node.value == Node::Null {
        ("nothing", name.referenced)
    } else {
        ("an empty value inside it", node.referenced)
    };
    let message = format!(
        "variable `{}` must be text, a number, a boolean, a list or a map, found {found}",
        name.value
    );
    Err(Box::new(file.error_at(code::VARIABLE, at, message)))
}

/// The keys of a variable's long form.
const VARIABLE_KEYS: [&str; 3] = ["type", "default", "description"];

/// A file's `variables:`. A mapping with only `type`, `default` and
/// `description` keys is a declaration; any other value is the default.
fn declarations(
    file: &SourceFile,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Entries<RawVariable> {
    let Some(entries) = mapping(file, "variables", node, diagnostics) else {
        return Entries::default();
    };
    let mut variables = Vec::with_capacity(entries.len());
    for (name, node) in entries {
        let line = name.referenced.line();
        let long_form = match &node.value {
            Node::Mapping(keys) => {
                !keys.is_empty()
                    && keys
                        .iter()
                        .all(|(key, _)| VARIABLE_KEYS.contains(&key.value.as_str()))
            }
            _ => false,
        };
        if !long_form {
            match value(file, &name, &node) {
                Ok(default) => variables.push((
                    name,
                    RawVariable {
                        declared_type: None,
                        default: Some(default),
                        line,
                    },
                )),
                Err(diagnostic) => diagnostics.push(*diagnostic),
            }
            continue;
        }
        let Node::Mapping(keys) = node.value else {
            continue;
        };
        let mut variable = RawVariable {
            declared_type: None,
            default: None,
            line,
        };
        let mut usable = true;
        for (key, node) in keys {
            let read = match key.value.as_str() {
                "type" => string(file, "type", &node).map(|v| variable.declared_type = v),
                "default" if node.value == Node::Null => Ok(()),
                "default" => value(file, &name, &node).map(|v| variable.default = Some(v)),
                _ => string(file, "description", &node).map(|_| ()),
            };
            if let Err(diagnostic) = read {
                diagnostics.push(*diagnostic);
                usable = false;
            }
        }
        if usable {
            variables.push((name, variable));
        }
    }
    Entries(variables)
}

/// `reports:`: every report whose shape is right (a report with a value of
/// the wrong shape is left out, so it does not also report missing keys).
fn report_map(
    file: &SourceFile,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Spanned<Entries<RawReport>> {
    let entries = match node.value {
        Node::Mapping(entries) => entries,
        Node::Null => Vec::new(),
        other => {
            let message = format!(
                "`reports` must be a mapping of report names to reports, found {}",
                other.shape()
            );
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            return Spanned::new(Entries::default(), node.referenced, node.defined);
        }
    };
    if entries.is_empty() {
        let message = "`reports:` is empty".to_owned();
        let help = "add at least one report under `reports:`, or remove the file".to_owned();
        diagnostics.push(
            file.error_at(code::NO_REPORTS, node.referenced, message)
                .with_help(help),
        );
    }
    let mut reports = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let what = format!("report `{}`", name.value);
        let (report, well_shaped) = report(file, &what, value, diagnostics);
        if well_shaped {
            reports.push((name, report));
        }
    }
    Spanned::new(Entries(reports), node.referenced, node.defined)
}

/// One report or `defaults:`, and whether every value had the right shape
/// (unknown keys are reported but do not make the rest unusable).
fn report(
    file: &SourceFile,
    what: &str,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> (RawReport, bool) {
    let mut report = RawReport::default();
    let entries = match node.value {
        Node::Mapping(entries) => entries,
        Node::Null => return (report, true),
        other => {
            let message = format!("{what} must be a mapping of keys, found {}", other.shape());
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            return (report, false);
        }
    };
    let mut well_shaped = true;
    for (key, value) in entries {
        let name = key.value.as_str();
        let read = match name {
            "kind" => string(file, name, &value).map(|v| report.kind = v),
            "org_id" => string(file, name, &value).map(|v| report.org_id = v),
            "refresh" => string(file, name, &value).map(|v| report.refresh = v),
            "budget" => {
                report.budget = budget::read(file, value, diagnostics);
                Ok(())
            }
            "for_each" => {
                report.for_each = (value.value != Node::Null).then_some(value);
                Ok(())
            }
            _ => {
                if let Some(spec) = kinds::key(name) {
                    match (&spec.shape, &value.value) {
                        // A list key written as one template: the loader
                        // turns what it renders into the list.
                        (Shape::List, Node::String(template)) if is_template(template) => {
                            let template =
                                Spanned::new(template.clone(), value.referenced, value.defined);
                            report.list_templates.push((spec.name, template));
                            Ok(())
                        }
                        _ => field(file, spec, value).map(|field| {
                            report.fields.extend(field.map(|field| (spec.name, field)));
                        }),
                    }
                } else {
                    diagnostics.push(unknown_key(file, &key, &report_keys()));
                    Ok(())
                }
            }
        };
        if let Err(diagnostic) = read {
            diagnostics.push(*diagnostic);
            well_shaped = false;
        }
    }
    (report, well_shaped)
}

/// A kind's key read in the shape its kind declares; `None` when null.
fn field(
    file: &SourceFile,
    spec: &KeySpec,
    node: Spanned<Node>,
) -> Result<Option<Field>, Box<Diagnostic>> {
    Ok(match spec.shape {
        Shape::Text => string(file, spec.name, &node)?.map(Field::Text),
        Shape::Flag => boolean(file, spec.name, &node)?.map(Field::Flag),
        Shape::List => list(file, spec.name, node)?.map(Field::List),
    })
}

pub(crate) fn string(
    file: &SourceFile,
    key: &str,
    node: &Spanned<Node>,
) -> Result<Option<Spanned<String>>, Box<Diagnostic>> {
    if node.value == Node::Null {
        return Ok(None);
    }
    match scalar_text(file, node) {
        Some(text) => Ok(Some(Spanned::new(text, node.referenced, node.defined))),
        None => Err(wrong_shape(file, key, "a string", node)),
    }
}

/// A list field as [`RawReport`] holds it.
type SpannedList = Spanned<Vec<Spanned<String>>>;

fn list(
    file: &SourceFile,
    key: &str,
    node: Spanned<Node>,
) -> Result<Option<SpannedList>, Box<Diagnostic>> {
    let items = match node.value {
        Node::Null => return Ok(None),
        Node::Sequence(items) => items,
        _ => {
            let help = format!(
                "write a list, e.g. `{key}: [...]`, or a template that renders one, e.g. `{key}: \"{{{{ var.{key} }}}}\"`"
            );
            let diagnostic = wrong_shape(file, key, "a list", &node);
            return Err(Box::new(diagnostic.with_help(help)));
        }
    };
    let mut strings = Vec::with_capacity(items.len());
    for item in items {
        match scalar_text(file, &item) {
            Some(text) => strings.push(Spanned::new(text, item.referenced, item.defined)),
            None => return Err(wrong_shape(file, key, "a list of strings", &item)),
        }
    }
    Ok(Some(Spanned::new(strings, node.referenced, node.defined)))
}

fn boolean(
    file: &SourceFile,
    key: &str,
    node: &Spanned<Node>,
) -> Result<Option<Spanned<bool>>, Box<Diagnostic>> {
    match node.value {
        Node::Null => Ok(None),
        Node::Bool(value) => Ok(Some(Spanned::new(value, node.referenced, node.defined))),
        _ => Err(wrong_shape(file, key, "`true` or `false`", node)),
    }
}

/// Boxed: it travels in the `Err` of the field readers.
fn wrong_shape(
    file: &SourceFile,
    key: &str,
    expected: &str,
    node: &Spanned<Node>,
) -> Box<Diagnostic> {
    let message = format!("`{key}` must be {expected}, found {}", node.value.shape());
    Box::new(file.error_at(code::YAML, node.referenced, message))
}

pub(crate) fn unknown_key(file: &SourceFile, key: &Spanned<String>, known: &[&str]) -> Diagnostic {
    let help = did_you_mean(&key.value, known.iter().copied())
        .or_else(|| Some(format!("known keys here: `{}`", known.join("`, `"))));
    file.error_at(
        code::UNKNOWN_KEY,
        key.referenced,
        format!("unknown key `{}`", key.value),
    )
    .with_optional_help(help)
}

fn missing_reports(file: &SourceFile) -> Diagnostic {
    file.error(
        code::MISSING_FIELD,
        0,
        0,
        "missing `reports:` (a definition file has at least one report)",
    )
    .with_help("add `reports:` with a report under it, or remove the file")
}
