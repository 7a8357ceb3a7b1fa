//! Credentials Atlas refused: one error with what to check, instead of the
//! same 401 printed for every report.

use costform_http::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, PRIVATE_API_KEY, PUBLIC_API_KEY};
use costform_planner::RemoteError;

use crate::context::Context;

/// The kinds of credential, each with its variables, in the order the
/// client picks them (a service account's id and secret are one choice).
const CREDENTIALS: &[&[&str]] = &[
    &[ACCESS_TOKEN],
    &[CLIENT_ID, CLIENT_SECRET],
    &[PUBLIC_API_KEY, PRIVATE_API_KEY],
];

/// Whether Atlas refused who we are (401) or what we may see (403): every
/// other report would fail the same way, so per-report lines only repeat it.
pub fn is_refused(error: &RemoteError) -> bool {
    matches!(error.status, Some(401 | 403))
}

/// One error for every report the credentials were refused for, naming the
/// variables that are set (never their values) and where to get working
/// ones; `None` when no report was refused.
pub fn refused<'a>(
    context: &Context,
    errors: impl IntoIterator<Item = &'a RemoteError>,
) -> Option<miette::Report> {
    let refused: Vec<&RemoteError> = errors
        .into_iter()
        .filter(|error| is_refused(error))
        .collect();
    let first = refused.first()?;
    let is_set = |name: &&str| {
        context
            .env
            .get(*name)
            .is_some_and(|value| !value.trim().is_empty())
    };
    let set: Vec<&[&str]> = CREDENTIALS
        .iter()
        .copied()
        .filter(|variables| variables.iter().any(is_set))
        .collect();
    let names = |variables: &[&str]| format!("`{}`", variables.join("` and `"));
    let used = match set.split_first() {
        Some((first, [])) => format!("costform used {}", names(first)),
        Some((first, others)) => format!(
            "costform used {}, which {} precedence over {}, also set",
            names(first),
            if first.len() == 1 { "takes" } else { "take" },
            others
                .iter()
                .map(|variables| names(variables))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        None => "no credential variable is set".to_owned(),
    };
    let fix = if first.status == Some(403) {
        "give the service account or API key the Organization Billing Viewer role"
    } else {
        "check that value, or create a service account in the Atlas UI (Organization > Access Manager > Applications > Service Accounts, role Organization Billing Viewer) and set `MONGODB_ATLAS_CLIENT_ID` and `MONGODB_ATLAS_CLIENT_SECRET`"
    };
    Some(miette::miette!(
        help = format!("{used}; {fix}"),
        "atlas refused the credentials ({} {}): {}",
        refused.len(),
        if refused.len() == 1 {
            "report"
        } else {
            "reports"
        },
        first.message
    ))
}
