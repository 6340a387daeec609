//! Service overrides and the merged services: overrides name services and
//! keys that exist, every service runs an image that nothing builds, and
//! the merged configuration is a valid compose project.

use mrs_compose::error::did_you_mean;
use mrs_compose::node::Node;
use mrs_compose::schema;

use crate::ctxt::{Ctxt, Message};
use crate::lower::{KeyProblem, Lowered};
use crate::read::OverrideValue;
use crate::rules;
use crate::spans::SpanTable;

/// A service override names a service of the merged overlays.
pub fn check_known(cx: &Ctxt, m: &Lowered<'_>) {
    for key in &m.unknown_services {
        let name = &key.name;
        let msg = Message::new(
            rules::UNKNOWN_SERVICE,
            format!("no service `{name}` in the overlays this environment merges"),
        );
        let msg = match did_you_mean(name, m.services.iter().map(String::as_str)) {
            Some(s) => msg.help(format!("did you mean `{s}`?")),
            None if !m.overlays_complete() => {
                msg.note("an overlay in `overlays` was not found: it may define it")
            }
            None if m.services.is_empty() => msg.help("the overlays merged define no services"),
            None => msg.help(format!("the services are: {}", m.services.join(", "))),
        };
        cx.error(key.span, msg);
    }
}

/// An override's key is a service key of the Compose Specification that
/// mrs-deploy applies (an unknown one is a typo; one it does not apply
/// would be silently ignored).
pub fn check_keys(cx: &Ctxt, m: &Lowered<'_>) {
    for (key, problem) in &m.bad_keys {
        let name = &key.name;
        let msg = match problem {
            KeyProblem::NotCompose => {
                let msg = Message::new(
                    rules::SERVICE_KEY,
                    format!("`{name}` is not a service key of the Compose Specification"),
                );
                let candidates = schema::SERVICE
                    .supported_keys()
                    .chain(crate::keys::SERVICE_EXTRA.iter().copied());
                match did_you_mean(name, candidates) {
                    Some(s) => msg.help(format!("did you mean `{s}`?")),
                    None => msg,
                }
            }
            KeyProblem::Unsupported => Message::new(
                rules::SERVICE_KEY_UNSUPPORTED,
                format!("the service key `{name}` is in the Compose Specification, but mrs-deploy does not apply it yet"),
            )
            .help("remove it, or open an issue so mrs-deploy learns it"),
        };
        cx.error(key.span, msg);
    }
}

/// The merged configuration interpolates, decodes and normalises as a
/// compose project (types, references to networks, volumes and services,
/// restart policies, dependency cycles).
pub fn check_model(cx: &Ctxt, m: &Lowered<'_>) {
    for d in m.realised.errors.iter() {
        // A fix the DSL cannot express (a service override cannot declare a
        // top-level network or volume) is replaced by one it can.
        if SpanTable::in_dsl(&d.at) && d.help.as_deref().is_some_and(|h| h.contains("top-level")) {
            let d = d.clone().with_help(
                "a service override can only use the networks and volumes the overlays declare",
            );
            m.spans.report(cx, rules::COMPOSE_MODEL, &d, &m.text);
        } else {
            m.spans.report(cx, rules::COMPOSE_MODEL, d, &m.text);
        }
    }
}

/// Nothing is built at deploy time: a `build` key left in the merged
/// configuration means the environment would deploy whatever image tag
/// happens to be on the server.
pub fn check_build_removed(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(project) = &m.realised.project else {
        return;
    };
    for (name, service) in &project.services {
        if service.build.is_some() && !m.meant_for(name) {
            let at = &m.realised.tree.closest(&["services", name, "build"]).at;
            cx.error(
                m.spans.span(at),
                m.spans
                    .message(
                        rules::BUILD_REMOVED,
                        format!(
                            "service `{name}` still has `build`: nothing is built at deploy time"
                        ),
                        "set here",
                        at,
                        &m.text,
                    )
                    .help(format!("add `services: {{ {name}: {{ build: none }} }}`")),
            );
        }
    }
}

/// Every service runs an image.
pub fn check_image_present(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(project) = &m.realised.project else {
        return;
    };
    for (name, service) in &project.services {
        if service.image.is_some() || m.meant_for(name) {
            continue;
        }
        let summary = format!("service `{name}` has no `image`");
        let help = format!("give it one: `services: {{ {name}: {{ image: \"...\" }} }}`");
        // Removed by the environment (`image: none`): the error sits there.
        let removed = m
            .env
            .services
            .iter()
            .filter(|s| s.name.name == *name)
            .flat_map(|s| &s.overrides)
            .find(|o| o.key.name == "image" && matches!(o.value, OverrideValue::Remove(_)));
        if let Some(o) = removed {
            cx.error(
                o.key.span,
                Message::new(rules::SERVICE_IMAGE, summary)
                    .note("`image: none` removes the overlays' image")
                    .help(help),
            );
            continue;
        }
        let at = m
            .realised
            .tree
            .lookup(&["services"])
            .and_then(Node::as_map)
            .and_then(|s| s.entry(name))
            .map_or_else(
                || m.realised.tree.closest(&["services", name]).at.clone(),
                |e| e.key_at.clone(),
            );
        cx.error(
            m.spans.span(&at),
            m.spans
                .message(
                    rules::SERVICE_IMAGE,
                    summary,
                    "the service is defined here",
                    &at,
                    &m.text,
                )
                .help(help),
        );
    }
}
