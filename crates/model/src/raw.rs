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
///
/// The keys every kind takes are fields; a kind's own keys (`start_date`,
/// `group_by`, `invoice_month`, ...) are in [`RawReport::fields`], read by
/// the shape their kind declares ([`crate::kinds::KeySpec`]), so adding a
/// kind adds no field here.
#[derive(Debug, Clone, Default)]
pub struct RawReport {
    /// The report kind (the plugin that builds the request); default `cost_explorer`.
    pub kind: Option<Spanned<String>>,
    /// The Atlas organization the report is for (24 lowercase hex digits).
    pub org_id: Option<Spanned<String>>,
    /// `never` (default) or `until_closed`: query again after each fetch while
    /// the report covers a month that has not closed.
    pub refresh: Option<Spanned<String>>,
    /// Spend limits that `costform check` holds the results to.
    pub budget: Option<Spanned<RawBudget>>,
    /// The kind's own keys, in file order.
    pub fields: Vec<(&'static str, Field)>,
    /// One report per element: a list or map, literal or a template such as
    /// `"{{ var.orgs }}"`; each instance is `report.NAME["KEY"]` and its
    /// templates read `each.key` and `each.value`.
    pub for_each: Option<Spanned<Node>>,
    /// List keys written as one template that renders a list
    /// (`projects: "{{ lookup.prod }}"`), turned into lists by the loader.
    pub list_templates: Vec<(&'static str, Spanned<String>)>,
}

/// The value of one of a kind's keys, in the shape the kind declared.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A string (maybe a template).
    Text(Spanned<String>),
    /// `true` or `false`.
    Flag(Spanned<bool>),
    /// A list of strings (each maybe a template).
    List(Spanned<Vec<Spanned<String>>>),
}

impl Field {
    /// Where the value is, for diagnostics.
    pub fn location(&self) -> serde_saphyr::Location {
        match self {
            Field::Text(value) => value.referenced,
            Field::Flag(value) => value.referenced,
            Field::List(value) => value.referenced,
        }
    }
}

/// The keys every report takes, whatever its kind.
pub const COMMON_KEYS: &[&str] = &["kind", "org_id", "refresh", "budget"];

impl RawReport {
    /// Fills every key this report leaves unset from the file's `defaults:`.
    #[must_use]
    pub fn merged_with(mut self, defaults: &RawReport) -> Self {
        for (mine, default) in [
            (&mut self.kind, &defaults.kind),
            (&mut self.org_id, &defaults.org_id),
            (&mut self.refresh, &defaults.refresh),
        ] {
            if mine.is_none() {
                mine.clone_from(default);
            }
        }
        if self.budget.is_none() {
            self.budget.clone_from(&defaults.budget);
        }
        if self.for_each.is_none() {
            self.for_each.clone_from(&defaults.for_each);
        }
        for (key, value) in &defaults.fields {
            if self.field(key).is_none() && !self.has_list_template(key) {
                self.fields.push((key, value.clone()));
            }
        }
        for (key, template) in &defaults.list_templates {
            if self.field(key).is_none() && !self.has_list_template(key) {
                self.list_templates.push((key, template.clone()));
            }
        }
        self
    }

    fn has_list_template(&self, key: &str) -> bool {
        self.list_templates.iter().any(|(set, _)| *set == key)
    }

    /// Sets the list key `key` to the list its template rendered.
    pub fn set_list(&mut self, key: &'static str, list: Spanned<Vec<Spanned<String>>>) {
        self.fields.retain(|(name, _)| *name != key);
        self.fields.push((key, Field::List(list)));
    }

    /// Every string value, so the loader can render templates in place.
    pub fn strings_mut(&mut self) -> Vec<&mut Spanned<String>> {
        let common = [&mut self.kind, &mut self.org_id, &mut self.refresh];
        let fields = self.fields.iter_mut().flat_map(|(_, field)| match field {
            Field::Text(text) => vec![text],
            Field::List(list) => list.value.iter_mut().collect(),
            Field::Flag(_) => Vec::new(),
        });
        common
            .into_iter()
            .filter_map(Option::as_mut)
            .chain(fields)
            .collect()
    }

