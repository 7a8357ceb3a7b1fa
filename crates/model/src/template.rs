//! Rendering of templated string values with minijinja in strict mode.
//!
//! The context (`today`, `now`, `var`, `lookup`, `env()`) is the same for
//! every value of a load, so a template's output depends only on its source:
//! each distinct source is compiled and rendered once and the result reused,
//! however many reports share it. `each` changes with every instance of a
//! `for_each` report, so sources naming it are cached for one instance only.
//! Plain strings never reach the engine.
//!
//! A value that is one expression (`"{{ var.orgs }}"`) can also be
//! evaluated to a minijinja value, so lists and maps stay lists and maps for
//! `for_each` and list keys.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use crate::dates;
use crate::lookup::LookupDefinition;
use crate::template_limits;
use crate::value::Value as VariableValue;

/// How many instructions one template may run: ample for date arithmetic,
/// small enough that a runaway loop stops in milliseconds.
const FUEL: u64 = 50_000;

/// The length of `now` in RFC 3339: the longest value a name other than
/// `var` and `env` can stand for.
const DATE_LENGTH: usize = 32;

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What went wrong, lower case.
    pub message: String,
    /// Where in the template source, in bytes, when the engine knows.
    pub range: Option<Range<usize>>,
}

/// Renders templated strings against one load's context, caching by source.
pub struct Renderer {
    environment: Environment<'static>,
    /// `today`, `now`, `var`, and `lookup` and `each` once set.
    names: BTreeMap<&'static str, Value>,
    context: Value,
    rendered: HashMap<String, Result<String, TemplateError>>,
    /// As `rendered`, for sources naming `each`: valid for one instance.
    rendered_each: HashMap<String, Result<String, TemplateError>>,
    /// The longest value each name can read, for [`template_limits::bound`].
    reach: template_limits::Reach,
    /// The bytes of rendered output handed out so far, cache hits included:
    /// each is a copy that lives as long as the definitions.
    built: usize,
}

/// Whether `text` needs the template engine at all.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

impl Renderer {
    /// A renderer for `now`, the resolved variables, and the environment
    /// snapshot of which only `COSTFORM_*` and `allow_env` names are readable.
    pub fn new(
        now: Timestamp,
        variables: &BTreeMap<String, VariableValue>,
        env: &BTreeMap<String, String>,
        allow_env: &[String],
    ) -> Self {
        // Empty, not `new()`: of minijinja's builtins only filters that do not
        // multiply sizes are registered (see `template_limits`).
        let mut environment = Environment::empty();
        environment.add_filter("lower", minijinja::filters::lower);
        environment.add_filter("upper", minijinja::filters::upper);
        environment.add_filter("trim", minijinja::filters::trim);
        environment.add_filter("default", minijinja::filters::default);
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_fuel(Some(FUEL));
        environment.set_debug(true);
        register_date_filters(&mut environment);
        let access = Arc::new(EnvAccess {
            values: env.clone(),
            allowed: allow_env.to_vec(),
        });
        let reach = template_limits::Reach {
            var: variables
                .values()
                .map(|value| value.to_json().to_string().len())
                .max()
                .unwrap_or(0),
            env: access.largest_readable(),
            lookup: 0,
            each: 0,
            other: DATE_LENGTH,
        };
        environment.add_function("env", move |name: &str, kwargs: Kwargs| {
            access.read(name, &kwargs)
        });

        let var: BTreeMap<String, Value> = variables
            .iter()
            .map(|(name, value)| (name.clone(), value.to_template()))
            .collect();
        let names = BTreeMap::from([
            ("today", Value::from(dates::today(now).to_string())),
            ("now", Value::from(now.to_string())),
            ("var", Value::from(var)),
        ]);
        Self {
            environment,
            context: Value::from(names.clone()),
            names,
            rendered: HashMap::new(),
            rendered_each: HashMap::new(),
            reach,
            built: 0,
        }
    }

