//! The markdown rendering of a plan, sized for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: a summary table first, details collapsed.

use std::fmt::Write as _;

use costform_model::plan::Plan;

use crate::render::plan_text;
use crate::ui::Ui;

/// GitHub refuses comments over 65,536 characters; stay clearly under.
pub const MAX_CHARS: usize = 65_000;

/// Room kept for the closing lines added after a cut.
const CLOSING_ROOM: usize = 400;

/// The plan as markdown, never longer than [`MAX_CHARS`].
pub fn render(plan: &Plan) -> String {
    render_limited(plan, MAX_CHARS)
}

fn render_limited(plan: &Plan, limit: usize) -> String {
    let mut out = format!(
        "### costform plan\n\n**{}**\n\n{}\n\n",
        plan.summary().sentence(),
        plan_text::header(plan)
    );
    if plan.is_empty() {
        return out;
    }
    let budget = limit.saturating_sub(CLOSING_ROOM);
    out.push_str("| | report | action | reason | fields changed |\n|---|---|---|---|---|\n");
    let mut shown = 0;
    for change in &plan.changes {
        let reasons: Vec<&str> = change
            .reasons
            .iter()
            .map(|reason| reason.describe())
            .collect();
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
            reasons.join(", "),
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
    use super::*;

    #[test]
    fn cuts_fall_on_line_breaks() {
        assert_eq!(cut_at_line("ab\ncd\nef", 7), "ab\ncd\n");
        assert_eq!(cut_at_line("abcdef", 3), "");
    }
}
