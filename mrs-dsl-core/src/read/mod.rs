//! Reading: the DSL's syntax tree ([`ast`]) into typed sections, every part
//! keeping its span. Reading knows shapes, not rules: it reports what cannot
//! be typed (an unknown key, a string where a name goes, a missing section)
//! and goes on, so that one compile shows every mistake. What a value means
//! for the environment is [`crate::lower`]'s and [`crate::check`]'s.
//!
//! A key given twice is read once (the first); `check/syntax.rs` reports it.

pub mod ast;
pub mod template;

use proc_macro2::Span;
use syn::{Ident, LitStr};

use mrs_compose::error::did_you_mean;
use mrs_env::spec::{Derivation, Tier};

use crate::ctxt::{Ctxt, Message};
use crate::keys;
use crate::rules::{self, Rule};
use ast::{Field, Input, Key, Value};

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
        project: Option<Template>,
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
    /// Compose keys merged, replaced or removed.
    pub overrides: Vec<OverrideDecl<'a>>,
    /// `unpinned: "reason"`: waives the pinned-image rule.
    pub unpinned: Option<&'a LitStr>,
}

/// One overridden service key.
pub struct OverrideDecl<'a> {
    /// The compose key.
    pub key: &'a Key,
    /// What happens to it.
    pub value: OverrideValue<'a>,
}

/// How an override changes the merged key.
pub enum OverrideValue<'a> {
    /// `none`: the key is removed.
    Remove(Span),
    /// `replace(...)`: the value replaces the overlays' whole.
    Replace(Val<'a>),
    /// A value merged into the overlays' as a compose overlay would: maps
    /// and keyed collections (`environment`, `labels`...) by key.
    Merge(Val<'a>),
}

/// A value of a service override.
pub enum Val<'a> {
    /// A string: a template.
    Str(Template),
    /// A number.
    Int(i64, Span),
    /// A number with a suffix (`60s`), kept as text.
    Text(String, Span),
    /// `true` / `false`.
    Bool(bool, Span),
    /// `null`.
    Null(Span),
    /// `[...]`.
    List(Vec<Val<'a>>, Span),
    /// `{ key: value }`.
    Map(Vec<(&'a Key, Val<'a>)>, Span),
    /// `none` as an entry of a map: that entry is removed.
    Remove(Span),
}

impl Val<'_> {
    /// The value's span.
    pub fn span(&self) -> Span {
        match self {
            Val::Str(t) => t.span,
            Val::Int(_, s)
            | Val::Text(_, s)
            | Val::Bool(_, s)
            | Val::Null(s)
            | Val::List(_, s)
            | Val::Map(_, s)
            | Val::Remove(s) => *s,
        }
    }
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
    /// `format("{A}.example")`.
    Template(Template),
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
            | VarDeclSource::Unset(s) => *s,
            VarDeclSource::Template(t) => t.span,
        }
    }
}

/// `health: {...}`.
pub struct HealthDecl<'a> {
    /// The key's span.
    pub key: Span,
    /// URL template.
    pub url: Option<Template>,
    /// `basic_auth: { user: "dev", password: VAR }`.
    pub basic_auth: Option<(&'a LitStr, &'a Ident)>,
    /// `unless: VAR`.
    pub unless: Option<&'a Ident>,
    /// Timeout in seconds.
    pub timeout: Option<(u64, Span)>,
    /// Expected status, as written.
    pub expect: Option<(u64, Span)>,
    /// `connect_to: "host:port"`.
    pub connect_to: Option<&'a LitStr>,
}

fn error(cx: &Ctxt, rule: Rule, span: Span, m: impl Into<String>) {
    cx.error(span, Message::new(rule, m));
}

fn unknown_key(cx: &Ctxt, key: &Key, allowed: &[&str], what: &str) {
    let m = Message::new(
        rules::UNKNOWN_KEY,
        format!("unknown key `{}` in {what}", key.name),
    );
    let m = match did_you_mean(&key.name, allowed.iter().copied()) {
        Some(s) => m.help(format!("did you mean `{s}`?")),
        None => m.help(format!("expected one of: {}", allowed.join(", "))),
    };
    cx.error(key.span, m);
}

fn expect_str<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a LitStr> {
    match value {
        Value::Str(s) => Some(s),
        other => {
            error(
                cx,
                rules::VALUE_KIND,
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
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!("{what} must be a name, found {}", other.kind()),
            );
            None
        }
    }
}

