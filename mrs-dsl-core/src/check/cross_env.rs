//! Environments deployed to one host must not get in each other's way: not
//! share a compose project (one would replace the other's containers), a
//! home (one would write into the other's data), a published host port (the
//! second would fail to start) or a name. Each environment alone cannot see
//! the others: the build script finds the clashes and records them in the
//! catalog (`build/cross.rs`); each environment reports its own here, on its
//! own token.

use proc_macro2::Span;

use mrs_env::catalog::{Clash, ClashKind};

use crate::ctxt::{Ctxt, Message};
use crate::lower::{Lowered, Mapped};
use crate::read::PersistenceDecl;
use crate::rules;

/// Reports the clashes the build script recorded for this environment.
pub fn check_clashes(cx: &Ctxt, m: &Lowered<'_>) {
    for clash in &m.clashes {
        let this = m
            .env
            .name
            .map_or_else(|| "this environment".to_owned(), |n| format!("`{n}`"));
        let head = format!(
            "{this} and `{}` ({}) both deploy to `{}`",
            clash.other, clash.other_at, clash.host
        );
        let (rule, summary, help, span) = match clash.what {
            ClashKind::Project => (
                rules::PROJECT_CLASH,
                format!(
                    "{head} with the project name `{}`: one would replace the other's containers",
                    clash.value
                ),
                "give one of them another project name (`project: \"...\"`)",
                project_span(m),
            ),
            ClashKind::Home => (
                rules::HOME_CLASH,
                if clash.value == clash.other_value {
                    format!(
                        "{head} with the home `{}`: one would write into the other's data",
                        clash.value
                    )
                } else {
                    let (inner, outer, how) = if clash.value.starts_with(&clash.other_value) {
                        (&clash.value, &clash.other_value, "the other's")
                    } else {
                        (&clash.other_value, &clash.value, "this one's")
                    };
                    format!(
                        "{head}, and the home `{inner}` lies inside {how} home `{outer}`: one would write into the other's data"
                    )
                },
                "give each environment a home of its own",
                home_span(m),
            ),
            ClashKind::HostPort => (
                rules::HOST_PORT_CLASH,
                if clash.value == clash.other_value {
                    format!(
                        "{head}, and both publish host port `{}`: the second would fail to start",
                        clash.value
                    )
                } else {
                    format!(
                        "{head}, and `{}` binds a host port of `{}` there: the second would fail to start",
                        clash.value, clash.other_value
                    )
                },
                "publish one of them on another host port",
                port_span(m, clash),
            ),
            ClashKind::Name => (
                rules::ENV_NAME_CLASH,
                format!(
                    "another environment named `{}` ({}) deploys to `{}` too: their deploy history and labels would mix",
                    clash.value, clash.other_at, clash.host
                ),
                "give one of them another `env` name",
                m.env.name.map(syn::Ident::span),
            ),
        };
        let span = span
            .or_else(|| m.env.host.map(syn::LitStr::span))
            .unwrap_or_else(Span::call_site);
        cx.error(span, Message::new(rule, summary).help(help));
    }
}

fn project_span(m: &Lowered<'_>) -> Option<Span> {
    match m.env.persistence.as_ref()? {
        PersistenceDecl::Persistent { project, home, .. } => {
            project.or(*home).map(syn::LitStr::span)
        }
        PersistenceDecl::Ephemeral { project, .. } => project.as_ref().map(|t| t.span),
    }
}

fn home_span(m: &Lowered<'_>) -> Option<Span> {
    match m.env.persistence.as_ref()? {
        PersistenceDecl::Persistent { home, .. } => home.map(syn::LitStr::span),
        PersistenceDecl::Ephemeral { root, .. } => root.map(syn::LitStr::span),
    }
}

fn port_span(m: &Lowered<'_>, clash: &Clash) -> Option<Span> {
    m.ports.iter().find_map(|e| match &e.mapped {
        Mapped::Ports(mappings) if mappings.iter().any(|p| p.to_string() == clash.value) => {
            Some(m.spans.span(&e.node.at))
        }
        _ => None,
    })
}
