//! Variables: every one the merged overlays and the DSL need is declared
//! exactly once, every declared one is used, none is computed from itself,
//! and none computes to a value too long to be configuration.

use std::collections::BTreeSet;

use proc_macro2::Span;

use mrs_compose::error::did_you_mean;
use mrs_compose::variables::{UseKind, VariableUse};

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::read::{OverrideValue, Val, VarDeclSource};
use crate::rules;
use crate::spans::SpanTable;

/// Every variable the merged overlays need (a use without a default, a bare
/// environment entry that survives the merge) is supplied.
pub fn check_supplied(cx: &Ctxt, m: &Lowered<'_>) {
    let anchor = m
        .env
        .vars_key
        .or(m.env.overlays_key.map(|k| k.0))
        .unwrap_or_else(Span::call_site);
    for var in m.merged_uses.variables.values() {
        if m.is_declared(&var.name) {
            continue;
        }
        // Uses the DSL wrote are reported on their own token.
        let places: Vec<&VariableUse> = var
            .uses
            .iter()
            .filter(|u| !SpanTable::in_dsl(&u.at))
            .filter(|u| u.kind == UseKind::Environment || (u.required && !u.nested))
            .collect();
        if places.is_empty() {
            continue;
        }
        let mut msg = Message::new(
            rules::VARIABLE_MISSING,
            format!("variable `{}` is needed but not supplied", var.name),
        );
        for u in places.iter().take(2) {
            let what = match u.kind {
                UseKind::Interpolation => "uses it",
                UseKind::Environment => "passes it to the container",
            };
            msg = msg.at(what, &u.at, &m.text);
        }
        if places.len() > 2 {
            msg = msg.note(format!("and {} more place(s)", places.len() - 2));
        }
        // A declaration nothing uses, named like it: a typo, not a missing variable.
        let unused = m
            .env
            .vars
            .iter()
            .map(|d| d.name.name.as_str())
            .filter(|d| !is_used(m, d));
        let help = match did_you_mean(&var.name, unused) {
            Some(typo) => format!(
                "`{typo}` is declared and nothing uses it: did you mean `{}`?",
                var.name
            ),
            None => format!(
                "add `{0}: \"<value>\"`, `{0}: input` to take it at run time, or `{0}: unset`",
                var.name
            ),
        };
        cx.error(anchor, msg.help(help));
    }
}

/// A declared variable that nothing uses is a typo, or a leftover.
pub fn check_used(cx: &Ctxt, m: &Lowered<'_>) {
    if !m.overlays_complete() {
        return; // What the missing overlay would use looks unused.
    }
    for decl in &m.env.vars {
        let name = decl.name.name.as_str();
        if is_used(m, name) {
            continue;
        }
        match m.overlay_uses().get(name) {
            Some(var) => removed_by_merge(cx, m, decl.name.span, name, &var.uses),
            None => {
                let msg = Message::new(
                    rules::VARIABLE_UNUSED,
                    format!("variable `{name}` is declared but nothing uses it"),
                );
                let needed = m
                    .merged_uses
                    .names()
                    .filter(|n| !m.is_declared(n))
                    .collect::<Vec<_>>();
                let msg = match did_you_mean(name, needed) {
                    Some(s) => msg.help(format!("did you mean `{s}`? the overlays need it")),
                    None => msg.help("remove it"),
                };
                cx.error(decl.name.span, msg);
            }
        }
    }
}

/// Whether something uses declared variable `name`: the merged
/// configuration, the DSL (refused values included), another variable.
fn is_used(m: &Lowered<'_>, name: &str) -> bool {
    let graph = m.table.graph();
    m.merged_uses.get(name).is_some()
        || m.dsl_uses.iter().any(|u| u.name == name)
        || m.env.refused_refs.iter().any(|r| r == name)
        || m.vars
            .keys()
            .any(|v| graph.deps(v).iter().any(|d| d == name))
}

