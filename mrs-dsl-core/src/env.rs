//! The typed environment read from the DSL tree, every part keeping its span.
//!
//! Reading never stops at the first mistake: each one is recorded in the
//! [`Ctxt`] and reading goes on, so one compile shows them all.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use mrs_compose::error::did_you_mean;
use mrs_env::spec::{Derivation, Tier};

use crate::ast::{Field, Input, Key, Value};
use crate::ctxt::{Ctxt, Message};
use crate::keys;

/// An environment as declared.
pub struct Environment<'a> {
    /// Doc comment lines.
    pub docs: &'a [String],
    /// `env: NAME`.
    pub name: Option<&'a Ident>,
    /// `tier: ...`.
    pub tier: Option<(Tier, Span)>,
    /// `persistent: {...}` or `ephemeral: {...}`.
    pub persistence: Option<PersistenceDecl<'a>>,
    /// `overlays: [...]`.
    pub overlays: Vec<&'a Ident>,
    /// Span of the `overlays` key.
    pub overlays_key: Option<Span>,
    /// `networks: [...]`.
    pub networks: Vec<(String, Span)>,
    /// Span of the `networks` key.
    pub networks_key: Option<Span>,
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
    /// `health: {...}`.
    pub health: Option<HealthDecl<'a>>,
}

/// Persistent or ephemeral, as declared.
pub enum PersistenceDecl<'a> {
    /// `persistent: { home: "...", project: "..." }`.
    Persistent {
        /// The key's span.
        key: Span,
        /// Home folder.
        home: Option<&'a LitStr>,
        /// Explicit project name.
        project: Option<&'a LitStr>,
    },
    /// `ephemeral: { project: "test-{BRANCH_SLUG}", root: "...", lifetime: 7d }`.
    Ephemeral {
        /// The key's span.
        key: Span,
        /// Project name template.
        project: Option<&'a LitStr>,
        /// Folder holding one folder per project.
        root: Option<&'a LitStr>,
        /// Lifetime in seconds and its span.
        lifetime: Option<(u64, Span)>,
    },
}

impl PersistenceDecl<'_> {
    /// The span of the `persistent` / `ephemeral` key.
    pub fn key(&self) -> Span {
        match self {
            PersistenceDecl::Persistent { key, .. } | PersistenceDecl::Ephemeral { key, .. } => {
                *key
            }
        }
    }
}

/// `services: { NAME: { key: value } }`.
pub struct ServiceDecl<'a> {
    /// Service name.
    pub name: &'a Key,
    /// Compose keys replaced or removed.
    pub overrides: Vec<OverrideDecl<'a>>,
    /// `unpinned: "reason"`: waives the pinned-image rule.
    pub unpinned: Option<&'a LitStr>,
}

/// One overridden service key.
pub struct OverrideDecl<'a> {
    /// The compose key.
    pub key: &'a Key,
    /// The new value; `None` removes the key (`none`).
    pub value: Option<&'a Value>,
}

/// `NAME: source` in `vars`.
pub struct VarDecl<'a> {
    /// Variable name.
    pub name: &'a Key,
    /// Doc comment (help for inputs).
    pub docs: &'a [String],
    /// Where the value comes from.
    pub source: VarDeclSource<'a>,
}

/// The source of a variable, as declared.
pub enum VarDeclSource<'a> {
    /// `"value"` (or a number).
    Literal(String, Span),
    /// `secret`.
    Secret(Span),
    /// `input` or `input("help")`.
    Input(Option<String>, Span),
    /// `slug(OTHER)`.
    Derived(Derivation, &'a Ident, Span),
    /// `format("{A}.example")`: compose-syntax template, the names it uses,
    /// and the span of the template string.
    Template(String, Vec<String>, Span),
    /// `unset`.
    Unset(Span),
}

impl VarDeclSource<'_> {
    /// The span of the declaration's value.
    pub fn span(&self) -> Span {
        match self {
            VarDeclSource::Literal(_, s)
            | VarDeclSource::Secret(s)
            | VarDeclSource::Input(_, s)
            | VarDeclSource::Derived(_, _, s)
            | VarDeclSource::Template(_, _, s)
            | VarDeclSource::Unset(s) => *s,
        }
    }
}

