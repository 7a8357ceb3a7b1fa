//! Variables: declared with defaults under `variables:` and overridden from
//! the command line, var files and the environment.
//!
//! Precedence, highest first: `--var NAME=VALUE`, `--var-file FILE.yaml`
//! (later files win), env `COSTFORM_VAR_NAME`, the file defaults. As in
//! Terraform, an override naming a variable no file declares is an error
//! (likely a typo), except from the environment, which holds unrelated names.
//!
//! A variable's type is its `type:` when declared, else its default's: text
//! from the command line or the environment is read as that type (JSON for a
//! list or a map), and a value of another type is an error naming the
//! variable, both types and where the value came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics, Severity, SourceFile, code, did_you_mean};
use crate::node::Node;
use crate::raw::{Entries, RawVariable};
use crate::value::{Value, ValueType};

/// The longest value shown in a message; a 10,000-element list is cut.
const SHOWN_CHARS: usize = 60;

/// One declared variable, with where it was declared to name both places of
/// a conflict.
struct Declaration {
    declared: Option<ValueType>,
    default: Option<Value>,
    file: PathBuf,
    line: u64,
}

/// The declared variables gathered from every file.
#[derive(Default)]
pub struct Declarations(BTreeMap<String, Declaration>);

impl Declarations {
    /// Adds one file's `variables:`, reporting an unknown `type:`, a default
    /// of another type, and a declaration that disagrees with another file's.
    pub fn declare(
        &mut self,
        file: &SourceFile,
        variables: &Entries<RawVariable>,
        diagnostics: &mut Diagnostics,
    ) {
        for (name, variable) in &variables.0 {
            let Some(declaration) = declaration(file, &name.value, variable, diagnostics) else {
                continue;
            };
            if let Some(earlier) = self.0.get(&name.value) {
                if (earlier.declared, &earlier.default)
                    != (declaration.declared, &declaration.default)
                {
                    let message = format!(
                        "variable `{}` is declared as {} here but as {} in `{}` line {}",
                        name.value,
                        declaration.summary(),
                        earlier.summary(),
                        earlier.file.display(),
                        earlier.line
                    );
                    let help = "declare the variable once, or give both the same type and default"
                        .to_owned();
                    diagnostics.push(
                        file.error_at(code::VARIABLE, name.referenced, message)
                            .with_help(help),
                    );
                }
                continue;
            }
            self.0.insert(name.value.clone(), declaration);
        }
    }

    /// Applies the overrides and returns every variable's value.
    pub fn resolve(
        &self,
        vars: &[(String, String)],
        var_files: &[PathBuf],
        env: &BTreeMap<String, String>,
        diagnostics: &mut Diagnostics,
    ) -> BTreeMap<String, Value> {
        let mut values: BTreeMap<String, Value> = self
            .0
            .iter()
            .filter_map(|(name, declaration)| Some((name.clone(), declaration.default.clone()?)))
            .collect();
        for (key, text) in env {
            if let Some(name) = key.strip_prefix("COSTFORM_VAR_")
                && let Some(declaration) = self.0.get(name)
            {
                match declaration.read(text) {
                    Ok(value) => {
                        values.insert(name.to_owned(), value);
                    }
                    Err(found) => diagnostics.push(
                        Diagnostic::about(
                            Path::new(key),
                            Severity::Error,
                            code::VARIABLE,
                            declaration.mismatch(name, &found, &format!("`{key}`")),
                        )
                        .with_optional_help(declaration.json_help(&format!("{key}="))),
                    ),
                }
            }
        }
        for path in var_files {
            for (name, value) in self.read_var_file(path, diagnostics) {
                values.insert(name, value);
            }
        }
        for (name, text) in vars {
            match self.0.get(name) {
                Some(declaration) => match declaration.read(text) {
                    Ok(value) => {
                        values.insert(name.clone(), value);
                    }
                    Err(found) => diagnostics.push(
                        Diagnostic::about(
                            Path::new("--var"),
                            Severity::Error,
                            code::VARIABLE,
                            declaration.mismatch(name, &found, "`--var`"),
                        )
                        .with_optional_help(declaration.json_help(&format!("--var '{name}="))),
                    ),
                },
                None => diagnostics.push(
                    Diagnostic::about(
                        Path::new("--var"),
                        Severity::Error,
                        code::VARIABLE,
                        undeclared(name),
                    )
                    .with_optional_help(self.suggest(name)),
                ),
            }
        }
        for (name, declaration) in &self.0 {
            if !values.contains_key(name) {
                let message = format!(
                    "variable `{name}` has no default and no value (declared in `{}` line {})",
                    declaration.file.display(),
                    declaration.line
                );
                let help = format!(
                    "pass `--var {name}=...`, set it in a `--var-file` or `COSTFORM_VAR_{name}`, or give it a `default:`"
                );
                diagnostics.push(
                    Diagnostic::about(&declaration.file, Severity::Error, code::VARIABLE, message)
                        .with_help(help),
                );
            }
        }
        values
    }

