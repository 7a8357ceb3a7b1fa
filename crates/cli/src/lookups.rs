//! Lookups at run time: which values the definitions are rendered with.
//!
//! An offline `plan` renders them with the values the state caches (and its
//! header says so); `plan --refresh` and `apply` read every lookup from
//! Atlas first and render with those. `apply` then keeps what it read in
//! the state, for the next offline plan.

use std::collections::BTreeMap;

use costform_model::ids::ReportName;
use costform_model::lookup::LookupCache;
use costform_model::plan::{LookupUse, Plan};
use costform_model::state::State;
use costform_model::{Definitions, LoadOptions};
use jiff::Timestamp;
use miette::miette;

use crate::context::{Context, Strictness};

/// Definitions rendered with the lookups, and the lookups read this run.
pub struct Loaded {
    /// The validated definitions; reports reading a lookup without a value wait.
    pub definitions: Definitions,
    /// The lookups read from Atlas by this run (empty when offline).
    pub read: BTreeMap<String, LookupCache>,
}

impl Loaded {
    /// Records in `plan` which lookup values it was made with, and which
    /// reports wait for a lookup never read.
    pub fn describe(&self, plan: &mut Plan) {
        plan.lookups = self
            .definitions
            .lookups
            .values()
            .filter_map(|lookup| {
                let value = lookup.value.as_ref()?;
                Some(LookupUse {
                    name: lookup.name.clone(),
                    read_at: value.read_at,
                    cached: !self.read.contains_key(&lookup.name),
                })
            })
            .collect();
        plan.waiting.clone_from(&self.definitions.waiting);
    }
}

/// Loads the definitions with the state's cached lookups, or, with
/// `refresh`, with every lookup read from Atlas.
pub async fn load(
    context: &Context,
    strictness: Strictness,
    state: Option<&State>,
    refresh: bool,
) -> miette::Result<Loaded> {
    let mut options = offline_options(context, state);
    let definitions = costform_model::load(&options).map_err(miette::Report::new)?;
    if !refresh || definitions.lookups.is_empty() {
        let definitions = context.show_warnings(definitions, strictness)?;
        return Ok(Loaded {
            definitions,
            read: BTreeMap::new(),
        });
    }
    let read = read_all(context, &definitions).await?;
    options.lookups.clone_from(&read);
    let definitions = context.load_definitions_from(&options, strictness)?;
    Ok(Loaded { definitions, read })
}

/// Loads the definitions offline, with the lookups the state caches, for
/// commands that never call Atlas (`validate`, `render`).
pub fn load_offline(context: &Context, strictness: Strictness) -> miette::Result<Definitions> {
    // The state only lends its cached lookups here: one that cannot be read
    // (a database out of reach from a pull request's job) leaves them unread.
    let state = context.backend().read().unwrap_or_else(|error| {
        tracing::warn!(%error, "the state could not be read; lookups count as never read");
        None
    });
    context.load_definitions_from(&offline_options(context, state.as_ref()), strictness)
}

/// The load options with the lookups `state` caches.
fn offline_options(context: &Context, state: Option<&State>) -> LoadOptions {
    let mut options = context.load_options();
    if let Some(state) = state {
        options.lookups.clone_from(&state.lookups);
    }
    options
}

/// Says which of `names` (all when empty) were left out because a lookup
/// was never read (on stderr, unless `-q`).
pub fn note_waiting(context: &Context, definitions: &Definitions, names: &[ReportName]) {
    let asked =
        |name: &ReportName| names.is_empty() || names.iter().any(|asked| name.covers(asked));
    for (name, lookups) in definitions.waiting.iter().filter(|(name, _)| asked(name)) {
        let lookups: Vec<String> = lookups
            .iter()
            .map(|name| format!("lookup.{name}"))
            .collect();
        context.ui.status(&format!(
            "{} report.{name} is left out: it reads {}, never read (`costform plan --refresh` or `costform apply` reads it)",
            context.ui.warn("Note:"),
            lookups.join(", ")
        ));
    }
}

/// Whether two sets of lookup values differ other than in when they were read.
pub fn values_differ(
    before: &BTreeMap<String, LookupCache>,
    after: &BTreeMap<String, LookupCache>,
) -> bool {
    before.len() != after.len()
        || before
            .iter()
            .zip(after)
            .any(|((name, old), (new_name, new))| {
                name != new_name
                    || old.org_id != new.org_id
                    || old.name_matches != new.name_matches
                    || old.projects != new.projects
            })
}

/// Reads every lookup of `definitions` from Atlas, one after the other.
async fn read_all(
    context: &Context,
    definitions: &Definitions,
) -> miette::Result<BTreeMap<String, LookupCache>> {
    let client = context.client()?;
    let mut read = BTreeMap::new();
    let mut failure = None;
    for lookup in definitions.lookups.values() {
        match client.list_projects(&lookup.org_id).await {
            Ok(projects) => {
                // To the second: the time is shown in every offline plan's header.
                let read_at = Timestamp::now()
                    .round(jiff::Unit::Second)
                    .unwrap_or_else(|_| Timestamp::now());
                let value = lookup.select(projects, read_at);
                context.ui.status(&format!(
                    "lookup.{}: {} projects of org {} read",
                    lookup.name,
                    value.projects.len(),
                    lookup.org_id
                ));
                read.insert(lookup.name.clone(), value);
            }
            Err(error) => {
                failure = Some(miette!(
                    help = "check the org id and that the credentials may list its projects (Organization Member)",
                    "lookup.{} (`{}` line {}): could not read the projects of org `{}`: {error}",
                    lookup.name,
                    lookup.file.display(),
                    lookup.line,
                    lookup.org_id
                ));
                break;
            }
        }
    }
    // Not closed here: the command goes on with the same client (and token).
    failure.map_or(Ok(read), Err)
}
