//! Maps overlay locations back to the DSL token an error should sit on.
//!
//! A span cannot point into YAML. Values the DSL itself contributes (service
//! overrides) are located in a pseudo-file whose "line" indexes a table of
//! spans; anything located in an overlay file is reported on that overlay's
//! name in `overlays: [...]`, with the file:line:col and the YAML line in
//! the message.

use proc_macro2::Span;

use mrs_compose::Location;

use crate::ctxt::{Ctxt, Message, OverlayText};
use crate::rules::Rule;

/// The pseudo-file name for values written in the DSL.
pub const DSL_FILE: &str = "(deployment!)";

/// Spans of DSL tokens, and of the overlay names, for locating errors.
pub struct SpanTable {
    dsl: Vec<Span>,
    overlays: Vec<(String, Span)>,
    fallback: Span,
}

impl SpanTable {
    /// A table whose unknown locations fall back to `fallback`.
    pub fn new(fallback: Span) -> Self {
        SpanTable {
            dsl: Vec::new(),
            overlays: Vec::new(),
            fallback,
        }
    }

    /// A location standing for a DSL token.
    pub fn locate(&mut self, span: Span) -> Location {
        self.dsl.push(span);
        Location::new(
            DSL_FILE.into(),
            u32::try_from(self.dsl.len()).unwrap_or(u32::MAX),
            1,
        )
    }

    /// Errors in `file` will be reported on `span` (the overlay's name).
    pub fn overlay(&mut self, file: &str, span: Span) {
        self.overlays.push((file.to_owned(), span));
    }

    /// The span for a location, and whether it points into an overlay file.
    pub fn span_of(&self, at: &Location) -> (Span, bool) {
        if &*at.file == DSL_FILE {
            let i = usize::try_from(at.line).unwrap_or(0);
            return (
                i.checked_sub(1)
                    .and_then(|i| self.dsl.get(i))
                    .copied()
                    .unwrap_or(self.fallback),
                false,
            );
        }
        match self.overlays.iter().find(|(f, _)| *f == *at.file) {
            Some((_, s)) => (*s, true),
            None => (self.fallback, false),
        }
    }

    /// Whether `at` is a value the DSL wrote (not an overlay's).
    pub fn in_dsl(at: &Location) -> bool {
        &*at.file == DSL_FILE
    }

    /// Records an overlay diagnostic on the right token, as a broken `rule`.
    pub fn report(&self, cx: &Ctxt, rule: Rule, d: &mrs_compose::Diagnostic, text: &OverlayText) {
        cx.error(
            self.span(&d.at),
            self.message(rule, d.message.clone(), "here", &d.at, text)
                .help_opt(d.help.clone()),
        );
    }

    /// A message about something at `at`: when it is in an overlay, the
    /// message quotes its line (the span being the overlay's name).
    pub fn message(
        &self,
        rule: Rule,
        summary: impl Into<String>,
        what: &str,
        at: &Location,
        text: &OverlayText,
    ) -> Message {
        let m = Message::new(rule, summary);
        if self.span_of(at).1 {
            m.at(what, at, text)
        } else {
            m
        }
    }

    /// The span an error about `at` sits on.
    pub fn span(&self, at: &Location) -> Span {
        self.span_of(at).0
    }
}
