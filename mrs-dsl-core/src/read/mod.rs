//! Reading: the DSL's syntax tree ([`ast`]) into typed sections, every part
//! keeping its span, a file per section. Reading knows shapes, not rules: it
//! reports what cannot be typed (an unknown key, a string where a name goes,
//! a missing section) and goes on, so that one compile shows every mistake.
//! What a value means for the environment is [`crate::lower`]'s and
//! [`crate::check`]'s. A new section is a new file here and a key in
//! [`Environment::read_field`].
//!
//! A key given twice is read once (the first); `check/syntax.rs` reports it.

pub mod ast;
mod health;
mod persistence;
mod services;
mod shape;
pub mod template;
mod vars;

use proc_macro2::Span;
use syn::{Ident, LitStr};

use mrs_compose::error::did_you_mean;
use mrs_env::spec::Tier;

use crate::ctxt::{Ctxt, Message};
use crate::keys;
use crate::rules;
use ast::{Field, Input, Value};
pub use health::HealthDecl;
pub use persistence::PersistenceDecl;
pub use services::{OverrideDecl, OverrideValue, ServiceDecl, Val};
pub use shape::duration;
use shape::{Seen, error, expect_fields, expect_ident, expect_str, unknown_key};
pub use vars::{VarDecl, VarDeclSource};

/// An environment as declared.
pub struct Environment<'a> {
    /// The syntax tree it was read from.
    pub input: &'a Input,
    /// `env: NAME`.
    pub name: Option<&'a Ident>,
    /// `tier: ...`.
    pub tier: Option<(Tier, Span)>,
    /// `persistent: {...}` or `ephemeral: {...}`.
    pub persistence: Option<PersistenceDecl<'a>>,
    /// `overlays: [...]`, as written (repeats included).
    pub overlays: Vec<&'a Ident>,
    /// Span of the `overlays` key, and of its list when it is one.
    pub overlays_key: Option<(Span, Option<Span>)>,
    /// `networks: [...]`, as written (repeats included).
    pub networks: Vec<(String, Span)>,
    /// `host: "..."`.
    pub host: Option<&'a LitStr>,
    /// `services: {...}`.
    pub services: Vec<ServiceDecl<'a>>,
    /// `vars: {...}`.
    pub vars: Vec<VarDecl<'a>>,
    /// Span of the `vars` key.
    pub vars_key: Option<Span>,
    /// Variables declared with a value that was refused (already reported):
    /// they count as declared, so no second error says they are missing.
    pub rejected_vars: Vec<String>,
    /// Variables referred to by values that were refused (already reported):
    /// they count as used, so no second error calls their declaration unused.
    pub refused_refs: Vec<String>,
    /// `health: {...}`.
    pub health: Option<HealthDecl<'a>>,
}

/// A `{NAME}` template written in the DSL, in compose syntax.
#[derive(Clone, Debug)]
pub struct Template {
    /// As written.
    pub text: String,
    /// In compose syntax (`${NAME}`, literal `$` as `$$`).
    pub compose: String,
    /// The variables it refers to, in order.
    pub refs: Vec<String>,
    /// The string's span.
    pub span: Span,
}

