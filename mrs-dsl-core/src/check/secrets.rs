//! Secrets an overlay names (`x-mrs.secrets`) are read at run time in
//! persistent environments, never written in the source: the binary embeds
//! every value the source writes.

use mrs_compose::Location;
use mrs_compose::interpolate::{Binding, Resolve as _};
use mrs_compose::node::Node;
use mrs_env::catalog::CatalogOverlay;
use mrs_env::spec::VarSource;

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::read::{OverrideValue, PersistenceDecl, Val, VarDeclSource};
use crate::rules;

/// The secrets the merged overlays name, each with the overlay naming it.
fn named_secrets<'a>(m: &'a Lowered<'_>) -> Vec<(&'a str, &'a CatalogOverlay)> {
    if !matches!(m.env.persistence, Some(PersistenceDecl::Persistent { .. })) {
        return Vec::new(); // Ephemeral environments hold no real data.
    }
    m.overlays
        .iter()
        .flat_map(|s| {
            s.overlay
                .rules
                .secrets
                .iter()
                .map(move |n| (n.as_str(), s.overlay))
        })
        .collect()
}

fn listed_at(overlay: &CatalogOverlay, name: &str) -> Location {
    overlay
        .overlay
        .tree
        .lookup(&["x-mrs", "secrets"])
        .and_then(Node::as_seq)
        .and_then(|items| items.iter().find(|i| i.as_str() == Some(name)))
        .map(|n| n.at.clone())
        .or_else(|| overlay.rules.at.clone())
        .unwrap_or_else(|| Location::synthetic(&overlay.overlay.source.name))
}

/// Whether an overlay merged lists `name` as secret, in a persistent environment.
pub fn is_named_secret(m: &Lowered<'_>, name: &str) -> bool {
    named_secrets(m).iter().any(|(s, _)| *s == name)
}

/// A variable an overlay lists as secret is declared `secret` (or computed
/// from one): not written in the source, not computed from values that are,
/// not an `input` (inputs are shown in plans).
pub fn check_declared_secret(cx: &Ctxt, m: &Lowered<'_>) {
    let secrets = named_secrets(m);
    let graph = m.table.graph();
    for decl in &m.env.vars {
        let name = decl.name.name.as_str();
        let Some((_, overlay)) = secrets.iter().find(|(s, _)| *s == name) else {
            continue;
        };
        let from_secret = || {
            graph
                .inputs_of([name])
                .iter()
                .any(|n| matches!(m.vars.get(n), Some(VarSource::Secret)))
        };
        let what = match &decl.source {
            VarDeclSource::Secret(_) | VarDeclSource::Unset(_) => continue,
            VarDeclSource::Literal(..) => "written in the source",
            VarDeclSource::Input(..) => "an input (inputs are shown in plans)",
            _ if from_secret() => continue,
            _ if matches!(m.table.resolve(name), Binding::Set(_)) => {
                "computed from values written in the source"
            }
            _ => "computed from inputs (inputs are shown in plans)",
        };
        cx.error(
            decl.source.span(),
            Message::new(
                rules::SECRET_DECLARED,
                format!("`{name}` is a secret and cannot be {what} in a persistent environment"),
            )
            .note("secrets are read at run time and never embedded in the binary")
            .at(
                &format!("overlay `{}` lists it in `secrets`", overlay.rules.name),
                &listed_at(overlay, name),
                &m.text,
            )
            .help(format!("write `{name}: secret`")),
        );
    }
}

/// A value written in a service override for a name an overlay lists as
/// secret (`environment: { SECRET_KEY: "..." }`, a label) would be embedded
/// in the binary: it comes from a `secret` variable instead.
pub fn check_not_written(cx: &Ctxt, m: &Lowered<'_>) {
    let secrets = named_secrets(m);
    if secrets.is_empty() {
        return;
    }
    let tainted = m
        .table
        .graph()
        .derived_from(|n| matches!(m.vars.get(n), Some(VarSource::Secret)));
    for service in &m.env.services {
        for o in &service.overrides {
            if !matches!(o.key.name.as_str(), "environment" | "labels") {
                continue;
            }
            let (OverrideValue::Merge(v) | OverrideValue::Replace(v)) = &o.value else {
                continue;
            };
            for (key, value) in entries(v) {
                let Some((_, overlay)) = secrets.iter().find(|(s, _)| *s == key) else {
                    continue;
                };
                let Val::Str(t) = value else { continue };
                if t.text.is_empty() || t.refs.iter().any(|r| tainted.contains(r)) {
                    continue;
                }
                cx.error(
                    t.span,
                    Message::new(
                        rules::SECRET_WRITTEN,
                        format!("`{key}` is a secret, and this writes its value in the source"),
                    )
                    .note("secrets are read at run time and never embedded in the binary")
                    .at(
                        &format!("overlay `{}` lists it in `secrets`", overlay.rules.name),
                        &listed_at(overlay, &key),
                        &m.text,
                    )
                    .help(format!(
                        "declare `{key}: secret` in `vars` and write `\"{{{key}}}\"` here, or leave the entry to the overlays"
                    )),
                );
            }
        }
    }
}

/// `KEY: value` entries of a map, and `"KEY=value"` items of a list.
fn entries<'v, 'a>(v: &'v Val<'a>) -> Vec<(String, &'v Val<'a>)> {
    match v {
        Val::Map(fields, _) => fields.iter().map(|(k, v)| (k.name.clone(), v)).collect(),
        Val::List(items, _) => items
            .iter()
            .filter_map(|i| match i {
                Val::Str(t) => t.text.split_once('=').map(|(k, _)| (k.to_owned(), i)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
