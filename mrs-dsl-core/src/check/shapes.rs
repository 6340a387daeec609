//! Shapes of values: a literal whose uses tell its shape is checked against
//! it. A variable the overlays use as a host (in a URL, a router rule, a
//! `*_HOST` or `*_HOSTS` entry) is a host name; one used as a port (a
//! `*_PORT` entry, a `.port` label) is a port number; one used as a compose
//! duration (health check intervals, `stop_grace_period`) is a duration.

use mrs_compose::interpolate;
use mrs_compose::variables::{UseKind, VariableUse};
use mrs_compose::{Location, duration};

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::read::VarDeclSource;
use crate::read::ast::unit_of_word;
use crate::rules;
use crate::spans::SpanTable;

/// What a use tells of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Host,
    Hosts,
    Port,
    Duration,
}

/// Literal variables are checked against the shape their first telling use gives.
pub fn check_shapes(cx: &Ctxt, m: &Lowered<'_>) {
    for decl in &m.env.vars {
        let VarDeclSource::Literal(value, span) = &decl.source else {
            continue;
        };
        let name = decl.name.name.as_str();
        let mut uses: Vec<(Shape, Option<Location>)> = m
            .merged_uses
            .get(name)
            .map(|v| {
                v.uses
                    .iter()
                    .filter_map(|u| shape_of_use(u, name).map(|s| (s, Some(u.at.clone()))))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(url) = m.env.health.as_ref().and_then(|h| h.url.as_ref()) {
            uses.extend(
                shapes_in(&url.compose, name, "")
                    .into_iter()
                    .map(|s| (s, None)),
            );
        }
        let Some((shape, at)) = uses.into_iter().next() else {
            continue;
        };
        let Some((what, help)) = refused(shape, value) else {
            continue;
        };
        let mut msg = Message::new(
            rules::VALUE_SHAPE,
            format!("`{name}` is used as {what}, and `{value}` is not one"),
        );
        match &at {
            Some(at) if !SpanTable::in_dsl(at) => {
                msg = msg.at(&format!("used as {what} here"), at, &m.text)
            }
            Some(_) => {}
            None => msg = msg.note("the health URL uses it as one"),
        }
        cx.error(*span, msg.help(help.replace("{name}", name)));
    }
}

/// Compose fields that hold a duration.
const DURATION_FIELDS: &[&str] = &[
    "healthcheck.interval",
    "healthcheck.timeout",
    "healthcheck.start_period",
    "healthcheck.start_interval",
    "stop_grace_period",
];

/// The shape a use tells, if any.
fn shape_of_use(u: &VariableUse, name: &str) -> Option<Shape> {
    if u.kind == UseKind::Environment {
        // `- NAME`: the container receives the value under its own name.
        return key_shape(name);
    }
    let in_env = u.path.contains(".environment");
    let in_labels = u.path.contains(".labels");
    // `KEY=value` in list form, `KEY: value` in map form.
    let (key, value): (&str, &str) = match (in_env || in_labels, u.path.ends_with(']')) {
        (true, true) => u.context.split_once('=').unwrap_or(("", &u.context)),
        (true, false) => (u.path.rsplit('.').next().unwrap_or(""), &u.context),
        _ => ("", &u.context),
    };
    let whole = value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| value.strip_prefix('$'))
        == Some(name);
    if whole && DURATION_FIELDS.iter().any(|f| u.path.ends_with(f)) {
        return Some(Shape::Duration);
    }
    if whole && in_labels && key.to_ascii_lowercase().ends_with(".port") {
        return Some(Shape::Port);
    }
    let env_key = if in_env { key } else { "" };
    let telling = value.contains("://") || value.contains("Host(") || key_shape(env_key).is_some();
    if !telling {
        return None;
    }
    shapes_in(value, name, env_key).into_iter().next()
}

/// The shape an environment variable's name tells of its value.
fn key_shape(key: &str) -> Option<Shape> {
    if key.ends_with("HOSTS") {
        Some(Shape::Hosts)
    } else if key.ends_with("HOST") {
        Some(Shape::Host)
    } else if key.ends_with("PORT") {
        Some(Shape::Port)
    } else {
        None
    }
}

fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// Shapes of `name`'s references in a value (`env_key`: the entry's name,
/// when the value is an environment entry's).
fn shapes_in(value: &str, name: &str, env_key: &str) -> Vec<Shape> {
    let Ok(t) = interpolate::parse(value, &Location::synthetic("value")) else {
        return Vec::new();
    };
    let chars: Vec<char> = value.chars().collect();
    let mut out = Vec::new();
    for (r, nested) in interpolate::references(&t) {
        if r.name != name || nested {
            continue;
        }
        let pre: String = chars[..r.offset.min(chars.len())].iter().collect();
        let host_tail = pre.trim_end_matches(host_char);
        if host_tail.ends_with("://") {
            out.push(Shape::Host);
        } else if let Some(rule) = pre.rfind("Host(") {
            let inside = &pre[rule..];
            if inside.matches('`').count() % 2 == 1 && host_tail.ends_with('`') {
                out.push(Shape::Host);
            }
        } else if !env_key.is_empty() && host_tail.is_empty() {
            // `www.${HOST}` in a list of hosts is one host.
            out.extend(key_shape(env_key).map(|s| match s {
                Shape::Hosts if !pre.is_empty() => Shape::Host,
                s => s,
            }));
        }
    }
    out
}

/// What the value should be and how to fix it, when it is not of `shape`.
fn refused(shape: Shape, value: &str) -> Option<(&'static str, String)> {
    match shape {
        Shape::Host if !is_host(value) => Some(("a host name", host_help(value))),
        Shape::Hosts
            if !value
                .split(',')
                .map(str::trim)
                .all(|h| h == "*" || is_host(h.strip_prefix('.').unwrap_or(h))) =>
        {
            Some((
                "a list of host names",
                "write host names separated by commas, like \"www.example.org,example.org\""
                    .to_owned(),
            ))
        }
        Shape::Port if !value.parse::<u16>().is_ok_and(|p| p > 0) => Some((
            "a port number",
            "a port is a number from 1 to 65535, like \"587\"".to_owned(),
        )),
        Shape::Duration if duration::parse(value).is_err() => {
            Some(("a duration", duration_help(value)))
        }
        _ => None,
    }
}

/// `host[:port]`: `localhost`, an IPv4 address, a bracketed IPv6 address or
/// dot-separated labels of letters, digits and `-`.
fn is_host(text: &str) -> bool {
    let host = match text.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || text.starts_with('[') => {
            if !port.parse::<u16>().is_ok_and(|p| p > 0) {
                return false;
            }
            h
        }
        _ => text,
    };
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn host_help(value: &str) -> String {
    let mut s = value.trim();
    if let Some((_, rest)) = s.split_once("://") {
        s = rest;
    }
    let s = s.split('/').next().unwrap_or(s).trim_end_matches('.');
    let fixed = s.to_ascii_lowercase();
    if is_host(&fixed) && fixed != value {
        format!("write the host name alone: `{{name}}: \"{fixed}\"`")
    } else {
        "a host name is letters, digits, `-` and `.`, like `mrs.beta.gouv.fr`, with an optional `:port`".to_owned()
    }
}

fn duration_help(value: &str) -> String {
    let mut words = value.split_whitespace();
    if let (Some(n), Some(word), None) = (words.next(), words.next(), words.next())
        && let (Ok(n), Some((unit, factor))) = (n.parse::<u64>(), unit_of_word(word))
    {
        // Compose durations have no days: count them in hours.
        let fixed = match unit {
            "d" => n.checked_mul(factor * 24).map(|h| format!("{h}h")),
            _ => Some(format!("{n}{unit}")),
        };
        if let Some(f) = fixed {
            return format!("write `{f}`");
        }
    }
    "write it like `30s`, `1m30s` or `500ms`".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in [
            "mrs.beta.gouv.fr",
            "localhost:8000",
            "127.0.0.1",
            "[::1]:80",
            "a-b.c",
        ] {
            assert!(is_host(ok), "{ok}");
        }
        for bad in [
            "https://x.fr",
            "x.fr/",
            "x..fr",
            "-x.fr",
            "x fr",
            "",
            "x.fr:0",
        ] {
            assert!(!is_host(bad), "{bad}");
        }
        assert_eq!(
            host_help("https://Mrs.Beta.Gouv.fr/"),
            "write the host name alone: `{name}: \"mrs.beta.gouv.fr\"`"
        );
    }

    #[test]
    fn shapes_of_uses() {
        assert_eq!(shapes_in("https://www.${HOST}/", "HOST", ""), [Shape::Host]);
        assert_eq!(
            shapes_in("Host(`${HOST}`, `www.${HOST}`)", "HOST", ""),
            [Shape::Host, Shape::Host]
        );
        assert_eq!(
            shapes_in("www.${HOST}", "HOST", "ALLOWED_HOSTS"),
            [Shape::Host]
        );
        assert_eq!(
            shapes_in("${HOSTS}", "HOSTS", "ALLOWED_HOSTS"),
            [Shape::Hosts]
        );
        assert_eq!(shapes_in("${HOST_SLUG}-x", "HOST_SLUG", ""), []);
        assert_eq!(duration_help("7 days"), "write `168h`");
    }
}
