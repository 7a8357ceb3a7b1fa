//! Lookups: values read from Atlas, as Terraform's data sources are.
//!
//! `lookups:` names what to read (today `kind: projects`, the projects of one
//! organization whose name matches a regex); templates read the value as
//! `lookup.NAME`, a list of `{id, name}` sorted by name. The model never
//! reads Atlas: the CLI reads a lookup (`apply`, `plan --refresh`), the state
//! caches it with the time it was read, and `load` is handed what is known.
//! A report whose templates name a lookup that was never read is not an
//! error but "waiting", so a first `plan` can say what `apply` will do.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostics, SourceFile, code, did_you_mean};
use crate::ids::OrgId;
use crate::node::Node;
use crate::raw::Entries;
use crate::template::Renderer;

/// The lookup kinds: only the projects of an organization for now.
pub const KINDS: [&str; 1] = ["projects"];

/// The keys of a lookup.
const KEYS: [&str; 3] = ["kind", "org_id", "name_matches"];

/// The compiled size a `name_matches` regex may reach: ample for any name
/// pattern, small enough that a pull request cannot make one expensive.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One entry of `lookups:` as written.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawLookup {
    /// What to read: `projects`, the projects of `org_id`.
    #[schemars(with = "String", extend("enum" = KINDS))]
    pub kind: Option<Spanned<String>>,
    /// The organization whose projects are read (24 lowercase hex digits, or a template).
    #[schemars(with = "String")]
    pub org_id: Option<Spanned<String>>,
    /// A regular expression the project name must match (`^prod-`); all projects when unset.
    #[schemars(with = "Option<String>")]
    pub name_matches: Option<Spanned<String>>,
}

/// A project as a lookup keeps it: what `projects:` and `for_each` need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project id (24 lowercase hex digits).
    pub id: String,
    /// The project name, the key of a `for_each` over the lookup.
    pub name: String,
}

/// A lookup's value as read from Atlas, cached in the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupCache {
    /// The organization read.
    pub org_id: OrgId,
    /// The `name_matches` the projects were selected with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_matches: Option<String>,
    /// When Atlas was read.
    #[schemars(with = "String")]
    pub read_at: Timestamp,
    /// The selected projects, sorted by name.
    pub projects: Vec<Project>,
}

/// A validated lookup, with its value when one is known.
#[derive(Debug, Clone)]
pub struct LookupDefinition {
    /// The name templates use: `lookup.NAME`.
    pub name: String,
    /// The organization whose projects are read.
    pub org_id: OrgId,
    /// The name filter, compiled.
    pub name_matches: Option<Regex>,
    /// The file and line of its name.
    pub file: PathBuf,
    /// The line of its name.
    pub line: usize,
    /// The value the definitions were rendered with; `None` when it was
    /// never read (or the cache was read for another org or filter).
    pub value: Option<LookupCache>,
}

impl LookupDefinition {
    /// The value of this lookup from every project of the organization:
    /// those whose name matches, sorted by name.
    pub fn select(&self, projects: Vec<Project>, read_at: Timestamp) -> LookupCache {
        let mut projects: Vec<Project> = projects
            .into_iter()
            .filter(|project| {
                self.name_matches
                    .as_ref()
                    .is_none_or(|regex| regex.is_match(&project.name))
            })
            .collect();
        projects.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        LookupCache {
            org_id: self.org_id.clone(),
            name_matches: self
                .name_matches
                .as_ref()
                .map(|regex| regex.as_str().to_owned()),
            read_at,
            projects,
        }
    }

    /// Whether `cache` was read for this lookup as defined now: a cache of
    /// another org or filter is as good as never read.
    pub fn is_answered_by(&self, cache: &LookupCache) -> bool {
        cache.org_id == self.org_id
            && cache.name_matches.as_deref() == self.name_matches.as_ref().map(Regex::as_str)
    }
}

/// A file's `lookups:`: every lookup whose shape is right.
pub(crate) fn read(
    file: &SourceFile,
    node: Spanned<Node>,
    diagnostics: &mut Diagnostics,
) -> Entries<RawLookup> {
    let Some(entries) = crate::shape::mapping(file, "lookups", node, diagnostics) else {
        return Entries::default();
    };
    let mut lookups = Vec::with_capacity(entries.len());
    for (name, node) in entries {
        let Node::Mapping(keys) = node.value else {
            let message = format!(
                "lookup `{}` must be a mapping with `kind:` and `org_id:`, found {}",
                name.value,
                node.value.shape()
            );
            diagnostics.push(file.error_at(code::LOOKUP, node.referenced, message));
            continue;
        };
        let mut lookup = RawLookup::default();
        let mut usable = true;
        for (key, node) in keys {
            let slot = match key.value.as_str() {
                "kind" => &mut lookup.kind,
                "org_id" => &mut lookup.org_id,
                "name_matches" => &mut lookup.name_matches,
                _ => {
                    diagnostics.push(crate::shape::unknown_key(file, &key, &KEYS));
                    continue;
                }
            };
            match crate::shape::string(file, &key.value, &node) {
                Ok(value) => *slot = value,
                Err(diagnostic) => {
                    diagnostics.push(*diagnostic);
                    usable = false;
                }
            }
        }
        if usable {
            lookups.push((name, lookup));
        }
    }
    Entries(lookups)
}

