//! The one pipeline from a merged tree to a project: interpolate → decode →
//! normalise → absolute bind paths. The macro runs it at compile time (run-time
//! values deferred, a placeholder project name), the binary at run time, and the
//! build script's cross-environment check reads what the macro's run produced.

use std::path::Path;

use mrs_compose::interpolate::{self, Output, Resolve};
use mrs_compose::model::Project;
use mrs_compose::node::Node;
use mrs_compose::{Diagnostics, project};

/// What [`realise`] produced: the interpolated tree, the project when it
/// decodes, and every problem found on the way.
#[derive(Debug)]
pub struct Realised {
    /// The tree after interpolation (a template again with [`Output::Template`]).
    pub tree: Node,
    /// The normalised project with absolute bind sources; `None` when the tree does not decode.
    pub project: Option<Project>,
    /// Interpolation, decoding and normalisation errors.
    pub errors: Diagnostics,
}

impl Realised {
    /// The project and tree, or every error.
    pub fn into_result(self) -> Result<(Project, Node), Diagnostics> {
        match self.project {
            Some(p) if self.errors.is_empty() => Ok((p, self.tree)),
            _ => Err(self.errors),
        }
    }
}

/// Interpolates `tree` against `vars`, decodes it into the typed model,
/// normalises it as project `name` and makes bind-mount sources absolute
/// against `home`. Goes as far as it can, so that one pass reports every error.
pub fn realise(
    mut tree: Node,
    vars: &dyn Resolve,
    output: Output,
    name: &str,
    home: &Path,
) -> Realised {
    let mut errors = Vec::new();
    interpolate::interpolate_tree(&mut tree, vars, output, &mut errors);
    let mut errors = Diagnostics(errors);
    let project = match project::decode(&tree) {
        Ok(mut p) => {
            if let Err(e) = project::normalize(&mut p, name, vars, &tree) {
                errors.0.extend(e);
            }
            project::resolve_paths(&mut p, home);
            Some(p)
        }
        Err(e) => {
            errors.0.extend(e);
            None
        }
    };
    Realised {
        tree,
        project,
        errors,
    }
}
