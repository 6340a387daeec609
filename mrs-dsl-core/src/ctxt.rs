//! Collects errors so one compile reports every mistake (serde_derive's
//! `Ctxt`), and words them: each [`Message`] names its [`Rule`].

use std::cell::RefCell;
use std::fmt::Write as _;

use proc_macro2::Span;

use mrs_compose::{Location, Sources};

use crate::rules::Rule;

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
    pub fn error(&self, span: Span, message: Message) {
        self.push(syn::Error::new(span, message.build()));
    }

    /// Records a syn error (already worded, with its rule).
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

/// The overlays' text and how their files are shown (relative to the
/// workspace), to quote a YAML line under its `file:line:col`.
#[derive(Clone, Debug, Default)]
pub struct OverlayText {
    /// The overlays' text by file name.
    pub sources: Sources,
    /// File name and the path it is shown as (`deployments/compose/docker-compose.yml`).
    pub shown: Vec<(String, String)>,
}

impl OverlayText {
    /// `deployments/compose/docker-compose.yml:12:5`.
    pub fn place(&self, at: &Location) -> String {
        match self.shown.iter().find(|(f, _)| **f == *at.file) {
            Some((_, shown)) if !shown.is_empty() => format!("{shown}:{}:{}", at.line, at.col),
            _ => at.to_string(),
        }
    }
}

/// One error: a summary, places in overlays and notes, a fix, and its rule.
pub struct Message {
    rule: Rule,
    text: String,
    help: Option<String>,
}

impl Message {
    /// Starts with the one-line summary of a broken `rule`.
    pub fn new(rule: Rule, summary: impl Into<String>) -> Self {
        Message {
            rule,
            text: summary.into(),
            help: None,
        }
    }

    /// Adds a place in an overlay with its line of YAML.
    pub fn at(mut self, what: &str, at: &Location, text: &OverlayText) -> Self {
        let _ = write!(self.text, "\n  = note: {}: {what}", text.place(at));
        if let Some(snippet) = text.sources.snippet(at) {
            for line in snippet.lines() {
                let _ = write!(self.text, "\n    {line}");
            }
        }
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl AsRef<str>) -> Self {
        let _ = write!(self.text, "\n  = note: {}", note.as_ref());
        self
    }

    /// Sets the fix.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the fix, when there is one.
    pub fn help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The message text: summary, notes, help, rule.
    pub fn build(self) -> String {
        let mut text = self.text;
        if let Some(help) = self.help {
            let _ = write!(text, "\n  = help: {help}");
        }
        let _ = write!(text, "\n  = rule: {}", self.rule.id);
        text
    }
}
