//! Saved plans: a plan file is applied exactly as saved, so it must still
//! describe the state it will change.

use std::path::Path;

use costform_model::plan::{Plan, StateVersion};
use costform_model::state::State;

use crate::error::Error;

/// Refuses a saved plan made against another lineage or serial than `state`
/// (`None`: there is no state file), since its changes were computed from
/// entries that may have moved on. `path` is where `state` was read, named in
/// the error so a user can tell a moved state from a wrong path.
pub fn check_not_stale(plan: &Plan, state: Option<&State>, path: &Path) -> Result<(), Error> {
    let now = StateVersion {
        lineage: state.map(|state| state.lineage.clone()),
        serial: state.map_or(0, |state| state.serial),
    };
    if plan.state == now {
        Ok(())
    } else {
        Err(Error::StalePlan {
            path: path.to_owned(),
            plan: plan.state.clone(),
            state: now,
        })
    }
}