/// A variable named where a variable goes (`password: VAR`): a name, not a string.
fn expect_variable<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a Ident> {
    match value {
        Value::Ident(i) => Some(i),
        Value::Str(s) => {
            let text = s.value();
            let m = Message::new(
                rules::VALUE_KIND,
                format!("{what} names a variable, and a string is a value"),
            );
            let m = if mrs_compose::interpolate::is_var_name(&text) {
                m.help(format!("write the name without quotes: `{text}`"))
            } else {
                m.help(format!(
                    "declare the value in `vars` and name it here: {}",
                    template::NAME_SHAPE
                ))
            };
            cx.error(s.span(), m);
            None
        }
        other => expect_ident(cx, other, what),
    }
}

fn expect_fields<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> &'a [Field] {
    match value {
        Value::Map(fields, _) => fields,
        other => {
            error(
                cx,
                rules::VALUE_KIND,
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

/// Reads a template string, reporting what is malformed.
fn read_template(cx: &Ctxt, lit: &LitStr) -> Option<Template> {
    let text = lit.value();
    match template::convert(&text) {
        Ok(c) => Some(Template {
            text,
            compose: c.compose,
            refs: c.refs,
            span: lit.span(),
        }),
        Err(e) => {
            error(cx, rules::TEMPLATE_SYNTAX, lit.span(), e);
            None
        }
    }
}

/// Reads a duration literal like `60s`, `15m`, `2h`, `7d` into seconds.
pub fn duration(cx: &Ctxt, value: &Value, what: &str) -> Option<(u64, Span)> {
    let lit = match value {
        Value::Int(lit) => lit,
        Value::Str(s) => {
            // `"7 days"`, `"60s"`: say how to write it.
            let text = s.value();
            let mut words = text.split_whitespace();
            let m = Message::new(
                rules::DURATION,
                format!("{what} is a duration token like `60s`, not a string"),
            );
            let fix = match (words.next(), words.next(), words.next()) {
                (Some(n), Some(word), None) if n.parse::<u64>().is_ok() => ast::unit_of_word(word)
                    .map(|(unit, factor)| {
                        n.parse::<u64>()
                            .ok()
                            .and_then(|n| n.checked_mul(factor))
                            .map_or_else(|| format!("{n}{unit}"), |n| format!("{n}{unit}"))
                    }),
                (Some(one), None, None)
                    if one.ends_with(['s', 'm', 'h', 'd'])
                        && one[..one.len() - 1].parse::<u64>().is_ok() =>
                {
                    Some(one.to_owned())
                }
                _ => None,
            };
            cx.error(
                s.span(),
                match fix {
                    Some(f) => m.help(format!("write `{f}`, without quotes")),
                    None => m.help("write it like `60s`, `15m`, `2h` or `7d`, without quotes"),
                },
            );
            return None;
        }
        other => {
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!(
                    "{what} must be a duration like `60s`, `15m` or `7d`, found {}",
                    other.kind()
                ),
            );
            return None;
        }
    };
    let n: u64 = match lit.base10_parse() {
        Ok(n) => n,
        Err(e) => {
            error(cx, rules::DURATION, lit.span(), e.to_string());
            return None;
        }
    };
    let scale = match lit.suffix() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => {
            error(
                cx,
                rules::DURATION,
                lit.span(),
                format!("{what} needs a unit: `{n}s`, `{n}m`, `{n}h` or `{n}d`"),
            );
            return None;
        }
        other => {
            let m = Message::new(
                rules::DURATION,
                format!("unknown duration unit `{other}`: use `s`, `m`, `h` or `d`"),
            );
            let m = match ast::unit_of_word(other) {
                Some((unit, factor)) => match n.checked_mul(factor) {
                    Some(n) => m.help(format!("write `{n}{unit}`")),
                    None => m,
                },
                None => m,
            };
            cx.error(lit.span(), m);
            return None;
        }
    };
    match n.checked_mul(scale) {
        Some(secs) => Some((secs, lit.span())),
        None => {
            error(
                cx,
                rules::DURATION,
                lit.span(),
                format!("{what} is too long"),
            );
            None
        }
    }
}

/// The keys of a map given so far: a key is read once (the first time).
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, key: &Key) -> bool {
        if self.0.contains(&key.name) {
            false
        } else {
            self.0.push(key.name.clone());
            true
        }
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }
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
                self.persistence = Some(read_persistence(cx, field));
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
                        let decl = read_service(cx, service, &mut self.refused_refs);
                        self.services.push(decl);
                    }
                }
            }
            "vars" => {
                self.vars_key = Some(field.key.span);
                let mut seen = Seen(Vec::new());
                for var in expect_fields(cx, value, "`vars`") {
                    if seen.first(&var.key) {
                        match read_var(cx, var) {
                            Some(decl) => self.vars.push(decl),
                            None => self.rejected_vars.push(var.key.name.clone()),
                        }
                    }
                }
            }
            "health" => self.health = Some(read_health(cx, field)),
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

