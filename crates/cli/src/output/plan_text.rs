//! The Terraform-like text form of a plan, for terminals, CI logs and the
//! `<details>` of the markdown form.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use costform_model::handle::Handle;
use costform_model::kinds::{HandleNoun, handle_noun};
use costform_model::plan::{Action, Change, Plan};
use serde_json::Value;

use crate::ui::Ui;

/// The header line: the resolved now, the state serial and the definitions
/// dir, so a plan in a CI log says exactly what it was computed from.
pub fn header(plan: &Plan) -> String {
    let state = match &plan.state.lineage {
        Some(_) => format!("state serial {}", plan.state.serial),
        None => "no state yet".to_owned(),
    };
    let mut header = format!(
        "costform plan · now {} · {state} · definitions {}",
        plan.now, plan.definitions_dir
    );
    let cached: Vec<String> = plan
        .lookups
        .iter()
        .filter(|lookup| lookup.cached)
        .map(|lookup| format!("lookup.{} read {}", lookup.name, lookup.read_at))
        .collect();
    if !cached.is_empty() {
        let _ = write!(
            header,
            " · offline, with cached lookups (`--refresh` reads them again): {}",
            cached.join(", ")
        );
    }
    let fresh: Vec<String> = plan
        .lookups
        .iter()
        .filter(|lookup| !lookup.cached)
        .map(|lookup| format!("lookup.{}", lookup.name))
        .collect();
    if !fresh.is_empty() {
        let _ = write!(header, " · lookups read from Atlas: {}", fresh.join(", "));
    }
    let never_read: BTreeSet<String> = plan
        .waiting
        .values()
        .flatten()
        .map(|name| format!("lookup.{name}"))
        .collect();
    if !never_read.is_empty() {
        let never_read: Vec<String> = never_read.into_iter().collect();
        let _ = write!(header, " · lookups never read: {}", never_read.join(", "));
    }
    header
}

/// The reports left out because a lookup they read was never read, and
/// how to read it; empty when none wait.
fn waiting(plan: &Plan, ui: Ui) -> String {
    if plan.waiting.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{} {} {} for lookups never read; `costform plan --refresh` reads them, `costform apply` reads them first:\n",
        ui.warn("Waiting:"),
        plan.waiting.len(),
        if plan.waiting.len() == 1 {
            "report waits"
        } else {
            "reports wait"
        }
    );
    for (name, lookups) in &plan.waiting {
        let lookups: Vec<String> = lookups
            .iter()
            .map(|name| format!("lookup.{name}"))
            .collect();
        let _ = writeln!(out, "  report.{name} (reads {})", lookups.join(", "));
    }
    out.push('\n');
    out
}

/// The legend shown above the changes, only for the symbols the plan uses;
/// handles are named as the kinds of the changes shown name them.
fn legend(plan: &Plan, ui: Ui) -> String {
    let mut out = String::from("Actions are shown with these symbols:\n");
    for action in [Action::Create, Action::Requery, Action::Forget] {
        let nouns: BTreeSet<HandleNoun> = plan
            .changes
            .iter()
            .filter(|change| change.action == action)
            .filter_map(|change| change.before.as_ref().or(change.after.as_ref()))
            .map(|request| handle_noun(&request.kind))
            .collect();
        if nouns.is_empty() {
            continue;
        }
        let either = |noun: fn(&HandleNoun) -> &'static str| {
            nouns.iter().map(noun).collect::<Vec<_>>().join(" or ")
        };
        let meaning = match action {
            Action::Create => "create: send a new query".to_owned(),
            Action::Requery => format!(
                "requery: send a new query; its {} replaces the stored one",
                either(|noun| noun.one)
            ),
            Action::Forget => format!(
                "forget: drop from the state (Atlas {} cannot be deleted)",
                either(|noun| noun.many)
            ),
        };
        let _ = writeln!(out, "{} {meaning}", symbol(action, ui));
    }
    out
}

