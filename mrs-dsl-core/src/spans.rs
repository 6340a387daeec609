//! Maps overlay locations back to the DSL token an error should sit on.
//!
//! A span cannot point into YAML. Values the DSL itself contributes (service
//! overrides) are located in a pseudo-file whose "line" indexes a table of
//! spans; anything located in an overlay file is reported on that overlay's
//! name in `overlays: [...]`, with the file:line:col and the YAML line in
//! the message.

use proc_macro2::Span;

use mrs_compose::{Location, Sources};

use crate::ctxt::{Ctxt, Message};

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
    pub fn span(&self, at: &Location) -> (Span, bool) {
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

    /// Records an overlay diagnostic on the right token.
    pub fn report(&self, cx: &Ctxt, d: &mrs_compose::Diagnostic, sources: &Sources) {
        let (span, in_overlay) = self.span(&d.at);
        let mut m = Message::new(d.message.clone());
        if in_overlay {
            m = m.at("here", &d.at, sources);
        }
        if let Some(h) = &d.help {
            m = m.help(h);
        }
        cx.error(span, m.build());
    }
}
