//! The `focus_report` report kind: an invoice's daily charges as a FOCUS
//! CSV, the FinOps industry's format
//! (`POST /api/atlas/v2/orgs/{orgId}/invoices/{invoiceId}/reports`).
//!
//! A definition names an organization and a month; the invoice id is looked
//! up at apply (plan stays offline), and Atlas answers with a report id. The
//! request keeps the month as `invoiceMonth` beside the body Atlas is sent,
//! so that the month is part of the request's identity: a new month is a new
//! report.

use std::io::Read;

use jiff::civil::Date;
use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::Value;

use super::checker::Checker;
use super::{BuildContext, HandleNoun, KeySpec, ReportKind, Shape, focus_rows};
use crate::cost_rows::{CostRow, CostRowsError, ResultOrigin};
use crate::dates;
use crate::diagnostic::{Diagnostics, code};
use crate::handle::Handle;
use crate::ids::AtlasId;
use crate::raw::{RawReport, month_start_schema};
use crate::request::{PlannedRequest, RequestBody};
use crate::state::ResultFormat;

/// The kind's name in `kind:`.
pub const NAME: &str = "focus_report";

/// The report keys a FOCUS report takes besides the common ones.
const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "invoice_month",
        shape: Shape::Text,
        schema: month_start_schema,
        description: "`focus_report`: the invoice's month, the 1st of a month (`YYYY-MM-01`).",
    },
    KeySpec {
        name: "format_spec_version",
        shape: Shape::Text,
        schema: version_schema,
        description: "`focus_report`: the FOCUS specification version of the file (Atlas's default when unset).",
    },
];

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "minLength": 1 })
}

/// The request key that selects the invoice; not part of the body sent.
const INVOICE_MONTH: &str = "invoiceMonth";

/// The handle's parts: the invoice the report was made for, and the report.
const INVOICE_ID: &str = "invoice_id";
const REPORT_ID: &str = "report_id";

/// The FOCUS invoice report.
pub struct FocusReport;

/// The handle of a created report.
pub fn handle(invoice_id: &AtlasId, report_id: &AtlasId) -> Handle {
    Handle::of(&[(INVOICE_ID, invoice_id), (REPORT_ID, report_id)])
}

/// The invoice and report ids of a handle, for `GET .../reports/{reportId}`.
pub fn ids(handle: &Handle) -> Result<(AtlasId, AtlasId), String> {
    let id = |name| {
        let text = handle.part(name)?;
        AtlasId::parse(text).map_err(|error| format!("`{name}`: {error}"))
    };
    Ok((id(INVOICE_ID)?, id(REPORT_ID)?))
}

/// The month whose invoice the request is for.
pub fn invoice_month(request: &PlannedRequest) -> Result<Date, String> {
    let text = request
        .request
        .get(INVOICE_MONTH)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the request has no `{INVOICE_MONTH}`"))?;
    dates::parse_date(text)
}

/// The body Atlas is sent: the request without the month.
pub fn report_request(request: &PlannedRequest) -> RequestBody {
    let mut body = request.request.clone();
    body.remove(INVOICE_MONTH);
    body
}

