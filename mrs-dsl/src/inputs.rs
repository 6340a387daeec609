//! Run-time inputs: the process environment, or a `0600` env file.
//!
//! The file's syntax is docker's `--env-file`: one `KEY=VALUE` a line, the
//! value taken verbatim (no quotes processing, no `$` expansion, trailing
//! blanks kept); `KEY` alone takes the value from the process environment;
//! blank lines and lines starting with `#` are skipped. Errors name the
//! file, the line and, when it is a valid name, the variable: never the
//! line's content, which may hold part of a secret.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use indexmap::IndexMap;

use mrs_compose::interpolate::{Binding, Resolve};
use mrs_env::spec::EnvSpec;

/// Where run-time inputs are read from: the env file first, then the process environment.
#[derive(Debug, Default)]
pub struct Inputs {
    /// The file's variables, with their line numbers.
    file: IndexMap<String, (String, usize)>,
    /// The file's name, for messages.
    path: String,
}

/// Why the inputs were refused.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// Unreadable.
    #[error("cannot read env file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Readable by others: secrets would be exposed.
    #[error(
        "env file {path} has mode {mode:o}; it holds secrets and must not be readable by group or others (chmod 600 {path})"
    )]
    Permissions {
        /// The file.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// A line that is not `KEY=VALUE` nor `KEY`.
    #[error("{path}:{line}: {problem} (the line is not shown: it may hold part of a secret)")]
    Syntax {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
        /// What is wrong, naming the variable only when it is a valid name.
        problem: String,
    },
    /// Not UTF-8.
    #[error("{path}:{line}: the line is not valid UTF-8")]
    Encoding {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
    },
    /// A secret that is only blanks: surely a mistake.
    #[error("secret `{name}` is blank (only spaces or tabs){at}; nothing was changed")]
    BlankSecret {
        /// The variable.
        name: String,
        /// ` (env file F:N)` when it came from the file.
        at: String,
    },
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses docker's `--env-file` syntax; `lookup` gives a bare `KEY` its value.
pub fn parse(
    path: &str,
    bytes: &[u8],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, (String, usize)>, InputsError> {
    let mut vars = IndexMap::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if index == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let line = std::str::from_utf8(raw).map_err(|_| InputsError::Encoding {
            path: path.to_owned(),
            line: line_no,
        })?;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let syntax = |problem: String| InputsError::Syntax {
            path: path.to_owned(),
            line: line_no,
            problem,
        };
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim_start(), Some(v)),
            None => (line.trim_end(), None),
        };
        if key.is_empty() {
            return Err(syntax("no variable name before `=`".into()));
        }
        if !is_name(key) {
            return Err(syntax(
                "invalid variable name (letters, digits and `_`, not starting with a digit)".into(),
            ));
        }
        match value {
            Some(v) => {
                vars.insert(key.to_owned(), (v.to_owned(), line_no));
            }
            None => {
                if let Some(v) = lookup(key) {
                    vars.insert(key.to_owned(), (v, line_no));
                }
            }
        }
    }
    Ok(vars)
}

impl Inputs {
    /// Reads the process environment, and `env_file` when given.
    pub fn load(env_file: Option<&Path>) -> Result<Inputs, InputsError> {
        let Some(path) = env_file else {
            return Ok(Inputs::default());
        };
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| InputsError::Read {
            path: display.clone(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(InputsError::Permissions {
                path: display,
                mode,
            });
        }
        let bytes = std::fs::read(path).map_err(|source| InputsError::Read {
            path: display.clone(),
            source,
        })?;
        let file = parse(&display, &bytes, &|k| std::env::var(k).ok())?;
        Ok(Inputs {
            file,
            path: display,
        })
    }

    /// Warnings for names in the file that `spec` does not read (names only),
    /// with the closest name it does read.
    pub fn unknown_names(&self, spec: &EnvSpec) -> Vec<String> {
        let known: Vec<&str> = spec.runtime_inputs().map(|(n, _, _)| n).collect();
        self.file
            .iter()
            .filter(|(name, _)| !known.contains(&name.as_str()))
            .map(|(name, (_, line))| {
                let close = known
                    .iter()
                    .map(|k| (strsim::levenshtein(k, name), *k))
                    .filter(|(d, _)| *d <= 2)
                    .min();
                let hint = close.map_or_else(String::new, |(_, k)| format!("; did you mean `{k}`?"));
                format!(
                    "warning: {}:{line}: `{name}` is not a value the `{}` environment reads, so it is ignored{hint}",
                    self.path, spec.name
                )
            })
            .collect()
    }

    /// Refuses a secret made only of blanks.
    pub fn check_secrets(&self, spec: &EnvSpec) -> Result<(), InputsError> {
        for (name, secret, _) in spec.runtime_inputs() {
            if !secret {
                continue;
            }
            if let Binding::Set(v) = self.resolve(name)
                && !v.is_empty()
                && v.trim().is_empty()
            {
                let at = self
                    .file
                    .get(name)
                    .map(|(_, line)| format!(" (env file {}:{line})", self.path))
                    .unwrap_or_default();
                return Err(InputsError::BlankSecret {
                    name: name.to_owned(),
                    at,
                });
            }
        }
        Ok(())
    }
}

impl Resolve for Inputs {
    fn resolve(&self, name: &str) -> Binding {
        match self.file.get(name) {
            Some((v, _)) => Binding::Set(v.clone()),
            None => mrs_compose::project::ProcessEnv.resolve(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_docker_env_file_syntax_verbatim() {
        let text =
            b"\xEF\xBB\xBF# comment\n  A=1\nB= two  \nC='q' \"d\" $HOME ${X}\r\nD=\nE\nF=a=b\n\n";
        let vars = parse("f", text, &|k| (k == "E").then(|| "from-env".to_owned())).expect("valid");
        let get = |k: &str| vars.get(k).map(|(v, _)| v.as_str());
        assert_eq!(get("A"), Some("1"));
        assert_eq!(get("B"), Some(" two  "));
        assert_eq!(get("C"), Some("'q' \"d\" $HOME ${X}"));
        assert_eq!(get("D"), Some(""));
        assert_eq!(get("E"), Some("from-env"));
        assert_eq!(get("F"), Some("a=b"));
        assert_eq!(vars.get("C").map(|(_, l)| *l), Some(4));
        let vars = parse("f", b"E\n", &none).expect("valid");
        assert!(
            vars.is_empty(),
            "a bare name unset in the environment is skipped"
        );
    }

    #[test]
    fn errors_name_the_line_never_the_content() {
        for (text, line) in [
            (&b"A=1\n=s3cret\n"[..], 2),
            (b"A=1\ns3cret words\n", 2),
            (b"s3cret words=x\n", 1),
            (b"9s3cret=x\n", 1),
        ] {
            let e = parse("env", text, &none).expect_err("invalid").to_string();
            assert!(e.starts_with(&format!("env:{line}: ")), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
        let e = parse("env", b"A=\xff\n", &none).expect_err("not UTF-8");
        assert_eq!(e.to_string(), "env:1: the line is not valid UTF-8");
    }

    #[test]
    fn refuses_env_files_readable_by_others() {
        let dir = std::env::temp_dir().join(format!("mrs-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("env");
        std::fs::write(&path, "SECRET_KEY=abc\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            Inputs::load(Some(&path)),
            Err(InputsError::Permissions { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let inputs = Inputs::load(Some(&path)).expect("0600 is fine");
        assert_eq!(inputs.resolve("SECRET_KEY"), Binding::Set("abc".into()));
        std::fs::remove_dir_all(&dir).ok();
    }
}