    /// Makes the lookups that have a value readable as `lookup.NAME`: a
    /// list of `{id, name}` objects sorted by name.
    pub fn set_lookups(&mut self, lookups: &BTreeMap<String, LookupDefinition>) {
        let mut longest = 0;
        let values: BTreeMap<String, Value> = lookups
            .iter()
            .filter_map(|(name, lookup)| {
                let projects = &lookup.value.as_ref()?.projects;
                let value: Value = projects
                    .iter()
                    .map(|project| {
                        Value::from(BTreeMap::from([
                            ("id", Value::from(project.id.as_str())),
                            ("name", Value::from(project.name.as_str())),
                        ]))
                    })
                    .collect();
                longest = longest.max(value.to_string().len());
                Some((name.clone(), value))
            })
            .collect();
        self.reach.lookup = longest;
        self.names.insert("lookup", Value::from(values));
        self.context = Value::from(self.names.clone());
        self.rendered.retain(|source, _| !source.contains("lookup"));
    }

    /// Sets `each.key` and `each.value` for the instance about to be
    /// rendered, or removes `each` (`None`) for a report without `for_each`.
    pub fn set_each(&mut self, each: Option<(&str, &Value)>) {
        self.rendered_each.clear();
        if let Some((key, value)) = each {
            self.reach.each = key.len() + value.to_string().len();
            let each = BTreeMap::from([("key", Value::from(key)), ("value", value.clone())]);
            self.names.insert("each", Value::from(each));
        } else {
            self.reach.each = 0;
            self.names.remove("each");
        }
        self.context = Value::from(self.names.clone());
    }

    /// Renders `source`, or returns it unchanged when it holds no template.
    pub fn render(&mut self, source: &str) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_owned());
        }
        let cache = if source.contains("each") {
            &self.rendered_each
        } else {
            &self.rendered
        };
        let result = if let Some(done) = cache.get(source) {
            done.clone()
        } else {
            let result = self.render_new(source);
            let cache = if source.contains("each") {
                &mut self.rendered_each
            } else {
                &mut self.rendered
            };
            cache.insert(source.to_owned(), result.clone());
            result
        };
        let output = result?;
        let left = template_limits::MAX_BUILT - self.built;
        if output.len() > left {
            return Err(template_limits::over_budget(output.len(), left));
        }
        self.built += output.len();
        Ok(output)
    }

    /// Evaluates `source` to a value: a source that is one expression
    /// (`"{{ lookup.prod }}"`) gives what the expression gives, a list stays
    /// a list; any other source gives the text it renders. The value counts
    /// against the load's output budget as the size of its text form.
    pub fn evaluate(&mut self, source: &str) -> Result<Value, TemplateError> {
        let Some((expression, offset)) = single_expression(source) else {
            return self.render(source).map(Value::from);
        };
        let bound = template_limits::bound(source, self.reach)?;
        let left = template_limits::MAX_BUILT - self.built;
        if bound > left {
            return Err(template_limits::over_budget(bound, left));
        }
        let shifted = |mut err: TemplateError| {
            err.range = err
                .range
                .map(|range| range.start + offset..range.end + offset);
            err
        };
        let value = self
            .environment
            .compile_expression(expression)
            .and_then(|compiled| compiled.eval(self.context.clone()))
            .map_err(|err| shifted(self.explain(expression, &err)))?;
        if value.is_undefined() {
            let (name, range) = self.first_undefined_name(source).unwrap_or_else(|| {
                (
                    expression.trim().to_owned(),
                    offset..offset + expression.len(),
                )
            });
            return Err(TemplateError {
                message: format!("template error: `{name}` is undefined"),
                range: Some(range),
            });
        }
        let size = value.to_string().len();
        if size > left {
            return Err(template_limits::over_budget(size, left));
        }
        self.built += size;
        Ok(value)
    }

    /// Renders a source not seen before, once its bound fits in the budget.
    fn render_new(&mut self, source: &str) -> Result<String, TemplateError> {
        let bound = template_limits::bound(source, self.reach)?;
        let left = template_limits::MAX_BUILT - self.built;
        if bound > left {
            return Err(template_limits::over_budget(bound, left));
        }
        // A source naming `each` is rendered once per instance: compiled
        // once, kept in the environment under its own text.
        let kept = source.contains("each")
            && (self.environment.get_template(source).is_ok()
                || self
                    .environment
                    .add_template_owned(source.to_owned(), source.to_owned())
                    .is_ok());
        let rendered = if kept {
            self.environment
                .get_template(source)
                .and_then(|template| template.render(self.context.clone()))
        } else {
            self.environment.render_str(source, self.context.clone())
        };
        rendered.map_err(|err| self.explain(source, &err))
    }
}

