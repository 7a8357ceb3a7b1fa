//! Loading the definitions directory: read every file, resolve variables,
//! render templates, check each report with its kind, and collect every
//! diagnostic before deciding whether the definitions are usable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_saphyr::Spanned;

use crate::budget::Budget;
use crate::diagnostic::{Diagnostic, Diagnostics, RelatedLocation, Severity, SourceFile, code};
use crate::ids::{InvalidId, ReportName};
use crate::lookup::{LookupCache, LookupDefinition};
use crate::node::Node;
use crate::parse::MAX_FILE_BYTES;
use crate::raw::RawDefinitionFile;
use crate::rendering::Loader;
use crate::request::PlannedRequest;
use crate::template::Renderer;
use crate::variables::Declarations;

/// Everything `load` needs from the command line and the environment; the CLI
/// resolves it so the model never reads the process state itself.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The definitions directory.
    pub dir: PathBuf,
    /// The resolved "now" (`--now`, `COSTFORM_NOW` or the clock).
    pub now: Timestamp,
    /// `--var NAME=VALUE`, in command-line order.
    pub vars: Vec<(String, String)>,
    /// `--var-file`, in command-line order.
    pub var_files: Vec<PathBuf>,
    /// A snapshot of the process environment.
    pub env: BTreeMap<String, String>,
    /// `--allow-env NAME`: extra names templates may read with `env()`.
    pub allow_env: Vec<String>,
    /// The lookups' values known so far (the state's cache, or just read
    /// from Atlas), by lookup name; a lookup without one keeps the reports
    /// that read it waiting.
    pub lookups: BTreeMap<String, LookupCache>,
}

impl LoadOptions {
    /// Options for `dir` at `now` with no overrides.
    pub fn new(dir: impl Into<PathBuf>, now: Timestamp) -> Self {
        Self {
            dir: dir.into(),
            now,
            vars: Vec::new(),
            var_files: Vec::new(),
            env: BTreeMap::new(),
            allow_env: Vec::new(),
            lookups: BTreeMap::new(),
        }
    }
}

/// The validated definitions: every report's rendered request.
#[derive(Debug, Clone)]
pub struct Definitions {
    /// The directory they were read from.
    pub dir: PathBuf,
    /// The "now" the templates were rendered with.
    pub now: Timestamp,
    /// The reports by name; a `for_each` report by instance address.
    pub reports: BTreeMap<ReportName, ReportDefinition>,
    /// The lookups, by name, with the values the reports were rendered with.
    pub lookups: BTreeMap<String, LookupDefinition>,
    /// Reports not rendered because a lookup they read was never read from
    /// Atlas, with those lookups' names.
    pub waiting: BTreeMap<ReportName, Vec<String>>,
    /// Problems worth showing that do not stop the run.
    pub warnings: Diagnostics,
}

/// One validated report.
#[derive(Debug, Clone)]
pub struct ReportDefinition {
    /// The report's name.
    pub name: ReportName,
    /// The file defining it.
    pub file: PathBuf,
    /// The line of its name in that file.
    pub line: usize,
    /// The request it renders to.
    pub planned: PlannedRequest,
    /// The spend limits `costform check` holds its results to.
    pub budget: Option<Budget>,
}

/// A parsed file waiting for variables to be resolved.
struct ParsedFile {
    source: SourceFile,
    raw: RawDefinitionFile,
}

/// Reads, renders and validates every definition file in `options.dir`.
/// On failure the diagnostics hold every error and warning, sorted.
pub fn load(options: &LoadOptions) -> Result<Definitions, Diagnostics> {
    load_counting(options).0
}

