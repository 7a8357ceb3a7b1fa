//! The markdown form of a plan, sized for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: a summary table first, details collapsed.

use std::fmt::Write as _;

use costform_model::plan::Plan;

use crate::output::plan_text;
use crate::ui::Ui;

/// GitHub refuses comments over 65,536 characters; stay clearly under.
pub const MAX_CHARS: usize = 65_000;

/// Room kept for the closing lines added after a cut.
const CLOSING_ROOM: usize = 400;

/// The plan as markdown, never longer than [`MAX_CHARS`].
pub fn format(plan: &Plan) -> String {
    format_limited(plan, MAX_CHARS)
}

fn format_limited(plan: &Plan, limit: usize) -> String {
    let mut out = format!(
        "### costform plan\n\n**{}**\n\n{}\n\n",
        plan.summary().sentence(),
        plan_text::header(plan)
    );
    if !plan.waiting.is_empty() {
        let waiting: Vec<String> = plan
            .waiting
            .keys()
            .map(|name| format!("`report.{name}`"))
            .collect();
        let _ = writeln!(
            out,
            "Waiting for lookups never read (`costform plan --refresh` reads them): {}\n",
            waiting.join(", ")
        );
    }
    if plan.is_empty() {
        return out;
    }
    let budget = limit.saturating_sub(CLOSING_ROOM);
    out.push_str("| | report | action | reason | fields changed |\n|---|---|---|---|---|\n");
    let mut shown = 0;
    for change in &plan.changes {
        let reasons = change.reasons_in_words();
        let fields: Vec<String> = change
            .diff
            .iter()
            .map(|diff| format!("`{}`", diff.field))
            .collect();
        let row = format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            change.action.symbol(),
            change.name,
            change.action.verb(),
            reasons,
            fields.join(" ")
        );
        if out.len() + row.len() > budget {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < plan.changes.len() {
        let _ = writeln!(
            out,
            "\n_…and {} more changes, cut to fit a comment; the CI log has the full plan._",
            plan.changes.len() - shown
        );
        return out;
    }
    let details = plan_text::changes(plan, Ui::plain());
    let opening = format!(
        "\n<details><summary>Details ({} {})</summary>\n\n```diff\n",
        plan.changes.len(),
        if plan.changes.len() == 1 {
            "change"
        } else {
            "changes"
        }
    );
    let closing = "```\n\n</details>\n";
    let room = budget.saturating_sub(out.len() + opening.len() + closing.len());
    out.push_str(&opening);
    if details.len() <= room {
        out.push_str(&details);
    } else {
        out.push_str(cut_at_line(&details, room));
        out.push_str("… cut to fit a comment; the CI log has the full plan.\n");
    }
    out.push_str(closing);
    out
}

/// The longest prefix of `text` that ends at a line break and fits `room`.
fn cut_at_line(text: &str, room: usize) -> &str {
    let mut end = room.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(newline) => &text[..=newline],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use costform_model::ids::{OrgId, ReportName};
    use costform_model::plan::{Action, Change, PLAN_FORMAT_VERSION, Reason, StateVersion};
    use costform_model::request::{PlannedRequest, RequestBody};

    use super::*;

    fn plan_with(creates: usize) -> Plan {
        let org = OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").unwrap();
        let changes = (0..creates)
            .map(|index| {
                let mut body = RequestBody::new();
                body.insert("startDate".into(), "2026-10-01".into());
                body.insert("endDate".into(), "2026-11-01".into());
                Change {
                    name: ReportName::parse(&format!("report-{index:05}")).unwrap(),
                    action: Action::Create,
                    reasons: vec![Reason::New],
                    before: None,
                    before_handle: None,
                    after: Some(PlannedRequest::new("cost_explorer", org.clone(), body)),
                    diff: Vec::new(),
                }
            })
            .collect();
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            costform_version: "0.1.0".into(),
            now: "2026-11-26T00:00:00Z".parse().unwrap(),
            definitions_dir: "reports".into(),
            state_path: "reports/costform.state.json".into(),
            state: StateVersion {
                lineage: None,
                serial: 0,
            },
            unchanged: Vec::new(),
            changes,
            lookups: Vec::new(),
            waiting: std::collections::BTreeMap::new(),
        }
    }

    #[test]
    fn a_small_plan_is_shown_whole_with_details() {
        let text = format(&plan_with(3));
        assert!(
            text.starts_with(
                "### costform plan\n\n**Plan: 3 to create, 0 to requery, 0 to forget.**"
            )
        );
        assert!(text.contains("| `+` | `report-00002` | create | new report |  |"));
        assert!(text.contains("<details><summary>Details (3 changes)</summary>"));
        assert!(text.trim_end().ends_with("</details>"));
    }

    #[test]
    fn a_plan_too_big_for_a_comment_is_cut_cleanly() {
        // Details overflow first: the table still fits, the diff block is cut
        // on a line break and closed.
        let text = format(&plan_with(400));
        assert!(text.len() <= MAX_CHARS, "{}", text.len());
        assert!(
            text.contains("| `+` | `report-00399` |"),
            "the whole table fits"
        );
        assert!(text.contains("… cut to fit a comment; the CI log has the full plan."));
        assert!(text.trim_end().ends_with("```\n\n</details>"));

        // Then the table itself is cut, with a count of what was left out.
        let text = format(&plan_with(5_000));
        assert!(text.len() <= MAX_CHARS, "{}", text.len());
        assert!(text.contains("more changes, cut to fit a comment"));
        assert!(!text.contains("<details>"));
    }

    #[test]
    fn cuts_fall_on_line_breaks() {
        assert_eq!(cut_at_line("ab\ncd\nef", 7), "ab\ncd\n");
        assert_eq!(cut_at_line("abcdef", 3), "");
    }
}
