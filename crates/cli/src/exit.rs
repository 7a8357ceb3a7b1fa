//! Exit codes, as documented in `--help` and the README.

/// How a run ended, as the process exit code scripts and CI test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done (and, with `--detailed-exitcode`, there
    /// was nothing left to do).
    Success,
    /// Bad input, an Atlas error, a held lock or a stale plan.
    Error,
    /// With `--detailed-exitcode`: the plan has changes, or some results are
    /// still processing.
    Pending,
    /// `check`: a budget is breached.
    BudgetBreached,
    /// Interrupted by Ctrl-C after the state was saved.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Error => 1,
            Exit::Pending => 2,
            Exit::BudgetBreached => 3,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
