//! Secrets: values that are read at run time and never printed.

use std::fmt;

/// A secret value. It cannot be displayed, and its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value, for the one place that must hand it to the engine.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// Replaces every secret value in text with `********`.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

/// What secrets are replaced with.
pub const MASK: &str = "********";

impl Redactor {
    /// A redactor for these secrets (empty values are ignored).
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut secrets: Vec<Secret> = secrets.into_iter().filter(|s| !s.0.is_empty()).collect();
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        Redactor { secrets }
    }

    /// `text` with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(&s.0) {
                out = out.replace(&s.0, MASK);
            }
        }
        out
    }

    /// Whether `text` holds a secret.
    pub fn leaks(&self, text: &str) -> bool {
        self.secrets.iter().any(|s| text.contains(&s.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(********)");
        let r = Redactor::new([
            s,
            Secret::new("hunter2-long".into()),
            Secret::new(String::new()),
        ]);
        assert_eq!(
            r.redact("a hunter2-long b hunter2"),
            "a ******** b ********"
        );
        assert!(r.leaks("xhunter2"));
        assert!(!r.leaks("nothing"));
    }
}
