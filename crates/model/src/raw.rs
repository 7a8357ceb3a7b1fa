//! The definition file as written: types close to the YAML, with the
//! source location of every value a diagnostic may need to point at.
//!
//! Nothing here is validated beyond its YAML shape; `crate::shape` builds
//! these from the parsed YAML (reporting unknown keys and wrong shapes),
//! `load` renders the templates and the report kind turns a [`RawReport`]
//! into a request. The derived JSON Schemas reject unknown keys.

use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_saphyr::Spanned;

use crate::budget::RawBudget;

/// One definition file (`*.yaml` in the definitions directory).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(title = "costform definitions")]
pub struct RawDefinitionFile {
    /// Variables with their defaults, readable in templates as `var.NAME` and
    /// overridable with `--var`, `--var-file` or env `COSTFORM_VAR_NAME`.
    #[schemars(default, with = "BTreeMap<String, Scalar>")]
    pub variables: Entries<Spanned<Scalar>>,
    /// Report fields merged shallowly into every report of this file: a key
    /// the report sets replaces the default's value whole.
    #[schemars(default)]
    pub defaults: Option<RawReport>,
    /// The reports, keyed by report name (`^[a-z0-9][a-z0-9_-]{0,62}$`,
    /// unique across all files).
    #[schemars(with = "BTreeMap<String, RawReport>", extend("minProperties" = 1))]
    pub reports: Spanned<Entries<RawReport>>,
}

/// A variable's value: a YAML scalar.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A decimal number.
    Float(f64),
    /// Text.
    String(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(value) => write!(f, "{value}"),
            Scalar::Integer(value) => write!(f, "{value}"),
            Scalar::Float(value) => write!(f, "{value}"),
            Scalar::String(value) => f.write_str(value),
        }
    }
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
    #[schemars(with = "Option<Vec<String>>")]
    pub services: Option<Spanned<Vec<Spanned<String>>>>,
    /// Whether usage that only partly matches the filters is included (default false).
    #[schemars(with = "Option<bool>")]
    pub include_partial_matches: Option<Spanned<bool>>,
    /// `never` (default) or `until_closed`: query again after each fetch while
    /// the range covers a month that has not closed.
    #[schemars(schema_with = "refresh_schema")]
    pub refresh: Option<Spanned<String>>,
    /// `focus_report`: the invoice's month, the 1st of a month (`YYYY-MM-01`).
    #[schemars(schema_with = "date_schema")]
    pub invoice_month: Option<Spanned<String>>,
    /// `focus_report`: the FOCUS specification version of the file (Atlas's
    /// default when unset).
    #[schemars(with = "Option<String>")]
    pub format_spec_version: Option<Spanned<String>>,
    /// Spend limits that `costform check` holds the results to.
    #[schemars(with = "Option<RawBudget>")]
    pub budget: Option<Spanned<RawBudget>>,
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
            invoice_month,
            format_spec_version,
            budget
        );
        self
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
            &mut self.invoice_month,
            &mut self.format_spec_version,
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
        set_keys!(
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
            invoice_month,
            format_spec_version,
            budget
        )
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
    "invoice_month",
    "format_spec_version",
    "budget",
];

/// The top-level keys of a definition file.
pub const FILE_KEYS: &[&str] = &["variables", "defaults", "reports"];

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
    json_schema!({ "type": "array", "items": id_schema(generator) })
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
