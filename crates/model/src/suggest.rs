//! Hints for the mistakes people coming from other tools make: a template
//! left unquoted, a misspelt filter or variable, a period named the way
//! another tool names it. Each returns a `help:` line or nothing.

use crate::diagnostic::did_you_mean;

/// The filters a template may use: costform's date filters and the
/// minijinja built-ins people reach for in a date expression.
const FILTERS: &[&str] = &[
    "start_of_month",
    "start_of_quarter",
    "start_of_year",
    "add_days",
    "add_months",
    "add_years",
    "date",
    "default",
    "lower",
    "upper",
    "replace",
    "trim",
    "string",
    "int",
    "length",
];

/// Periods as other tools name them, and the `period:` that means the same.
const PERIOD_ALIASES: &[(&str, &str)] = &[
    ("last_quarter", "last_3_months"),
    ("previous_quarter", "last_3_months"),
    ("last_90_days", "last_3_months"),
    ("last_half_year", "last_6_months"),
    ("last_180_days", "last_6_months"),
    ("last_365_days", "last_12_months"),
    ("previous_month", "last_month"),
    ("prior_month", "last_month"),
    ("current_month", "this_month"),
    ("month_to_date", "this_month"),
    ("mtd", "this_month"),
    ("ytd", "year_to_date"),
    ("current_year", "year_to_date"),
    ("previous_year", "last_year"),
];

/// The `period:` a user most likely meant: a known alias first (no spelling
/// is close to `last_quarter`), then the nearest spelling.
pub fn period(input: &str, periods: &[&str]) -> Option<String> {
    let lower = input.to_ascii_lowercase();
    PERIOD_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, period)| format!("did you mean `{period}`?"))
        .or_else(|| did_you_mean(input, periods.iter().copied()))
}

/// A hint for a template error: the nearest filter for an unknown one, the
/// nearest variable for an undefined `var.NAME`.
pub fn template<'a>(message: &str, variables: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if message.contains("unknown filter") {
        let name = unknown_filter_name(message)?;
        return did_you_mean(name, FILTERS.iter().copied());
    }
    let name = message.split('`').nth(1)?.strip_prefix("var.")?;
    if !message.contains("is undefined") {
        return None;
    }
    let known: Vec<&str> = variables.into_iter().collect();
    did_you_mean(name, known.iter().copied())
        .map(|help| help.replacen("did you mean `", "did you mean `var.", 1))
        .or_else(|| {
            Some(if known.is_empty() {
                format!("declare `{name}` under `variables:` with a default")
            } else {
                format!("declared variables: `var.{}`", known.join("`, `var."))
            })
        })
}

/// The filter minijinja names in "... filter NAME is unknown".
fn unknown_filter_name(message: &str) -> Option<&str> {
    let after = message.rsplit_once("filter ")?.1;
    after.split_whitespace().next()
}

/// A hint for a YAML error on a line holding an unquoted template: YAML
/// reads `{{ today }}` as a mapping (a flow mapping inside a flow mapping),
/// so the fix is quotes, not a template change.
pub fn unquoted_template(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
    let end = text[offset..]
        .find('\n')
        .map_or(text.len(), |at| offset + at);
    let line = text.get(start..end)?.trim();
    let (key, value) = line.split_once(':')?;
    let value = value.trim();
    let key = key.trim().trim_start_matches("- ");
    if !(value.starts_with("{{") || value.starts_with("{%")) {
        return None;
    }
    let shown: String = value.chars().take(60).collect();
    Some(format!(
        "quote the template, or YAML reads it as a mapping: `{key}: \"{shown}\"`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_named_as_elsewhere_get_costforms_name() {
        let periods = ["last_month", "last_3_months", "this_month"];
        assert_eq!(
            period("last_quarter", &periods).as_deref(),
            Some("did you mean `last_3_months`?")
        );
        assert_eq!(
            period("last_mnth", &periods).as_deref(),
            Some("did you mean `last_month`?")
        );
        assert_eq!(period("fortnight", &periods), None);
    }

    #[test]
    fn template_errors_get_the_nearest_filter_or_variable() {
        assert_eq!(
            template(
                "template error: unknown filter: filter start_of_mnth is unknown",
                []
            )
            .as_deref(),
            Some("did you mean `start_of_month`?")
        );
        assert_eq!(
            template(
                "template error: `var.month` is undefined",
                ["months", "org"]
            )
            .as_deref(),
            Some("did you mean `var.months`?")
        );
        assert_eq!(
            template("template error: `var.zzz` is undefined", ["months"]).as_deref(),
            Some("declared variables: `var.months`")
        );
        assert_eq!(
            template("template error: `tody` is undefined", ["months"]),
            None
        );
    }

    #[test]
    fn an_unquoted_template_is_told_to_quote() {
        let text = "reports:\n  a:\n    start_date: {{ today }}\n";
        let offset = text.find("{{").unwrap();
        assert_eq!(
            unquoted_template(text, offset).as_deref(),
            Some(
                "quote the template, or YAML reads it as a mapping: `start_date: \"{{ today }}\"`"
            )
        );
        assert_eq!(unquoted_template("a: \"{{ x }}\"\n", 3), None);
    }
}
