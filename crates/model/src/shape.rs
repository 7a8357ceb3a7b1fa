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
use crate::raw::{Entries, FILE_KEYS, Field, RawDefinitionFile, RawReport, Scalar, report_keys};

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
    let mut defaults = None;
    let mut reports = None;
    for (key, value) in entries {
        match key.value.as_str() {
            "variables" => variables = scalars(file, "variables", value, diagnostics),
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
        defaults,
        reports,
    })
}

/// A flat mapping of names to scalars: a file's `variables:` or a var file.
pub fn scalars(
    file: &SourceFile,
    what: &str,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Entries<Spanned<Scalar>> {
    let entries = match node.value {
        Node::Mapping(entries) => entries,
        Node::Null => return Entries::default(),
        other => {
            let message = format!(
                "`{what}` must be a mapping of names to values, found {}",
                other.shape()
            );
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            return Entries::default();
        }
    };
    let mut scalars = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let scalar = match value.value {
            Node::Bool(value) => Scalar::Bool(value),
            Node::Integer(value) => Scalar::Integer(value),
            Node::Float(value) => Scalar::Float(value),
            Node::String(value) => Scalar::String(value),
            other => {
                let message = format!(
                    "variable `{}` must be text, a number or a boolean, found {}",
                    name.value,
                    other.shape()
                );
                let at = if matches!(other, Node::Null) {
                    name.referenced
                } else {
                    value.referenced
                };
                diagnostics.push(file.error_at(code::VARIABLE, at, message));
                continue;
            }
        };
        let scalar = Spanned::new(scalar, value.referenced, value.defined);
        scalars.push((name, scalar));
    }
    Entries(scalars)
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
            _ => {
                if let Some(spec) = kinds::key(name) {
                    field(file, spec, value).map(|field| {
                        report.fields.extend(field.map(|field| (spec.name, field)));
                    })
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

fn string(
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
            let help = format!("write a list, e.g. `{key}: [...]`");
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