/// [`load`], and how many reports the files held (well-shaped entries under
/// `reports:`, valid or not), which `validate --format json` reports even
/// when some have errors.
pub fn load_counting(options: &LoadOptions) -> (Result<Definitions, Diagnostics>, usize) {
    let mut diagnostics = Diagnostics::default();
    let mut parsed = Vec::new();
    let mut declarations = Declarations::default();
    let files = read_definition_files(&options.dir, &mut diagnostics);
    for (source, raw, problems) in parse_files(files) {
        diagnostics.0.extend(problems.0);
        if let Some(raw) = raw {
            declarations.declare(&source, &raw.variables, &mut diagnostics);
            parsed.push(ParsedFile { source, raw });
        }
    }
    let variables = declarations.resolve(
        &options.vars,
        &options.var_files,
        &options.env,
        &mut diagnostics,
    );
    let mut renderer = Renderer::new(options.now, &variables, &options.env, &options.allow_env);
    let lookups = lookups(&parsed, &mut renderer, &options.lookups, &mut diagnostics);
    renderer.set_lookups(&lookups);
    let read = parsed
        .iter()
        .map(|file| file.raw.reports.value.0.len())
        .sum();

    let mut loader = Loader::new(renderer, &variables, &lookups, options.now);
    let mut seen: BTreeMap<String, RelatedLocation> = BTreeMap::new();
    for ParsedFile { source, raw } in parsed {
        let defaults = raw.defaults.unwrap_or_default();
        for (name, report) in raw.reports.value.0 {
            // A bad or duplicate name does not stop the report's body from
            // being checked: every problem is reported in one run.
            let report_name = check_name(&source, &name, &mut seen, &mut diagnostics);
            let report = report.merged_with(&defaults);
            loader.report(&source, &name, report_name, report, &mut diagnostics);
        }
    }

    diagnostics.sort();
    if diagnostics.has_errors() {
        return (Err(diagnostics), read);
    }
    let (reports, waiting) = loader.finish();
    let definitions = Definitions {
        dir: options.dir.clone(),
        now: options.now,
        reports,
        lookups,
        waiting,
        warnings: diagnostics,
    };
    (Ok(definitions), read)
}

/// At most this many threads parse definition files.
const MAX_PARSE_THREADS: usize = 8;

/// A file parsed and shaped on its own, with its problems.
type ShapedFile = (SourceFile, Option<RawDefinitionFile>, Diagnostics);

