//! The `cost_explorer` report kind: one Cost Explorer usage query
//! (`POST /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage`).
//!
//! It checks what the OpenAPI excerpt states (ids, month-start dates, the
//! `groupBy` enum) so that mistakes surface at `validate`, not as a 400 from
//! Atlas, and writes the body with the keys in a fixed order.

use std::io::Read;

use jiff::civil::Date;
use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::checker::Checker;
use super::{BuildContext, HandleNoun, KeySpec, ReportKind, Shape, cost_explorer_rows};
use crate::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use crate::dates;
use crate::diagnostic::{Diagnostics, Severity, code, did_you_mean};
use crate::handle::Handle;
use crate::ids::{AtlasId, Token};
use crate::raw::{RawReport, id_schema, month_start_schema, or_template};
use crate::request::{PlannedRequest, RequestBody};
use crate::state::ResultFormat;

/// The kind's name in `kind:`.
pub const NAME: &str = "cost_explorer";

/// The report keys a Cost Explorer query takes besides the common ones.
const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "start_date",
        shape: Shape::Text,
        schema: month_start_schema,
        description: "First month of the range, inclusive: the 1st of a month, `YYYY-MM-DD`.",
    },
    KeySpec {
        name: "end_date",
        shape: Shape::Text,
        schema: month_start_schema,
        description: "End of the range, exclusive: the 1st of a month, `YYYY-MM-DD`.",
    },
    KeySpec {
        name: "period",
        shape: Shape::Text,
        schema: period_schema,
        description: "A named range instead of `start_date`/`end_date`, computed from \"now\".",
    },
    KeySpec {
        name: "group_by",
        shape: Shape::Text,
        schema: group_by_schema,
        description: "The dimension the usage is grouped by.",
    },
    KeySpec {
        name: "organizations",
        shape: Shape::List,
        schema: id_list_schema,
        description: "Organization ids to filter on.",
    },
    KeySpec {
        name: "projects",
        shape: Shape::List,
        schema: id_list_schema,
        description: "Project ids to filter on.",
    },
    KeySpec {
        name: "clusters",
        shape: Shape::List,
        schema: id_list_schema,
        description: "Cluster ids to filter on.",
    },
    KeySpec {
        name: "services",
        shape: Shape::List,
        schema: services_schema,
        description: "Atlas SKU service names to filter on (`Clusters`, `Storage`, ...).",
    },
    KeySpec {
        name: "include_partial_matches",
        shape: Shape::Flag,
        schema: flag_schema,
        description: "Whether usage that only partly matches the filters is included (default false).",
    },
];

fn period_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": dates::PERIODS }))
}

fn group_by_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": GROUP_BY }))
}

fn id_list_schema(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "array", "items": id_schema(generator) })
}

fn services_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["array", "null"], "items": { "type": "string" } })
}

fn flag_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["boolean", "null"] })
}

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

/// The handle's one part: the token Atlas returned for the query.
const TOKEN: &str = "token";

/// The handle of a created query: `{"token": ...}`.
pub fn handle(token: &Token) -> Handle {
    Handle::of(&[(TOKEN, token)])
}

/// The token a handle holds, for `GET .../usage/{token}`.
pub fn token(handle: &Handle) -> Result<Token, String> {
    Token::parse(handle.part(TOKEN)?).map_err(|error| error.to_string())
}

/// The Cost Explorer usage query.
pub struct CostExplorer;

impl ReportKind for CostExplorer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn keys(&self) -> &'static [KeySpec] {
        KEYS
    }

    fn handle_noun(&self) -> HandleNoun {
        HandleNoun {
            one: "token",
            many: "tokens",
        }
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
            ("organizations", report.list("organizations")),
            ("projects", report.list("projects")),
            ("clusters", report.list("clusters")),
        ] {
            filters.push((key, check.ids(list)));
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
        if let Some(partial) = report.flag("include_partial_matches") {
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

    fn describe(&self, request: &PlannedRequest) -> String {
        let date = |key| {
            request
                .request
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("?")
        };
        format!("{} .. {}", date("startDate"), date("endDate"))
    }

    fn check_body(&self, body: &RequestBody) -> Vec<String> {
        super::cost_explorer_body::check(body)
    }
}

impl Checker<'_, '_> {
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
        let items = report
            .list("services")
            .into_iter()
            .flat_map(|list| &list.value);
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
        let group_by = report.text("group_by")?;
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
            "organizations" | "projects" | "clusters" => report.list(group_by),
            _ => report.list("services"),
        };
        if filter.is_none_or(|list| list.value.is_empty())
            && let Some(at) = report.text("group_by")
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

    fn date_range(&mut self, report: &RawReport) -> Option<(Date, Date)> {
        if let Some(period) = report.text("period") {
            if let Some(date) = report.text("start_date").or(report.text("end_date")) {
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
        let start = self.month_start(report.text("start_date"), "start_date");
        let end = self.month_start(report.text("end_date"), "end_date");
        let (start, end) = (start?, end?);
        if end <= start {
            let at = report
                .text("end_date")
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
        self.month_start_of(
            value,
            key,
            "set `start_date` and `end_date`, or a `period` such as `last_month`",
            "Cost Explorer ranges are whole months",
        )
    }
}
