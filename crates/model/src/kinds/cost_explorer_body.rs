//! Checking a Cost Explorer request body read back from a saved plan: the
//! same rules [`super::cost_explorer`] applies while building one, stated on
//! the JSON it writes, so an edited plan cannot send what `validate` would
//! have refused.

use serde_json::Value;

use super::cost_explorer::GROUP_BY;
use crate::dates;
use crate::ids::AtlasId;
use crate::request::RequestBody;

/// The keys `build` writes, in its order.
const KEYS: &str =
    "startDate endDate groupBy includePartialMatches organizations projects clusters services";

/// Every problem with `body`, in key order; empty when `build` could have
/// written it.
pub fn check(body: &RequestBody) -> Vec<String> {
    let mut problems: Vec<String> = body
        .keys()
        .filter(|key| !KEYS.split(' ').any(|known| known == key.as_str()))
        .map(|key| format!("unknown body field `{key}`"))
        .collect();
    let start = month_start(body, "startDate", &mut problems);
    let end = month_start(body, "endDate", &mut problems);
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        problems.push(format!(
            "`endDate` `{end}` is not after `startDate` `{start}`"
        ));
    }
    if let Some(group_by) = body.get("groupBy")
        && !group_by
            .as_str()
            .is_some_and(|value| GROUP_BY.contains(&value))
    {
        problems.push(format!("`groupBy` {group_by} is not a dimension"));
    }
    if body
        .get("includePartialMatches")
        .is_some_and(|value| !value.is_boolean())
    {
        problems.push("`includePartialMatches` is not `true` or `false`".to_owned());
    }
    for key in ["organizations", "projects", "clusters"] {
        for item in strings(body, key, &mut problems) {
            if let Err(error) = AtlasId::parse(item) {
                problems.push(format!("`{key}`: {error}"));
            }
        }
    }
    strings(body, "services", &mut problems);
    problems
}

fn month_start(
    body: &RequestBody,
    key: &str,
    problems: &mut Vec<String>,
) -> Option<jiff::civil::Date> {
    let Some(text) = body.get(key).and_then(Value::as_str) else {
        problems.push(format!("missing or non-text `{key}`"));
        return None;
    };
    match dates::parse_date(text) {
        Ok(date) if date.day() == 1 => Some(date),
        Ok(date) => {
            problems.push(format!("`{key}` `{date}` is not the first day of a month"));
            None
        }
        Err(message) => {
            problems.push(format!("`{key}`: {message}"));
            None
        }
    }
}

/// The strings of a list field (absent is an empty list).
fn strings<'a>(body: &'a RequestBody, key: &str, problems: &mut Vec<String>) -> Vec<&'a str> {
    match body.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        Some(_) => {
            problems.push(format!("`{key}` is not a list of strings"));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_build_writes_has_no_problem() {
        let written: RequestBody = serde_json::from_str(
            r#"{"startDate":"2026-10-01","endDate":"2026-11-01","groupBy":"services","services":["Clusters"],"projects":["65a1b2c3d4e5f6a7b8c9d0e1"]}"#,
        )
        .unwrap();
        assert_eq!(check(&written), Vec::<String>::new());
    }

    #[test]
    fn edited_bodies_are_named_field_by_field() {
        let edited: RequestBody = serde_json::from_str(
            r#"{"startDate":"1999-01-15","endDate":"1998-01-01","groupBy":"teams","extra":1,"projects":["nope"]}"#,
        )
        .unwrap();
        let problems = check(&edited);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert_eq!(problems[0], "unknown body field `extra`");
        assert!(
            problems[1].contains("not the first day of a month"),
            "{problems:#?}"
        );
        assert!(problems[2].contains("`groupBy` \"teams\""), "{problems:#?}");
    }
}
