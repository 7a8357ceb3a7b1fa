//! Report kinds: the plugins that turn a rendered report into a request.
//!
//! Each kind lives in its own module and is listed once in `KINDS`. A kind
//! declares its keys ([`KeySpec`]: name, shape, JSON Schema), which the
//! definitions reader, the loader and the schema take from here; the planner
//! only sees the [`PlannedRequest`] a kind builds and the [`Handle`] its
//! adapter returns. Adding a kind touches nothing else in this crate.
//!
//! [`Handle`]: crate::handle::Handle

mod checker;
pub mod cost_explorer;
mod cost_explorer_body;
pub mod cost_explorer_rows;
pub mod focus_report;
pub mod focus_rows;

use std::io::Read;

use jiff::Timestamp;
use schemars::{Schema, SchemaGenerator};
use serde_saphyr::Location;

use crate::cost_rows::{CostRow, CostRowsError, ResultOrigin, collect_rows};
use crate::diagnostic::{Diagnostics, SourceFile};
use crate::raw::RawReport;
use crate::request::{PlannedRequest, RequestBody};
use crate::state::ResultFormat;

/// What a report kind must provide.
pub trait ReportKind: Sync {
    /// The value of `kind:` that selects this kind.
    fn name(&self) -> &'static str;

    /// The report keys this kind takes besides the common ones
    /// ([`crate::raw::COMMON_KEYS`]); any other key set on a report of this
    /// kind is an error.
    fn keys(&self) -> &'static [KeySpec];

    /// What Atlas's handle for a report of this kind is called, for
    /// messages about it ("token expired", "1 invoice report saved"): the
    /// user knows the kind's own word, not "handle".
    fn handle_noun(&self) -> HandleNoun;

    /// Validates a rendered report and builds its request, pushing every
    /// problem found to `diagnostics`; `None` when there was an error.
    fn build(
        &self,
        report: &RawReport,
        context: &BuildContext<'_>,
        diagnostics: &mut Diagnostics,
    ) -> Option<PlannedRequest>;

    /// What a request covers, in a few words, for `show` and summaries: a
    /// Cost Explorer range, a FOCUS report's invoice month.
    fn describe(&self, request: &PlannedRequest) -> String;

    /// The format a ready result of this kind is in, when `asked` is what
    /// the user asked `fetch` for: a kind whose results come in one format
    /// only answers that one.
    fn result_format(&self, asked: ResultFormat) -> ResultFormat {
        asked
    }

    /// Every way `body` differs from what [`ReportKind::build`] writes, for
    /// requests read back from a saved plan that anyone could have edited.
    fn check_body(&self, body: &RequestBody) -> Vec<String>;

    /// Turns a ready result of `request`, as saved in `format`, into cost
    /// rows (the one shape costs, budgets and the database backend read),
    /// handing each to `sink` as it is read: results are large, and the
    /// fetch summary only adds them up.
    fn visit_cost_rows(
        &self,
        origin: &ResultOrigin<'_>,
        request: &PlannedRequest,
        format: ResultFormat,
        body: &mut dyn Read,
        sink: &mut dyn FnMut(CostRow),
    ) -> Result<(), CostRowsError>;

    /// [`ReportKind::visit_cost_rows`], collected.
    fn cost_rows(
        &self,
        origin: &ResultOrigin<'_>,
        request: &PlannedRequest,
        format: ResultFormat,
        body: &mut dyn Read,
    ) -> Result<Vec<CostRow>, CostRowsError> {
        collect_rows(|sink| self.visit_cost_rows(origin, request, format, body, sink))
    }
}

/// One of a kind's report keys.
pub struct KeySpec {
    /// The key as written in YAML.
    pub name: &'static str,
    /// The YAML shape its value must have.
    pub shape: Shape,
    /// Its JSON Schema (templates allowed where strings are).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// What it means, for the schema's description.
    pub description: &'static str,
}

/// A kind's word for its handle, singular and plural.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HandleNoun {
    /// "token", "invoice report".
    pub one: &'static str,
    /// "tokens", "invoice reports".
    pub many: &'static str,
}

impl HandleNoun {
    /// The word for a kind this build does not know (a state written by a
    /// newer costform).
    const UNKNOWN_KIND: Self = Self {
        one: "handle",
        many: "handles",
    };

    /// `count` handles in words: "1 token", "2 invoice reports".
    pub fn count(self, count: usize) -> String {
        format!("{count} {}", if count == 1 { self.one } else { self.many })
    }
}

/// The word for the handle of a report of kind `kind`.
pub fn handle_noun(kind: &str) -> HandleNoun {
    find(kind).map_or(HandleNoun::UNKNOWN_KIND, ReportKind::handle_noun)
}

/// The shape of a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string (maybe a template).
    Text,
    /// `true` or `false`.
    Flag,
    /// A list of strings.
    List,
}

/// Every registered kind's keys, in registry order (a key several kinds
/// take appears once, with the first kind's spec).
pub fn all_keys() -> impl Iterator<Item = &'static KeySpec> {
    let mut seen = Vec::new();
    KINDS
        .iter()
        .flat_map(|kind| kind.keys())
        .filter(move |key| {
            let new = !seen.contains(&key.name);
            seen.push(key.name);
            new
        })
}

/// The spec of a kind's key, whichever kind declares it.
pub fn key(name: &str) -> Option<&'static KeySpec> {
    all_keys().find(|key| key.name == name)
}

/// Where a report is and when it is rendered, for building and diagnostics.
pub struct BuildContext<'a> {
    /// The file the report is in.
    pub file: &'a SourceFile,
    /// Where the report's name is, for problems about the report as a whole.
    pub name_at: Location,
    /// The resolved "now".
    pub now: Timestamp,
}

/// The registry: one line per kind.
static KINDS: &[&dyn ReportKind] = &[&cost_explorer::CostExplorer, &focus_report::FocusReport];

/// The kind used when a report does not say.
pub const DEFAULT_KIND: &str = cost_explorer::NAME;

/// Looks a kind up by name.
pub fn find(name: &str) -> Option<&'static dyn ReportKind> {
    KINDS.iter().copied().find(|kind| kind.name() == name)
}

/// Every registered kind's name, for the schema and did-you-mean hints.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|kind| kind.name()).collect()
}
