//! YAML parsing with hostile-input limits, and saphyr errors turned into
//! diagnostics.
//!
//! Definition files come from pull requests, so parsing is bounded: alias
//! expansion, nesting and size are capped and a "billion laughs" file is
//! refused quickly instead of exhausting memory.

use serde::de::DeserializeOwned;

use crate::diagnostic::{Diagnostics, SourceFile, byte_range, code, did_you_mean};
use crate::raw::{FILE_KEYS, REPORT_KEYS};

/// The limits: generous for definition files (thousands of reports), far
/// below what an alias bomb needs.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 32,
            max_aliases: 1_000,
            max_documents: 1,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 16,
        },
        with_snippet: false,
    }
}

/// Parses `file` as `T`, or pushes one diagnostic for the first problem
/// (saphyr stops there).
pub fn parse_yaml<T: DeserializeOwned>(
    file: &SourceFile,
    diagnostics: &mut Diagnostics,
) -> Option<T> {
    match serde_saphyr::from_str_with_options::<T>(&file.text, options()) {
        Ok(value) => Some(value),
        Err(err) => {
            let err = err.without_snippet();
            let (offset, len) = err.location().map_or((0, 0), byte_range);
            let rendered = err.to_string();
            let message = strip_location(&rendered);
            let diagnostic = match unknown_field(message) {
                Some(key) => file
                    .error(
                        code::UNKNOWN_KEY,
                        offset,
                        len.max(key.len()),
                        format!("unknown key `{key}`"),
                    )
                    .with_optional_help(did_you_mean(
                        key,
                        REPORT_KEYS.iter().chain(FILE_KEYS).copied(),
                    )),
                None => file.error(code::YAML, offset, len, lowercase_first(message)),
            };
            diagnostics.push(diagnostic);
            None
        }
    }
}

/// The key named by serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split_once("unknown field `")?.1;
    rest.split_once('`').map(|(key, _)| key)
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
