//! External networks: the host provides them (its load balancer joins them),
//! so an environment declares every one its overlays use, and only those.

use mrs_compose::Location;
use mrs_compose::error::did_you_mean;
use mrs_compose::node::{Node, Value};

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::rules;

/// External networks of the merged configuration, with the first overlay
/// that declares each (its token and where it says `external`).
fn external<'a>(m: &'a Lowered<'_>) -> Vec<(String, &'a syn::Ident, Location)> {
    let mut out: Vec<(String, &syn::Ident, Location)> = Vec::new();
    let Some(merged) = m.merged.lookup(&["networks"]).and_then(Node::as_map) else {
        return out;
    };
    for (key, node) in merged.iter() {
        let is_external = |n: &Node| {
            matches!(
                n.lookup(&["external"]).map(|e| &e.value),
                Some(Value::Bool(true))
            )
        };
        if !is_external(node) {
            continue;
        }
        let name = node
            .lookup(&["name"])
            .and_then(Node::as_str)
            .unwrap_or(key)
            .to_owned();
        // The first overlay that declares it, and where it says `external`.
        let declared_by = m.overlays.iter().find_map(|s| {
            let n = s.overlay.overlay.tree.lookup(&["networks", key])?;
            is_external(n).then(|| (s.ident, n.lookup(&["external"]).map_or(&n.at, |e| &e.at)))
        });
        if let Some((ident, at)) = declared_by
            && !out.iter().any(|(n, _, _)| *n == name)
        {
            out.push((name, ident, at.clone()));
        }
    }
    out
}

/// Every external network the overlays use is declared (`networks: [web]`);
/// `up` creates it when the host does not have it yet.
pub fn check_declared(cx: &Ctxt, m: &Lowered<'_>) {
    for (name, ident, at) in external(m) {
        if !m.env.networks.iter().any(|(n, _)| *n == name) {
            cx.error(
                ident.span(),
                Message::new(
                    rules::NETWORK_UNDECLARED,
                    format!("overlay `{ident}` needs the external network `{name}`, which this environment does not declare"),
                )
                .note("external networks are provided by the host (its load balancer joins them)")
                .at(&format!("`{name}` is external"), &at, &m.text)
                .help(format!("add `networks: [{name}]` (it is created when missing)")),
            );
        }
    }
}

/// A declared network that no overlay uses as external is a typo.
pub fn check_used(cx: &Ctxt, m: &Lowered<'_>) {
    if !m.overlays_complete() {
        return; // The overlay that was not found may use it.
    }
    let used = external(m);
    for (name, span) in &m.env.networks {
        if used.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        let msg = Message::new(
            rules::NETWORK_UNUSED,
            format!("network `{name}` is declared but no overlay uses it as external"),
        );
        let msg = match did_you_mean(name, used.iter().map(|(n, _, _)| n.as_str())) {
            Some(s) => msg.help(format!("did you mean `{s}`?")),
            None => msg.help("remove it"),
        };
        cx.error(*span, msg);
    }
}

/// Each network is listed once.
pub fn check_not_repeated(cx: &Ctxt, m: &Lowered<'_>) {
    for (i, (name, span)) in m.env.networks.iter().enumerate() {
        if m.env.networks[..i].iter().any(|(n, _)| n == name) {
            cx.error(
                *span,
                Message::new(
                    rules::NETWORK_REPEATED,
                    format!("network `{name}` is listed twice"),
                )
                .help("keep one"),
            );
        }
    }
}
