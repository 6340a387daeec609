//! Secret flow: a secret, and every variable computed from one, may reach a
//! container's `environment` values, the health check's basic-auth password
//! and the secret fields a section declares ([`SECRET_FIELDS`]), and nothing
//! else. Every other place the merged configuration or the DSL can carry a
//! value (labels, command, image, volumes, names, logging options, the
//! health URL, the project name...) is shown by `docker inspect`, `ps`,
//! plans or logs, or is written to disk.

use indexmap::IndexMap;
use proc_macro2::Span;

use mrs_compose::Location;
use mrs_compose::interpolate;
use mrs_compose::node::{PathItem, Value};
use mrs_env::spec::VarSource;

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::read::{PersistenceDecl, Template};
use crate::rules;
use crate::spans::SpanTable;

/// Paths of the merged configuration (beyond `services.*.environment`
/// values) that may carry a secret: fields a DSL section declares secret.
/// Sections to come (a backup password, an off-site DSN) add theirs here.
pub const SECRET_FIELDS: &[&[&str]] = &[];

/// Every secret-tainted variable reaches only the places that may carry it.
pub fn check_flow(cx: &Ctxt, m: &Lowered<'_>) {
    let graph = m.table.graph();
    let tainted = graph.derived_from(|n| matches!(m.vars.get(n), Some(VarSource::Secret)));
    if tainted.is_empty() {
        return;
    }
    // Each variable and place (`services.django.labels`), once, with how many times.
    let mut flows: IndexMap<(String, String), (String, Location, usize)> = IndexMap::new();
    let mut path = Vec::new();
    m.merged.walk(&mut path, &mut |path, node| {
        let Value::Str(text) = &node.value else {
            return;
        };
        for (name, offset) in references(text) {
            if !tainted.contains(&name) || may_carry(path, text, offset) {
                continue;
            }
            let place = path
                .iter()
                .take(3)
                .map(|p| match p {
                    PathItem::Key(k) => (*k).to_owned(),
                    PathItem::Index(i) => i.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".");
            flows
                .entry((name, place))
                .and_modify(|f| f.2 += 1)
                .or_insert_with(|| (sink(path), node.at.clone(), 1));
        }
    });
    for ((name, _), (what, at, count)) in &flows {
        report(cx, m, name, what, at, *count);
    }
    let dsl_sinks: [(Option<&Template>, &str); 2] = [
        (
            m.env.health.as_ref().and_then(|h| h.url.as_ref()),
            "the health URL, which is shown in plans and logs",
        ),
        (
            match &m.env.persistence {
                Some(PersistenceDecl::Ephemeral { project, .. }) => project.as_ref(),
                _ => None,
            },
            "the project name, which names every container",
        ),
    ];
    for (template, what) in dsl_sinks {
        let Some(t) = template else { continue };
        for name in t.refs.iter().filter(|r| tainted.contains(*r)) {
            cx.error(t.span, message(m, name, what));
        }
    }
}

/// Variable references in a value, with the character offset of each `$`.
fn references(text: &str) -> Vec<(String, usize)> {
    let Ok(t) = interpolate::parse(text, &Location::synthetic("value")) else {
        return Vec::new();
    };
    interpolate::references(&t)
        .into_iter()
        .map(|(v, _)| (v.name.clone(), v.offset))
        .collect()
}

/// Whether a reference at `offset` of `text`, at `path`, may carry a secret.
fn may_carry(path: &[PathItem<'_>], text: &str, offset: usize) -> bool {
    let keys: Vec<&str> = path
        .iter()
        .map(|p| match p {
            PathItem::Key(k) => *k,
            PathItem::Index(_) => "[]",
        })
        .collect();
    match keys.as_slice() {
        // `KEY: value` in map form; `KEY=value` in list form, after the `=`.
        ["services", _, "environment", key] if *key != "[]" => true,
        ["services", _, "environment", "[]"] => text
            .chars()
            .position(|c| c == '=')
            .is_some_and(|eq| offset > eq),
        other => SECRET_FIELDS.iter().any(|f| f == &other),
    }
}

/// What a place is, and why a secret must not go there.
fn sink(path: &[PathItem<'_>]) -> String {
    let shown = mrs_compose::node::path_string(path);
    let key = match path {
        [
            PathItem::Key("services"),
            PathItem::Key(_),
            PathItem::Key(k),
            ..,
        ] => *k,
        [PathItem::Key(k), ..] => *k,
        _ => "",
    };
    let why = match key {
        "labels" => "labels are shown by `docker inspect` and `docker ps`, and kept in plans",
        "command" | "entrypoint" => "the command line is shown by `docker ps` and `ps` on the host",
        "healthcheck" => "the health check's command is shown by `docker inspect`",
        "environment" => "the name of an environment variable is shown by `docker inspect`",
        "image" => "the image reference is shown everywhere and sent to the registry",
        "volumes" | "env_file" | "working_dir" => {
            "paths are shown by `docker inspect` and created on the host"
        }
        "logging" => "logging options are shown by `docker inspect` and passed to the log driver",
        _ => "only a container's `environment` values may carry a secret",
    };
    format!("`{shown}`: {why}")
}

fn message(m: &Lowered<'_>, name: &str, what: &str) -> Message {
    let msg = if matches!(m.vars.get(name), Some(VarSource::Secret)) {
        Message::new(
            rules::SECRET_FLOW,
            format!("secret `{name}` would be written into {what}"),
        )
    } else {
        let secrets: Vec<String> = m
            .table
            .graph()
            .inputs_of([name])
            .into_iter()
            .filter(|n| matches!(m.vars.get(n), Some(VarSource::Secret)))
            .map(|n| format!("`{n}`"))
            .collect();
        Message::new(
            rules::SECRET_FLOW,
            format!(
                "`{name}` is computed from the secret {} and would be written into {what}",
                secrets.join(" and ")
            ),
        )
    };
    msg.help("a secret reaches a container through its `environment`: pass it there and let the program read it")
}

fn report(cx: &Ctxt, m: &Lowered<'_>, name: &str, what: &str, at: &Location, count: usize) {
    // Written in the DSL: on that token. In an overlay: on the declaration
    // of the variable, with the overlay's line.
    let span = if SpanTable::in_dsl(at) {
        m.spans.span(at)
    } else {
        declaration(m, name)
    };
    let msg = message(m, name, what);
    let msg = if SpanTable::in_dsl(at) {
        msg
    } else {
        msg.at("it flows here", at, &m.text)
    };
    let msg = if count > 1 {
        msg.note(format!("and {} more place(s) there", count - 1))
    } else {
        msg
    };
    cx.error(span, msg);
}

fn declaration(m: &Lowered<'_>, name: &str) -> Span {
    m.env
        .vars
        .iter()
        .find(|d| d.name.name == name)
        .map_or_else(|| m.spans.span(&Location::synthetic("")), |d| d.name.span)
}