/// `health: {...}`.
pub struct HealthDecl<'a> {
    /// The key's span.
    pub key: Span,
    /// URL template.
    pub url: Option<&'a LitStr>,
    /// `basic_auth: { user: "dev", password: VAR }`.
    pub basic_auth: Option<(&'a LitStr, &'a Ident)>,
    /// `unless: VAR`.
    pub unless: Option<&'a Ident>,
    /// Timeout in seconds.
    pub timeout: Option<(u64, Span)>,
    /// Expected status.
    pub expect: Option<(u16, Span)>,
    /// `connect_to: "host:port"`.
    pub connect_to: Option<&'a LitStr>,
}

fn unknown_key(cx: &Ctxt, key: &Key, allowed: &[&str], what: &str) {
    let mut m = Message::new(format!("unknown key `{}` in {what}", key.name));
    m = match did_you_mean(&key.name, allowed.iter().copied()) {
        Some(s) => m.help(format!("did you mean `{s}`?")),
        None => m.help(format!("expected one of: {}", allowed.join(", "))),
    };
    cx.error(key.span, m.build());
}

fn expect_str<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a LitStr> {
    match value {
        Value::Str(s) => Some(s),
        other => {
            cx.error(
                other.span(),
                format!("{what} must be a string, found {}", other.kind()),
            );
            None
        }
    }
}

fn expect_ident<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a Ident> {
    match value {
        Value::Ident(i) => Some(i),
        other => {
            cx.error(
                other.span(),
                format!("{what} must be a name, found {}", other.kind()),
            );
            None
        }
    }
}

fn expect_fields<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> &'a [Field] {
    match value {
        Value::Map(fields, _) => fields,
        other => {
            cx.error(
                other.span(),
                format!(
                    "{what} must be a map `{{ key: value, ... }}`, found {}",
                    other.kind()
                ),
            );
            &[]
        }
    }
}

/// The keys of a map value (none for other values).
fn expect_fields_names(value: &Value) -> impl Iterator<Item = &str> {
    let fields: &[Field] = match value {
        Value::Map(fields, _) => fields,
        _ => &[],
    };
    fields.iter().map(|f| f.key.name.as_str())
}

/// Reads a duration literal like `60s`, `15m`, `2h`, `7d` into seconds.
pub fn duration(cx: &Ctxt, value: &Value, what: &str) -> Option<(u64, Span)> {
    let Value::Int(lit) = value else {
        cx.error(
            value.span(),
            format!(
                "{what} must be a duration like `60s`, `15m` or `7d`, found {}",
                value.kind()
            ),
        );
        return None;
    };
    let n: u64 = match lit.base10_parse() {
        Ok(n) => n,
        Err(e) => {
            cx.push(e);
            return None;
        }
    };
    let scale = match lit.suffix() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => {
            cx.error(
                lit.span(),
                format!("{what} needs a unit: `{n}s`, `{n}m`, `{n}h` or `{n}d`"),
            );
            return None;
        }
        other => {
            cx.error(
                lit.span(),
                format!("unknown duration unit `{other}`: use `s`, `m`, `h` or `d`"),
            );
            return None;
        }
    };
    match n.checked_mul(scale) {
        Some(secs) => Some((secs, lit.span())),
        None => {
            cx.error(lit.span(), format!("{what} is too long"));
            None
        }
    }
}

/// Records a second occurrence of a key as an error.
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, cx: &Ctxt, key: &Key) -> bool {
        if self.0.contains(&key.name) {
            cx.error(key.span, format!("`{}` is given twice; keep one", key.name));
            false
        } else {
            self.0.push(key.name.clone());
            true
        }
    }
}

