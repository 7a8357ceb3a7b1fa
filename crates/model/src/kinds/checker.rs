//! The checks every report kind makes the same way (`org_id`, `refresh`, a
//! month's first day), pushing diagnostics with file and line as they go. A
//! kind adds its own checks in an `impl Checker` block of its module.

use jiff::civil::Date;
use serde_saphyr::{Location, Spanned};

use super::BuildContext;
use crate::dates;
use crate::diagnostic::{Diagnostics, Severity, code, did_you_mean};
use crate::ids::OrgId;
use crate::raw::RawReport;
use crate::request::Refresh;

/// Checks one report's fields, pushing diagnostics as it goes.
pub(super) struct Checker<'a, 'b> {
    pub context: &'a BuildContext<'b>,
    pub diagnostics: &'a mut Diagnostics,
}

impl Checker<'_, '_> {
    pub fn report(
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

    pub fn error(
        &mut self,
        code: &'static str,
        at: Location,
        message: String,
        help: Option<String>,
    ) {
        self.report(Severity::Error, code, at, message, help);
    }

    pub fn org_id(&mut self, report: &RawReport) -> Option<OrgId> {
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

    pub fn refresh(&mut self, report: &RawReport) -> Refresh {
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

    /// The first day of a month in `key`; `missing` is the help for a
    /// report without it and `whole_months` says why it must be a 1st.
    pub fn month_start_of(
        &mut self,
        value: Option<&Spanned<String>>,
        key: &str,
        missing: &str,
        whole_months: &str,
    ) -> Option<Date> {
        let Some(value) = value else {
            let message = format!("missing `{key}`");
            self.error(
                code::MISSING_FIELD,
                self.context.name_at,
                message,
                Some(missing.to_owned()),
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
            let help = format!("{whole_months}: use `{}`", dates::nearest_month_start(date));
            self.error(code::INVALID_DATE, value.referenced, message, Some(help));
            return None;
        }
        Some(date)
    }
}
