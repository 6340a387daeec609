//! Where a value came from: file, line and column, and the source text to quote.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A position in an overlay file (1-based line and column, in characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The file as the user named it (relative paths stay relative).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl Location {
    /// A location in `file` at `line`:`col`.
    pub fn new(file: Arc<str>, line: u32, col: u32) -> Self {
        Location { file, line, col }
    }

    /// A location for values that come from no file (defaults, the DSL).
    pub fn synthetic(origin: &str) -> Self {
        Location {
            file: Arc::from(origin),
            line: 0,
            col: 0,
        }
    }

    /// Whether this location points into a real file.
    pub fn is_synthetic(&self) -> bool {
        self.line == 0
    }

    /// The same line, `chars` characters further right.
    pub fn shifted(&self, chars: usize) -> Self {
        let col = self
            .col
            .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        Location {
            file: self.file.clone(),
            line: self.line,
            col,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_synthetic() {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

/// An overlay's text, kept so that errors can quote the line they are about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file name used in locations.
    pub name: Arc<str>,
    /// The whole text of the file.
    pub text: String,
}

impl Source {
    /// The text of 1-based `line`, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text.lines().nth(index)
    }

    /// A two-line excerpt: the line of `at`, and a caret under its column.
    pub fn snippet(&self, at: &Location) -> Option<String> {
        let text = self.line(at.line)?;
        let pad = usize::try_from(at.col.saturating_sub(1)).unwrap_or(0);
        let indent: String = text
            .chars()
            .take(pad)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        Some(format!("{:>4} | {}\n     | {}^", at.line, text, indent))
    }
}

/// Sources by file name, to render snippets for any location.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// Adds (or replaces) a file's text.
    pub fn insert(&mut self, source: Source) {
        if let Some(existing) = self.files.iter_mut().find(|s| s.name == source.name) {
            *existing = source;
        } else {
            self.files.push(source);
        }
    }

    /// The file named like `at.file`, if known.
    pub fn get(&self, name: &str) -> Option<&Source> {
        self.files.iter().find(|s| &*s.name == name)
    }

    /// The snippet for `at`, if its file is known.
    pub fn snippet(&self, at: &Location) -> Option<String> {
        self.get(&at.file)?.snippet(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_the_column() {
        let source = Source {
            name: "a.yml".into(),
            text: "x:\n  y: '${Z}'\n".into(),
        };
        let at = Location::new("a.yml".into(), 2, 6);
        let snippet = source.snippet(&at).expect("line 2 exists");
        assert_eq!(snippet, "   2 |   y: '${Z}'\n     |      ^");
        assert_eq!(at.to_string(), "a.yml:2:6");
    }

    #[test]
    fn no_snippet_past_the_end() {
        let source = Source {
            name: "a.yml".into(),
            text: "x: 1\n".into(),
        };
        assert!(
            source
                .snippet(&Location::new("a.yml".into(), 9, 1))
                .is_none()
        );
        assert!(
            source
                .snippet(&Location::new("a.yml".into(), 0, 1))
                .is_none()
        );
    }
}
