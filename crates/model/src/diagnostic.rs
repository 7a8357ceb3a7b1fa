//! Validation diagnostics: every problem found in the definition files, with
//! the file, line and column it points at and the source to underline.
//!
//! Validation collects all of them before failing, so a user fixes a whole
//! batch per run instead of one error at a time. The CLI prints them through
//! miette (`fancy`) or as JSON for `validate --format json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceSpan, SpanContents};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_saphyr::Location;

use crate::printable;

/// The most bytes of a message or help printed; a longer one is cut.
const MAX_MESSAGE: usize = 2048;
/// The most bytes underlined; a longer node is underlined from its start.
const MAX_LABEL: usize = 160;
/// The most bytes of context shown either side of the underline on its line.
const CONTEXT_WIDTH: usize = 120;
/// A snippet with a line longer than this is cut down to the window around
/// the underline: YAML is written in short lines, a secret-laden file that
/// is not YAML (`/proc/self/environ`) often is one long line.
const MAX_LINE: usize = 2 * CONTEXT_WIDTH + MAX_LABEL;

/// How bad a diagnostic is: errors stop `validate`/`plan`, warnings are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The definitions cannot be used.
    Error,
    /// Suspicious but usable (the API's rule is unconfirmed or changes over time).
    Warning,
}

/// One problem in a definition file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// The file the problem is in (or the directory, for a missing file).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is about the whole file or directory.
    pub line: usize,
    /// 1-based column; 0 when the problem is about the whole file or directory.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `costform::unknown_key`, for scripts and docs.
    pub code: &'static str,
    /// What is wrong, lower case, values in backticks.
    pub message: String,
    /// How to fix it, when costform can tell.
    pub help: Option<String>,
    /// Other places the problem involves (the first definition of a
    /// duplicate report), as data for editors and CI annotations.
    pub related: Vec<RelatedLocation>,
    /// The underlined bytes and the file they are in.
    source_span: Option<(SourceSpan, Snippet)>,
}

/// A place in a definition file, 1-based like [`Diagnostic`]'s own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelatedLocation {
    /// The file.
    #[serde(serialize_with = "display_path")]
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

fn display_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&printable::escaped(&path.display().to_string()))
}

/// A definition file's name and text, shared by all diagnostics pointing into it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as found in the definitions directory.
    pub path: PathBuf,
    /// The file's text.
    pub text: Arc<str>,
    /// The text as snippets show it: [`printable::masked`], same offsets.
    shown: Arc<str>,
}

impl SourceFile {
    /// Wraps a file's path and text.
    pub fn new(path: PathBuf, text: &str) -> Self {
        let text: Arc<str> = Arc::from(text);
        let shown = match printable::masked(&text) {
            std::borrow::Cow::Borrowed(_) => Arc::clone(&text),
            std::borrow::Cow::Owned(masked) => Arc::from(masked),
        };
        Self { path, text, shown }
    }

    /// A diagnostic underlining `len` bytes at byte `offset` of this file.
    pub fn diagnostic(
        &self,
        severity: Severity,
        code: &'static str,
        offset: usize,
        len: usize,
        message: impl Into<String>,
    ) -> Diagnostic {
        let offset = offset.min(self.text.len());
        let len = len.min(self.text.len() - offset).min(MAX_LABEL);
        let len = char_boundary_below(&self.text, offset + len) - offset;
        let (line, column) = line_column(&self.text, offset);
        let snippet = Snippet {
            name: printable::escaped(&self.path.display().to_string()).into_owned(),
            text: Arc::clone(&self.shown),
        };
        Diagnostic {
            file: self.path.clone(),
            line,
            column,
            severity,
            code,
            message: printable_message(message.into()),
            help: None,
            related: Vec::new(),
            source_span: Some((SourceSpan::new(offset.into(), len), snippet)),
        }
    }

    /// An error underlining `len` bytes at byte `offset`.
    pub fn error(
        &self,
        code: &'static str,
        offset: usize,
        len: usize,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.diagnostic(Severity::Error, code, offset, len, message)
    }

    /// A diagnostic underlining the YAML node at `location`.
    pub fn at(
        &self,
        severity: Severity,
        code: &'static str,
        location: Location,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (offset, len) = byte_range(location);
        self.diagnostic(severity, code, offset, len, message)
    }

    /// An error underlining the YAML node at `location`.
    pub fn error_at(
        &self,
        code: &'static str,
        location: Location,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.at(Severity::Error, code, location, message)
    }
}

/// A file's text as diagnostics show it. Around a long line (a minified
/// file, or something that is not YAML at all, such as `/proc/self/environ`)
/// only a window of [`CONTEXT_WIDTH`] bytes either side of the underline is
/// shown, so a diagnostic never prints a whole file.
#[derive(Debug, Clone)]
struct Snippet {
    name: String,
    text: Arc<str>,
}

