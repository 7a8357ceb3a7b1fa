//! The definition file as written: types close to the YAML, with the
//! source location of every value a diagnostic may need to point at.
//!
//! Nothing here is validated beyond its YAML shape; `crate::shape` builds
//! these from the parsed YAML (reporting unknown keys and wrong shapes),
//! `load` renders the templates and the report kind turns a [`RawReport`]
//! into a request. The derived JSON Schemas reject unknown keys.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_saphyr::Spanned;

use crate::budget::RawBudget;
use crate::lookup::RawLookup;
use crate::node::Node;
use crate::value::Value;

/// One definition file (`*.yaml` in the definitions directory).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(title = "costform definitions")]
pub struct RawDefinitionFile {
    /// Variables with their defaults, readable in templates as `var.NAME` and
    /// overridable with `--var`, `--var-file` or env `COSTFORM_VAR_NAME`.
    #[schemars(default, schema_with = "variables_schema")]
    pub variables: Entries<RawVariable>,
    /// Values read from Atlas (Terraform's data sources), readable in
    /// templates as `lookup.NAME`; names unique across files.
    #[schemars(default, with = "BTreeMap<String, RawLookup>")]
    pub lookups: Entries<RawLookup>,
    /// Report fields merged shallowly into every report of this file: a key
    /// the report sets replaces the default's value whole.
    #[schemars(default)]
    pub defaults: Option<RawReport>,
    /// The reports, keyed by report name (`^[a-z0-9][a-z0-9_-]{0,62}$`,
    /// unique across all files).
    #[schemars(with = "BTreeMap<String, RawReport>", extend("minProperties" = 1))]
    pub reports: Spanned<Entries<RawReport>>,
}

/// One entry of `variables:`: a default written plainly (`org: 5f0c...`)
/// or a declaration (`orgs: {type: list, default: [...]}`).
#[derive(Debug, Clone)]
pub struct RawVariable {
    /// `type:`, as written; checked when the variables are declared.
    pub declared_type: Option<Spanned<String>>,
    /// The default value; a variable without one must be given a value.
    pub default: Option<Spanned<Value>>,
    /// The line of the variable's name.
    pub line: u64,
}

/// One report (or a file's `defaults:`). Every string may be a template.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(default, deny_unknown_fields)]
pub struct RawReport {
    /// The report kind (the plugin that builds the request); default `cost_explorer`.
    #[schemars(schema_with = "kind_schema")]
    pub kind: Option<Spanned<String>>,
    /// The Atlas organization the query runs in (24 lowercase hex digits).
    #[schemars(schema_with = "id_schema")]
    pub org_id: Option<Spanned<String>>,
    /// First month of the range, inclusive: the 1st of a month, `YYYY-MM-DD`.
    #[schemars(schema_with = "date_schema")]
    pub start_date: Option<Spanned<String>>,
    /// End of the range, exclusive: the 1st of a month, `YYYY-MM-DD`.
    #[schemars(schema_with = "date_schema")]
    pub end_date: Option<Spanned<String>>,
    /// A named range instead of `start_date`/`end_date`, computed from "now".
    #[schemars(schema_with = "period_schema")]
    pub period: Option<Spanned<String>>,
    /// The dimension the usage is grouped by.
    #[schemars(schema_with = "group_by_schema")]
    pub group_by: Option<Spanned<String>>,
    /// Organization ids to filter on.
    #[schemars(schema_with = "id_list_schema")]
    pub organizations: Option<Spanned<Vec<Spanned<String>>>>,
    /// Project ids to filter on.
    #[schemars(schema_with = "id_list_schema")]
    pub projects: Option<Spanned<Vec<Spanned<String>>>>,
    /// Cluster ids to filter on.
    #[schemars(schema_with = "id_list_schema")]
    pub clusters: Option<Spanned<Vec<Spanned<String>>>>,
    /// Atlas SKU service names to filter on (`Clusters`, `Storage`, ...).
    #[schemars(schema_with = "service_list_schema")]
    pub services: Option<Spanned<Vec<Spanned<String>>>>,
    /// Whether usage that only partly matches the filters is included (default false).
    #[schemars(with = "Option<bool>")]
    pub include_partial_matches: Option<Spanned<bool>>,
    /// `never` (default) or `until_closed`: query again after each fetch while
    /// the range covers a month that has not closed.
    #[schemars(schema_with = "refresh_schema")]
    pub refresh: Option<Spanned<String>>,
    /// Spend limits that `costform check` holds the results to.
    #[schemars(with = "Option<RawBudget>")]
    pub budget: Option<Spanned<RawBudget>>,
    /// One report per element: a list or map, literal or a template such as
    /// `"{{ var.orgs }}"`; each instance is `report.NAME["KEY"]` and its
    /// templates read `each.key` and `each.value`.
    #[schemars(schema_with = "for_each_schema")]
    pub for_each: Option<Spanned<Node>>,
    /// List keys written as one template that renders a list
    /// (`projects: "{{ lookup.prod }}"`), filled in by the loader.
    #[schemars(skip)]
    pub list_templates: Vec<(&'static str, Spanned<String>)>,
}

macro_rules! merge_fields {
    ($report:ident, $defaults:ident, $($field:ident),*) => {
        $( if $report.$field.is_none() { $report.$field = $defaults.$field.clone(); } )*
    };
}

macro_rules! set_keys {
    ($report:ident, $($field:ident),*) => {{
        let mut keys = Vec::new();
        $( if let Some(value) = &$report.$field { keys.push((stringify!($field), value.referenced)); } )*
        keys
    }};
}

impl RawReport {
    /// Fills every key this report leaves unset from the file's `defaults:`.
    #[must_use]
    pub fn merged_with(mut self, defaults: &RawReport) -> Self {
        merge_fields!(
            self,
            defaults,
            kind,
            org_id,
            start_date,
            end_date,
            period,
            group_by,
            organizations,
            projects,
            clusters,
            services,
            include_partial_matches,
            refresh,
            budget,
            for_each
        );
        for (key, template) in &defaults.list_templates {
            let written = self.list_templates.iter().any(|(set, _)| set == key);
            if !written && self.list_mut(key).is_some_and(|list| list.is_none()) {
                self.list_templates.push((key, template.clone()));
            }
        }
        self
    }

