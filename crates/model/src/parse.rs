//! YAML parsing with hostile-input limits, and saphyr errors turned into
//! diagnostics.
//!
//! Definition files come from pull requests, so parsing is bounded: alias
//! expansion, nesting and size are capped and a "billion laughs" file is
//! refused quickly instead of exhausting memory.

use serde::de::DeserializeOwned;

use crate::diagnostic::{Diagnostics, SourceFile, byte_range, code};

const MAX_DEPTH: usize = 32;
const MAX_ALIASES: usize = 1_000;
const MAX_REPLAYED_EVENTS: usize = 100_000;

/// The limits: generous for definition files (thousands of reports), far
/// below what an alias bomb needs.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_documents: 1,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: 16,
        },
        with_snippet: false,
    }
}

/// Parses `file` as `T`, or pushes one diagnostic for the first syntax
/// problem (saphyr stops there; shapes and keys are checked afterwards, see
/// [`crate::shape`]).
pub fn parse_yaml<T: DeserializeOwned>(
    file: &SourceFile,
    diagnostics: &mut Diagnostics,
) -> Option<T> {
    match serde_saphyr::from_str_with_options::<T>(&file.text, options()) {
        Ok(value) => Some(value),
        Err(err) => {
            let err = err.without_snippet();
            let (offset, len) = err
                .location()
                .map_or((0, 0), |location| error_range(&file.text, location));
            let rendered = err.to_string();
            let diagnostic = if is_over_budget(err) {
                let message = "the document is too large or expands too many aliases (an alias bomb such as \"billion laughs\" is refused)";
                let help = format!(
                    "costform reads at most {MAX_ALIASES} aliases expanding to {MAX_REPLAYED_EVENTS} values, {MAX_DEPTH} levels deep and 16 MiB of text per file; write the values out or split the file"
                );
                file.error(code::YAML, offset, len, message).with_help(help)
            } else {
                file.error(
                    code::YAML,
                    offset,
                    len,
                    lowercase_first(strip_location(&rendered)),
                )
                .with_optional_help(crate::suggest::unquoted_template(&file.text, offset))
            };
            diagnostics.push(diagnostic);
            None
        }
    }
}

/// Where a parse error is: saphyr gives the byte range for most errors, but
/// only the line and column for some (an unclosed bracket met while reading
/// an untyped value), so the offset is then found from those.
fn error_range(text: &str, location: serde_saphyr::Location) -> (usize, usize) {
    if location.span().byte_offset().is_some() {
        return byte_range(location);
    }
    let line_start = text
        .split_inclusive('\n')
        .take(usize::try_from(location.line().saturating_sub(1)).unwrap_or(usize::MAX))
        .map(str::len)
        .sum::<usize>();
    let column = usize::try_from(location.column().saturating_sub(1)).unwrap_or(0);
    let within_line = text[line_start..]
        .char_indices()
        .nth(column)
        .map_or(0, |(at, _)| at);
    (line_start + within_line, 0)
}

/// Whether saphyr refused the document for breaking one of the limits
/// (looking through the wrappers that say which alias it was expanding).
fn is_over_budget(mut err: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    matches!(
        err,
        Error::Budget { .. }
            | Error::AliasReplayCounterOverflow { .. }
            | Error::AliasReplayLimitExceeded { .. }
            | Error::AliasExpansionLimitExceeded { .. }
            | Error::AliasReplayStackDepthExceeded { .. }
    )
}

/// Saphyr appends " at line L column C"; the diagnostic has its own position.
fn strip_location(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
        .trim()
}

fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}
