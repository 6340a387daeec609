//! `persistent: { ... }` and `ephemeral: { ... }`.

use proc_macro2::Span;
use syn::LitStr;

use super::Template;
use super::ast::Field;
use super::shape::{Seen, duration, error, expect_fields, expect_str, read_template, unknown_key};
use crate::ctxt::{Ctxt, Message};
use crate::keys;
use crate::rules;

/// Persistent or ephemeral, as declared.
pub enum PersistenceDecl<'a> {
    /// `persistent: { home: "...", project: "..." }`.
    Persistent {
        /// The key's span.
        key: Span,
        /// Home folder.
        home: Option<&'a LitStr>,
        /// Explicit project name.
        project: Option<&'a LitStr>,
    },
    /// `ephemeral: { project: "test-{BRANCH_SLUG}", root: "...", lifetime: 7d }`.
    Ephemeral {
        /// The key's span.
        key: Span,
        /// Project name template.
        project: Option<Template>,
        /// Folder holding one folder per project.
        root: Option<&'a LitStr>,
        /// Lifetime in seconds and its span.
        lifetime: Option<(u64, Span)>,
    },
}

impl PersistenceDecl<'_> {
    /// The span of the `persistent` / `ephemeral` key.
    pub fn key(&self) -> Span {
        match self {
            PersistenceDecl::Persistent { key, .. } | PersistenceDecl::Ephemeral { key, .. } => {
                *key
            }
        }
    }
}

pub(super) fn read_persistence<'a>(cx: &Ctxt, field: &'a Field) -> PersistenceDecl<'a> {
    let persistent = field.key.name == "persistent";
    let mut home = None;
    let mut project = None;
    let mut project_template = None;
    let mut root = None;
    let mut lifetime = None;
    let mut seen = Seen(Vec::new());
    let allowed = if persistent {
        keys::PERSISTENT
    } else {
        keys::EPHEMERAL
    };
    let what = format!("`{}`", field.key.name);
    for f in expect_fields(cx, &field.value, &what) {
        if !seen.first(&f.key) {
            continue;
        }
        match (persistent, f.key.name.as_str()) {
            (true, "home") => home = expect_str(cx, &f.value, "`home`"),
            (true, "project") => project = expect_str(cx, &f.value, "`project`"),
            (false, "project") => {
                project_template =
                    expect_str(cx, &f.value, "`project`").and_then(|p| read_template(cx, p));
            }
            (false, "root") => root = expect_str(cx, &f.value, "`root`"),
            (false, "lifetime") => lifetime = duration(cx, &f.value, "`lifetime`"),
            _ => unknown_key(cx, &f.key, allowed, &what),
        }
    }
    let key = field.key.span;
    if persistent {
        if !seen.has("home") {
            error(
                cx,
                rules::MISSING_KEY,
                key,
                "a persistent environment needs `home: \"/home/mrs-<name>\"`",
            );
        }
        return PersistenceDecl::Persistent { key, home, project };
    }
    for (required, what, example) in [
        (
            "project",
            "its project name template",
            "project: \"test-{BRANCH_SLUG}\"",
        ),
        (
            "root",
            "the folder holding one folder per project",
            "root: \"/srv/mrs-review\"",
        ),
        (
            "lifetime",
            "how long after its last deployment it is removed",
            "lifetime: 7d",
        ),
    ] {
        if !seen.has(required) {
            cx.error(
                key,
                Message::new(
                    rules::MISSING_KEY,
                    format!("an ephemeral environment needs `{required}`, {what}"),
                )
                .help(format!("add `{example}`")),
            );
        }
    }
    PersistenceDecl::Ephemeral {
        key,
        project: project_template,
        root,
        lifetime,
    }
}