impl Renderer {
    /// Turns a render error into a diagnostic. An undefined name that was
    /// piped into a filter reaches the filter as a bare undefined value, so
    /// minijinja cannot name it: find it among the template's undeclared
    /// names and point at it.
    fn explain(&self, source: &str, err: &Error) -> TemplateError {
        if err.kind() == ErrorKind::UndefinedError
            && err.detail().is_none()
            && let Some((name, range)) = self.first_undefined_name(source)
        {
            return TemplateError {
                message: format!("template error: `{name}` is undefined"),
                range: Some(range),
            };
        }
        TemplateError {
            message: describe(err),
            range: err.range(),
        }
    }

    fn first_undefined_name(&self, source: &str) -> Option<(String, Range<usize>)> {
        let template = self.environment.template_from_str(source).ok()?;
        let known = |name: &str| {
            self.context
                .get_attr(name)
                .is_ok_and(|value| !value.is_undefined())
                || self.environment.globals().any(|(global, _)| global == name)
        };
        template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !known(name))
            .filter_map(|name| {
                let start = source.find(name.as_str())?;
                Some((name.clone(), start..start + name.len()))
            })
            .min_by_key(|(_, range)| range.start)
    }
}

/// The expression of a source that is exactly one `{{ ... }}` (spaces
/// around it allowed), with its byte offset in the source.
fn single_expression(source: &str) -> Option<(&str, usize)> {
    let trimmed = source.trim();
    let inner = trimmed.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner).trim();
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    let offset = inner.as_ptr() as usize - source.as_ptr() as usize;
    Some((inner, offset))
}

/// The strings of a list a template evaluated to, for a list key: strings
/// as they are, objects (a lookup's projects) by their `id`.
pub fn list_of_strings(value: &Value) -> Result<Vec<String>, String> {
    if value.kind() != minijinja::value::ValueKind::Seq {
        return Err(format!("renders {}, not a list", describe_value(value)));
    }
    let mut items = Vec::new();
    for item in value.try_iter().map_err(|err| err.to_string())? {
        if let Some(text) = item.as_str() {
            items.push(text.to_owned());
        } else if item.kind() == minijinja::value::ValueKind::Map
            && let Ok(id) = item.get_attr("id")
            && let Some(id) = id.as_str()
        {
            items.push(id.to_owned());
        } else {
            return Err(format!(
                "renders a list holding {}: items must be text, or objects with an `id`",
                describe_value(&item)
            ));
        }
    }
    Ok(items)
}

/// What a template's value is, in words.
pub fn describe_value(value: &Value) -> String {
    use minijinja::value::ValueKind;
    let kind = match value.kind() {
        ValueKind::Undefined | ValueKind::None => "nothing",
        ValueKind::Bool => "a boolean",
        ValueKind::Number => "a number",
        ValueKind::String => "text",
        ValueKind::Seq | ValueKind::Iterable => "a list",
        ValueKind::Map => "a map",
        _ => "a value",
    };
    let mut shown = value.to_string();
    if let Some((at, _)) = shown.char_indices().nth(40) {
        shown.truncate(at);
        shown.push('…');
    }
    format!("{kind} `{shown}`")
}