/// Renders and checks one lookup; `cached` is the value the state holds
/// (or a fresh read), used when it answers the lookup as defined now.
pub(crate) fn validate(
    file: &SourceFile,
    name: &Spanned<String>,
    raw: &RawLookup,
    renderer: &mut Renderer,
    cached: Option<&LookupCache>,
    diagnostics: &mut Diagnostics,
) -> Option<LookupDefinition> {
    let errors = diagnostics.errors().count();
    let mut render = |value: &Spanned<String>| match renderer.render(&value.value) {
        Ok(text) => Some(text),
        Err(err) => {
            diagnostics.push(file.error_at(code::TEMPLATE, value.referenced, err.message));
            None
        }
    };
    let kind = raw.kind.as_ref().and_then(&mut render);
    let org_id = raw.org_id.as_ref().and_then(&mut render);
    let name_matches = raw.name_matches.as_ref().and_then(&mut render);
    let missing = |key: &str| {
        file.error_at(
            code::LOOKUP,
            name.referenced,
            format!("lookup `{}` has no `{key}`", name.value),
        )
    };
    match (&raw.kind, kind.as_deref()) {
        (None, _) => diagnostics.push(missing("kind").with_help("add `kind: projects`")),
        (Some(at), Some(kind)) if !KINDS.contains(&kind) => {
            let help = did_you_mean(kind, KINDS)
                .or_else(|| Some(format!("known lookup kinds: `{}`", KINDS.join("`, `"))));
            diagnostics.push(
                file.error_at(
                    code::LOOKUP,
                    at.referenced,
                    format!("unknown lookup kind `{kind}`"),
                )
                .with_optional_help(help),
            );
        }
        _ => {}
    }
    let org_id = match (&raw.org_id, org_id) {
        (None, _) => {
            diagnostics.push(missing("org_id").with_help("add the organization's 24-hex id"));
            None
        }
        (Some(at), Some(text)) => OrgId::parse(&text)
            .map_err(|err| {
                diagnostics.push(file.error_at(code::INVALID_ID, at.referenced, err.to_string()));
            })
            .ok(),
        (Some(_), None) => None,
    };
    let regex = match (&raw.name_matches, name_matches) {
        (Some(at), Some(pattern)) => RegexBuilder::new(&pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|err| {
                let message = format!("`name_matches` is not a valid regular expression: {err}");
                let help = "write a regular expression such as `^prod-`".to_owned();
                diagnostics.push(
                    file.error_at(code::LOOKUP, at.referenced, message)
                        .with_help(help),
                );
            })
            .ok(),
        _ => None,
    };
    if diagnostics.errors().count() > errors {
        return None;
    }
    let mut definition = LookupDefinition {
        name: name.value.clone(),
        org_id: org_id?,
        name_matches: regex,
        file: file.path.clone(),
        line: usize::try_from(name.referenced.line()).unwrap_or(0),
        value: None,
    };
    definition.value = cached
        .filter(|cache| definition.is_answered_by(cache))
        .cloned();
    Some(definition)
}

/// The lookups each template source names (`lookup.prod`), for reports
/// that must wait for a lookup never read.
pub(crate) fn named_in(source: &str, lookups: &BTreeMap<String, LookupDefinition>) -> Vec<String> {
    if !source.contains("lookup") {
        return Vec::new();
    }
    // `lookup[name]` can read any of them: it waits for all.
    let indexed = source
        .match_indices("lookup")
        .any(|(at, text)| source[at + text.len()..].trim_start().starts_with('['));
    if indexed {
        return lookups.keys().cloned().collect();
    }
    lookups
        .keys()
        .filter(|name| {
            source
                .match_indices(&format!("lookup.{name}"))
                .any(|(at, text)| {
                    let before = source[..at].chars().next_back();
                    let after = source[at + text.len()..].chars().next();
                    !before.is_some_and(is_identifier) && !after.is_some_and(is_identifier)
                })
        })
        .cloned()
        .collect()
}

fn is_identifier(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(pattern: Option<&str>) -> LookupDefinition {
        LookupDefinition {
            name: "prod".into(),
            org_id: OrgId::parse("5f0c8a1b2c3d4e5f6a7b8c9d").unwrap(),
            name_matches: pattern.map(|pattern| Regex::new(pattern).unwrap()),
            file: PathBuf::from("a.yaml"),
            line: 1,
            value: None,
        }
    }

    fn project(name: &str) -> Project {
        Project {
            id: format!("{:0>24}", name.len()),
            name: name.to_owned(),
        }
    }

    #[test]
    fn selection_keeps_matching_names_sorted() {
        let read_at = "2026-11-26T00:00:00Z".parse().unwrap();
        let all = vec![project("prod-web"), project("staging"), project("prod-api")];
        let cache = definition(Some("^prod-")).select(all, read_at);
        let names: Vec<&str> = cache.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["prod-api", "prod-web"]);
        assert_eq!(cache.name_matches.as_deref(), Some("^prod-"));
        assert!(definition(Some("^prod-")).is_answered_by(&cache));
        assert!(!definition(None).is_answered_by(&cache));
        assert!(!definition(Some("^dev-")).is_answered_by(&cache));
    }

    #[test]
    fn named_lookups_are_found_as_whole_names() {
        let lookups: BTreeMap<String, LookupDefinition> = [
            ("prod".to_owned(), definition(None)),
            ("prod_eu".to_owned(), definition(None)),
        ]
        .into();
        assert_eq!(named_in("{{ lookup.prod }}", &lookups), ["prod"]);
        assert_eq!(named_in("{{ lookup.prod_eu }}", &lookups), ["prod_eu"]);
        assert!(named_in("{{ var.lookup_prod }}", &lookups).is_empty());
        assert_eq!(
            named_in("{{ lookup['prod' ~ x] }}", &lookups),
            ["prod", "prod_eu"]
        );
    }
}
