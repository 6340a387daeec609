//! DSL string templates: `"betagouv/mrs:{IMAGE_TAG}"`, `"http://{HOST}/?test={uuid}"`.
//!
//! `{NAME}` refers to a variable, `{{` and `}}` are literal braces. They are
//! turned into compose's `${NAME}` syntax (literal `$` doubled), so one
//! interpolation engine evaluates everything, at compile and at run time.

/// What a variable name is, for errors.
pub const NAME_SHAPE: &str =
    "a name is letters, digits and `_`, and does not start with a digit (like `HOST_SLUG`)";

/// A template converted to compose syntax, with the names it refers to.
#[derive(Debug, PartialEq, Eq)]
pub struct Converted {
    /// The compose-syntax template.
    pub compose: String,
    /// Variables referred to, in order.
    pub refs: Vec<String>,
}

/// Converts a DSL template; `Err` says what is malformed.
pub fn convert(text: &str) -> Result<Converted, String> {
    let mut compose = String::new();
    let mut refs = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                compose.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                compose.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(format!(
                                "unclosed `{{` in `{text}`; write `{{{{` for a literal brace"
                            ));
                        }
                    }
                }
                if !mrs_compose::interpolate::is_var_name(&name) {
                    return Err(format!(
                        "`{{{name}}}` in `{text}` is not a variable name: {NAME_SHAPE}"
                    ));
                }
                compose.push_str("${");
                compose.push_str(&name);
                compose.push('}');
                refs.push(name);
            }
            '}' => {
                return Err(format!(
                    "unmatched `}}` in `{text}`; write `}}}}` for a literal brace"
                ));
            }
            '$' => compose.push_str("$$"),
            c => compose.push(c),
        }
    }
    Ok(Converted { compose, refs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_compose_syntax() {
        let c = convert("http://{HOST}/?test={uuid}&p=$x{{y}}").expect("valid");
        assert_eq!(c.compose, "http://${HOST}/?test=${uuid}&p=$$x{y}");
        assert_eq!(c.refs, ["HOST", "uuid"]);
        assert!(convert("a{B").is_err());
        assert!(convert("a}").is_err());
        assert!(convert("{1x}").is_err());
    }
}
