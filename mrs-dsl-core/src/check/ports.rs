//! Published ports: each `ports` entry parses and is known at compile time,
//! targets a port the service listens on (when the overlays say which), and
//! no two mappings bind one host port.

use std::collections::BTreeSet;

use mrs_compose::error::did_you_mean;
use mrs_compose::ports::{PortError, PortMapping};

use crate::ctxt::Ctxt;
use crate::lower::{Lowered, Mapped, PortEntry};
use crate::rules::{self, Rule};
use crate::spans::SpanTable;

fn report(cx: &Ctxt, m: &Lowered<'_>, e: &PortEntry, rule: Rule, summary: String, help: String) {
    cx.error(
        m.spans.span(&e.node.at),
        m.spans
            .message(rule, summary, "here", &e.node.at, &m.text)
            .help(help),
    );
}

/// Each entry parses: `[[IP:]HOST:]CONTAINER[/PROTO]`, ports from 1 to 65535.
pub fn check_syntax(cx: &Ctxt, m: &Lowered<'_>) {
    let syntax = "write `[[IP:]HOST:]CONTAINER[/PROTO]`, e.g. \"8000:8000\"".to_owned();
    for e in &m.ports {
        let Mapped::Invalid(error, text) = &e.mapped else {
            continue;
        };
        let (summary, help) = match error {
            PortError::Proto(p) => (
                format!("unknown protocol `{p}` in port `{text}`"),
                match did_you_mean(p, ["tcp", "udp", "sctp"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "use `tcp`, `udp` or `sctp`".to_owned(),
                },
            ),
            PortError::HostPort(p) => (
                format!("host port `{p}` in `{text}` is not a port number from 1 to 65535"),
                syntax.clone(),
            ),
            PortError::ContainerPort(p) => (
                format!("container port `{p}` in `{text}` is not a port number from 1 to 65535"),
                syntax.clone(),
            ),
            PortError::Ip(ip) => (
                format!("`{ip}` in port `{text}` is not an IP address"),
                syntax.clone(),
            ),
            PortError::Ranges(host, container) => (
                format!(
                    "port `{text}` maps host ports {host} to container ports {container}, ranges of different lengths"
                ),
                "give both ranges the same length".to_owned(),
            ),
            PortError::Spec(_) => (
                format!("port `{text}` has too many `:`-separated parts"),
                syntax.clone(),
            ),
            PortError::Empty(_) => (
                format!("port `{text}` has no container port"),
                syntax.clone(),
            ),
        };
        report(cx, m, e, rules::PORT_SYNTAX, summary, help);
    }
}

/// Port mappings are known at compile time, so that collisions and
/// listening ports are checked before anything is deployed.
pub fn check_compile_time(cx: &Ctxt, m: &Lowered<'_>) {
    for e in &m.ports {
        let Mapped::RunTime(names) = &e.mapped else {
            continue;
        };
        let Some(text) = e.node.as_str() else {
            continue;
        };
        // Shown as written: `{PORT}` in the DSL, `${PORT}` in an overlay.
        let shown = if SpanTable::in_dsl(&e.node.at) {
            text.replace("$$", "\u{0}")
                .replace("${", "{")
                .replace('\u{0}', "$")
        } else {
            text.to_owned()
        };
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        cx.error(
            m.spans.span(&e.node.at),
            m.spans
                .message(
                    rules::PORT_RUN_TIME,
                    format!("port `{shown}` depends on {}, known only at run time", names.join(" and ")),
                    "here",
                    &e.node.at,
                    &m.text,
                )
                .note("port mappings are checked at compile time (host-port collisions, listening ports)")
                .help("write the port literally, e.g. \"8000:8000\""),
        );
    }
}

/// A mapping targets a port the service listens on, when the overlays say
/// which (`expose`, or Traefik's `loadBalancer.server.port` label).
pub fn check_listening(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(project) = &m.realised.project else {
        return;
    };
    for e in &m.ports {
        let (Mapped::Ports(mappings), Some(service)) =
            (&e.mapped, project.services.get(&e.service))
        else {
            continue;
        };
        let listening: BTreeSet<u16> = service
            .expose
            .iter()
            .filter_map(|x| x.split('/').next().and_then(|p| p.parse().ok()))
            .chain(
                service
                    .labels
                    .iter()
                    .filter(|(k, _)| {
                        k.to_ascii_lowercase()
                            .ends_with(".loadbalancer.server.port")
                    })
                    .filter_map(|(_, v)| v.parse().ok()),
            )
            .collect();
        for mapping in mappings {
            if listening.is_empty() || listening.contains(&mapping.target) {
                continue;
            }
            let ports: Vec<String> = listening.iter().map(u16::to_string).collect();
            report(
                cx,
                m,
                e,
                rules::PORT_NOT_LISTENING,
                format!(
                    "`{mapping}` targets port {} of `{}`, which listens on {}",
                    mapping.target,
                    e.service,
                    ports.join(", ")
                ),
                match ports.as_slice() {
                    [one] => format!("map to port {one}, e.g. \"{one}:{one}\""),
                    _ => format!("map to one of {}", ports.join(", ")),
                },
            );
        }
    }
}

/// Two mappings cannot bind the same host port: the second container would
/// not start.
pub fn check_host_ports(cx: &Ctxt, m: &Lowered<'_>) {
    let mut bound: Vec<(&PortMapping, Vec<u16>, &str)> = Vec::new();
    for e in &m.ports {
        let Mapped::Ports(mappings) = &e.mapped else {
            continue;
        };
        for mapping in mappings {
            let ports = mapping.host_ports();
            let clash = bound.iter().find(|(b, b_ports, _)| {
                same_socket(b, mapping) && b_ports.iter().any(|p| ports.contains(p))
            });
            if let Some((other, _, other_service)) = clash {
                report(
                    cx,
                    m,
                    e,
                    rules::HOST_PORT_CLASH,
                    format!(
                        "host port of `{mapping}` ({}) is already published by `{other}` ({other_service})",
                        e.service
                    ),
                    "publish one of them on another host port".to_owned(),
                );
            }
            bound.push((mapping, ports, &e.service));
        }
    }
}

/// Whether two mappings bind the same protocol on overlapping addresses.
fn same_socket(a: &PortMapping, b: &PortMapping) -> bool {
    let any = |ip: &Option<String>| ip.as_deref().is_none_or(|i| i == "0.0.0.0" || i == "::");
    a.protocol == b.protocol && (any(&a.host_ip) || any(&b.host_ip) || a.host_ip == b.host_ip)
}

/// Whether two mappings would bind the same host port.
pub fn collides(a: &PortMapping, b: &PortMapping) -> bool {
    same_socket(a, b) && a.host_ports().iter().any(|p| b.host_ports().contains(p))
}