/// An overlay uses the variable, and the merge removes every such use: said
/// as a consequence of what removed them, not as a declaration to delete.
fn removed_by_merge(cx: &Ctxt, m: &Lowered<'_>, span: Span, name: &str, uses: &[VariableUse]) {
    // `services.django.environment[3]` -> (django, environment)
    let service_key = |path: &str| {
        let mut parts = path.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("services"), Some(service), Some(key)) => Some((
                service.to_owned(),
                key.split('[').next().unwrap_or(key).to_owned(),
            )),
            _ => None,
        }
    };
    let remover = uses.iter().find_map(|u| {
        let (service, key) = service_key(&u.path)?;
        m.env
            .services
            .iter()
            .filter(|s| s.name.name == service)
            .flat_map(|s| &s.overrides)
            .find(|o| o.key.name == key)
            .map(|o| (service, o))
    });
    // An override that writes the entry itself: a value of its own, not a removal.
    let writes = remover.as_ref().is_some_and(|(_, o)| match &o.value {
        OverrideValue::Merge(Val::Map(entries, _)) => entries
            .iter()
            .any(|(k, v)| k.name == name && !matches!(v, Val::Remove(_))),
        _ => false,
    });
    if writes && crate::check::secrets::is_named_secret(m, name) {
        return; // `secret-written` reports the value written in its place.
    }
    let mut msg = match &remover {
        Some((service, o)) if writes => Message::new(
            rules::VARIABLE_UNUSED,
            format!(
                "variable `{name}` is no longer used: `{}: {{ {name}: ... }}` on service `{service}` gives the container a value of its own",
                o.key.name
            ),
        ),
        Some((service, o)) => {
            let how = match &o.value {
                OverrideValue::Remove(_) => format!("`{}: none`", o.key.name),
                OverrideValue::Replace(_) => format!("`{}: replace(...)`", o.key.name),
                OverrideValue::Merge(Val::Map(entries, _))
                    if entries
                        .iter()
                        .any(|(k, v)| k.name == name && matches!(v, Val::Remove(_))) =>
                {
                    format!("`{}: {{ {name}: none }}`", o.key.name)
                }
                OverrideValue::Merge(_) => format!("`{}: {{ ... }}`", o.key.name),
            };
            Message::new(
                rules::VARIABLE_UNUSED,
                format!(
                    "variable `{name}` is no longer used: {how} on service `{service}` removes every use the overlays make of it"
                ),
            )
        }
        None => Message::new(
            rules::VARIABLE_UNUSED,
            format!(
                "variable `{name}` is no longer used: an overlay merged later removes every use the others make of it"
            ),
        ),
    };
    if let Some(u) = uses.first() {
        msg = msg.at("used here before the merge", &u.at, &m.text);
    }
    let help = match &remover {
        Some(_) if writes => format!(
            "if that value is intended, `{name}` can go; to pass `{name}` on, remove the entry"
        ),
        Some((_, o)) => match &o.value {
            OverrideValue::Remove(_) => format!(
                "if removing `{0}` is intended, `{name}` can go too; to remove single entries instead, write `{0}: {{ ENTRY: none }}`",
                o.key.name
            ),
            OverrideValue::Merge(Val::Map(entries, _))
                if entries
                    .iter()
                    .any(|(k, v)| k.name == name && matches!(v, Val::Remove(_))) =>
            {
                format!("if removing that entry is intended, `{name}` can go too")
            }
            _ => format!(
                "if dropping the overlays' `{}` entries is intended, `{name}` can go too; a map merges with the overlays' by key",
                o.key.name
            ),
        },
        None => format!("if that removal is intended, `{name}` can go too"),
    };
    cx.error(span, msg.help(help));
}

/// Variables the DSL refers to, and those a variable is computed from, are
/// declared. A did-you-mean never proposes one that would make a cycle.
pub fn check_declared(cx: &Ctxt, m: &Lowered<'_>) {
    let declared: Vec<&str> = m.vars.keys().map(String::as_str).collect();
    let mut reported = BTreeSet::new();
    for u in &m.dsl_uses {
        if m.is_declared(&u.name) || !reported.insert(u.name.clone()) {
            continue;
        }
        let msg = Message::new(
            rules::VARIABLE_UNDECLARED,
            format!(
                "`{}` is used by {} but not declared in `vars`",
                u.name, u.what
            ),
        );
        let msg = match did_you_mean(&u.name, declared.iter().copied()) {
            Some(s) => msg.help(format!("did you mean `{s}`?")),
            None => msg.help(format!("add `{}: ...` to `vars`", u.name)),
        };
        cx.error(u.span, msg);
    }
    let graph = m.table.graph();
    for decl in &m.env.vars {
        let this = decl.name.name.as_str();
        // Candidates that do not depend on this variable.
        let candidates = || {
            declared
                .iter()
                .copied()
                .filter(|c| *c != this && !graph.inputs_of([*c]).contains(this))
        };
        match &decl.source {
            VarDeclSource::Derived(function, from, _) => {
                let from_name = from.to_string();
                if !m.is_declared(&from_name) {
                    let msg = Message::new(
                        rules::VARIABLE_UNDECLARED,
                        format!(
                            "`{}({from_name})`: `{from_name}` is not declared",
                            function.name()
                        ),
                    );
                    let msg = match did_you_mean(&from_name, candidates()) {
                        Some(s) => msg.help(format!("did you mean `{s}`?")),
                        None => msg.help(format!("add `{from_name}: ...` to `vars`")),
                    };
                    cx.error(from.span(), msg);
                }
            }
            VarDeclSource::Template(t) => {
                for r in &t.refs {
                    if m.is_declared(r) {
                        continue;
                    }
                    let msg = Message::new(
                        rules::VARIABLE_UNDECLARED,
                        format!("`{{{r}}}` in `{this}`'s template is not declared"),
                    );
                    let msg = match did_you_mean(r, candidates()) {
                        Some(s) => msg.help(format!("did you mean `{s}`?")),
                        None => msg.help(format!("add `{r}: ...` to `vars`")),
                    };
                    cx.error(t.span, msg);
                }
            }
            _ => {}
        }
    }
}

/// A variable computed from itself, directly or through others, has no value.
pub fn check_cycles(cx: &Ctxt, m: &Lowered<'_>) {
    for path in m.table.graph().cycles() {
        let start = &path[0];
        let Some(decl) = m.env.vars.iter().find(|d| d.name.name == *start) else {
            continue;
        };
        let others: Vec<String> = path[1..path.len() - 1]
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        cx.error(
            decl.name.span,
            Message::new(
                rules::VARIABLE_CYCLE,
                format!("`{start}` is computed from itself: {}", path.join(" -> ")),
            )
            .help(if others.is_empty() {
                format!("give `{start}` a value that does not depend on itself")
            } else {
                format!(
                    "give `{start}` or {} a value that does not depend on the others",
                    others.join(" or ")
                )
            }),
        );
    }
}

/// A value is bounded: each `format` can double one, and twenty of them
/// would not fit in memory.
pub fn check_length(cx: &Ctxt, m: &Lowered<'_>) {
    for name in m.table.too_long() {
        if let Some(decl) = m.env.vars.iter().find(|d| d.name.name == *name) {
            cx.error(
                decl.name.span,
                Message::new(rules::VARIABLE_TOO_LONG, mrs_env::spec::too_long_message(name))
                    .help("a value this long is not configuration: check the chain of `format`s it is computed from"),
            );
        }
    }
}
