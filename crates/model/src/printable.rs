//! Text from definition files made safe to print on a terminal.
//!
//! A definitions file from a pull request can hold escape sequences (which a
//! terminal obeys: clear the screen, retitle the window, fake a green run)
//! and bidirectional overrides such as U+202E (which make the printed text
//! read differently from the bytes). Diagnostics show them as escapes.

use std::borrow::Cow;

/// Whether `c` changes how a terminal shows what follows: control characters
/// other than newline and tab, and the Unicode bidirectional controls.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as a `\u{…}` escape, for
/// messages, where the escape tells the reader what was there.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with every unsafe character replaced by one of the same UTF-8
/// length (`?`, `¿` or U+FFFD), for source snippets, whose byte offsets must
/// stay where the parser put them.
pub fn masked(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match (is_unsafe(c), c.len_utf8()) {
                (false, _) => c,
                (true, 1) => '?',
                (true, 2) => '¿',
                (true, _) => '\u{fffd}',
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_controls_are_shown_as_escapes() {
        assert_eq!(escaped("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escaped("txt.\u{202e}lmay"), "txt.\\u{202e}lmay");
        assert_eq!(escaped("line\nnext\tcol"), "line\nnext\tcol");
    }

    #[test]
    fn masking_keeps_every_byte_offset() {
        let text = "a\u{1b}b\u{85}c\u{202e}d\u{0}e\n";
        let shown = masked(text);
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "a?b¿c\u{fffd}d?e\n");
        for (a, b) in text.char_indices().zip(shown.char_indices()) {
            assert_eq!(a.0, b.0);
        }
    }
}
