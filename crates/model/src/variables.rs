//! Variables: declared with defaults under `variables:` and overridden from
//! the command line, var files and the environment.
//!
//! Precedence, highest first: `--var NAME=VALUE`, `--var-file FILE.yaml`
//! (later files win), env `COSTFORM_VAR_NAME`, the file defaults. As in
//! Terraform, an override naming a variable no file declares is an error
//! (likely a typo), except from the environment, which holds unrelated names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics, Severity, SourceFile, code, did_you_mean};
use crate::node::Node;
use crate::raw::{Entries, Scalar};

/// Where a variable was declared, to name both places of a conflict.
struct Declaration {
    value: Scalar,
    file: PathBuf,
    line: u64,
}

/// The declared defaults gathered from every file.
#[derive(Default)]
pub struct Declarations(BTreeMap<String, Declaration>);

impl Declarations {
    /// Adds one file's `variables:`, reporting a default that disagrees with
    /// another file's.
    pub fn declare(
        &mut self,
        file: &SourceFile,
        variables: &Entries<Spanned<Scalar>>,
        diagnostics: &mut Diagnostics,
    ) {
        for (name, value) in &variables.0 {
            if let Some(earlier) = self.0.get(&name.value) {
                if earlier.value != value.value {
                    let message = format!(
                        "variable `{}` defaults to `{}` here but to `{}` in `{}` line {}",
                        name.value,
                        value.value,
                        earlier.value,
                        earlier.file.display(),
                        earlier.line
                    );
                    let help = "give the variable one default, or rename one of them".to_owned();
                    diagnostics.push(
                        file.error_at(code::VARIABLE, value.referenced, message)
                            .with_help(help),
                    );
                }
                continue;
            }
            let declaration = Declaration {
                value: value.value.clone(),
                file: file.path.clone(),
                line: name.referenced.line(),
            };
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
    ) -> BTreeMap<String, Scalar> {
        let mut values: BTreeMap<String, Scalar> = self
            .0
            .iter()
            .map(|(name, declaration)| (name.clone(), declaration.value.clone()))
            .collect();
        for (key, text) in env {
            if let Some(name) = key.strip_prefix("COSTFORM_VAR_")
                && let Some(declaration) = self.0.get(name)
            {
                match coerce(&declaration.value, text) {
                    Some(value) => {
                        values.insert(name.to_owned(), value);
                    }
                    None => diagnostics.push(Diagnostic::about(
                        Path::new(key),
                        Severity::Error,
                        code::VARIABLE,
                        mismatch(
                            name,
                            declaration,
                            &Scalar::String(text.clone()),
                            &format!("`{key}`"),
                        ),
                    )),
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
                Some(declaration) => match coerce(&declaration.value, text) {
                    Some(value) => {
                        values.insert(name.clone(), value);
                    }
                    None => diagnostics.push(Diagnostic::about(
                        Path::new("--var"),
                        Severity::Error,
                        code::VARIABLE,
                        mismatch(name, declaration, &Scalar::String(text.clone()), "`--var`"),
                    )),
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
        values
    }

    fn read_var_file(&self, path: &Path, diagnostics: &mut Diagnostics) -> Vec<(String, Scalar)> {
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
        let entries = crate::shape::scalars(&file, "var file", root, diagnostics);
        let mut values = Vec::new();
        for (name, value) in entries.0 {
            if let Some(declaration) = self.0.get(&name.value) {
                if same_type(&declaration.value, &value.value) {
                    values.push((name.value, value.value));
                } else {
                    let from = format!("`{}` line {}", path.display(), value.referenced.line());
                    let message = mismatch(&name.value, declaration, &value.value, &from);
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

/// An override from text (`--var`, `COSTFORM_VAR_*`) takes the type of the
/// declared default; `None` when it does not parse as one, which is an
/// error naming both rather than a text value that fails later inside a
/// template (`add_months("soon")`).
fn coerce(default: &Scalar, text: &str) -> Option<Scalar> {
    match default {
        Scalar::Bool(_) => text.parse().ok().map(Scalar::Bool),
        Scalar::Integer(_) => text.parse().ok().map(Scalar::Integer),
        Scalar::Float(_) => text.parse().ok().map(Scalar::Float),
        Scalar::String(_) => Some(Scalar::String(text.to_owned())),
    }
}

/// Whether a var file's value fits the declared default's type (a whole
/// number is a fine float).
fn same_type(default: &Scalar, value: &Scalar) -> bool {
    matches!(
        (default, value),
        (Scalar::Bool(_), Scalar::Bool(_))
            | (Scalar::Integer(_), Scalar::Integer(_))
            | (Scalar::Float(_), Scalar::Float(_) | Scalar::Integer(_))
            | (Scalar::String(_), Scalar::String(_))
    )
}

fn type_name(value: &Scalar) -> &'static str {
    match value {
        Scalar::Bool(_) => "a boolean",
        Scalar::Integer(_) => "an integer",
        Scalar::Float(_) => "a number",
        Scalar::String(_) => "text",
    }
}

/// "variable `months` is an integer (its default `3` in `a.yaml` line 2),
/// but `--var` gives text `soon`".
fn mismatch(name: &str, declaration: &Declaration, value: &Scalar, from: &str) -> String {
    format!(
        "variable `{name}` is {} (its default `{}` in `{}` line {}), but {from} gives {} `{value}`",
        type_name(&declaration.value),
        declaration.value,
        declaration.file.display(),
        declaration.line,
        type_name(value),
    )
}

fn undeclared(name: &str) -> String {
    format!("variable `{name}` is not declared in any definition file")
}