/// The whole plan as text, ending with the summary sentence.
pub fn format(plan: &Plan, ui: Ui) -> String {
    let mut out = format!("{}\n\n", ui.dim(&header(plan)));
    out.push_str(&waiting(plan, ui));
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "{} The definitions match the state: {} {} up to date.",
            ui.success(if plan.waiting.is_empty() {
                "No changes."
            } else {
                "No other changes."
            }),
            plan.unchanged.len(),
            if plan.unchanged.len() == 1 {
                "report is"
            } else {
                "reports are"
            }
        );
        return out;
    }
    out.push_str(&legend(plan, ui));
    out.push_str("\ncostform will perform the following actions:\n\n");
    out.push_str(&changes(plan, ui));
    if !plan.unchanged.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            ui.dim(&format!("  ({} unchanged)", plan.unchanged.len()))
        );
        out.push('\n');
    }
    let _ = writeln!(out, "{}", ui.bold(&plan.summary().sentence()));
    out
}

/// Every change with its fields, without header or summary (also used inside
/// the markdown `<details>`).
pub fn changes(plan: &Plan, ui: Ui) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        write_change(&mut out, change, ui);
        out.push('\n');
    }
    out
}

fn write_change(out: &mut String, change: &Change, ui: Ui) {
    let reasons = change.reasons_in_words();
    let _ = writeln!(
        out,
        "{} {} {}",
        symbol(change.action, ui),
        ui.bold(&change.address()),
        ui.dim(&format!("({reasons})"))
    );
    match change.action {
        Action::Create => {
            if let Some(after) = &change.after {
                // Written straight into `out`: a 10,000-report plan is
                // mostly these lines.
                let plus = paint(Action::Create, "+", ui);
                let _ = writeln!(out, "      {plus} kind: \"{}\"", after.kind);
                let _ = writeln!(out, "      {plus} org_id: \"{}\"", after.org_id);
                for (field, value) in &after.request {
                    let _ = writeln!(out, "      {plus} {field}: {value}");
                }
            }
        }
        Action::Requery => {
            for diff in &change.diff {
                let _ = writeln!(
                    out,
                    "      {} {}: {} -> {}",
                    paint(Action::Requery, "~", ui),
                    diff.field,
                    show(diff.before.as_ref()),
                    show(diff.after.as_ref())
                );
            }
            if let Some(handle) = &change.before_handle {
                let _ = writeln!(
                    out,
                    "        {}",
                    ui.dim(&format!("{} is superseded", abbreviate_handle(handle)))
                );
            }
        }
        Action::Forget => {
            if let Some(handle) = &change.before_handle {
                let _ = writeln!(
                    out,
                    "        {}",
                    ui.dim(&format!(
                        "{} is dropped from the state",
                        abbreviate_handle(handle)
                    ))
                );
            }
        }
    }
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(unset)".to_owned(), Value::to_string)
}

/// A handle's parts, each abbreviated: `token d9ab638a…7d71`, `invoice_id
/// 65f0a1b2…c3d4 report_id …`.
pub fn abbreviate_handle(handle: &Handle) -> String {
    handle
        .parts()
        .map(|(name, value)| format!("{name} {}", abbreviate(value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first and last characters of a token: enough to recognise it in logs.
pub fn abbreviate(token: &str) -> String {
    // By characters, not bytes: a token may be any text Atlas returned, and
    // a byte offset inside a character would print the whole (long) token.
    let count = token.chars().count();
    if count <= 12 {
        return token.to_owned();
    }
    let head: String = token.chars().take(8).collect();
    let tail: String = token.chars().skip(count - 4).collect();
    format!("{head}…{tail}")
}

/// The action's symbol, right-aligned in three columns as Terraform does.
pub fn symbol(action: Action, ui: Ui) -> String {
    paint(action, &format!("{:>3}", action.symbol()), ui)
}

fn paint(action: Action, text: &str, ui: Ui) -> String {
    use owo_colors::OwoColorize;
    if !ui.color {
        return text.to_owned();
    }
    match action {
        Action::Create => text.green().to_string(),
        Action::Requery => text.yellow().to_string(),
        Action::Forget => text.red().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_tokens_are_abbreviated_by_characters() {
        assert_eq!(super::abbreviate("abcdefgh12345678wxyz"), "abcdefgh…wxyz");
        assert_eq!(super::abbreviate("ééééééééééééééééé"), "éééééééé…éééé");
        assert_eq!(super::abbreviate("short"), "short");
    }
}
