//! The one place that writes to stdout and stderr (as astral-sh/uv's
//! `printer.rs`): a command says what kind of output it has, and `-q` is
//! honoured here instead of at each call. Colour is decided once by
//! [`crate::ui::Ui::detect`] for the `anstream` streams used below.

use std::fmt::Display;

/// Where each kind of output goes for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printer {
    quiet: bool,
}

/// One destination, possibly muted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// Nowhere (`-q`).
    Hidden,
}

impl Printer {
    /// The printer for a run with or without `-q`.
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// What the command was asked for (a plan, JSON, a table, a list):
    /// stdout, even with `-q`, since scripts read it.
    #[expect(
        clippy::unused_self,
        reason = "every stream is chosen through the printer, so call sites read alike"
    )]
    pub fn stdout(self) -> Stream {
        Stream::Stdout
    }

    /// A result in words on stdout ("Apply complete!", "Success! ..."):
    /// muted by `-q`, where the exit code says it.
    pub fn summary(self) -> Stream {
        if self.quiet {
            Stream::Hidden
        } else {
            Stream::Stdout
        }
    }

    /// Progress, notes and warnings on stderr: muted by `-q`.
    pub fn stderr(self) -> Stream {
        if self.quiet {
            Stream::Hidden
        } else {
            Stream::Stderr
        }
    }

    /// Errors and questions on stderr, even with `-q`.
    #[expect(
        clippy::unused_self,
        reason = "every stream is chosen through the printer, so call sites read alike"
    )]
    pub fn errors(self) -> Stream {
        Stream::Stderr
    }
}

impl Stream {
    /// Writes `text` as it is.
    pub fn print(self, text: impl Display) {
        match self {
            Stream::Stdout => anstream::print!("{text}"),
            Stream::Stderr => anstream::eprint!("{text}"),
            Stream::Hidden => {}
        }
    }

    /// Writes `text` and a newline.
    pub fn line(self, text: impl Display) {
        match self {
            Stream::Stdout => anstream::println!("{text}"),
            Stream::Stderr => anstream::eprintln!("{text}"),
            Stream::Hidden => {}
        }
    }

    /// Whether anything written here is seen.
    pub fn is_shown(self) -> bool {
        self != Stream::Hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_mutes_notes_and_summaries_but_not_output_or_errors() {
        let quiet = Printer::new(true);
        assert_eq!(quiet.stdout(), Stream::Stdout);
        assert_eq!(quiet.errors(), Stream::Stderr);
        assert_eq!(quiet.stderr(), Stream::Hidden);
        assert_eq!(quiet.summary(), Stream::Hidden);
        let normal = Printer::new(false);
        assert_eq!(normal.stderr(), Stream::Stderr);
        assert_eq!(normal.summary(), Stream::Stdout);
    }

    /// Every command prints through the printer: a direct `anstream` or
    /// `std` print elsewhere would go around `-q`.
    #[test]
    fn nothing_else_in_the_cli_prints_directly() {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        let mut dirs = vec![source];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.file_name().is_some_and(|name| name != "printer.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for needle in ["print!", "println!", "eprint!", "eprintln!"] {
                        if text.contains(needle) {
                            offenders.push(format!("{} uses `{needle}`", path.display()));
                        }
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
