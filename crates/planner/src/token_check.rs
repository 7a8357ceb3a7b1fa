//! `plan --refresh`: asks Atlas whether the stored tokens still exist, so the
//! plan can re-query the expired ones. In memory only: plan never writes.
//! (Called a token check in the code: "refresh" is the definitions'
//! `refresh:` policy, one meaning per word.)

use costform_model::ids::ReportName;
use costform_model::state::{State, TokenStatus};
use futures::StreamExt as _;

use crate::remote::{Checked, RemoteError, ResultReader};

/// What a token check learned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCheck {
    /// Tokens Atlas answered 404 for, now marked expired; sorted.
    pub expired: Vec<ReportName>,
    /// Handles Atlas gave up on (a `FAILED` invoice report), now marked
    /// failed, with why; sorted.
    pub failed: Vec<(ReportName, String)>,
    /// Tokens that could not be checked, with why; their status is kept so a
    /// network hiccup never triggers a re-query. Sorted.
    pub unchecked: Vec<(ReportName, RemoteError)>,
}

/// Looks once at every token not already expired or failed, `parallelism`
/// at a time, and marks those Atlas no longer knows as expired in `state`,
/// and those it gave up on as failed.
pub async fn check_tokens<R: ResultReader>(
    state: &mut State,
    reader: &R,
    parallelism: usize,
) -> TokenCheck {
    let live = state
        .reports
        .iter()
        .filter(|(_, entry)| entry.status.is_live());
    let answers: Vec<(ReportName, Result<_, RemoteError>)> = futures::stream::iter(live)
        .map(|(name, entry)| async move { (name.clone(), reader.check(name, entry).await) })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;

    let mut checked = TokenCheck::default();
    for (name, answer) in answers {
        match answer {
            Err(error) if error.is_not_found() => {
                if let Some(entry) = state.reports.get_mut(&name) {
                    entry.status = TokenStatus::Expired;
                }
                checked.expired.push(name);
            }
            Err(error) => checked.unchecked.push((name, error)),
            Ok(Checked::Failed { reason }) => {
                if let Some(entry) = state.reports.get_mut(&name) {
                    entry.status = TokenStatus::Failed;
                }
                checked.failed.push((name, reason));
            }
            Ok(Checked::Live) => {}
        }
    }
    checked.expired.sort();
    checked.failed.sort_by(|a, b| a.0.cmp(&b.0));
    checked.unchecked.sort_by(|a, b| a.0.cmp(&b.0));
    checked
}
