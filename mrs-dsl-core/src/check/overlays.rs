//! The overlays an environment merges, and the rules each declares in its
//! `x-mrs` field (order, persistence, tiers): whoever writes an overlay
//! decides where it may be used.

use mrs_compose::Location;
use mrs_compose::error::did_you_mean;
use mrs_env::catalog::CatalogOverlay;
use mrs_env::rules::PersistenceKind;

use crate::ctxt::{Ctxt, Message};
use crate::lower::{Lowered, Selected};
use crate::read::PersistenceDecl;
use crate::rules;

/// Every overlay named exists in the catalog.
pub fn check_known(cx: &Ctxt, m: &Lowered<'_>) {
    for ident in &m.unknown_overlays {
        let name = ident.to_string();
        let shown = if m.catalog.shown_dir.is_empty() {
            m.catalog.dir.display().to_string()
        } else {
            m.catalog.shown_dir.clone()
        };
        let msg = Message::new(
            rules::UNKNOWN_OVERLAY,
            format!("no overlay named `{name}` in {shown}"),
        );
        let msg = match did_you_mean(&name, m.catalog.names()) {
            Some(s) => msg.help(format!("did you mean `{s}`?")),
            None => msg.help(format!(
                "the overlays are: {}",
                m.catalog.names().collect::<Vec<_>>().join(", ")
            )),
        };
        cx.error(ident.span(), msg);
    }
}

/// An environment merges at least one overlay.
pub fn check_not_empty(cx: &Ctxt, m: &Lowered<'_>) {
    if let Some((_, Some(list))) = m.env.overlays_key
        && m.env.overlays.is_empty()
        && m.unknown_overlays.is_empty()
    {
        cx.error(
            list,
            Message::new(
                rules::OVERLAYS_EMPTY,
                "`overlays` is empty: list the overlays to merge, like `[base, persist]`",
            ),
        );
    }
}

/// An overlay is merged once: a second time changes nothing but the order.
pub fn check_not_repeated(cx: &Ctxt, m: &Lowered<'_>) {
    for ident in &m.repeated_overlays {
        cx.error(
            ident.span(),
            Message::new(
                rules::OVERLAY_REPEATED,
                format!("overlay `{ident}` is merged twice"),
            )
            .help("remove the second one"),
        );
    }
}

/// Where an overlay's `x-mrs` field says something (`path` under `x-mrs`).
fn rule_location(overlay: &CatalogOverlay, path: &[&str]) -> Location {
    let mut full = vec!["x-mrs"];
    full.extend_from_slice(path);
    overlay.overlay.tree.lookup(&full).map_or_else(
        || {
            overlay
                .rules
                .at
                .clone()
                .unwrap_or_else(|| Location::synthetic(&overlay.overlay.source.name))
        },
        |n| n.at.clone(),
    )
}

/// An overlay whose rules say `first: true` is merged first.
pub fn check_first(cx: &Ctxt, m: &Lowered<'_>) {
    for (index, Selected { ident, overlay }) in m.overlays.iter().enumerate() {
        if overlay.rules.first && index != 0 {
            cx.error(
                ident.span(),
                Message::new(
                    rules::OVERLAY_FIRST,
                    format!("overlay `{ident}` must be merged first"),
                )
                .at(
                    "its rules say `first: true`",
                    &rule_location(overlay, &["first"]),
                    &m.text,
                )
                .help(format!("move `{ident}` to the start of `overlays`")),
            );
        }
    }
}

/// Overlays merge in order, a later one overriding an earlier one: an
/// overlay written to come after another is merged after it.
pub fn check_order(cx: &Ctxt, m: &Lowered<'_>) {
    let position = |name: &str| m.overlays.iter().position(|s| *s.ident == name);
    for (index, Selected { ident, overlay }) in m.overlays.iter().enumerate() {
        for after in &overlay.rules.after {
            if let Some(p) = position(&after.value)
                && p > index
            {
                cx.error(
                    ident.span(),
                    Message::new(
                        rules::OVERLAY_ORDER,
                        format!("overlay `{ident}` must come after `{}`", after.value),
                    )
                    .note("overlays merge in order; a later one overrides an earlier one")
                    .at("its rules say so", &after.at, &m.text)
                    .help(format!("put `{}` before `{ident}`", after.value)),
                );
            }
        }
    }
}

/// An overlay that requires a persistent (or ephemeral) environment is
/// merged only by one.
pub fn check_persistence(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(decl) = &m.env.persistence else {
        return;
    };
    let actual = match decl {
        PersistenceDecl::Persistent { .. } => PersistenceKind::Persistent,
        PersistenceDecl::Ephemeral { .. } => PersistenceKind::Ephemeral,
    };
    for Selected { ident, overlay } in &m.overlays {
        let Some(required) = &overlay.rules.persistence else {
            continue;
        };
        if required.value == actual {
            continue;
        }
        let what = m
            .env
            .name
            .map_or_else(|| "this environment".to_owned(), |n| format!("`{n}`"));
        cx.error(
            ident.span(),
            Message::new(
                rules::OVERLAY_PERSISTENCE,
                format!(
                    "overlay `{ident}` needs a {} environment, and {what} is {}",
                    required.value.as_str(),
                    actual.as_str()
                ),
            )
            .at(
                &format!("`requires: {{persistence: {}}}`", required.value.as_str()),
                &required.at,
                &m.text,
            )
            .help(match actual {
                PersistenceKind::Ephemeral => {
                    format!("remove `{ident}`: ephemeral environments keep no data")
                }
                PersistenceKind::Persistent => {
                    format!("remove `{ident}`, or make the environment ephemeral")
                }
            }),
        );
    }
}

/// An overlay is merged only in the tiers its rules allow (`maildev` never
/// in production).
pub fn check_tiers(cx: &Ctxt, m: &Lowered<'_>) {
    let Some((tier, _)) = m.env.tier else {
        return;
    };
    for Selected { ident, overlay } in &m.overlays {
        let rules_at = overlay
            .rules
            .tiers_at
            .clone()
            .unwrap_or_else(|| rule_location(overlay, &[]));
        if overlay.rules.forbidden_tiers.contains(&tier) {
            cx.error(
                ident.span(),
                Message::new(
                    rules::OVERLAY_FORBIDDEN_TIER,
                    format!(
                        "overlay `{ident}` is forbidden in {}-tier environments",
                        tier.as_str()
                    ),
                )
                .at("its rules forbid it", &rules_at, &m.text)
                .help(format!("remove `{ident}` from `overlays`")),
            );
        }
        if !overlay.rules.tiers.is_empty() && !overlay.rules.tiers.contains(&tier) {
            let allowed: Vec<&str> = overlay.rules.tiers.iter().map(|t| t.as_str()).collect();
            cx.error(
                ident.span(),
                Message::new(
                    rules::OVERLAY_REQUIRED_TIER,
                    format!(
                        "overlay `{ident}` is only for {} environments, not {}",
                        allowed.join(" or "),
                        tier.as_str()
                    ),
                )
                .at("its rules say so", &rules_at, &m.text)
                .help(format!("remove `{ident}` from `overlays`")),
            );
        }
    }
}
