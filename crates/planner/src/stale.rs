//! Saved plans: a plan file is applied exactly as saved, so it must still
//! describe the state it will change.

use costform_model::plan::{Plan, StateVersion};
use costform_model::state::State;

use crate::error::Error;

/// Refuses a saved plan made against another lineage or serial than `state`
/// (`None`: there is no state yet), since its changes were computed from
/// entries that may have moved on. `location` is where `state` was read
/// (a path, or a backend's location), named in the error so a user can tell
/// a moved state from a wrong one.
pub fn check_not_stale(plan: &Plan, state: Option<&State>, location: &str) -> Result<(), Error> {
    let now = StateVersion {
        lineage: state.map(|state| state.lineage.clone()),
        serial: state.map_or(0, |state| state.serial),
    };
    if plan.state == now {
        Ok(())
    } else {
        Err(Error::StalePlan {
            location: location.to_owned(),
            plan: plan.state.clone(),
            state: now,
        })
    }
}