impl Snippet {
    /// The bytes shown around `span`: its own lines, cut to the window.
    fn window(&self, span: &SourceSpan) -> std::ops::Range<usize> {
        let text = &*self.text;
        let start = span.offset().min(text.len());
        let end = (start + span.len()).min(text.len());
        let line_start = text[..start].rfind(['\n', '\r']).map_or(0, |at| at + 1);
        let line_end = text[end..]
            .find(['\n', '\r'])
            .map_or(text.len(), |at| end + at);
        let from = char_boundary_below(text, line_start.max(start.saturating_sub(CONTEXT_WIDTH)));
        let to = char_boundary_below(text, line_end.min(end + CONTEXT_WIDTH));
        from..to.max(end)
    }
}

impl miette::SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let full = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let short_lines = full
            .data()
            .split(|byte| matches!(byte, b'\n' | b'\r'))
            .all(|line| line.len() <= MAX_LINE);
        let contents = if short_lines {
            MietteSpanContents::new_named(
                self.name.clone(),
                full.data(),
                *full.span(),
                full.line(),
                full.column(),
                full.line_count(),
            )
        } else {
            let window = self.window(span);
            let at = self
                .text
                .read_span(&SourceSpan::new(window.start.into(), 0), 0, 0)?;
            MietteSpanContents::new_named(
                self.name.clone(),
                &self.text.as_bytes()[window.clone()],
                SourceSpan::new(window.start.into(), window.len()),
                at.line(),
                at.column(),
                self.text[window].matches('\n').count(),
            )
        };
        Ok(Box::new(contents.with_language("yaml")))
    }
}

/// The largest char boundary of `text` at or below `at`.
fn char_boundary_below(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A message or help as printed: unsafe characters escaped, length capped.
fn printable_message(message: String) -> String {
    let escaped = printable::escaped(&message);
    if escaped.len() <= MAX_MESSAGE {
        return match escaped {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
    }
    let cut = char_boundary_below(&escaped, MAX_MESSAGE);
    format!("{}… (cut at {MAX_MESSAGE} bytes)", &escaped[..cut])
}

/// The byte offset and length of a YAML node (files are read as strings, so
/// saphyr always knows them).
pub fn byte_range(location: Location) -> (usize, usize) {
    let span = location.span();
    let offset = span
        .byte_offset()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let len = span
        .byte_len()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    (offset, len)
}

/// The stable diagnostic codes, so tests, docs and scripts agree on them.
pub mod code {
    /// The file is not valid YAML or not shaped like a definition file.
    pub const YAML: &str = "costform::yaml";
    /// A key costform does not know.
    pub const UNKNOWN_KEY: &str = "costform::unknown_key";
    /// The definitions directory holds no definition file.
    pub const NO_DEFINITIONS: &str = "costform::no_definitions";
    /// A file or directory could not be read.
    pub const IO: &str = "costform::io";
    /// A file has no reports.
    pub const NO_REPORTS: &str = "costform::no_reports";
    /// A report name breaks the naming rule.
    pub const INVALID_NAME: &str = "costform::invalid_name";
    /// Two reports share a name.
    pub const DUPLICATE_REPORT: &str = "costform::duplicate_report";
    /// A template failed to compile or render.
    pub const TEMPLATE: &str = "costform::template";
    /// `kind` names no registered report kind.
    pub const UNKNOWN_KIND: &str = "costform::unknown_kind";
    /// A required field is missing.
    pub const MISSING_FIELD: &str = "costform::missing_field";
    /// A date is malformed, not a month start, or the range is empty.
    pub const INVALID_DATE: &str = "costform::invalid_date";
    /// `period` is unknown or combined with explicit dates.
    pub const INVALID_PERIOD: &str = "costform::invalid_period";
    /// An Atlas id is not 24 lowercase hex digits.
    pub const INVALID_ID: &str = "costform::invalid_id";
    /// A value is outside its enum (`group_by`, `refresh`).
    pub const INVALID_VALUE: &str = "costform::invalid_value";
    /// A service name not in the API's list (warning).
    pub const UNKNOWN_SERVICE: &str = "costform::unknown_service";
    /// `group_by` a dimension with no filter values (warning).
    pub const GROUP_BY_WITHOUT_FILTER: &str = "costform::group_by_without_filter";
    /// A variable problem: undeclared override, conflicting defaults.
    pub const VARIABLE: &str = "costform::variable";
    /// A `for_each` problem: not a list or map, duplicate or unusable keys.
    pub const FOR_EACH: &str = "costform::for_each";
    /// A `lookups:` problem: unknown kind, missing org, bad regex.
    pub const LOOKUP: &str = "costform::lookup";
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl Diagnostic {
    /// A diagnostic about a whole file or directory, with nothing to underline.
    pub fn about(
        path: &Path,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            severity,
            code,
            message: printable_message(message.into()),
            help: None,
            related: Vec::new(),
            source_span: None,
        }
    }

    /// Adds how to fix the problem.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(printable_message(help.into()));
        self
    }

    /// Adds a help line when there is one.
    #[must_use]
    pub fn with_optional_help(mut self, help: Option<String>) -> Self {
        self.help = help.map(printable_message);
        self
    }

    /// Adds another place the problem involves.
    #[must_use]
    pub fn with_related(mut self, location: RelatedLocation) -> Self {
        self.related.push(location);
        self
    }

    /// Whether this diagnostic stops the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_span
            .as_ref()
            .map(|(_, source)| source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, _) = self.source_span.as_ref()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some("here".to_owned()), *span),
        )))
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Diagnostic", 8)?;
        out.serialize_field(
            "file",
            &printable::escaped(&self.file.display().to_string()),
        )?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("severity", &self.severity)?;
        out.serialize_field("code", self.code)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("help", &self.help)?;
        out.serialize_field("related", &self.related)?;
        out.end()
    }
}

