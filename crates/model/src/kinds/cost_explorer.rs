//! The `cost_explorer` report kind: one Cost Explorer usage query
//! (`POST /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage`).
//!
//! It checks what the OpenAPI excerpt states (ids, month-start dates, the
//! `groupBy` enum) so that mistakes surface at `validate`, not as a 400 from
//! Atlas, and writes the body with the keys in a fixed order.

use std::io::Read;

use jiff::civil::Date;
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use super::{BuildContext, ReportKind, cost_explorer_rows};
use crate::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use crate::dates;
use crate::diagnostic::{Diagnostics, Severity, code, did_you_mean};
use crate::ids::{AtlasId, OrgId};
use crate::raw::RawReport;
use crate::request::{PlannedRequest, Refresh, RequestBody};
use crate::state::ResultFormat;

/// The kind's name in `kind:`.
pub const NAME: &str = "cost_explorer";

/// The `groupBy` values Atlas accepts.
pub const GROUP_BY: &[&str] = &["organizations", "projects", "clusters", "services"];

/// The service names in the API's enum today. The list changes in place, so
/// a name outside it is only a warning.
pub const SERVICES: &[&str] = &[
    "Atlas",
    "Clusters",
    "Storage",
    "Serverless Instances",
    "Backup",
    "Data Transfer",
    "BI Connector",
    "DSC Compute",
    "DSC Storage",
    "Premium Features",
    "Atlas Data Federation",
    "Atlas Stream Processing",
    "App Services",
    "Charts",
    "Cloud Manager",
    "Cloud Manager Standard/Premium",
    "Legacy Backup",
    "AI Model APIs",
    "Automated Embedding",
    "Native Reranking",
    "Flex Consulting",
    "Support",
    "Credits",
];

/// The Cost Explorer usage query.
pub struct CostExplorer;

impl ReportKind for CostExplorer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn keys(&self) -> &'static [&'static str] {
        crate::raw::REPORT_KEYS
    }

    fn visit_cost_rows(
        &self,
        origin: &ResultOrigin<'_>,
        request: &PlannedRequest,
        format: ResultFormat,
        body: &mut dyn Read,
        sink: &mut dyn FnMut(CostRow),
    ) -> Result<(), CostRowsError> {
        let group_by = request.request.get("groupBy").and_then(Value::as_str);
        match format {
            ResultFormat::Json => cost_explorer_rows::visit_json(origin, group_by, body, sink),
            ResultFormat::Csv => cost_explorer_rows::visit_csv(origin, group_by, body, sink),
        }
    }

    fn build(
        &self,
        report: &RawReport,
        context: &BuildContext<'_>,
        diagnostics: &mut Diagnostics,
    ) -> Option<PlannedRequest> {
        let errors_before = diagnostics.errors().count();
        let mut check = Checker {
            context,
            diagnostics,
        };
        let org_id = check.org_id(report);
        let range = check.date_range(report);
        let group_by = check.group_by(report);
        let refresh = check.refresh(report);
        let mut filters = Vec::new();
        for (key, list) in [
            ("organizations", &report.organizations),
            ("projects", &report.projects),
            ("clusters", &report.clusters),
        ] {
            filters.push((key, check.ids(list.as_ref())));
        }
        let services = check.services(report);
        if let Some(group_by) = group_by {
            check.group_by_has_filter(report, group_by);
        }
        if diagnostics.errors().count() > errors_before {
            return None;
        }
        let (org_id, (start, end)) = (org_id?, range?);

        let mut body = RequestBody::new();
        body.insert("startDate".to_owned(), Value::from(start.to_string()));
        body.insert("endDate".to_owned(), Value::from(end.to_string()));
        if let Some(group_by) = group_by {
            body.insert("groupBy".to_owned(), Value::from(group_by));
        }
        if let Some(partial) = &report.include_partial_matches {
            body.insert(
                "includePartialMatches".to_owned(),
                Value::from(partial.value),
            );
        }
        for (key, ids) in filters.into_iter().chain([("services", services)]) {
            if !ids.is_empty() {
                body.insert(key.to_owned(), Value::from(ids));
            }
        }
        let mut planned = PlannedRequest::new(NAME, org_id, body);
        planned.covers_open_month = end > dates::start_of_month(dates::today(context.now));
        planned.refresh = refresh;
        Some(planned)
    }

    fn check_body(&self, body: &RequestBody) -> Vec<String> {
        super::cost_explorer_body::check(body)
    }
}

/// Checks one report's fields, pushing diagnostics as it goes.
struct Checker<'a, 'b> {
    context: &'a BuildContext<'b>,
    diagnostics: &'a mut Diagnostics,
}