impl<'a> Environment<'a> {
    /// Reads the typed environment; every mistake goes into `cx`.
    pub fn from_ast(cx: &Ctxt, input: &'a Input) -> Environment<'a> {
        let mut env = Environment {
            input,
            name: None,
            tier: None,
            persistence: None,
            overlays: Vec::new(),
            overlays_key: None,
            networks: Vec::new(),
            host: None,
            services: Vec::new(),
            vars: Vec::new(),
            vars_key: None,
            rejected_vars: Vec::new(),
            refused_refs: Vec::new(),
            health: None,
        };
        let mut seen = Seen(Vec::new());
        for field in &input.fields {
            if !seen.first(&field.key) {
                continue;
            }
            env.read_field(cx, field);
        }
        let call_site = Span::call_site();
        let missing = |what: &str| error(cx, rules::MISSING_KEY, call_site, what);
        if !seen.has("env") {
            missing("missing `env: NAME`, the environment's name");
        }
        if !seen.has("tier") {
            missing(&format!(
                "missing `tier`: one of {}",
                Tier::NAMES.join(", ")
            ));
        }
        if !seen.has("persistent") && !seen.has("ephemeral") {
            missing(
                "missing `persistent: { home: \"/home/...\" }` or `ephemeral: { project: \"...\", root: \"...\", lifetime: 7d }`",
            );
        }
        if !seen.has("overlays") {
            missing("missing `overlays: [base, ...]`");
        }
        env
    }

    fn read_field(&mut self, cx: &Ctxt, field: &'a Field) {
        let value = &field.value;
        match field.key.name.as_str() {
            "env" => self.name = expect_ident(cx, value, "`env`"),
            "tier" => self.tier = read_tier(cx, value),
            "persistent" | "ephemeral" => {
                if let Some(first) = &self.persistence {
                    let (a, b) = match first {
                        PersistenceDecl::Persistent { .. } => ("persistent", "ephemeral"),
                        PersistenceDecl::Ephemeral { .. } => ("ephemeral", "persistent"),
                    };
                    cx.error(
                        field.key.span,
                        Message::new(
                            rules::PERSISTENCE_KIND,
                            "an environment is either `persistent` or `ephemeral`, not both",
                        )
                        .help(format!(
                            "keep `{a}` and remove `{b}`, or the other way round"
                        )),
                    );
                    return;
                }
                self.persistence = Some(persistence::read_persistence(cx, field));
            }
            "overlays" => {
                let list = matches!(value, Value::List(..)).then(|| value.span());
                self.overlays_key = Some((field.key.span, list));
                match value {
                    Value::List(items, _) => {
                        for item in items {
                            if let Some(i) = expect_ident(cx, item, "an overlay") {
                                self.overlays.push(i);
                            }
                        }
                    }
                    other => error(
                        cx,
                        rules::VALUE_KIND,
                        other.span(),
                        format!(
                            "`overlays` must be a list like `[base, persist]`, found {}",
                            other.kind()
                        ),
                    ),
                }
            }
            "networks" => match value {
                Value::List(items, _) => {
                    for item in items {
                        match item {
                            Value::Ident(i) => self.networks.push((i.to_string(), i.span())),
                            Value::Str(s) => self.networks.push((s.value(), s.span())),
                            other => error(
                                cx,
                                rules::VALUE_KIND,
                                other.span(),
                                format!("a network must be a name, found {}", other.kind()),
                            ),
                        }
                    }
                }
                other => error(
                    cx,
                    rules::VALUE_KIND,
                    other.span(),
                    format!(
                        "`networks` must be a list like `[web]`, found {}",
                        other.kind()
                    ),
                ),
            },
            "host" => self.host = expect_str(cx, value, "`host`"),
            "services" => {
                let mut seen = Seen(Vec::new());
                for service in expect_fields(cx, value, "`services`") {
                    if seen.first(&service.key) {
                        let decl = services::read_service(cx, service, &mut self.refused_refs);
                        self.services.push(decl);
                    }
                }
            }
            "vars" => {
                self.vars_key = Some(field.key.span);
                let mut seen = Seen(Vec::new());
                for var in expect_fields(cx, value, "`vars`") {
                    if seen.first(&var.key) {
                        match vars::read_var(cx, var) {
                            Some(decl) => self.vars.push(decl),
                            None => self.rejected_vars.push(var.key.name.clone()),
                        }
                    }
                }
            }
            "health" => self.health = Some(health::read_health(cx, field)),
            other => {
                if let Some((_, what)) = keys::PLANNED.iter().find(|(k, _)| *k == other) {
                    cx.error(
                        field.key.span,
                        Message::new(
                            rules::PLANNED_SECTION,
                            format!("`{other}` ({what}) is not supported yet"),
                        )
                        .help("remove it for now"),
                    );
                } else {
                    let all: Vec<&str> = keys::TOP
                        .iter()
                        .copied()
                        .chain(keys::PLANNED.iter().map(|(k, _)| *k))
                        .collect();
                    unknown_key(cx, &field.key, &all, "the environment");
                }
            }
        }
    }
}

fn read_tier(cx: &Ctxt, value: &Value) -> Option<(Tier, Span)> {
    let ident = expect_ident(cx, value, "`tier`")?;
    let name = ident.to_string();
    match Tier::parse(&name) {
        Some(t) => Some((t, ident.span())),
        None => {
            let m = Message::new(rules::UNKNOWN_TIER, format!("unknown tier `{ident}`"));
            let m = match did_you_mean(&name, Tier::NAMES.iter().copied()) {
                Some(s) => m.help(format!("did you mean `{s}`?")),
                None => m.help(format!("use one of: {}", Tier::NAMES.join(", "))),
            };
            cx.error(ident.span(), m);
            None
        }
    }
}