fn read_persistence<'a>(cx: &Ctxt, field: &'a Field) -> PersistenceDecl<'a> {
    let persistent = field.key.name == "persistent";
    let mut home = None;
    let mut project = None;
    let mut project_template = None;
    let mut root = None;
    let mut lifetime = None;
    let mut seen = Seen(Vec::new());
    let allowed = if persistent {
        keys::PERSISTENT
    } else {
        keys::EPHEMERAL
    };
    let what = format!("`{}`", field.key.name);
    for f in expect_fields(cx, &field.value, &what) {
        if !seen.first(&f.key) {
            continue;
        }
        match (persistent, f.key.name.as_str()) {
            (true, "home") => home = expect_str(cx, &f.value, "`home`"),
            (true, "project") => project = expect_str(cx, &f.value, "`project`"),
            (false, "project") => {
                project_template =
                    expect_str(cx, &f.value, "`project`").and_then(|p| read_template(cx, p));
            }
            (false, "root") => root = expect_str(cx, &f.value, "`root`"),
            (false, "lifetime") => lifetime = duration(cx, &f.value, "`lifetime`"),
            _ => unknown_key(cx, &f.key, allowed, &what),
        }
    }
    let key = field.key.span;
    if persistent {
        if !seen.has("home") {
            error(
                cx,
                rules::MISSING_KEY,
                key,
                "a persistent environment needs `home: \"/home/mrs-<name>\"`",
            );
        }
        return PersistenceDecl::Persistent { key, home, project };
    }
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
        if !seen.has(required) {
            cx.error(
                key,
                Message::new(
                    rules::MISSING_KEY,
                    format!("an ephemeral environment needs `{required}`, {what}"),
                )
                .help(format!("add `{example}`")),
            );
        }
    }
    PersistenceDecl::Ephemeral {
        key,
        project: project_template,
        root,
        lifetime,
    }
}

fn read_service<'a>(cx: &Ctxt, field: &'a Field, refused: &mut Vec<String>) -> ServiceDecl<'a> {
    let mut decl = ServiceDecl {
        name: &field.key,
        overrides: Vec::new(),
        unpinned: None,
    };
    let mut seen = Seen(Vec::new());
    let what = format!("service `{}`", field.key.name);
    for f in expect_fields(cx, &field.value, &what) {
        if !seen.first(&f.key) {
            continue;
        }
        if f.key.name == "unpinned" {
            decl.unpinned = expect_str(
                cx,
                &f.value,
                "`unpinned` (the reason a moving tag is acceptable)",
            );
            continue;
        }
        let value = match &f.value {
            Value::Ident(i) if i == "none" => Some(OverrideValue::Remove(i.span())),
            Value::Call(function, args, span) if function == "replace" => match args.as_slice() {
                [v] => read_val(cx, v, false, refused).map(OverrideValue::Replace),
                _ => {
                    error(
                        cx,
                        rules::OVERRIDE_VALUE,
                        *span,
                        "`replace` takes the one value that replaces the overlays', e.g. `environment: replace({ DEBUG: \"1\" })`",
                    );
                    None
                }
            },
            v => read_val(cx, v, false, refused).map(OverrideValue::Merge),
        };
        if let Some(value) = value {
            decl.overrides.push(OverrideDecl { key: &f.key, value });
        }
    }
    decl
}

