//! Report kinds: the plugins that turn a rendered report into a request.
//!
//! Each kind lives in its own module and is listed once in `KINDS`; the
//! loader and the planner only see the [`PlannedRequest`] a kind builds, so
//! adding a kind (say, invoice CSVs) touches nothing else.

pub mod cost_explorer;
mod cost_explorer_body;
pub mod cost_explorer_rows;
pub mod focus_rows;

use std::io::Read;

use jiff::Timestamp;
use serde_saphyr::Location;

use crate::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use crate::diagnostic::{Diagnostics, SourceFile};
use crate::raw::RawReport;
use crate::request::{PlannedRequest, RequestBody};
use crate::state::ResultFormat;

/// What a report kind must provide.
pub trait ReportKind: Sync {
    /// The value of `kind:` that selects this kind.
    fn name(&self) -> &'static str;

    /// The report keys this kind takes; any other key set on a report of this
    /// kind is an error.
    fn keys(&self) -> &'static [&'static str];

    /// Validates a rendered report and builds its request, pushing every
    /// problem found to `diagnostics`; `None` when there was an error.
    fn build(
        &self,
        report: &RawReport,
        context: &BuildContext<'_>,
        diagnostics: &mut Diagnostics,
    ) -> Option<PlannedRequest>;

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
        let mut rows = Vec::new();
        self.visit_cost_rows(origin, request, format, body, &mut |row| rows.push(row))?;
        Ok(rows)
    }
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
static KINDS: &[&dyn ReportKind] = &[&cost_explorer::CostExplorer];

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