/// Parses and shapes `files`, in their order, on up to one thread per core:
/// YAML parsing is most of what `validate` and `plan` spend, and each file
/// is parsed on its own (variables and names are checked across files
/// afterwards).
fn parse_files(files: Vec<(PathBuf, String)>) -> Vec<ShapedFile> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(MAX_PARSE_THREADS)
        .min(files.len());
    if threads <= 1 {
        return files.into_iter().map(parse_file).collect();
    }
    let per_thread = files.len().div_ceil(threads);
    let mut files = files.into_iter();
    let chunks: Vec<Vec<_>> = std::iter::from_fn(|| {
        let chunk: Vec<_> = files.by_ref().take(per_thread).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
    .collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| chunk.into_iter().map(parse_file).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One file parsed and shaped.
fn parse_file((path, text): (PathBuf, String)) -> ShapedFile {
    let mut diagnostics = Diagnostics::default();
    let source = SourceFile::new(path, &text);
    let root = crate::parse::parse_yaml::<Spanned<Node>>(&source, &mut diagnostics);
    let raw = root.and_then(|root| crate::shape::definition_file(&source, root, &mut diagnostics));
    (source, raw, diagnostics)
}

/// Renders and checks every file's `lookups:`, names unique across files.
fn lookups(
    parsed: &[ParsedFile],
    renderer: &mut Renderer,
    known: &BTreeMap<String, LookupCache>,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, LookupDefinition> {
    let mut lookups: BTreeMap<String, LookupDefinition> = BTreeMap::new();
    for ParsedFile { source, raw } in parsed {
        for (name, lookup) in &raw.lookups.0 {
            if let Some(first) = lookups.get(&name.value) {
                let message = already_defined("lookup", &name.value, &first.file, first.line);
                let help = "lookup names are unique across all definition files: rename one";
                diagnostics.push(
                    source
                        .error_at(code::LOOKUP, name.referenced, message)
                        .with_help(help),
                );
                continue;
            }
            let cached = known.get(&name.value);
            if let Some(definition) =
                crate::lookup::validate(source, name, lookup, renderer, cached, diagnostics)
            {
                lookups.insert(name.value.clone(), definition);
            }
        }
    }
    lookups
}

/// Every `*.yaml`/`*.yml` directly in `dir`, not hidden, sorted by name.
fn read_definition_files(dir: &Path, diagnostics: &mut Diagnostics) -> Vec<(PathBuf, String)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            let message = format!(
                "cannot read definitions directory `{}`: {err}",
                dir.display()
            );
            diagnostics.push(
                Diagnostic::about(dir, Severity::Error, code::IO, message).with_help(dir_help()),
            );
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_definition_file(path))
        .collect();
    paths.sort();
    if paths.is_empty() {
        let message = format!(
            "no definition files (`*.yaml`, `*.yml`) in `{}`",
            dir.display()
        );
        diagnostics.push(
            Diagnostic::about(dir, Severity::Error, code::NO_DEFINITIONS, message)
                .with_help(dir_help()),
        );
    }
    let inside = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut files = Vec::new();
    for path in paths {
        match read_definition_file(&path, &inside) {
            Ok(text) => files.push((path, text)),
            Err(message) => {
                diagnostics.push(Diagnostic::about(&path, Severity::Error, code::IO, message));
            }
        }
    }
    files
}

/// Reads one definition file, refusing without reading it a symbolic link
/// that leads out of the definitions directory (`inside`, canonical): a link
/// to `/proc/self/environ` or `~/.aws/credentials` in a pull request would
/// otherwise be printed back as a diagnostic snippet. A file over
/// [`MAX_FILE_BYTES`] is refused before it is read into memory.
fn read_definition_file(path: &Path, inside: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if is_link {
        let target = std::fs::canonicalize(path)
            .map_err(|err| format!("cannot resolve `{}`: {err}", path.display()))?;
        if !target.starts_with(inside) {
            return Err(format!(
                "`{}` is a symbolic link to `{}`, outside the definitions directory `{}`: refused without reading it",
                path.display(),
                target.display(),
                inside.display()
            ));
        }
    }
    let cannot_read = |err: std::io::Error| format!("cannot read `{}`: {err}", path.display());
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let too_large = |size: u64| {
        format!(
            "`{}` is `{size}` bytes; a definition file is at most `{MAX_FILE_BYTES}` bytes (16 MiB): split it into several files",
            path.display()
        )
    };
    let size = file.metadata().map_err(cannot_read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    // The size can change between the check and the read: read one byte
    // more than allowed, never the whole of a growing file.
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(cannot_read)?;
    let read = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if read > MAX_FILE_BYTES {
        return Err(too_large(read));
    }
    Ok(text)
}

fn dir_help() -> String {
    "point `--dir` (or `COSTFORM_DIR`) at your definitions; the `examples/` folder has some to start from".to_owned()
}

fn is_definition_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or_default();
    !name.starts_with('.')
        && (extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml"))
        && path.metadata().is_ok_and(|meta| meta.is_file())
}

/// Checks a report's name and that no other file or entry used it.
fn check_name(
    source: &SourceFile,
    name: &Spanned<String>,
    seen: &mut BTreeMap<String, RelatedLocation>,
    diagnostics: &mut Diagnostics,
) -> Option<ReportName> {
    let parsed = ReportName::parse(&name.value).and_then(|parsed| match parsed.key() {
        None => Ok(parsed),
        Some(_) => Err(InvalidId {
            value: name.value.clone(),
            expected: ReportName::EXPECTED,
        }),
    });
    let report_name = match parsed {
        Ok(report_name) => report_name,
        Err(err) => {
            diagnostics.push(source.error_at(code::INVALID_NAME, name.referenced, err.to_string()));
            return None;
        }
    };
    if let Some(first) = seen.get(&name.value) {
        let message = already_defined("report", &name.value, &first.file, first.line);
        let help =
            "report names are unique across all definition files: rename one of them".to_owned();
        diagnostics.push(
            source
                .error_at(code::DUPLICATE_REPORT, name.referenced, message)
                .with_help(help)
                .with_related(first.clone()),
        );
        return None;
    }
    let at = |n: u64| usize::try_from(n).unwrap_or(0);
    let first = RelatedLocation {
        file: source.path.clone(),
        line: at(name.referenced.line()),
        column: at(name.referenced.column()),
    };
    seen.insert(name.value.clone(), first);
    Some(report_name)
}

/// "report `x` is already defined in `a.yaml` line 3".
fn already_defined(what: &str, name: &str, file: &Path, line: usize) -> String {
    format!(
        "{what} `{name}` is already defined in `{}` line {line}",
        file.display()
    )
}