impl<'a> Environment<'a> {
    /// Reads the typed environment; every mistake goes into `cx`.
    pub fn from_ast(cx: &Ctxt, input: &'a Input) -> Environment<'a> {
        let mut env = Environment {
            docs: &input.docs,
            name: None,
            tier: None,
            persistence: None,
            overlays: Vec::new(),
            overlays_key: None,
            networks: Vec::new(),
            networks_key: None,
            host: None,
            services: Vec::new(),
            vars: Vec::new(),
            vars_key: None,
            rejected_vars: Vec::new(),
            health: None,
        };
        let mut seen = Seen(Vec::new());
        for field in &input.fields {
            if !seen.first(cx, &field.key) {
                continue;
            }
            let value = &field.value;
            match field.key.name.as_str() {
                "env" => env.name = expect_ident(cx, value, "`env`"),
                "tier" => {
                    if let Some(ident) = expect_ident(cx, value, "`tier`") {
                        match Tier::parse(&ident.to_string()) {
                            Some(t) => env.tier = Some((t, ident.span())),
                            None => {
                                let mut m = Message::new(format!("unknown tier `{ident}`"));
                                if let Some(s) =
                                    did_you_mean(&ident.to_string(), Tier::NAMES.iter().copied())
                                {
                                    m = m.help(format!("did you mean `{s}`?"));
                                } else {
                                    m = m.help(format!("use one of: {}", Tier::NAMES.join(", ")));
                                }
                                cx.error(ident.span(), m.build());
                            }
                        }
                    }
                }
                "persistent" | "ephemeral" => {
                    if env.persistence.is_some() {
                        cx.error(
                            field.key.span,
                            "an environment is either `persistent` or `ephemeral`, not both",
                        );
                        continue;
                    }
                    env.persistence = Some(read_persistence(cx, field));
                }
                "overlays" => {
                    env.overlays_key = Some(field.key.span);
                    match value {
                        Value::List(items, span) if items.is_empty() => cx.error(
                            *span,
                            "`overlays` is empty: list the overlays to merge, like `[base, persist]`",
                        ),
                        Value::List(items, _) => {
                            for item in items {
                                if let Some(i) = expect_ident(cx, item, "an overlay") {
                                    env.overlays.push(i);
                                }
                            }
                        }
                        other => cx.error(
                            other.span(),
                            format!(
                                "`overlays` must be a list like `[base, persist]`, found {}",
                                other.kind()
                            ),
                        ),
                    }
                }
                "networks" => {
                    env.networks_key = Some(field.key.span);
                    match value {
                        Value::List(items, _) => {
                            for item in items {
                                let (name, span) = match item {
                                    Value::Ident(i) => (i.to_string(), i.span()),
                                    Value::Str(s) => (s.value(), s.span()),
                                    other => {
                                        cx.error(
                                            other.span(),
                                            format!(
                                                "a network must be a name, found {}",
                                                other.kind()
                                            ),
                                        );
                                        continue;
                                    }
                                };
                                if env.networks.iter().any(|(n, _)| *n == name) {
                                    cx.error(
                                        span,
                                        format!("network `{name}` is listed twice; keep one"),
                                    );
                                    continue;
                                }
                                env.networks.push((name, span));
                            }
                        }
                        other => cx.error(
                            other.span(),
                            format!(
                                "`networks` must be a list like `[web]`, found {}",
                                other.kind()
                            ),
                        ),
                    }
                }
                "host" => env.host = expect_str(cx, value, "`host`"),
                "services" => {
                    for service in expect_fields(cx, value, "`services`") {
                        env.services.push(read_service(cx, service));
                    }
                }
                "vars" => {
                    env.vars_key = Some(field.key.span);
                    let mut seen_vars = Seen(Vec::new());
                    for var in expect_fields(cx, value, "`vars`") {
                        if seen_vars.first(cx, &var.key) {
                            match read_var(cx, var) {
                                Some(decl) => env.vars.push(decl),
                                None => env.rejected_vars.push(var.key.name.clone()),
                            }
                        }
                    }
                }
                "health" => env.health = Some(read_health(cx, field)),
                other => {
                    if let Some((_, what)) = keys::PLANNED.iter().find(|(k, _)| *k == other) {
                        cx.error(
                            field.key.span,
                            Message::new(format!("`{other}` ({what}) is not supported yet"))
                                .help("remove it for now")
                                .build(),
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
        let call_site = Span::call_site();
        if env.name.is_none() && !seen.0.iter().any(|k| k == "env") {
            cx.error(call_site, "missing `env: NAME`, the environment's name");
        }
        if env.tier.is_none() && !seen.0.iter().any(|k| k == "tier") {
            cx.error(
                call_site,
                format!("missing `tier`: one of {}", Tier::NAMES.join(", ")),
            );
        }
        if env.persistence.is_none()
            && !seen.0.iter().any(|k| k == "persistent" || k == "ephemeral")
        {
            cx.error(call_site, "missing `persistent: { home: \"/home/...\" }` or `ephemeral: { project: \"...\", root: \"...\", lifetime: 7d }`");
        }
        if env.overlays_key.is_none() {
            cx.error(call_site, "missing `overlays: [base, ...]`");
        }
        env
    }
}

fn read_persistence<'a>(cx: &Ctxt, field: &'a Field) -> PersistenceDecl<'a> {
    let persistent = field.key.name == "persistent";
    let mut home = None;
    let mut project = None;
    let mut root = None;
    let mut lifetime = None;
    let mut seen = Seen(Vec::new());
    let allowed = if persistent {
        keys::PERSISTENT
    } else {
        keys::EPHEMERAL
    };
    for f in expect_fields(cx, &field.value, &format!("`{}`", field.key.name)) {
        if !seen.first(cx, &f.key) {
            continue;
        }
        match (persistent, f.key.name.as_str()) {
            (true, "home") => home = expect_str(cx, &f.value, "`home`"),
            (_, "project") => project = expect_str(cx, &f.value, "`project`"),
            (false, "root") => root = expect_str(cx, &f.value, "`root`"),
            (false, "lifetime") => lifetime = duration(cx, &f.value, "`lifetime`"),
            _ => unknown_key(cx, &f.key, allowed, &format!("`{}`", field.key.name)),
        }
    }
    let key = field.key.span;
    if persistent {
        if home.is_none() && !seen.0.iter().any(|k| k == "home") {
            cx.error(
                key,
                "a persistent environment needs `home: \"/home/mrs-<name>\"`",
            );
        }
        PersistenceDecl::Persistent { key, home, project }
    } else {
        for (required, what, example) in [
            (
                "project",
                "its project name template",
                "project: \"test-{BRANCH_SLUG}\"",
            ),
            (
                "root",
                "the folder holding one folder per project",
                "root: \"/srv/mrs-review\"",
            ),
            (
                "lifetime",
                "how long after its last deployment it is removed",
                "lifetime: 7d",
            ),
        ] {
            if !seen.0.iter().any(|k| k == required) {
                cx.error(
                    key,
                    Message::new(format!(
                        "an ephemeral environment needs `{required}`, {what}"
                    ))
                    .help(format!("add `{example}`"))
                    .build(),
                );
            }
        }
        PersistenceDecl::Ephemeral {
            key,
            project,
            root,
            lifetime,
        }
    }
}

fn read_service<'a>(cx: &Ctxt, field: &'a Field) -> ServiceDecl<'a> {
    let mut decl = ServiceDecl {
        name: &field.key,
        overrides: Vec::new(),
        unpinned: None,
    };
    let mut seen = Seen(Vec::new());
    for f in expect_fields(cx, &field.value, &format!("service `{}`", field.key.name)) {
        if !seen.first(cx, &f.key) {
            continue;
        }
        match (f.key.name.as_str(), &f.value) {
            ("unpinned", v) => {
                decl.unpinned =
                    expect_str(cx, v, "`unpinned` (the reason a moving tag is acceptable)");
                if let Some(reason) = decl.unpinned.filter(|r| r.value().trim().is_empty()) {
                    cx.error(
                        reason.span(),
                        "`unpinned` needs the reason a moving tag is acceptable here",
                    );
                }
            }
            (_, Value::Ident(i)) if i == "none" => decl.overrides.push(OverrideDecl {
                key: &f.key,
                value: None,
            }),
            (_, v) => decl.overrides.push(OverrideDecl {
                key: &f.key,
                value: Some(v),
            }),
        }
    }
    decl
}

fn read_var<'a>(cx: &Ctxt, field: &'a Field) -> Option<VarDecl<'a>> {
    if !mrs_compose::interpolate::is_var_name(&field.key.name) {
        cx.error(
            field.key.span,
            format!("`{}` is not a variable name", field.key.name),
        );
        return None;
    }
    let source = match &field.value {
        Value::Str(s) => VarDeclSource::Literal(s.value(), s.span()),
        Value::Int(i) => VarDeclSource::Literal(i.base10_digits().to_owned(), i.span()),
        Value::Bool(b) => VarDeclSource::Literal(b.value.to_string(), b.span),
        Value::Ident(i) if i == "secret" => VarDeclSource::Secret(i.span()),
        Value::Ident(i) if i == "input" => VarDeclSource::Input(None, i.span()),
        Value::Ident(i) if i == "unset" => VarDeclSource::Unset(i.span()),
        Value::Call(f, args, span) if f == "input" => match args.as_slice() {
            [Value::Str(help)] => VarDeclSource::Input(Some(help.value()), *span),
            _ => {
                cx.error(*span, "`input` takes one string: what to give, e.g. `input(\"the commit to deploy\")`");
                return None;
            }
        },
        Value::Call(f, args, span) if f == "format" => match args.as_slice() {
            [Value::Str(t)] => match crate::template::convert(&t.value()) {
                Ok(c) => VarDeclSource::Template(c.compose, c.refs, t.span()),
                Err(e) => {
                    cx.error(t.span(), e);
                    return None;
                }
            },
            _ => {
                cx.error(*span, "`format` takes one string template, e.g. `format(\"{BRANCH_SLUG}.review.example\")`");
                return None;
            }
        },
        Value::Call(f, args, span) => {
            let function = match f.to_string().as_str() {
                "slug" => Derivation::Slug,
                other => {
                    let mut m = Message::new(format!("unknown function `{other}`"));
                    m = match did_you_mean(other, keys::DERIVATIONS.iter().copied()) {
                        Some(s) => m.help(format!("did you mean `{s}`?")),
                        None => {
                            m.help(format!("known functions: {}", keys::DERIVATIONS.join(", ")))
                        }
                    };
                    cx.error(f.span(), m.build());
                    return None;
                }
            };
            match args.as_slice() {
                [Value::Ident(from)] => VarDeclSource::Derived(function, from, *span),
                _ => {
                    cx.error(
                        *span,
                        format!(
                            "`{}` takes one variable name, e.g. `{}(HOST)`",
                            function.name(),
                            function.name()
                        ),
                    );
                    return None;
                }
            }
        }
        Value::Ident(i) => {
            let mut m = Message::new(format!("`{i}` is not a variable source"));
            m = match did_you_mean(&i.to_string(), keys::VAR_KEYWORDS.iter().copied()) {
                Some(s) => m.help(format!("did you mean `{s}`?")),
                None => m.help("write a value in quotes, or `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{OTHER}...\")`"),
            };
            cx.error(i.span(), m.build());
            return None;
        }
        other => {
            cx.error(other.span(), format!("a variable's value must be a string, `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{{OTHER}}...\")`, found {}", other.kind()));
            return None;
        }
    };
    Some(VarDecl {
        name: &field.key,
        docs: &field.docs,
        source,
    })
}

