//! Exit codes: each outcome of a deployment has its own.

use std::process::ExitCode;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Deployed (or the command succeeded).
    Ok,
    /// A command other than `up` failed.
    Failed,
    /// Failed before changing anything (bad input, missing inputs, engine
    /// unreachable, missing image, port in use, lock held).
    Unchanged,
    /// Failed after changing things, and rolled back to the state before the deploy.
    RolledBack,
    /// Failed, and the rollback failed too (or a second signal aborted): the environment may be down.
    RollbackFailed,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Failed => 1,
            Outcome::Unchanged => 2,
            Outcome::RolledBack => 3,
            Outcome::RollbackFailed => 4,
        }
    }

    /// A word for logs and the deploy history.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Unchanged => "failed-unchanged",
            Outcome::RolledBack => "rolled-back",
            Outcome::RollbackFailed => "rollback-failed",
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.code())
    }
}

/// The table printed in `--help` and the README.
pub const HELP: &str = "Exit codes:
  0  deployed and serving (or the command succeeded)
  1  the command failed; for `up` with nothing to change: it does not serve
  2  failed before changing anything (bad input, missing inputs or secrets,
     engine unreachable, missing image, host port in use, lock held)
  3  failed after changes and rolled back to the state before the deploy:
     the previous version serves (if it served before)
  4  the rollback failed too, or a second signal aborted: the environment
     may be down until the next `up` recovers it";
