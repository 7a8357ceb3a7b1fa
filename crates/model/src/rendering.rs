//! Rendering one report: its templates, its `for_each` instances, and the
//! request its kind builds from the result. A report that reads a lookup
//! never read waits instead of failing.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_saphyr::{Location, Spanned};

use crate::budget;
use crate::diagnostic::{Diagnostics, SourceFile, code, did_you_mean};
use crate::ids::ReportName;
use crate::kinds::{self, BuildContext};
use crate::load::ReportDefinition;
use crate::lookup::LookupDefinition;
use crate::node::Node;
use crate::raw::RawReport;
use crate::request::PlannedRequest;
use crate::template::Renderer;
use crate::value::Value;

/// What rendering the reports shares, and what it has built so far.
pub(crate) struct Loader<'a> {
    renderer: Renderer,
    variables: &'a BTreeMap<String, Value>,
    lookups: &'a BTreeMap<String, LookupDefinition>,
    now: Timestamp,
    reports: BTreeMap<ReportName, ReportDefinition>,
    waiting: BTreeMap<ReportName, Vec<String>>,
}

impl<'a> Loader<'a> {
    /// A loader rendering with `renderer`, whose lookups are `lookups`.
    pub(crate) fn new(
        renderer: Renderer,
        variables: &'a BTreeMap<String, Value>,
        lookups: &'a BTreeMap<String, LookupDefinition>,
        now: Timestamp,
    ) -> Self {
        Self {
            renderer,
            variables,
            lookups,
            now,
            reports: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// The reports built, and those waiting for a lookup never read.
    pub(crate) fn finish(
        self,
    ) -> (
        BTreeMap<ReportName, ReportDefinition>,
        BTreeMap<ReportName, Vec<String>>,
    ) {
        (self.reports, self.waiting)
    }

    /// Renders and builds one report, or each of its `for_each` instances;
    /// a report reading a lookup never read waits instead.
    pub(crate) fn report(
        &mut self,
        source: &SourceFile,
        name: &Spanned<String>,
        report_name: Option<ReportName>,
        report: RawReport,
        diagnostics: &mut Diagnostics,
    ) {
        let unread = self.unread_lookups(&report);
        if !unread.is_empty() {
            if let Some(report_name) = report_name {
                self.waiting.insert(report_name, unread);
            }
            return;
        }
        self.renderer.set_each(None);
        let Some(for_each) = report.for_each.clone() else {
            self.instance(source, name, report_name, report, diagnostics);
            return;
        };
        let Some(report_name) = report_name else {
            return;
        };
        let Some(instances) = crate::for_each::instances(
            source,
            &report_name,
            &for_each,
            &mut self.renderer,
            diagnostics,
        ) else {
            return;
        };
        // The instances share the report's text: a problem in it is shown
        // once, for the first instance it occurs in.
        let mut shown = BTreeSet::new();
        for instance in instances {
            let address = instance.address;
            self.renderer
                .set_each(Some((&instance.key, &instance.value)));
            let mut found = Diagnostics::default();
            self.instance(
                source,
                name,
                Some(address.clone()),
                report.clone(),
                &mut found,
            );
            for mut diagnostic in found.0 {
                if shown.insert((
                    diagnostic.line,
                    diagnostic.column,
                    diagnostic.message.clone(),
                )) {
                    if diagnostic.is_error() {
                        diagnostic.message = format!("report.{address}: {}", diagnostic.message);
                    }
                    diagnostics.push(diagnostic);
                }
            }
        }
    }

    /// The lookups `report` reads that have no value yet.
    fn unread_lookups(&self, report: &RawReport) -> Vec<String> {
        if self.lookups.values().all(|lookup| lookup.value.is_some()) {
            return Vec::new();
        }
        let for_each = match report.for_each.as_ref().map(|node| &node.value) {
            Some(Node::String(template)) => Some(template.as_str()),
            _ => None,
        };
        let mut copy = report.clone();
        let mut unread: Vec<String> = copy
            .strings_mut()
            .into_iter()
            .map(|value| value.value.as_str())
            .chain(report.list_templates.iter().map(|(_, t)| t.value.as_str()))
            .chain(for_each)
            .flat_map(|source| crate::lookup::named_in(source, self.lookups))
            .filter(|name| self.lookups.get(name).is_some_and(|l| l.value.is_none()))
            .collect();
        unread.sort();
        unread.dedup();
        unread
    }

    /// Renders one report (or instance) and lets its kind build the request.
    fn instance(
        &mut self,
        source: &SourceFile,
        name: &Spanned<String>,
        report_name: Option<ReportName>,
        mut report: RawReport,
        diagnostics: &mut Diagnostics,
    ) {
        if !render(
            source,
            &mut report,
            &mut self.renderer,
            self.variables,
            diagnostics,
        ) {
            return;
        }
        let context = BuildContext {
            file: source,
            name_at: name.referenced,
            now: self.now,
        };
        let planned = build(&report, &context, diagnostics);
        let budget = report
            .budget
            .as_ref()
            .map(|raw| budget::validate(source, &raw.value, diagnostics));
        if let (Some(report_name), Some(planned)) = (report_name, planned) {
            let line = usize::try_from(name.referenced.line()).unwrap_or(0);
            let definition = ReportDefinition {
                name: report_name.clone(),
                file: source.path.clone(),
                line,
                planned,
                budget: budget.flatten(),
            };
            self.reports.insert(report_name, definition);
        }
    }
}

/// Renders every string of `report` in place, and every list key written as
/// a template into the list it renders; false when a template failed.
fn render(
    source: &SourceFile,
    report: &mut RawReport,
    renderer: &mut Renderer,
    variables: &BTreeMap<String, Value>,
    diagnostics: &mut Diagnostics,
) -> bool {
    let mut ok = true;
    for value in report.strings_mut() {
        match renderer.render(&value.value) {
            Ok(output) => value.value = output,
            Err(err) => {
                ok = false;
                let (offset, len) = template_span(source, value.referenced, err.range.as_ref());
                let help =
                    crate::suggest::template(&err.message, variables.keys().map(String::as_str))
                        .or_else(|| {
                            err.message.contains("`each").then(|| {
                        "`each.key` and `each.value` exist only in a report with `for_each:`"
                            .to_owned()
                    })
                        });
                diagnostics.push(
                    source
                        .error(code::TEMPLATE, offset, len, err.message)
                        .with_optional_help(help),
                );
            }
        }
    }
    // After the strings: the items a template renders are values, not
    // templates to render again.
    for (key, template) in std::mem::take(&mut report.list_templates) {
        let items = renderer
            .evaluate(&template.value)
            .map_err(|err| err.message)
            .and_then(|value| {
                crate::template::list_of_strings(&value).map_err(|problem| {
                    format!("`{key}` must be a list, but `{}` {problem}", template.value)
                })
            });
        match items {
            Ok(items) => {
                let (referenced, defined) = (template.referenced, template.defined);
                let items = items
                    .into_iter()
                    .map(|item| Spanned::new(item, referenced, defined))
                    .collect();
                report.set_list(key, Spanned::new(items, referenced, defined));
            }
            Err(message) => {
                ok = false;
                diagnostics.push(source.error_at(code::TEMPLATE, template.referenced, message));
            }
        }
    }
    ok
}

/// Where in the file a template error is: inside the value when the engine
/// gave a range and the scalar is written plainly or quoted without escapes,
/// else the whole value.
fn template_span(
    source: &SourceFile,
    at: Location,
    range: Option<&std::ops::Range<usize>>,
) -> (usize, usize) {
    let (offset, len) = crate::diagnostic::byte_range(at);
    let Some(range) = range else {
        return (offset, len);
    };
    let written = source.text.get(offset..offset + len).unwrap_or_default();
    let quote = usize::from(written.starts_with('"') || written.starts_with('\''));
    let inner_len = len.saturating_sub(2 * quote);
    if range.end <= inner_len {
        (offset + quote + range.start, range.end - range.start)
    } else {
        (offset, len)
    }
}

/// Finds the report's kind and lets it validate and build the request.
fn build(
    report: &RawReport,
    context: &BuildContext<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<PlannedRequest> {
    let kind_name = report
        .kind
        .as_ref()
        .map_or(kinds::DEFAULT_KIND, |kind| kind.value.as_str());
    let Some(kind) = kinds::find(kind_name) else {
        let at = report
            .kind
            .as_ref()
            .map_or(context.name_at, |kind| kind.referenced);
        let help = did_you_mean(kind_name, kinds::names())
            .or_else(|| Some(format!("known kinds: `{}`", kinds::names().join("`, `"))));
        diagnostics.push(
            context
                .file
                .error_at(
                    code::UNKNOWN_KIND,
                    at,
                    format!("unknown report kind `{kind_name}`"),
                )
                .with_optional_help(help),
        );
        return None;
    };
    let mut accepted = true;
    for (key, at) in report.set_keys() {
        if !kind.keys().iter().any(|spec| spec.name == key) {
            accepted = false;
            let message = format!("report kind `{}` does not take `{key}`", kind.name());
            let own: Vec<&str> = kind.keys().iter().map(|spec| spec.name).collect();
            let help = format!("its own keys are `{}`", own.join("`, `"));
            diagnostics.push(
                context
                    .file
                    .error_at(code::UNKNOWN_KEY, at, message)
                    .with_help(help),
            );
        }
    }
    let planned = kind.build(report, context, diagnostics);
    if accepted { planned } else { None }
}
