//! Collects errors so one compile reports every mistake (serde_derive's `Ctxt`).

use std::cell::RefCell;
use std::fmt::Write as _;

use proc_macro2::Span;

use mrs_compose::{Location, Sources};

/// Error collector. Dropping it unchecked panics, so no error is lost.
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Default for Ctxt {
    fn default() -> Self {
        Ctxt::new()
    }
}

impl Ctxt {
    /// An empty collector.
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error at `span`.
    pub fn error(&self, span: Span, message: impl Into<String>) {
        self.push(syn::Error::new(span, message.into()));
    }

    /// Records a syn error.
    pub fn push(&self, e: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(e);
        }
    }

    /// Whether any error was recorded so far.
    pub fn has_errors(&self) -> bool {
        self.errors.borrow().as_ref().is_some_and(|e| !e.is_empty())
    }

    /// Consumes the collector: `Err` with every error combined, if any.
    pub fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut iter = errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in iter {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}

/// A message about something in an overlay, for an error that sits on a DSL token.
pub struct Message {
    text: String,
}

impl Message {
    /// Starts with the one-line summary.
    pub fn new(summary: impl Into<String>) -> Self {
        Message {
            text: summary.into(),
        }
    }

    /// Adds a place in an overlay with its line of YAML.
    pub fn at(mut self, what: &str, at: &Location, sources: &Sources) -> Self {
        let _ = write!(self.text, "\n  = note: {at}: {what}");
        if let Some(snippet) = sources.snippet(at) {
            for line in snippet.lines() {
                let _ = write!(self.text, "\n    {line}");
            }
        }
        self
    }

    /// Adds a place without a snippet.
    pub fn note(mut self, note: impl AsRef<str>) -> Self {
        let _ = write!(self.text, "\n  = note: {}", note.as_ref());
        self
    }

    /// Adds the rule being applied.
    pub fn rule(mut self, rule: &str) -> Self {
        let _ = write!(self.text, "\n  = rule: {rule}");
        self
    }

    /// Adds the fix.
    pub fn help(mut self, help: impl AsRef<str>) -> Self {
        let _ = write!(self.text, "\n  = help: {}", help.as_ref());
        self
    }

    /// The message text.
    pub fn build(self) -> String {
        self.text
    }
}
