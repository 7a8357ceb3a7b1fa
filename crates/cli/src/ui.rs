//! Terminal presentation: colour choice, diagnostics and progress, decided once
//! per run so every command prints alike in a terminal and in CI logs.

use std::io::IsTerminal;

use owo_colors::OwoColorize;

use crate::printer::Printer;

/// Whether and how to decorate output.
#[derive(Debug, Clone, Copy)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent yes/no facts about the terminal"
)]
pub struct Ui {
    /// ANSI colours on stdout/stderr.
    pub color: bool,
    /// stderr is a terminal: progress bars instead of plain lines.
    pub progress: bool,
    /// stdin and stderr are terminals: prompting is possible.
    pub interactive: bool,
    /// `-q`: only errors and the requested output.
    pub quiet: bool,
}

impl Ui {
    /// No colours, no bars, no prompts: for renderings written to files or
    /// pull-request comments.
    pub fn plain() -> Self {
        Self {
            color: false,
            progress: false,
            interactive: false,
            quiet: false,
        }
    }

    /// Decides once from the flags, `NO_COLOR` and what the streams are.
    pub fn detect(no_color: bool, quiet: bool, env_no_color: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let color = !no_color && !env_no_color && std::io::stdout().is_terminal();
        let choice = if color {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Never
        };
        choice.write_global();
        Self {
            color,
            progress: stderr_tty && !quiet,
            interactive: stderr_tty && std::io::stdin().is_terminal(),
            quiet,
        }
    }

    /// Installs miette's report handler: graphical, with colours only when
    /// wanted and a fixed width so CI logs and snapshots are stable.
    pub fn install_miette(self) {
        let color = self.color;
        let _ = miette::set_hook(Box::new(move |_| {
            let theme = if color {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            };
            Box::new(
                miette::GraphicalReportHandler::new_themed(theme)
                    .with_width(100)
                    .with_links(false),
            )
        }));
    }

    /// Where this run's output goes.
    pub fn printer(self) -> Printer {
        Printer::new(self.quiet)
    }

    /// A status line on stderr ("Applying 3 reports..."), unless `-q`.
    pub fn status(self, message: &str) {
        self.printer().stderr().line(message);
    }

    fn paint(self, message: &str, style: impl Fn(&str) -> String) -> String {
        if self.color {
            style(message)
        } else {
            message.to_owned()
        }
    }

    /// A success line, in green on a terminal.
    pub fn success(self, message: &str) -> String {
        self.paint(message, |m| m.green().bold().to_string())
    }

    /// A warning word, in yellow on a terminal.
    pub fn warn(self, message: &str) -> String {
        self.paint(message, |m| m.yellow().bold().to_string())
    }

    /// An error word, in red on a terminal.
    pub fn error(self, message: &str) -> String {
        self.paint(message, |m| m.red().bold().to_string())
    }

    /// Dimmed text for secondary detail.
    pub fn dim(self, message: &str) -> String {
        self.paint(message, |m| m.dimmed().to_string())
    }

    /// Bold text for headings.
    pub fn bold(self, message: &str) -> String {
        self.paint(message, |m| m.bold().to_string())
    }
}

/// Prints diagnostics to stderr through miette, even with `-q` (callers
/// decide whether warnings are worth showing).
pub fn print_report(report: &miette::Report) {
    Printer::new(false)
        .errors()
        .line(format_args!("{report:?}"));
}
