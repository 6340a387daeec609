//! Image references: `[registry[:port]/]name[:tag][@digest]`.

use std::fmt;

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (with port), when the reference names one.
    pub registry: Option<String>,
    /// Repository path, e.g. `betagouv/mrs`.
    pub repository: String,
    /// Tag, e.g. `master`.
    pub tag: Option<String>,
    /// Digest, e.g. `sha256:...`.
    pub digest: Option<String>,
}

/// Why an image reference was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference `{reference}`: {reason}")]
pub struct ImageRefError {
    /// The reference as written.
    pub reference: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ImageRef {
    /// Parses a reference with the grammar of the distribution reference library.
    pub fn parse(reference: &str) -> Result<Self, ImageRefError> {
        let err = |reason: &str| ImageRefError {
            reference: reference.to_owned(),
            reason: reason.to_owned(),
        };
        if reference.is_empty() {
            return Err(err("it is empty"));
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => {
                let (algo, hex) = d
                    .split_once(':')
                    .ok_or_else(|| err("a digest is `algorithm:hex`"))?;
                if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(err(
                        "the digest must be `sha256:` and at least 32 hex digits",
                    ));
                }
                (r, Some(d.to_owned()))
            }
            None => (reference, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(rest[i + 1..].to_owned())),
            _ => (rest, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !valid {
                return Err(err(
                    "a tag is 1 to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`",
                ));
            }
        }
        let mut components: Vec<&str> = name.split('/').collect();
        let registry = if components.len() > 1
            && (components[0].contains('.')
                || components[0].contains(':')
                || components[0] == "localhost")
        {
            Some(components.remove(0).to_owned())
        } else {
            None
        };
        for c in &components {
            let valid = !c.is_empty()
                && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
                });
            if !valid {
                return Err(err(
                    "repository names use lowercase letters, digits and separators `.`, `_`, `-`",
                ));
            }
        }
        Ok(ImageRef {
            registry,
            repository: components.join("/"),
            tag,
            digest,
        })
    }

    /// Whether the reference names one fixed image: a digest, or a tag that is
    /// not a moving one (`latest`, `master`, `main`, `develop`, `stable`, `edge`).
    pub fn is_pinned(&self) -> bool {
        if self.digest.is_some() {
            return true;
        }
        match self.tag.as_deref() {
            None => false,
            Some(t) => !MOVING_TAGS.contains(&t),
        }
    }

    /// The tag the engine will use (`latest` when none is written).
    pub fn effective_tag(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

/// Tags that point at a different image from one day to the next.
pub const MOVING_TAGS: &[&str] = &[
    "latest", "master", "main", "develop", "dev", "stable", "edge", "nightly",
];

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("betagouv/mrs:master").expect("valid");
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref(), r.is_pinned()),
            ("betagouv/mrs", Some("master"), false)
        );
        let r = ImageRef::parse("registry.example:5000/a/b:1.2").expect("valid");
        assert_eq!(r.registry.as_deref(), Some("registry.example:5000"));
        assert!(r.is_pinned());
        let r = ImageRef::parse("postgres").expect("valid");
        assert_eq!((r.effective_tag(), r.is_pinned()), ("latest", false));
        let d = format!("mrs@sha256:{}", "a".repeat(64));
        assert!(ImageRef::parse(&d).expect("digest").is_pinned());
        assert_eq!(
            ImageRef::parse("djfarrelly/maildev")
                .expect("valid")
                .to_string(),
            "djfarrelly/maildev"
        );
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in [
            "",
            "Betagouv/mrs",
            "mrs:",
            "mrs:-x",
            "a//b",
            "mrs@sha256:zz",
            "mrs:a b",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
