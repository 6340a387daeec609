//! Errors at the binary's edge: what failed, where, why, and what to do.

use std::fmt::Write as _;

use mrs_env::secret::Redactor;

/// Renders an error and its causes, secrets masked.
pub fn render(error: &(dyn std::error::Error + 'static), redactor: &Redactor) -> String {
    let mut out = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(out, "\n  caused by: {cause}");
        source = cause.source();
    }
    redactor.redact(&out)
}