    fn read_var_file(&self, path: &Path, diagnostics: &mut Diagnostics) -> Vec<(String, Value)> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                let message = format!("cannot read var file `{}`: {err}", path.display());
                diagnostics.push(Diagnostic::about(path, Severity::Error, code::IO, message));
                return Vec::new();
            }
        };
        let file = SourceFile::new(path.to_path_buf(), &text);
        let Some(root) = crate::parse::parse_yaml::<Spanned<Node>>(&file, diagnostics) else {
            return Vec::new();
        };
        let entries = crate::shape::values(&file, "var file", root, diagnostics);
        let mut values = Vec::new();
        for (name, value) in entries.0 {
            if let Some(declaration) = self.0.get(&name.value) {
                if declaration.admits(&value.value) {
                    values.push((name.value, value.value));
                } else {
                    let from = format!("`{}` line {}", path.display(), value.referenced.line());
                    let message = declaration.mismatch(&name.value, &value.value, &from);
                    diagnostics.push(file.error_at(code::VARIABLE, value.referenced, message));
                }
            } else {
                let diagnostic =
                    file.error_at(code::VARIABLE, name.referenced, undeclared(&name.value));
                diagnostics.push(diagnostic.with_optional_help(self.suggest(&name.value)));
            }
        }
        values
    }

    fn suggest(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.0.keys().map(String::as_str)).or_else(|| {
            Some(format!(
                "declare it under `variables:` with a default, e.g. `{name}: ...`"
            ))
        })
    }
}

/// Checks one `variables:` entry: a known `type:` that its default has.
fn declaration(
    file: &SourceFile,
    name: &str,
    variable: &RawVariable,
    diagnostics: &mut Diagnostics,
) -> Option<Declaration> {
    let declared = match &variable.declared_type {
        None => None,
        Some(written) => {
            let Some(declared) = ValueType::parse(&written.value) else {
                let message = format!(
                    "variable `{name}` has an unknown `type` `{}`",
                    written.value
                );
                let help = did_you_mean(&written.value, ValueType::NAMES)
                    .or_else(|| Some(format!("use one of `{}`", ValueType::NAMES.join("`, `"))));
                diagnostics.push(
                    file.error_at(code::VARIABLE, written.referenced, message)
                        .with_optional_help(help),
                );
                return None;
            };
            Some(declared)
        }
    };
    if let (Some(declared), Some(default)) = (declared, &variable.default)
        && !declared.admits(&default.value)
    {
        let message = format!(
            "variable `{name}` is declared `type: {}`, but its default is {} `{}`",
            declared.name(),
            default.value.described(),
            shown(&default.value)
        );
        diagnostics.push(file.error_at(code::VARIABLE, default.referenced, message));
        return None;
    }
    Some(Declaration {
        declared,
        default: variable
            .default
            .as_ref()
            .map(|default| default.value.clone()),
        file: file.path.clone(),
        line: variable.line,
    })
}

