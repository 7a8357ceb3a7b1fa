//! What keeps a template from a pull request within about 64 MiB and 2 s.
//!
//! Fuel bounds how many instructions a template runs, but not how big the
//! values are: `{% set x = x ~ x %}` doubles a string in one instruction, and
//! forty of them reach a terabyte. minijinja cannot cap the size of a value
//! as it is built, so costform drops the constructs that multiply sizes and
//! bounds what is left before rendering:
//!
//! - statements other than `{% if %}` are refused (`set` and `for` are how a
//!   value is fed back into itself), and so is `*` (string and list
//!   repetition); only non-amplifying filters are registered;
//! - without them a value can only be made of the template's own literals
//!   and the values it names, each named value copied once per mention, so
//!   `size ≤ GROWTH × (source + Σ longest value of each name)`; that bound must
//!   fit in what is left of [`MAX_BUILT`] for the load, which also counts
//!   every rendered string handed out.

use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;

use crate::template::TemplateError;

/// All the bytes the templates of one load may build and hand out.
pub(crate) const MAX_BUILT: usize = 64 * 1024 * 1024;

/// The longest template source; date expressions are a few dozen bytes.
pub(crate) const MAX_SOURCE: usize = 64 * 1024;

/// How much larger than its inputs a value can grow through the registered
/// filters: `date(format)` writes at most ~16 bytes per format byte (`%A` is
/// `Wednesday`), and `upper`/`lower` at most 3 bytes per input byte.
const GROWTH: usize = 16 * 3;

/// The statements a template may use: choosing between values, never
/// building one from itself.
const ALLOWED_STATEMENTS: [&str; 4] = ["if", "elif", "else", "endif"];

/// The longest value each root name of the context can give a template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reach {
    /// The longest variable, for `var`.
    pub(crate) var: usize,
    /// The longest readable environment variable, for `env`.
    pub(crate) env: usize,
    /// The longest lookup value, for `lookup`.
    pub(crate) lookup: usize,
    /// The current instance's key and value, for `each`.
    pub(crate) each: usize,
    /// Anything else a name can stand for (`today`, `now`, a filter's name).
    pub(crate) other: usize,
}

impl Reach {
    fn of(self, name: &str) -> usize {
        match name {
            "var" => self.var,
            "env" => self.env,
            "lookup" => self.lookup,
            "each" => self.each,
            _ => self.other,
        }
    }
}

/// The most bytes a template of `source` can build, each name it mentions
/// reading at most what `reach` says, or why it is refused.
/// A template the lexer rejects passes here: rendering reports the syntax
/// error with the engine's own message.
pub(crate) fn bound(source: &str, reach: Reach) -> Result<usize, TemplateError> {
    if source.len() > MAX_SOURCE {
        return Err(refusal(
            &format!(
                "template is `{}` bytes long; templates are at most `{}` bytes",
                source.len(),
                MAX_SOURCE
            ),
            None,
        ));
    }
    let mut reads = 0usize;
    let mut after_block_start = false;
    for token in tokenize(source, false, SyntaxConfig::default()) {
        let Ok((token, span)) = token else { break };
        let range = usize::try_from(span.start_offset).unwrap_or(0)
            ..usize::try_from(span.end_offset).unwrap_or(0);
        match token {
            Token::Ident(keyword) if after_block_start => {
                if !ALLOWED_STATEMENTS.contains(&keyword) {
                    return Err(refusal(
                        &format!(
                            "`{{% {keyword} %}}` is not allowed: templates may use `{{{{ ... }}}}` and `{{% if %}}` only, so that no template can build a value of unbounded size"
                        ),
                        Some(range),
                    ));
                }
                reads = reads.saturating_add(reach.of(keyword));
            }
            Token::Ident(name) => reads = reads.saturating_add(reach.of(name)),
            Token::Mul => {
                return Err(refusal(
                    "`*` is not allowed: it repeats strings and lists to any size; use the date filters for date arithmetic",
                    Some(range),
                ));
            }
            _ => {}
        }
        after_block_start = matches!(token, Token::BlockStart);
    }
    Ok(GROWTH.saturating_mul(source.len().saturating_add(reads)))
}

/// The error for a template that could outgrow what is left of the budget.
pub(crate) fn over_budget(bound: usize, left: usize) -> TemplateError {
    refusal(
        &format!(
            "template could build up to `{bound}` bytes, more than the `{left}` left of the `{MAX_BUILT}` bytes all templates may build: shorten it or the values it reads"
        ),
        None,
    )
}

fn refusal(message: &str, range: Option<std::ops::Range<usize>>) -> TemplateError {
    TemplateError {
        message: format!("template error: {message}"),
        range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(var: usize) -> Reach {
        Reach {
            var,
            env: 0,
            lookup: 0,
            each: 0,
            other: 32,
        }
    }

    #[test]
    fn date_expressions_have_small_bounds() {
        let size = bound(
            "{{ today | start_of_month | add_months(-var.months) }}",
            reach(30),
        )
        .unwrap();
        assert!(size < 16 * 1024, "{size}");
    }

    #[test]
    fn assignments_and_loops_are_refused_where_they_are_written() {
        for (source, keyword) in [
            ("{% set x = 'a' %}{{ x }}", "set"),
            ("a{%- for i in [1] %}{% endfor %}", "for"),
            ("{% if true %}{% set ns = 1 %}{% endif %}", "set"),
            ("{% with a = 1 %}{% endwith %}", "with"),
            ("{% filter upper %}x{% endfilter %}", "filter"),
        ] {
            let err = bound(source, reach(10)).unwrap_err();
            assert!(
                err.message
                    .contains(&format!("`{{% {keyword} %}}` is not allowed")),
                "{source}: {}",
                err.message
            );
            let range = err.range.expect("the keyword's position");
            assert_eq!(&source[range], keyword);
        }
        assert!(
            bound(
                "{% if var.a %}x{% elif var.b %}y{% else %}z{% endif %}",
                reach(10)
            )
            .is_ok()
        );
    }

    #[test]
    fn repetition_is_refused() {
        let err = bound("{{ 'a' * 100000000 }}", reach(10)).unwrap_err();
        assert!(
            err.message.contains("`*` is not allowed"),
            "{}",
            err.message
        );
        assert_eq!(err.range, Some(7..8));
    }

    #[test]
    fn the_bound_grows_with_each_mention_of_a_large_value() {
        let once = bound("{{ var.x }}", reach(1_000_000)).unwrap();
        let thrice = bound("{{ var.x ~ var.x ~ var.x }}", reach(1_000_000)).unwrap();
        assert!(thrice > 2 * once);
        assert!(once >= 1_000_000);
        let dates_only = bound("{{ today | start_of_month }}", reach(1_000_000)).unwrap();
        assert!(
            dates_only < 16 * 1024,
            "a large variable it never names does not count"
        );
    }

    #[test]
    fn an_oversized_source_is_refused_before_it_is_read() {
        let source = "x".repeat(MAX_SOURCE + 1);
        assert!(
            bound(&source, reach(0))
                .unwrap_err()
                .message
                .contains("at most")
        );
    }
}