impl Checker<'_, '_> {
    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        at: Location,
        message: String,
        help: Option<String>,
    ) {
        let diagnostic = self
            .context
            .file
            .at(severity, code, at, message)
            .with_optional_help(help);
        self.diagnostics.push(diagnostic);
    }

    fn error(&mut self, code: &'static str, at: Location, message: String, help: Option<String>) {
        self.report(Severity::Error, code, at, message, help);
    }

    fn org_id(&mut self, report: &RawReport) -> Option<OrgId> {
        let Some(org_id) = &report.org_id else {
            let help = "set `org_id:` on the report or under `defaults:`".to_owned();
            self.error(
                code::MISSING_FIELD,
                self.context.name_at,
                "missing `org_id`".to_owned(),
                Some(help),
            );
            return None;
        };
        OrgId::parse(&org_id.value)
            .map_err(|err| self.error(code::INVALID_ID, org_id.referenced, err.to_string(), None))
            .ok()
    }

    fn ids(&mut self, list: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
        let items = list.into_iter().flat_map(|list| &list.value);
        let mut ids = Vec::new();
        for item in items {
            match AtlasId::parse(&item.value) {
                Ok(id) => ids.push(String::from(id)),
                Err(err) => self.error(code::INVALID_ID, item.referenced, err.to_string(), None),
            }
        }
        ids
    }

    fn services(&mut self, report: &RawReport) -> Vec<String> {
        let items = report.services.iter().flat_map(|list| &list.value);
        let mut services = Vec::new();
        for item in items {
            if !SERVICES.contains(&item.value.as_str()) {
                let message = format!("`{}` is not a service name Atlas documents", item.value);
                let help = did_you_mean(&item.value, SERVICES.iter().copied());
                self.report(
                    Severity::Warning,
                    code::UNKNOWN_SERVICE,
                    item.referenced,
                    message,
                    help,
                );
            }
            services.push(item.value.clone());
        }
        services
    }

    fn group_by(&mut self, report: &RawReport) -> Option<&'static str> {
        let group_by = report.group_by.as_ref()?;
        let found = GROUP_BY
            .iter()
            .copied()
            .find(|known| *known == group_by.value);
        if found.is_none() {
            let message = format!("`{}` is not a `group_by` dimension", group_by.value);
            let help = did_you_mean(&group_by.value, GROUP_BY.iter().copied())
                .or_else(|| Some(format!("use one of `{}`", GROUP_BY.join("`, `"))));
            self.error(code::INVALID_VALUE, group_by.referenced, message, help);
        }
        found
    }

    fn group_by_has_filter(&mut self, report: &RawReport, group_by: &str) {
        let filter = match group_by {
            "organizations" => &report.organizations,
            "projects" => &report.projects,
            "clusters" => &report.clusters,
            _ => &report.services,
        };
        if filter.as_ref().is_none_or(|list| list.value.is_empty())
            && let Some(at) = &report.group_by
        {
            let message = format!("`group_by: {group_by}` with no `{group_by}` filter values");
            let help = format!(
                "Atlas says a dimension needs at least one filter value to be used; list the `{group_by}` to include"
            );
            self.report(
                Severity::Warning,
                code::GROUP_BY_WITHOUT_FILTER,
                at.referenced,
                message,
                Some(help),
            );
        }
    }

    fn refresh(&mut self, report: &RawReport) -> Refresh {
        match report
            .refresh
            .as_ref()
            .map(|refresh| (refresh.value.as_str(), refresh.referenced))
        {
            None | Some(("never", _)) => Refresh::Never,
            Some(("until_closed", _)) => Refresh::UntilClosed,
            Some((other, at)) => {
                let message = format!("`{other}` is not a `refresh` policy");
                let help = did_you_mean(other, ["never", "until_closed"])
                    .or_else(|| Some("use `never` or `until_closed`".to_owned()));
                self.error(code::INVALID_VALUE, at, message, help);
                Refresh::Never
            }
        }
    }

    fn date_range(&mut self, report: &RawReport) -> Option<(Date, Date)> {
        if let Some(period) = &report.period {
            if let Some(date) = report.start_date.as_ref().or(report.end_date.as_ref()) {
                let message = "`period` cannot be combined with `start_date`/`end_date`".to_owned();
                let help = "keep either `period` or the two dates".to_owned();
                self.error(code::INVALID_PERIOD, date.referenced, message, Some(help));
                return None;
            }
            let range = dates::period_range(&period.value, self.context.now);
            if range.is_none() {
                let message = format!("`{}` is not a `period`", period.value);
                let help = crate::suggest::period(&period.value, dates::PERIODS)
                    .or_else(|| Some(format!("use one of `{}`", dates::PERIODS.join("`, `"))));
                self.error(code::INVALID_PERIOD, period.referenced, message, help);
            }
            return range;
        }
        let start = self.month_start(report.start_date.as_ref(), "start_date");
        let end = self.month_start(report.end_date.as_ref(), "end_date");
        let (start, end) = (start?, end?);
        if end <= start {
            let at = report
                .end_date
                .as_ref()
                .map_or(self.context.name_at, |end| end.referenced);
            let message = format!("`end_date` `{end}` is not after `start_date` `{start}`");
            let help = format!(
                "`end_date` is exclusive: use `{}` for a one-month range",
                dates::add_months(start, 1).unwrap_or(start)
            );
            self.error(code::INVALID_DATE, at, message, Some(help));
            return None;
        }
        Some((start, end))
    }

    fn month_start(&mut self, value: Option<&Spanned<String>>, key: &str) -> Option<Date> {
        let Some(value) = value else {
            let message = format!("missing `{key}`");
            let help =
                "set `start_date` and `end_date`, or a `period` such as `last_month`".to_owned();
            self.error(
                code::MISSING_FIELD,
                self.context.name_at,
                message,
                Some(help),
            );
            return None;
        };
        let date = match dates::parse_date(&value.value) {
            Ok(date) => date,
            Err(message) => {
                self.error(
                    code::INVALID_DATE,
                    value.referenced,
                    format!("`{key}`: {message}"),
                    None,
                );
                return None;
            }
        };
        if date.day() != 1 {
            let message = format!("`{key}` `{date}` is not the first day of a month");
            let help = format!(
                "Cost Explorer ranges are whole months: use `{}`",
                dates::nearest_month_start(date)
            );
            self.error(code::INVALID_DATE, value.referenced, message, Some(help));
            return None;
        }
        Some(date)
    }
}