    /// The list field named `key`, for the loader to fill from a template.
    pub fn list_mut(&mut self, key: &str) -> Option<&mut Option<Spanned<Vec<Spanned<String>>>>> {
        match key {
            "organizations" => Some(&mut self.organizations),
            "projects" => Some(&mut self.projects),
            "clusters" => Some(&mut self.clusters),
            "services" => Some(&mut self.services),
            _ => None,
        }
    }

    /// Every string value, so the loader can render templates in place.
    pub fn strings_mut(&mut self) -> Vec<&mut Spanned<String>> {
        let singles = [
            &mut self.kind,
            &mut self.org_id,
            &mut self.start_date,
            &mut self.end_date,
            &mut self.period,
            &mut self.group_by,
            &mut self.refresh,
        ];
        let lists = [
            &mut self.organizations,
            &mut self.projects,
            &mut self.clusters,
            &mut self.services,
        ];
        singles
            .into_iter()
            .filter_map(Option::as_mut)
            .chain(
                lists
                    .into_iter()
                    .filter_map(Option::as_mut)
                    .flat_map(|list| list.value.iter_mut()),
            )
            .collect()
    }

    /// The keys this report sets, with where each value is, so a report kind
    /// can refuse keys it does not take.
    pub fn set_keys(&self) -> Vec<(&'static str, serde_saphyr::Location)> {
        let mut keys = set_keys!(
            self,
            kind,
            org_id,
            start_date,
            end_date,
            period,
            group_by,
            organizations,
            projects,
            clusters,
            services,
            include_partial_matches,
            refresh,
            budget
        );
        keys.extend(
            self.list_templates
                .iter()
                .map(|(key, template)| (*key, template.referenced)),
        );
        keys
    }
}

/// Every key a report may have, for did-you-mean hints on unknown keys.
pub const REPORT_KEYS: &[&str] = &[
    "kind",
    "org_id",
    "start_date",
    "end_date",
    "period",
    "group_by",
    "organizations",
    "projects",
    "clusters",
    "services",
    "include_partial_matches",
    "refresh",
    "budget",
];

/// The top-level keys of a definition file.
pub const FILE_KEYS: &[&str] = &["variables", "lookups", "defaults", "reports"];

/// The report keys the loader handles itself, whatever the report's kind.
pub const LOADER_KEYS: &[&str] = &["for_each"];

/// A YAML mapping kept in file order with each key's location, so duplicate
/// names and bad names can be pointed at.
#[derive(Debug, Clone)]
pub struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

/// A template: any string containing `{{` or `{%`.
const TEMPLATE_PATTERN: &str = r"\{[{%]";

/// A strict schema, or a template that renders to a value matching it.
fn or_template(strict: &Schema) -> Schema {
    json_schema!({ "anyOf": [strict, { "type": "string", "pattern": TEMPLATE_PATTERN }] })
}

fn kind_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": crate::kinds::names() }))
}

fn id_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "string", "pattern": crate::ids::OrgId::PATTERN }))
}

fn id_list_schema(generator: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "array", "items": id_schema(generator) }))
}

fn date_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "string", "pattern": r"^\d{4}-\d{2}-01$" }))
}

fn period_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": crate::dates::PERIODS }))
}

fn group_by_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": crate::kinds::cost_explorer::GROUP_BY }))
}

fn refresh_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": ["never", "until_closed"] }))
}

fn variables_schema(generator: &mut SchemaGenerator) -> Schema {
    let value = generator.subschema_for::<Value>();
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {
                    "type": "object",
                    "description": "A declaration: an optional type, checked, and an optional default.",
                    "properties": {
                        "type": { "enum": crate::value::ValueType::NAMES },
                        "default": value,
                        "description": { "type": "string" }
                    },
                    "additionalProperties": false
                },
                value
            ]
        }
    })
}

fn for_each_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "array", "items": { "anyOf": [{ "type": "string" }, { "type": "object" }] } },
            { "type": "object" },
            { "type": "string", "pattern": TEMPLATE_PATTERN }
        ]
    })
}

fn service_list_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "array", "items": { "type": "string" } }))
}
