//! Errors that name what is wrong and where.

use std::fmt;

use crate::location::{Location, Sources};

/// Which rule a diagnostic is about; lets callers and tests tell errors apart
/// without matching on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The file is not well-formed YAML.
    Syntax,
    /// A YAML feature compose does not accept (complex keys, unknown tags, duplicate keys).
    Yaml,
    /// A key outside the Compose Specification.
    UnknownKey,
    /// A key of the Compose Specification that mrs-deploy does not apply.
    Unsupported,
    /// A value of the wrong type or shape.
    Type,
    /// A `${...}` expression that cannot be parsed or evaluated.
    Interpolation,
    /// A `${VAR:?msg}` or `${VAR?msg}` whose variable is missing.
    RequiredVariable,
    /// An invalid project name.
    ProjectName,
    /// An invalid port mapping.
    Port,
    /// An invalid image reference.
    Image,
    /// A reference to a service, network or volume that does not exist.
    Reference,
    /// A file that cannot be read.
    Io,
}

/// One problem, with the place it is about and, when there is one, a fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostic {
    /// Which rule was broken.
    pub kind: Kind,
    /// Where (file:line:col, or a synthetic origin).
    pub at: Location,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without help text.
    pub fn new(kind: Kind, at: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            at,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic with a snippet of the file it points into.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = format!("error: {}\n  --> {}", self.message, self.at);
        if let Some(snippet) = sources.snippet(&self.at) {
            out.push('\n');
            out.push_str(&snippet);
        }
        if let Some(help) = &self.help {
            out.push_str("\n  = help: ");
            out.push_str(help);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// Every problem found in one pass; never empty when returned as an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else the diagnostics.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Renders all diagnostics with snippets, separated by blank lines.
    pub fn render(&self, sources: &Sources) -> String {
        self.0
            .iter()
            .map(|d| d.render(sources))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The closest candidate to `wrong`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wrong_lower = wrong.to_ascii_lowercase();
    // Close by edit distance (a transposition counts as one edit: `tpc` is
    // `tcp`), or by Jaro-Winkler for longer names with a common prefix.
    let allowed_edits = match wrong.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    };
    candidates
        .into_iter()
        .map(|c| {
            let lower = c.to_ascii_lowercase();
            let edits = strsim::damerau_levenshtein(&wrong_lower, &lower);
            let similarity = strsim::jaro_winkler(&wrong_lower, &lower);
            (edits, similarity, c)
        })
        .filter(|(edits, similarity, _)| *edits <= allowed_edits || *similarity > 0.82)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["environment", "entrypoint", "env_file", "image"];
        assert_eq!(did_you_mean("enviroment", keys), Some("environment"));
        assert_eq!(did_you_mean("imgae", keys), Some("image"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