fn read_health<'a>(cx: &Ctxt, field: &'a Field) -> HealthDecl<'a> {
    let mut h = HealthDecl {
        key: field.key.span,
        url: None,
        basic_auth: None,
        unless: None,
        timeout: None,
        expect: None,
        connect_to: None,
    };
    let mut seen = Seen(Vec::new());
    for f in expect_fields(cx, &field.value, "`health`") {
        if !seen.first(cx, &f.key) {
            continue;
        }
        match f.key.name.as_str() {
            "url" => h.url = expect_str(cx, &f.value, "`url`"),
            "unless" => h.unless = expect_ident(cx, &f.value, "`unless`"),
            "timeout" => {
                h.timeout = duration(cx, &f.value, "`timeout`");
                if let Some((0, span)) = h.timeout {
                    cx.error(span, "a health check needs a timeout longer than 0");
                }
            }
            "connect_to" => h.connect_to = expect_str(cx, &f.value, "`connect_to`"),
            "expect" => match &f.value {
                Value::Int(i) => match i.base10_parse::<u16>() {
                    Ok(code) if (100..600).contains(&code) => h.expect = Some((code, i.span())),
                    _ => cx.error(i.span(), "`expect` must be an HTTP status from 100 to 599"),
                },
                other => cx.error(
                    other.span(),
                    format!("`expect` must be a status code, found {}", other.kind()),
                ),
            },
            "basic_auth" => {
                let mut user = None;
                let mut password = None;
                for a in expect_fields(cx, &f.value, "`basic_auth`") {
                    match a.key.name.as_str() {
                        "user" => user = expect_str(cx, &a.value, "`user`"),
                        "password" => {
                            password =
                                expect_ident(cx, &a.value, "`password` (the variable holding it)")
                        }
                        _ => unknown_key(cx, &a.key, keys::BASIC_AUTH, "`basic_auth`"),
                    }
                }
                let has = |k: &str| expect_fields_names(&f.value).any(|n| n == k);
                match (user, password) {
                    (Some(u), Some(p)) => h.basic_auth = Some((u, p)),
                    _ if has("user") && has("password") => {} // their values were refused
                    _ => {
                        let missing: Vec<&str> = [
                            ("user", "`user: \"...\"`"),
                            ("password", "`password: VARIABLE` (the variable holding it)"),
                        ]
                        .into_iter()
                        .filter(|(k, _)| !has(k))
                        .map(|(_, what)| what)
                        .collect();
                        cx.error(
                            f.key.span,
                            format!("`basic_auth` needs {}", missing.join(" and ")),
                        );
                    }
                }
            }
            _ => unknown_key(cx, &f.key, keys::HEALTH, "`health`"),
        }
    }
    if h.url.is_none() && !seen.0.iter().any(|k| k == "url") {
        cx.error(field.key.span, "`health` needs `url: \"http://{HOST}/\"`");
    }
    h
}