impl Declaration {
    /// Whether a value from a var file fits: the declared type, else the
    /// default's (a whole number is a fine float), else anything.
    fn admits(&self, value: &Value) -> bool {
        match (self.declared, &self.default) {
            (Some(declared), _) => declared.admits(value),
            (None, Some(default)) => matches!(
                (default, value),
                (Value::Bool(_), Value::Bool(_))
                    | (Value::Integer(_), Value::Integer(_))
                    | (Value::Float(_), Value::Float(_) | Value::Integer(_))
                    | (Value::String(_), Value::String(_))
                    | (Value::List(_), Value::List(_))
                    | (Value::Map(_), Value::Map(_))
            ),
            (None, None) => true,
        }
    }

    /// Whether text from the command line is read as JSON: lists and maps.
    fn takes_json(&self) -> bool {
        matches!(
            (self.declared, &self.default),
            (Some(ValueType::List | ValueType::Map), _)
                | (None, Some(Value::List(_) | Value::Map(_)))
        )
    }

    /// An override from text (`--var`, `COSTFORM_VAR_*`) read as the
    /// variable's type; the value as found when it is not one, which is an
    /// error naming both rather than a text value that fails later inside a
    /// template (`add_months("soon")`).
    fn read(&self, text: &str) -> Result<Value, Value> {
        let as_text = || Value::String(text.to_owned());
        let value = if self.takes_json() {
            serde_json::from_str(text)
                .ok()
                .and_then(|json| Value::from_json(&json))
                .ok_or_else(as_text)?
        } else {
            let number = || {
                text.parse()
                    .map(Value::Integer)
                    .or_else(|_| text.parse().map(Value::Float))
                    .map_err(|_| as_text())
            };
            match (self.declared, &self.default) {
                (Some(ValueType::Bool), _) | (None, Some(Value::Bool(_))) => {
                    text.parse().map(Value::Bool).map_err(|_| as_text())?
                }
                (Some(ValueType::Number), _) | (None, Some(Value::Float(_))) => number()?,
                (None, Some(Value::Integer(_))) => {
                    text.parse().map(Value::Integer).map_err(|_| as_text())?
                }
                _ => as_text(),
            }
        };
        if self.admits(&value) {
            Ok(value)
        } else {
            Err(value)
        }
    }

    /// "a list (declared `type: list`...)" or "an integer (its default...)".
    fn origin(&self) -> String {
        match (self.declared, &self.default) {
            (Some(declared), _) => format!(
                "{} (declared in `{}` line {})",
                declared.described(),
                self.file.display(),
                self.line
            ),
            (None, Some(default)) => format!(
                "{} (its default `{}` in `{}` line {})",
                default.described(),
                shown(default),
                self.file.display(),
                self.line
            ),
            (None, None) => "untyped".to_owned(),
        }
    }

    /// How a conflicting declaration is named: its type and default.
    fn summary(&self) -> String {
        let declared = self.declared.map_or_else(String::new, |declared| {
            format!("`type: {}` ", declared.name())
        });
        match &self.default {
            Some(default) => format!("{declared}with default `{}`", shown(default)),
            None => format!("{declared}without a default"),
        }
    }

    /// "variable `months` is an integer (its default `3` in `a.yaml` line 2),
    /// but `--var` gives text `soon`".
    fn mismatch(&self, name: &str, value: &Value, from: &str) -> String {
        format!(
            "variable `{name}` is {}, but {from} gives {} `{}`",
            self.origin(),
            value.described(),
            shown(value),
        )
    }

    /// For a list or map variable given text that is not JSON: how to write it.
    fn json_help(&self, prefix: &str) -> Option<String> {
        self.takes_json().then(|| {
            let example = if matches!(
                (self.declared, &self.default),
                (Some(ValueType::Map), _) | (None, Some(Value::Map(_)))
            ) {
                r#"{"key":"value"}"#
            } else {
                r#"["a","b"]"#
            };
            let close = if prefix.starts_with("--var '") {
                "'"
            } else {
                ""
            };
            format!("a list or map is given as JSON: `{prefix}{example}{close}`")
        })
    }
}

/// A value as messages show it, cut after [`SHOWN_CHARS`] characters.
pub(crate) fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

fn undeclared(name: &str) -> String {
    format!("variable `{name}` is not declared in any definition file")
}
