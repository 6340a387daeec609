//! Run-time inputs: the process environment, or a `0600` env file.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use indexmap::IndexMap;

use mrs_compose::interpolate::{Binding, Resolve};

/// Where run-time inputs are read from: the env file first, then the process environment.
#[derive(Debug, Default)]
pub struct Inputs {
    file: IndexMap<String, String>,
}

/// Why the env file was refused.
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
    /// Malformed.
    #[error("{0}")]
    Syntax(mrs_compose::Diagnostic),
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
        let text = std::fs::read_to_string(path).map_err(|source| InputsError::Read {
            path: display.clone(),
            source,
        })?;
        let file = mrs_compose::env_file::parse(&display, &text, &mrs_compose::project::ProcessEnv)
            .map_err(InputsError::Syntax)?;
        Ok(Inputs { file })
    }
}

impl Resolve for Inputs {
    fn resolve(&self, name: &str) -> Binding {
        match self.file.get(name) {
            Some(v) => Binding::Set(v.clone()),
            None => mrs_compose::project::ProcessEnv.resolve(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
