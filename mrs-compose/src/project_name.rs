//! Project names: compose's normalisation and validation.
//!
//! Names given explicitly (`-p`, `COMPOSE_PROJECT_NAME`, the DSL) must already
//! be normal; names derived from a folder or a file's `name:` are normalised
//! silently: lowercase, drop anything but `[a-z0-9_-]`, strip leading `_`/`-`.

/// Why a project name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProjectNameError {
    /// The name is not in normal form.
    #[error(
        "invalid project name \"{0}\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    )]
    Invalid(String),
    /// Nothing is left.
    #[error("project name must not be empty")]
    Empty,
}

/// Compose's `NormalizeProjectName`.
pub fn normalize(name: &str) -> String {
    let lower = name.to_lowercase();
    let kept: String = lower
        .chars()
        .filter(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

/// Accepts an explicit name only when it is already normal.
pub fn validate(name: &str) -> Result<&str, ProjectNameError> {
    if name.is_empty() {
        return Err(ProjectNameError::Empty);
    }
    if normalize(name) != name {
        return Err(ProjectNameError::Invalid(name.to_owned()));
    }
    Ok(name)
}

/// Normalises a derived name (folder, `name:`), refusing an empty result.
pub fn derive(name: &str) -> Result<String, ProjectNameError> {
    let n = normalize(name);
    if n.is_empty() {
        Err(ProjectNameError::Empty)
    } else {
        Ok(n)
    }
}

/// A slug usable in names and routers: lowercase ASCII letters and digits,
/// every other run of characters turned into one `-`, trimmed of `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_compose() {
        assert_eq!(normalize("My.App"), "myapp");
        assert_eq!(normalize("__x-Y"), "x-y");
        assert_eq!(normalize("ÉcOle 2"), "cole2");
        assert_eq!(derive("___"), Err(ProjectNameError::Empty));
        assert_eq!(derive("mrs-staging"), Ok("mrs-staging".into()));
    }

    #[test]
    fn validates_explicit_names() {
        assert_eq!(validate("test-feature-1"), Ok("test-feature-1"));
        let e = validate("Test").expect_err("uppercase");
        assert_eq!(
            e.to_string(),
            "invalid project name \"Test\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        );
        assert!(validate("-x").is_err());
        assert!(validate("a.b").is_err());
        assert_eq!(validate(""), Err(ProjectNameError::Empty));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("staging.mrs.beta.gouv.fr"), "staging-mrs-beta-gouv-fr");
        assert_eq!(slug("localhost:8000"), "localhost-8000");
        assert_eq!(slug("Feature/Add_Thing"), "feature-add-thing");
        assert_eq!(slug("--"), "");
    }
}