fn describe(err: &Error) -> String {
    match (err.kind(), err.detail()) {
        (ErrorKind::UndefinedError, Some(detail)) => format!("template error: {detail}"),
        (ErrorKind::UndefinedError, None) => "template uses an undefined value".to_owned(),
        (ErrorKind::OutOfFuel, _) => "template ran too long and was stopped".to_owned(),
        (kind, Some(detail)) => format!("template error: {kind}: {detail}"),
        (kind, None) => format!("template error: {kind}"),
    }
}

/// What `env()` may read: the snapshot and the names `--allow-env` added.
struct EnvAccess {
    values: BTreeMap<String, String>,
    allowed: Vec<String>,
}

impl EnvAccess {
    /// The longest value `env()` may return.
    fn largest_readable(&self) -> usize {
        self.values
            .iter()
            .filter(|(name, _)| self.is_readable(name))
            .map(|(_, value)| value.len())
            .max()
            .unwrap_or(0)
    }

    fn is_readable(&self, name: &str) -> bool {
        name.starts_with("COSTFORM_") || self.allowed.iter().any(|allowed| allowed == name)
    }

    fn read(&self, name: &str, kwargs: &Kwargs) -> Result<Value, Error> {
        let default: Option<Value> = kwargs.get("default")?;
        kwargs.assert_all_used()?;
        if !self.is_readable(name) {
            return Err(invalid(format!(
                "env(`{name}`) is not allowed: only `COSTFORM_*` variables are readable; \
                 pass `--allow-env {name}` to allow it"
            )));
        }
        match (self.values.get(name), default) {
            (Some(value), _) => Ok(Value::from(value.clone())),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(invalid(format!(
                "environment variable `{name}` is not set; set it or give `env(\"{name}\", default=...)`"
            ))),
        }
    }
}

fn register_date_filters(environment: &mut Environment<'static>) {
    environment.add_filter("start_of_month", |value: &Value| {
        unary(value, dates::start_of_month)
    });
    environment.add_filter("start_of_quarter", |value: &Value| {
        unary(value, dates::start_of_quarter)
    });
    environment.add_filter("start_of_year", |value: &Value| {
        unary(value, dates::start_of_year)
    });
    environment.add_filter("add_days", |value: &Value, n: i64| {
        shifted(value, n, dates::add_days)
    });
    environment.add_filter("add_months", |value: &Value, n: i64| {
        shifted(value, n, dates::add_months)
    });
    environment.add_filter("add_years", |value: &Value, n: i64| {
        shifted(value, n, dates::add_years)
    });
    environment.add_filter("date", |value: &Value, format: &str| {
        dates::format_date(input_date(value)?, format).map_err(invalid)
    });
}

