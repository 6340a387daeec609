//! `.env` files, as compose reads them for `--env-file` and `env_file:`.
//!
//! `KEY=value`, optional `export `, `#` comments; single-quoted values are
//! literal, double-quoted ones understand `\n`, `\t`, `\"`, `\\` and are
//! interpolated, unquoted ones lose a trailing ` # comment` and surrounding
//! blanks and are interpolated. Interpolation sees the keys above and then
//! the `fallback` lookup.

use indexmap::IndexMap;

use crate::error::{Diagnostic, Kind};
use crate::interpolate::{self, Binding, Evaluated, Resolve};
use crate::location::Location;

/// Parses `text` (named `file` in errors), resolving `${VAR}` against the keys
/// already read, then `fallback`.
pub fn parse(
    file: &str,
    text: &str,
    fallback: &dyn Resolve,
) -> Result<IndexMap<String, String>, Diagnostic> {
    let mut vars: IndexMap<String, String> = IndexMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let at = Location::new(file.into(), line_no, 1);
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else {
            let key = line.trim();
            if is_key(key) {
                // A bare key takes its value from the environment, when there is one.
                if let Binding::Set(v) = fallback.resolve(key) {
                    vars.insert(key.to_owned(), v);
                }
                continue;
            }
            return Err(Diagnostic::new(
                Kind::Syntax,
                at,
                format!("expected `KEY=value`, found `{}`", raw.trim()),
            ));
        };
        let key = key.trim_end();
        if !is_key(key) {
            return Err(Diagnostic::new(
                Kind::Syntax,
                at,
                format!("invalid variable name `{key}`"),
            ));
        }
        let value_at = at.shifted(raw.len() - raw.trim_start().len() + line.len() - value.len());
        let value = value.trim_start();
        let parsed = if let Some(rest) = value.strip_prefix('\'') {
            let end = rest
                .find('\'')
                .ok_or_else(|| unterminated(&value_at, '\''))?;
            rest[..end].to_owned()
        } else if let Some(rest) = value.strip_prefix('"') {
            let (text, _) = double_quoted(rest).ok_or_else(|| unterminated(&value_at, '"'))?;
            expand(&text, &vars, fallback, &value_at)?
        } else {
            let without_comment = match value.find(" #") {
                Some(i) => &value[..i],
                None => value,
            };
            expand(without_comment.trim_end(), &vars, fallback, &value_at)?
        };
        vars.insert(key.to_owned(), parsed);
    }
    Ok(vars)
}

/// Parses `text` in the `raw` format of `env_file: {format: raw}`: each
/// `KEY=value` line as it is, nothing unquoted or interpolated; blank lines
/// and `#` comments skipped.
pub fn parse_raw(file: &str, text: &str) -> Result<IndexMap<String, String>, Diagnostic> {
    let mut vars = IndexMap::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            return Err(Diagnostic::new(
                Kind::Syntax,
                Location::new(file.into(), line_no, 1),
                format!("expected `KEY=value`, found `{}`", line.trim()),
            ));
        };
        vars.insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(vars)
}

/// A key as compose's dotenv parser accepts one: letters, digits and
/// `_ . - [ ]` (label files hold keys like `com.example.team`).
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'))
}

fn unterminated(at: &Location, quote: char) -> Diagnostic {
    Diagnostic::new(
        Kind::Syntax,
        at.clone(),
        format!("unterminated {quote}-quoted value"),
    )
}

fn double_quoted(rest: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn expand(
    text: &str,
    vars: &IndexMap<String, String>,
    fallback: &dyn Resolve,
    at: &Location,
) -> Result<String, Diagnostic> {
    let lookup = |name: &str| match vars.get(name) {
        Some(v) => Binding::Set(v.clone()),
        None => fallback.resolve(name),
    };
    let template = interpolate::parse(text, at)?;
    match interpolate::evaluate(&template, &lookup, at)? {
        Evaluated::Text(s) | Evaluated::Partial(s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Binding {
        Binding::Unset
    }

    #[test]
    fn parses_dotenv() {
        let text = "# comment\nA=1\nexport B = two # note\nC='lit ${A}'\nD=\"x\\ny ${A}\"\nE=${A}-${UNSET:-d}\n\nF=\n";
        let vars = parse(".env", text, &none).expect("valid");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("two"));
        assert_eq!(vars.get("C").map(String::as_str), Some("lit ${A}"));
        assert_eq!(vars.get("D").map(String::as_str), Some("x\ny 1"));
        assert_eq!(vars.get("E").map(String::as_str), Some("1-d"));
        assert_eq!(vars.get("F").map(String::as_str), Some(""));
    }

    #[test]
    fn raw_values_are_kept_as_written() {
        let vars =
            parse_raw("raw.env", "# c\nA='q' ${B} # not a comment\n\nC=x=y\n").expect("valid");
        assert_eq!(
            vars.get("A").map(String::as_str),
            Some("'q' ${B} # not a comment")
        );
        assert_eq!(vars.get("C").map(String::as_str), Some("x=y"));
        assert!(parse_raw("raw.env", "nope\n").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(".env", "A=1\nnot a line\n", &none).expect_err("invalid");
        assert_eq!(e.at.to_string(), ".env:2:1");
        assert!(parse(".env", "A='open\n", &none).is_err());
        assert!(parse(".env", "A B=x\n", &none).is_err());
        assert!(parse(".env", "A$=x\n", &none).is_err());
        assert_eq!(
            parse(".env", "com.example.team=ops\n", &none)
                .expect("a label key")
                .get("com.example.team")
                .map(String::as_str),
            Some("ops")
        );
    }
}