/// All diagnostics of a load, sorted by file, line and column. As a miette
/// diagnostic it prints a summary and every problem as a related diagnostic.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Sorts by file, line and column, so output is stable and reads top-down.
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors().count();
        let warnings = self.len() - errors;
        match (errors, warnings) {
            (0, w) => write!(f, "{w} warning{} in the definitions", plural(w)),
            (e, 0) => write!(f, "{e} error{} in the definitions", plural(e)),
            (e, w) => write!(
                f,
                "{e} error{} and {w} warning{} in the definitions",
                plural(e),
                plural(w)
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl std::error::Error for Diagnostics {}

impl miette::Diagnostic for Diagnostics {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.has_errors() {
            miette::Severity::Error
        } else {
            miette::Severity::Warning
        })
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.0.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// The closest of `candidates` to a misspelled `input`, as a `did you mean` help.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::jaro_winkler(&input.to_lowercase(), &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        assert_eq!(line_column("ab\ncé: x", 0), (1, 1));
        assert_eq!(line_column("ab\ncé: x", 3), (2, 1));
        assert_eq!(line_column("ab\ncé: x", 8), (2, 5));
    }

    #[test]
    fn suggestions_only_come_for_close_names() {
        assert_eq!(
            did_you_mean("group_bu", ["group_by", "org_id"]).as_deref(),
            Some("did you mean `group_by`?")
        );
        assert_eq!(did_you_mean("zzz", ["group_by", "org_id"]), None);
    }

    fn printed(diagnostic: &Diagnostic) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(200)
            .render_report(&mut out, diagnostic)
            .unwrap();
        out
    }

    /// Issue #11: a file that is one long line (`/proc/self/environ` read as
    /// YAML) is shown as a window around the error, not whole.
    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_underline() {
        let text = format!(
            "{}\u{0}ERROR_HERE{}\u{0}SECRET=marker-7c1e\u{0}",
            "A=1\u{0}".repeat(100),
            "B=2\u{0}".repeat(200)
        );
        let file = SourceFile::new(PathBuf::from("env.yaml"), &text);
        let offset = text.find("ERROR_HERE").unwrap();
        let out = printed(&file.error(code::YAML, offset, 10, "bad"));
        assert!(out.contains("ERROR_HERE"), "{out}");
        assert!(!out.contains("marker-7c1e"), "{out}");
        assert!(
            out.len() < 2 * (2 * CONTEXT_WIDTH + MAX_LABEL) + 500,
            "{out}"
        );
        assert!(out.contains("env.yaml:1:"), "{out}");
    }

    #[test]
    fn a_long_underline_is_cut() {
        let text = format!("key: {}\n", "v".repeat(100_000));
        let file = SourceFile::new(PathBuf::from("a.yaml"), &text);
        let out = printed(&file.error(code::YAML, 5, 100_000, "bad"));
        assert!(
            out.len() < 4 * (2 * CONTEXT_WIDTH + MAX_LABEL) + 500,
            "{}",
            out.len()
        );
    }

    #[test]
    fn control_and_bidi_characters_are_never_printed_raw() {
        let text = "reports:\n  x\u{202e}y:\n    kind: \"a\u{1b}[2Jb\"\n";
        let file = SourceFile::new(PathBuf::from("t\u{1b}.yaml"), text);
        let diagnostic = file
            .error(
                code::UNKNOWN_KIND,
                29,
                10,
                "unknown report kind `a\u{1b}[2Jb`",
            )
            .with_help("not `x\u{202e}y`");
        let out = printed(&diagnostic);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains("\\u{1b}[2Jb"), "{out}");
        let json = serde_json::to_string(&Diagnostics(vec![diagnostic])).unwrap();
        assert!(
            !json.contains('\u{202e}') && !json.contains("\\u001b"),
            "{json}"
        );
    }

    #[test]
    fn json_output_has_one_flat_object_per_diagnostic() {
        let file = SourceFile::new(PathBuf::from("a.yaml"), "reports:\n  x: 1\n");
        let list = Diagnostics(vec![
            file.error("costform::unknown_key", 11, 1, "bad")
                .with_help("fix"),
        ]);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"file": "a.yaml", "line": 2, "column": 3, "severity": "error",
                "code": "costform::unknown_key", "message": "bad", "help": "fix", "related": []}])
        );
    }
}