/// Reads an override value; `in_map` allows `none` (removing that entry).
/// Variables referred to by a refused value go to `refused`.
fn read_val<'a>(
    cx: &Ctxt,
    value: &'a Value,
    in_map: bool,
    refused: &mut Vec<String>,
) -> Option<Val<'a>> {
    Some(match value {
        Value::Str(s) => Val::Str(read_template(cx, s)?),
        Value::Int(i) if i.suffix().is_empty() => match i.base10_parse::<i64>() {
            Ok(n) => Val::Int(n, i.span()),
            Err(e) => {
                error(cx, rules::OVERRIDE_VALUE, i.span(), e.to_string());
                return None;
            }
        },
        Value::Int(i) => Val::Text(i.to_string(), i.span()),
        Value::Bool(b) => Val::Bool(b.value, b.span),
        Value::List(items, span) => {
            let read: Vec<Option<Val<'a>>> = items
                .iter()
                .map(|i| read_val(cx, i, false, refused))
                .collect();
            Val::List(read.into_iter().collect::<Option<Vec<_>>>()?, *span)
        }
        Value::Map(fields, span) => {
            let mut seen = Seen(Vec::new());
            let mut out = Vec::new();
            let mut ok = true;
            for f in fields {
                if !seen.first(&f.key) {
                    continue;
                }
                match read_val(cx, &f.value, true, refused) {
                    Some(v) => out.push((&f.key, v)),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Val::Map(out, *span)
        }
        Value::Ident(i) if i == "null" => Val::Null(i.span()),
        Value::Ident(i) if i == "none" && in_map => Val::Remove(i.span()),
        Value::Ident(i) if i == "none" => {
            cx.error(
                i.span(),
                Message::new(
                    rules::OVERRIDE_VALUE,
                    "`none` removes a key or an entry of a map, not an item of a list",
                )
                .help("leave the item out, and write the list with `replace([...])` to drop the overlays' items"),
            );
            return None;
        }
        Value::Ident(i) => {
            cx.error(
                i.span(),
                Message::new(
                    rules::OVERRIDE_VALUE,
                    format!("`{i}` is not a value here: write a string, a number, a list or a map"),
                )
                .help(format!("write \"{i}\" in quotes; `none` removes the key")),
            );
            return None;
        }
        Value::Call(f, args, _) => {
            let m = Message::new(
                rules::OVERRIDE_VALUE,
                if f == "replace" {
                    "`replace(...)` applies to a whole service key, like `environment: replace({ ... })`".to_owned()
                } else {
                    format!(
                        "`{f}(...)` is not a value of a service key: functions only compute variables in `vars`"
                    )
                },
            );
            let m = match args.as_slice() {
                [Value::Str(s)] if f == "format" => {
                    // Its variables count as used: the fix keeps them.
                    if let Ok(c) = template::convert(&s.value()) {
                        refused.extend(c.refs);
                    }
                    m.help(format!(
                        "strings are already templates: write {:?}",
                        s.value()
                    ))
                }
                _ if f == "replace" => m.help("write the value itself here"),
                _ => {
                    m.help("declare the value in `vars` and use it in a string, e.g. `\"{NAME}\"`")
                }
            };
            cx.error(f.span(), m);
            return None;
        }
    })
}

fn read_var<'a>(cx: &Ctxt, field: &'a Field) -> Option<VarDecl<'a>> {
    if !mrs_compose::interpolate::is_var_name(&field.key.name) {
        let normal: String = field
            .key
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let m = Message::new(
            rules::VARIABLE_NAME,
            format!(
                "`{}` is not a variable name: {}",
                field.key.name,
                template::NAME_SHAPE
            ),
        );
        let m = if mrs_compose::interpolate::is_var_name(&normal) {
            m.help(format!("write `{normal}`"))
        } else {
            m
        };
        cx.error(field.key.span, m);
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
                error(
                    cx,
                    rules::VARIABLE_SOURCE,
                    *span,
                    "`input` takes one string: what to give, e.g. `input(\"the commit to deploy\")`",
                );
                return None;
            }
        },
        Value::Call(f, args, span) if f == "format" => match args.as_slice() {
            [Value::Str(t)] => VarDeclSource::Template(read_template(cx, t)?),
            _ => {
                error(
                    cx,
                    rules::VARIABLE_SOURCE,
                    *span,
                    "`format` takes one string template, e.g. `format(\"{BRANCH_SLUG}.review.example\")`",
                );
                return None;
            }
        },
        Value::Call(f, args, span) => {
            let function = match f.to_string().as_str() {
                "slug" => Derivation::Slug,
                other => {
                    let m = Message::new(
                        rules::VARIABLE_SOURCE,
                        format!("unknown function `{other}`"),
                    );
                    let m = match did_you_mean(other, keys::DERIVATIONS.iter().copied()) {
                        Some(s) => m.help(format!("did you mean `{s}`?")),
                        None => {
                            m.help(format!("known functions: {}", keys::DERIVATIONS.join(", ")))
                        }
                    };
                    cx.error(f.span(), m);
                    return None;
                }
            };
            match args.as_slice() {
                [Value::Ident(from)] => VarDeclSource::Derived(function, from, *span),
                _ => {
                    error(
                        cx,
                        rules::VARIABLE_SOURCE,
                        *span,
                        format!(
                            "`{0}` takes one variable name, e.g. `{0}(HOST)`",
                            function.name()
                        ),
                    );
                    return None;
                }
            }
        }
        Value::Ident(i) => {
            let m = Message::new(
                rules::VARIABLE_SOURCE,
                format!("`{i}` is not a variable source"),
            );
            let m = match did_you_mean(&i.to_string(), keys::VAR_KEYWORDS.iter().copied()) {
                Some(s) => m.help(format!("did you mean `{s}`?")),
                None => m.help("write a value in quotes, or `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{OTHER}...\")`"),
            };
            cx.error(i.span(), m);
            return None;
        }
        other => {
            error(
                cx,
                rules::VARIABLE_SOURCE,
                other.span(),
                format!(
                    "a variable's value must be a string, `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{{OTHER}}...\")`, found {}",
                    other.kind()
                ),
            );
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
        if !seen.first(&f.key) {
            continue;
        }
        match f.key.name.as_str() {
            "url" => h.url = expect_str(cx, &f.value, "`url`").and_then(|u| read_template(cx, u)),
            "unless" => {
                h.unless = expect_variable(
                    cx,
                    &f.value,
                    "`unless` (the variable that disables basic auth)",
                )
            }
            "timeout" => h.timeout = duration(cx, &f.value, "`timeout`"),
            "connect_to" => h.connect_to = expect_str(cx, &f.value, "`connect_to`"),
            "expect" => match &f.value {
                Value::Int(i) if i.suffix().is_empty() => match i.base10_parse::<u64>() {
                    Ok(code) => h.expect = Some((code, i.span())),
                    Err(e) => error(cx, rules::VALUE_KIND, i.span(), e.to_string()),
                },
                other => error(
                    cx,
                    rules::VALUE_KIND,
                    other.span(),
                    format!("`expect` must be a status code, found {}", other.kind()),
                ),
            },
            "basic_auth" => h.basic_auth = read_basic_auth(cx, f),
            _ => unknown_key(cx, &f.key, keys::HEALTH, "`health`"),
        }
    }
    if !seen.has("url") {
        error(
            cx,
            rules::MISSING_KEY,
            field.key.span,
            "`health` needs `url: \"http://{HOST}/\"`",
        );
    }
    h
}

fn read_basic_auth<'a>(cx: &Ctxt, f: &'a Field) -> Option<(&'a LitStr, &'a Ident)> {
    let mut user = None;
    let mut password = None;
    let mut seen = Seen(Vec::new());
    for a in expect_fields(cx, &f.value, "`basic_auth`") {
        if !seen.first(&a.key) {
            continue;
        }
        match a.key.name.as_str() {
            "user" => user = expect_str(cx, &a.value, "`user`"),
            "password" => {
                password = expect_variable(cx, &a.value, "`password` (the variable holding it)")
            }
            _ => unknown_key(cx, &a.key, keys::BASIC_AUTH, "`basic_auth`"),
        }
    }
    let missing: Vec<&str> = [
        ("user", "`user: \"...\"`"),
        ("password", "`password: VARIABLE` (the variable holding it)"),
    ]
    .into_iter()
    .filter(|(k, _)| !seen.has(k))
    .map(|(_, what)| what)
    .collect();
    if !missing.is_empty() && matches!(f.value, Value::Map(..)) {
        error(
            cx,
            rules::MISSING_KEY,
            f.key.span,
            format!("`basic_auth` needs {}", missing.join(" and ")),
        );
    }
    Some((user?, password?))
}