/// The date a filter works on. An undefined input (a misspelt name such as
/// `tody`) is reported as undefined, not as "not a string", so the user is
/// told what is actually wrong.
fn input_date(value: &Value) -> Result<Date, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    match value.as_str() {
        Some(text) => dates::parse_date(text).map_err(invalid),
        None => Err(invalid(format!(
            "expected a `YYYY-MM-DD` date, found `{value}`"
        ))),
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

fn unary(value: &Value, apply: fn(Date) -> Date) -> Result<String, Error> {
    Ok(apply(input_date(value)?).to_string())
}

fn shifted(
    value: &Value,
    n: i64,
    apply: fn(Date, i64) -> Result<Date, String>,
) -> Result<String, Error> {
    apply(input_date(value)?, n)
        .map(|date| date.to_string())
        .map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(env: &[(&str, &str)], allow: &[&str]) -> Renderer {
        let now = dates::parse_now("2026-11-26T10:00:00Z").unwrap();
        let mut variables = BTreeMap::new();
        variables.insert(
            "org".to_owned(),
            VariableValue::String("5f0c8a1b2c3d4e5f6a7b8c9d".to_owned()),
        );
        variables.insert("months".to_owned(), VariableValue::Integer(3));
        variables.insert(
            "orgs".to_owned(),
            VariableValue::List(vec![
                VariableValue::String("5f0c8a1b2c3d4e5f6a7b8c9d".to_owned()),
                VariableValue::String("6a1b2c3d4e5f6a7b8c9d0e1f".to_owned()),
            ]),
        );
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let allow: Vec<String> = allow.iter().map(|s| (*s).to_owned()).collect();
        Renderer::new(now, &variables, &env, &allow)
    }

    #[test]
    fn filters_chain_on_today() {
        let mut r = renderer(&[], &[]);
        assert_eq!(
            r.render("{{ today | start_of_month | add_months(-1) }}")
                .unwrap(),
            "2026-10-01"
        );
        assert_eq!(
            r.render("{{ today | start_of_quarter }}").unwrap(),
            "2026-10-01"
        );
        assert_eq!(
            r.render("{{ today | start_of_year | add_years(-1) }}")
                .unwrap(),
            "2025-01-01"
        );
        assert_eq!(r.render("{{ today | add_days(5) }}").unwrap(), "2026-12-01");
        assert_eq!(r.render("{{ today | date('%Y/%m') }}").unwrap(), "2026/11");
        assert_eq!(r.render("{{ now }}").unwrap(), "2026-11-26T10:00:00Z");
        assert_eq!(
            r.render("{{ today | add_months(-var.months) }}").unwrap(),
            "2026-08-26"
        );
        assert_eq!(r.render("plain {text}").unwrap(), "plain {text}");
    }

    #[test]
    fn undefined_names_are_errors_with_a_position() {
        let mut r = renderer(&[], &[]);
        let err = r.render("{{ var.nope }}").unwrap_err();
        assert_eq!(err.message, "template error: `var.nope` is undefined");
        assert_eq!(err.range, Some(3..11));
        let err = r.render("{{ today | bogus }}").unwrap_err();
        assert!(err.message.contains("unknown filter"), "{}", err.message);
    }

    #[test]
    fn env_reads_only_costform_names_unless_allowed() {
        let env = [
            ("COSTFORM_ORG", "abc"),
            ("MONGODB_ATLAS_CLIENT_SECRET", "s3cr3t"),
            ("TEAM", "data"),
        ];
        let mut r = renderer(&env, &["TEAM"]);
        assert_eq!(r.render("{{ env('COSTFORM_ORG') }}").unwrap(), "abc");
        assert_eq!(r.render("{{ env('TEAM') }}").unwrap(), "data");
        assert_eq!(
            r.render("{{ env('COSTFORM_MISSING', default='x') }}")
                .unwrap(),
            "x"
        );
        for source in [
            "{{ env('MONGODB_ATLAS_CLIENT_SECRET') }}",
            "{{ env('MONGODB_ATLAS_CLIENT_SECRET', default='') }}",
        ] {
            let err = r.render(source).unwrap_err();
            assert!(
                err.message
                    .contains("--allow-env MONGODB_ATLAS_CLIENT_SECRET"),
                "{}",
                err.message
            );
            assert!(!err.message.contains("s3cr3t"));
        }
        assert!(
            r.render("{{ env('COSTFORM_MISSING') }}")
                .unwrap_err()
                .message
                .contains("is not set")
        );
    }

    #[test]
    fn loops_are_refused_before_they_run() {
        let mut r = renderer(&[], &[]);
        let source =
            "{% for a in range(10000) %}{% for b in range(10000) %}{{ a }}{% endfor %}{% endfor %}";
        let err = r.render(source).unwrap_err();
        assert!(
            err.message.contains("`{% for %}` is not allowed"),
            "{}",
            err.message
        );
    }

    /// Issue #11's template: one `set` per doubling, so fuel never trips.
    #[test]
    fn doubling_a_value_is_refused_before_it_grows() {
        let mut r = renderer(&[], &[]);
        let namespace = "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}";
        let literal = format!(
            "{{% set x = 'ab' %}}{}{{{{ x }}}}",
            "{% set x = x ~ x %}".repeat(40)
        );
        for source in [namespace, literal.as_str()] {
            let err = r.render(source).unwrap_err();
            assert!(
                err.message.contains("`{% set %}` is not allowed"),
                "{}",
                err.message
            );
        }
    }

    fn renderer_with(name: &str, value: String) -> Renderer {
        let now = dates::parse_now("2026-11-26T10:00:00Z").unwrap();
        let variables = BTreeMap::from([(name.to_owned(), VariableValue::String(value))]);
        Renderer::new(now, &variables, &BTreeMap::new(), &[])
    }

    #[test]
    fn a_template_that_could_outgrow_the_budget_is_refused_unrendered() {
        let mut r = renderer_with("big", "x".repeat(4 * 1024 * 1024));
        let err = r.render("{{ var.big ~ var.big }}").unwrap_err();
        assert!(err.message.contains("could build up to"), "{}", err.message);
    }

    #[test]
    fn all_templates_of_a_load_share_one_output_budget() {
        let mut r = renderer_with("big", "x".repeat(64 * 1024));
        let mut handed_out = 0;
        while r.render("{{ var.big }}").is_ok() {
            handed_out += 1;
            assert!(handed_out <= 1024, "the budget is never exhausted");
        }
        assert_eq!(handed_out, template_limits::MAX_BUILT / (64 * 1024));
    }

    #[test]
    fn an_undefined_name_piped_into_a_filter_is_named() {
        let mut renderer = renderer(&[], &[]);
        let source = "{{ tody | start_of_month }}";
        let err = renderer.render(source).unwrap_err();
        assert_eq!(err.message, "template error: `tody` is undefined");
        assert_eq!(err.range, Some(3..7));
    }

    #[test]
    fn bad_filter_input_names_the_value() {
        let mut r = renderer(&[], &[]);
        let err = r.render("{{ 'soon' | start_of_month }}").unwrap_err();
        assert!(
            err.message.contains("`soon` is not a `YYYY-MM-DD` date"),
            "{}",
            err.message
        );
    }

    #[test]
    fn one_expression_evaluates_to_a_list() {
        let mut r = renderer(&[], &[]);
        let value = r.evaluate(" {{ var.orgs }} ").unwrap();
        assert_eq!(
            list_of_strings(&value).unwrap(),
            ["5f0c8a1b2c3d4e5f6a7b8c9d", "6a1b2c3d4e5f6a7b8c9d0e1f"]
        );
        let text = r.evaluate("{{ var.org }}").unwrap();
        assert!(list_of_strings(&text).unwrap_err().contains("renders text"));
        let err = r.evaluate("{{ var.nope }}").unwrap_err();
        assert_eq!(err.message, "template error: `var.nope` is undefined");
        assert_eq!(err.range, Some(3..11));
    }

    #[test]
    fn each_is_read_per_instance_and_gone_after() {
        let mut r = renderer(&[], &[]);
        for key in ["a", "b"] {
            r.set_each(Some((key, &Value::from(key))));
            assert_eq!(
                r.render("{{ each.key }}-{{ each.value }}").unwrap(),
                format!("{key}-{key}")
            );
        }
        r.set_each(None);
        assert!(r.render("{{ each.key }}").is_err());
    }

    #[test]
    fn a_list_a_template_builds_is_bounded_too() {
        let big = VariableValue::List(vec![VariableValue::String("x".repeat(1024 * 1024)); 8]);
        let now = dates::parse_now("2026-11-26T10:00:00Z").unwrap();
        let variables = BTreeMap::from([("big".to_owned(), big)]);
        let mut r = Renderer::new(now, &variables, &BTreeMap::new(), &[]);
        let err = r.evaluate("{{ var.big + var.big }}").unwrap_err();
        assert!(err.message.contains("could build up to"), "{}", err.message);
    }
}