    /// The kind's keys this report sets, with where each value is, so a
    /// report kind can refuse keys it does not take.
    pub fn set_keys(&self) -> Vec<(&'static str, serde_saphyr::Location)> {
        self.fields
            .iter()
            .map(|(key, field)| (*key, field.location()))
            .chain(
                self.list_templates
                    .iter()
                    .map(|(key, template)| (*key, template.referenced)),
            )
            .collect()
    }

    /// The value of the kind's key `key`, if set.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, field)| field)
    }

    /// The string key `key`, if set (and read as a string).
    pub fn text(&self, key: &str) -> Option<&Spanned<String>> {
        match self.field(key)? {
            Field::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean key `key`, if set.
    pub fn flag(&self, key: &str) -> Option<&Spanned<bool>> {
        match self.field(key)? {
            Field::Flag(flag) => Some(flag),
            _ => None,
        }
    }

    /// The list key `key`, if set.
    pub fn list(&self, key: &str) -> Option<&Spanned<Vec<Spanned<String>>>> {
        match self.field(key)? {
            Field::List(list) => Some(list),
            _ => None,
        }
    }
}

/// The JSON Schema of a report: the common keys, and every kind's keys as
/// that kind declares them (a key two kinds share, such as `org_id`, is
/// described once). Unknown keys are refused.
impl JsonSchema for RawReport {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawReport".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = serde_json::Map::new();
        let mut add = |name: &str, description: &str, schema: Schema| {
            let mut schema = schema.to_value();
            if let Some(object) = schema.as_object_mut() {
                object.insert("description".to_owned(), description.into());
            }
            properties.insert(name.to_owned(), schema);
        };
        add(
            "kind",
            "The report kind (the plugin that builds the request); default `cost_explorer`.",
            kind_schema(generator),
        );
        add(
            "org_id",
            "The Atlas organization the report is for (24 lowercase hex digits).",
            id_schema(generator),
        );
        add(
            "refresh",
            "`never` (default) or `until_closed`: query again after each fetch while the report covers a month that has not closed.",
            refresh_schema(generator),
        );
        add(
            "budget",
            "Spend limits that `costform check` holds the results to.",
            generator.subschema_for::<Option<RawBudget>>(),
        );
        add(
            "for_each",
            "One report per element of a list or a map (literal, or a template such as `\"{{ var.orgs }}\"`), addressed `report.NAME[\"KEY\"]`; templates read `each.key` and `each.value`.",
            for_each_schema(generator),
        );
        for key in crate::kinds::all_keys() {
            // A list key also takes a template that renders a list.
            let schema = match key.shape {
                crate::kinds::Shape::List => or_template(&(key.schema)(generator)),
                _ => (key.schema)(generator),
            };
            add(key.name, key.description, schema);
        }
        json_schema!({
            "type": "object",
            "description": "One report (or a file's `defaults:`). Every string may be a template.",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

/// Every key a report may have (the common ones and every kind's), for
/// did-you-mean hints on unknown keys.
pub fn report_keys() -> Vec<&'static str> {
    COMMON_KEYS
        .iter()
        .chain(LOADER_KEYS)
        .copied()
        .chain(crate::kinds::all_keys().map(|key| key.name))
        .collect()
}

/// The report keys the loader handles itself, whatever the report's kind.
pub const LOADER_KEYS: &[&str] = &["for_each"];

/// The top-level keys of a definition file.
pub const FILE_KEYS: &[&str] = &["variables", "lookups", "defaults", "reports"];

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
pub(crate) fn or_template(strict: &Schema) -> Schema {
    json_schema!({ "anyOf": [strict, { "type": "string", "pattern": TEMPLATE_PATTERN }] })
}

fn kind_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "enum": crate::kinds::names() }))
}

/// An Atlas id, or a template.
pub(crate) fn id_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "string", "pattern": crate::ids::OrgId::PATTERN }))
}

/// A month's first day, `YYYY-MM-01`, or a template.
pub(crate) fn month_start_schema(_: &mut SchemaGenerator) -> Schema {
    or_template(&json_schema!({ "type": "string", "pattern": r"^\d{4}-\d{2}-01$" }))
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
