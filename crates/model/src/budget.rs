//! `budget:` on a report: the spend limits `costform check` holds results
//! to. Read here from the YAML as written (numbers kept as their text, so a
//! limit of `1000.10` is exactly that), and validated with file and line
//! like every other key.
//!
//! ```yaml
//! budget:
//!   monthly_limit: 25000          # total per month, in the report's currency
//!   max_increase_percent: 20      # latest closed month vs the month before
//!   groups:                       # per group id or name
//!     65a1b2c3d4e5f6a7b8c9d0e1: { monthly_limit: 8000 }
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostics, SourceFile, code};
use crate::node::{Node, scalar_text};
use crate::shape::unknown_key;

/// The keys of `budget:`.
const BUDGET_KEYS: &[&str] = &["monthly_limit", "max_increase_percent", "groups"];

/// The keys of one group's budget.
const GROUP_KEYS: &[&str] = &["monthly_limit"];

/// `budget:` as written.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawBudget {
    /// The most a month may cost in total, in the report's currency.
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub monthly_limit: Option<Spanned<String>>,
    /// The most the latest closed month may grow over the month before, in
    /// percent.
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub max_increase_percent: Option<Spanned<String>>,
    /// Limits per group, keyed by the group's id or name.
    #[schemars(with = "BTreeMap<String, RawGroupBudget>")]
    pub groups: Vec<(Spanned<String>, Option<Spanned<String>>)>,
}

/// One group's limit as written.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawGroupBudget {
    /// The most a month may cost for this group.
    #[schemars(range(min = 0))]
    pub monthly_limit: Option<f64>,
}

/// A validated budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// The most a month may cost in total.
    pub monthly_limit: Option<Decimal>,
    /// The most the latest closed month may grow over the one before, in percent.
    pub max_increase_percent: Option<Decimal>,
    /// The most a month may cost per group, by group id or name.
    pub groups: BTreeMap<String, Decimal>,
}

/// Reads `budget:` from its YAML node; problems of shape go to
/// `diagnostics`, and the budget is dropped when it has any.
pub(crate) fn read(
    file: &SourceFile,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Option<Spanned<RawBudget>> {
    let (referenced, defined) = (node.referenced, node.defined);
    let entries = mapping(file, "budget", node, diagnostics)?;
    let mut budget = RawBudget::default();
    let errors_before = diagnostics.errors().count();
    for (key, value) in entries {
        match key.value.as_str() {
            "monthly_limit" => budget.monthly_limit = number(file, &key.value, &value, diagnostics),
            "max_increase_percent" => {
                budget.max_increase_percent = number(file, &key.value, &value, diagnostics);
            }
            "groups" => {
                for (group, limits) in
                    mapping(file, "groups", value, diagnostics).unwrap_or_default()
                {
                    let what = format!("groups.{}", group.value);
                    let mut limit = None;
                    for (key, value) in
                        mapping(file, &what, limits, diagnostics).unwrap_or_default()
                    {
                        if key.value == "monthly_limit" {
                            limit = number(file, &key.value, &value, diagnostics);
                        } else {
                            diagnostics.push(unknown_key(file, &key, GROUP_KEYS));
                        }
                    }
                    budget.groups.push((group, limit));
                }
            }
            _ => diagnostics.push(unknown_key(file, &key, BUDGET_KEYS)),
        }
    }
    (diagnostics.errors().count() == errors_before)
        .then(|| Spanned::new(budget, referenced, defined))
}

/// Checks the limits' values: numbers, not negative.
pub(crate) fn validate(
    file: &SourceFile,
    raw: &RawBudget,
    diagnostics: &mut Diagnostics,
) -> Option<Budget> {
    let errors_before = diagnostics.errors().count();
    let mut amount = |key: &str, value: &Option<Spanned<String>>| {
        let value = value.as_ref()?;
        match value.value.trim().parse::<Decimal>() {
            Ok(amount) if amount.is_sign_negative() && !amount.is_zero() => {
                let message = format!("`{key}` must not be negative, found `{}`", value.value);
                diagnostics.push(
                    file.error_at(code::INVALID_VALUE, value.referenced, message)
                        .with_help("write a limit of 0 or more"),
                );
                None
            }
            Ok(amount) => Some(amount),
            Err(_) => {
                let message = format!("`{key}` must be a number, found `{}`", value.value);
                diagnostics.push(
                    file.error_at(code::INVALID_VALUE, value.referenced, message)
                        .with_help("write a plain number such as `25000` or `1250.50`"),
                );
                None
            }
        }
    };
    let budget = Budget {
        monthly_limit: amount("monthly_limit", &raw.monthly_limit),
        max_increase_percent: amount("max_increase_percent", &raw.max_increase_percent),
        groups: raw
            .groups
            .iter()
            .filter_map(|(group, limit)| {
                let limit = amount(&format!("groups.{}.monthly_limit", group.value), limit)?;
                Some((group.value.clone(), limit))
            })
            .collect(),
    };
    (diagnostics.errors().count() == errors_before).then_some(budget)
}

fn mapping(
    file: &SourceFile,
    what: &str,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<(Spanned<String>, Spanned<Node>)>> {
    match node.value {
        Node::Mapping(entries) => Some(entries),
        Node::Null => Some(Vec::new()),
        other => {
            let message = format!("`{what}` must be a mapping, found {}", other.shape());
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            None
        }
    }
}

fn number(
    file: &SourceFile,
    key: &str,
    node: &Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Option<Spanned<String>> {
    match (&node.value, scalar_text(file, node)) {
        (Node::Null, _) => None,
        (Node::Integer(_) | Node::Float(_) | Node::String(_), Some(text)) => {
            Some(Spanned::new(text, node.referenced, node.defined))
        }
        _ => {
            let message = format!("`{key}` must be a number, found {}", node.value.shape());
            diagnostics.push(file.error_at(code::YAML, node.referenced, message));
            None
        }
    }
}
