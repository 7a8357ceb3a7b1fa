//! Request-body and path validation, written from the OpenAPI excerpt on its own
//! (not shared with costform-model) so that the client and the emulator keep
//! each other honest.
//!
//! Documented choices: every violation of `CostExplorerFilterRequestBody` (types,
//! `format: date`, enums, id patterns, required fields) and the two documented
//! rules the schema cannot express (dates on the 1st of a month, `endDate` after
//! `startDate`) answer 400 `VALIDATION_ERROR` listing every field at once.
//! Unknown top-level fields answer 400 `INVALID_JSON_ATTRIBUTE`, so a client
//! that misspells a field learns it instead of getting a silently wider query.
//! A body that is not a JSON object answers 400 `INVALID_JSON`. A `groupBy`
//! dimension with an empty filter list is accepted (the API's rule is unconfirmed).

use axum::http::StatusCode;
use jiff::civil::Date;
use serde_json::Value;

use crate::api_error::{ApiError, FieldViolation};

/// The `services` enum of `CostExplorerFilterRequestBody`, copied from the excerpt.
pub const SERVICES: [&str; 23] = [
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

/// The `groupBy` enum.
pub(crate) const GROUP_BY: [&str; 4] = ["organizations", "projects", "clusters", "services"];

const KNOWN_FIELDS: [&str; 8] = [
    "startDate",
    "endDate",
    "groupBy",
    "includePartialMatches",
    "organizations",
    "projects",
    "clusters",
    "services",
];

/// Whether `text` matches `^([a-f0-9]{24})$`.
pub(crate) fn is_atlas_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The orgId path parameter check: 400 `INVALID_PARAMETER` naming `orgId`.
pub(crate) fn validate_org_id(org_id: &str) -> Result<(), ApiError> {
    if is_atlas_id(org_id) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "INVALID_PARAMETER",
            vec![FieldViolation::new(
                "orgId",
                "must be a 24-hexadecimal digit string matching ^([a-f0-9]{24})$",
            )],
        ))
    }
}

/// The token path parameter check: the spec's `minLength`/`maxLength` 64
/// (counted in characters); 400 `INVALID_PARAMETER` naming `token`.
pub(crate) fn validate_token(token: &str) -> Result<(), ApiError> {
    if token.chars().count() == 64 {
        Ok(())
    } else {
        Err(ApiError::validation(
            "INVALID_PARAMETER",
            vec![FieldViolation::new(
                "token",
                "must be the 64-character token the create-query answer returned",
            )],
        ))
    }
}

/// Parses an RFC 3339 `full-date` (`YYYY-MM-DD`, a real calendar date).
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let year = text[0..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..10].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// A request body as JSON, or the 400 `INVALID_JSON` Atlas answers.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            format!("the request body is not valid JSON: {error}"),
        )
    })
}

/// Checks a create-query body; `Err` carries every problem found.
pub(crate) fn validate_body(body: &Value) -> Result<(), ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::validation(
            "INVALID_JSON",
            vec![FieldViolation::new("body", "must be a JSON object")],
        ));
    };
    let unknown: Vec<FieldViolation> = object
        .keys()
        .filter(|key| !KNOWN_FIELDS.contains(&key.as_str()))
        .map(|key| FieldViolation::new(key.clone(), "is not a known attribute"))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::validation("INVALID_JSON_ATTRIBUTE", unknown));
    }

    let mut violations = Vec::new();
    let start = month_start(body, "startDate", &mut violations);
    let end = month_start(body, "endDate", &mut violations);
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.push(FieldViolation::new("endDate", "must be after startDate"));
    }
    if let Some(group_by) = body.get("groupBy")
        && !group_by
            .as_str()
            .is_some_and(|value| GROUP_BY.contains(&value))
    {
        violations.push(FieldViolation::new(
            "groupBy",
            format!("must be one of {}", GROUP_BY.join(", ")),
        ));
    }
    if body
        .get("includePartialMatches")
        .is_some_and(|value| !value.is_boolean())
    {
        violations.push(FieldViolation::new(
            "includePartialMatches",
            "must be a boolean",
        ));
    }
    for field in ["organizations", "projects", "clusters"] {
        check_items(
            body,
            field,
            &mut violations,
            is_atlas_id,
            "must match ^([a-f0-9]{24})$",
        );
    }
    check_items(
        body,
        "services",
        &mut violations,
        |name| SERVICES.contains(&name),
        "must be one of the Atlas SKU services of the API spec",
    );

    if violations.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation("VALIDATION_ERROR", violations))
    }
}

/// A required date field that must be a real date on the 1st of a month.
fn month_start(body: &Value, field: &str, violations: &mut Vec<FieldViolation>) -> Option<Date> {
    let problem = match body.get(field) {
        None => "is required",
        Some(Value::String(text)) => match parse_date(text) {
            Some(date) if date.day() == 1 => return Some(date),
            Some(_) => "must be the first day of a month",
            None => "must be a date formatted as YYYY-MM-DD",
        },
        Some(_) => "must be a string formatted as YYYY-MM-DD",
    };
    violations.push(FieldViolation::new(field, problem));
    None
}

/// An optional array field whose items must be strings accepted by `valid`.
fn check_items(
    body: &Value,
    field: &str,
    violations: &mut Vec<FieldViolation>,
    valid: impl Fn(&str) -> bool,
    description: &str,
) {
    match body.get(field) {
        None => {}
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                if !item.as_str().is_some_and(&valid) {
                    violations.push(FieldViolation::new(
                        format!("{field}[{index}]"),
                        description,
                    ));
                }
            }
        }
        Some(_) => violations.push(FieldViolation::new(field, "must be an array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_strictly_shaped() {
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2024-1-01").is_none());
        assert!(parse_date("20240101").is_none());
        assert!(parse_date("2024-01-01T00:00:00Z").is_none());
        assert!(parse_date("２０２４-01-01").is_none());
    }

    #[test]
    fn every_problem_is_listed() {
        let body =
            serde_json::json!({"startDate": "2024-01-15", "groupBy": "teams", "projects": ["x"]});
        let error = validate_body(&body).expect_err("invalid body");
        let fields: Vec<_> = error.fields.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["startDate", "endDate", "groupBy", "projects[0]"]);
    }
}
