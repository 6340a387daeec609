//! Home and project: where an environment keeps its data and how compose
//! names its containers.

use mrs_compose::project_name;
use mrs_env::spec::VarSource;

use crate::ctxt::{Ctxt, Message};
use crate::lower::{Lowered, ProjectProblem};
use crate::read::PersistenceDecl;
use crate::rules;

/// A home (or an ephemeral root) is absolute: bind mounts resolve against
/// it on the server, whatever the current folder.
pub fn check_absolute(cx: &Ctxt, m: &Lowered<'_>) {
    let (what, lit, example) = match &m.env.persistence {
        Some(PersistenceDecl::Persistent { home: Some(h), .. }) => ("home", h, "/home/mrs-staging"),
        Some(PersistenceDecl::Ephemeral { root: Some(r), .. }) => ("root", r, "/srv/mrs-review"),
        _ => return,
    };
    if !lit.value().starts_with('/') {
        cx.error(
            lit.span(),
            Message::new(
                rules::PATH_ABSOLUTE,
                format!("{what} `{}` is not absolute", lit.value()),
            )
            .help(format!("write the full path, like \"{example}\"")),
        );
    }
}

/// The project name obeys compose's rules: an explicit one is already
/// normal, the home's last folder gives one, an ephemeral template's literal
/// part is valid.
pub fn check_project_name(cx: &Ctxt, m: &Lowered<'_>) {
    let (Some(problem), Some(decl)) = (&m.project_problem, &m.env.persistence) else {
        return;
    };
    match (problem, decl) {
        (
            ProjectProblem::Invalid(e),
            PersistenceDecl::Persistent {
                project: Some(p), ..
            },
        ) => {
            let msg = Message::new(rules::PROJECT_NAME, e.clone());
            let normal = project_name::slug(&p.value());
            let msg = if project_name::validate(&normal).is_ok() {
                msg.help(format!("write `project: \"{normal}\"`"))
            } else {
                msg
            };
            cx.error(p.span(), msg);
        }
        (ProjectProblem::FromHome(base), PersistenceDecl::Persistent { home: Some(h), .. }) => {
            cx.error(
                h.span(),
                Message::new(
                    rules::PROJECT_NAME,
                    format!("the project name comes from the home's last folder, and `{base}` gives none"),
                )
                .help("add `project: \"...\"`"),
            );
        }
        (
            ProjectProblem::Template(e),
            PersistenceDecl::Ephemeral {
                project: Some(t), ..
            },
        ) => {
            cx.error(
                t.span,
                Message::new(
                    rules::PROJECT_NAME,
                    format!("{e} (checked with `x` for each variable)"),
                ),
            );
        }
        _ => {}
    }
}

/// An ephemeral environment lives some time.
pub fn check_lifetime(cx: &Ctxt, m: &Lowered<'_>) {
    if let Some(PersistenceDecl::Ephemeral {
        lifetime: Some((0, span)),
        ..
    }) = &m.env.persistence
    {
        cx.error(
            *span,
            Message::new(
                rules::EPHEMERAL_LIFETIME,
                "an ephemeral environment needs a lifetime longer than 0",
            )
            .help("give it the time it is kept after its last deployment, like `7d`"),
        );
    }
}

/// An ephemeral project name varies with a run-time input (the branch):
/// otherwise every branch deploys over the same containers.
pub fn check_project_varies(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(PersistenceDecl::Ephemeral {
        project: Some(t), ..
    }) = &m.env.persistence
    else {
        return;
    };
    if t.refs.iter().any(|r| !m.is_declared(r)) {
        return; // Reported as undeclared: what it would be computed from is unknown.
    }
    let inputs = m.table.graph().inputs_of(t.refs.iter().map(String::as_str));
    let varies = inputs
        .iter()
        .any(|n| matches!(m.vars.get(n), Some(VarSource::Input { .. })));
    if !varies {
        cx.error(
            t.span,
            Message::new(
                rules::EPHEMERAL_PROJECT_INPUT,
                format!(
                    "the project name `{}` does not vary with a run-time input: every branch would deploy over the same containers",
                    t.text
                ),
            )
            .help("compute it from the branch, like `project: \"test-{BRANCH_SLUG}\"` with `BRANCH: input` and `BRANCH_SLUG: slug(BRANCH)`"),
        );
    }
}