impl ReportKind for FocusReport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn keys(&self) -> &'static [KeySpec] {
        KEYS
    }

    fn handle_noun(&self) -> HandleNoun {
        HandleNoun {
            one: "invoice report",
            many: "invoice reports",
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
        let month = check.month_start_of(
            report.text("invoice_month"),
            "invoice_month",
            "set `invoice_month:`, e.g. `\"{{ today | start_of_month | add_months(-1) }}\"` for last month",
            "an invoice covers a whole month",
        );
        let refresh = check.refresh(report);
        if let Some(version) = report.text("format_spec_version")
            && version.value.trim().is_empty()
        {
            let help = "remove `format_spec_version` for Atlas's default".to_owned();
            check.error(
                code::INVALID_VALUE,
                version.referenced,
                "`format_spec_version` is empty".to_owned(),
                Some(help),
            );
        }
        if diagnostics.errors().count() > errors_before {
            return None;
        }
        let (org_id, month) = (org_id?, month?);

        let mut body = RequestBody::new();
        body.insert(INVOICE_MONTH.to_owned(), Value::from(month.to_string()));
        body.insert("reportType".to_owned(), Value::from("FOCUS"));
        body.insert("reportFormat".to_owned(), Value::from("CSV"));
        if let Some(version) = report.text("format_spec_version") {
            body.insert(
                "formatSpecVersion".to_owned(),
                Value::from(version.value.clone()),
            );
        }
        let mut planned = PlannedRequest::new(NAME, org_id, body);
        planned.covers_open_month = month >= dates::start_of_month(dates::today(context.now));
        planned.refresh = refresh;
        Some(planned)
    }

    fn describe(&self, request: &PlannedRequest) -> String {
        invoice_month(request).map_or_else(
            |_| "invoice ?".to_owned(),
            |month| format!("invoice {}", &month.to_string()[..7]),
        )
    }

    fn result_format(&self, _asked: ResultFormat) -> ResultFormat {
        ResultFormat::Csv
    }

    fn check_body(&self, body: &RequestBody) -> Vec<String> {
        let mut problems = Vec::new();
        for key in body.keys() {
            if ![
                INVOICE_MONTH,
                "reportType",
                "reportFormat",
                "formatSpecVersion",
            ]
            .contains(&key.as_str())
            {
                problems.push(format!("`{key}` is not a FOCUS report request key"));
            }
        }
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        match text(INVOICE_MONTH).map(dates::parse_date) {
            Some(Ok(month)) if month.day() == 1 => {}
            _ => problems.push(format!("`{INVOICE_MONTH}` is not the 1st of a month")),
        }
        if text("reportType") != Some("FOCUS") {
            problems.push("`reportType` is not `FOCUS`".to_owned());
        }
        if text("reportFormat") != Some("CSV") {
            problems.push("`reportFormat` is not `CSV`".to_owned());
        }
        if body
            .get("formatSpecVersion")
            .is_some_and(|version| version.as_str().is_none_or(|v| v.trim().is_empty()))
        {
            problems.push("`formatSpecVersion` is not a version".to_owned());
        }
        problems
    }

    fn visit_cost_rows(
        &self,
        origin: &ResultOrigin<'_>,
        _request: &PlannedRequest,
        _format: ResultFormat,
        body: &mut dyn Read,
        sink: &mut dyn FnMut(CostRow),
    ) -> Result<(), CostRowsError> {
        focus_rows::visit_focus_csv(origin, body, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> PlannedRequest {
        let Value::Object(body) = body else {
            unreachable!()
        };
        let org = crate::ids::OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").unwrap();
        PlannedRequest::new(NAME, org, body)
    }

    #[test]
    fn the_month_selects_the_invoice_and_is_not_sent() {
        let planned = request(
            serde_json::json!({"invoiceMonth": "2026-10-01", "reportType": "FOCUS", "reportFormat": "CSV"}),
        );
        assert_eq!(invoice_month(&planned).unwrap().to_string(), "2026-10-01");
        let sent = report_request(&planned);
        assert_eq!(
            Value::Object(sent),
            serde_json::json!({"reportType": "FOCUS", "reportFormat": "CSV"})
        );
        assert_eq!(FocusReport.describe(&planned), "invoice 2026-10");
        assert!(FocusReport.check_body(&planned.request).is_empty());
    }

    #[test]
    fn an_edited_body_is_named() {
        let planned = request(
            serde_json::json!({"invoiceMonth": "2026-10-02", "reportType": "PDF", "reportFormat": "CSV", "x": 1}),
        );
        let problems = FocusReport.check_body(&planned.request).join("\n");
        for expected in ["`x`", "`invoiceMonth`", "`reportType`"] {
            assert!(problems.contains(expected), "{problems}");
        }
    }

    #[test]
    fn the_handle_holds_both_ids() {
        let invoice = AtlasId::parse("aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        let report = AtlasId::parse("bbbbbbbbbbbbbbbbbbbbbbbb").unwrap();
        let handle = handle(&invoice, &report);
        assert_eq!(ids(&handle).unwrap(), (invoice, report));
        let token = Handle::new([("token", "t".to_owned())]).unwrap();
        assert!(ids(&token).unwrap_err().contains("invoice_id"));
    }
}
