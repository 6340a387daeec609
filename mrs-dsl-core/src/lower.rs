//! Lowering: the typed environment and the catalog into the model every
//! check reads and the spec is built from, built once: the overlays
//! selected, the DSL's service overrides as a last overlay, the variables
//! and their compile-time values, the merged tree, the project it realises
//! to, the persistence and the health check.
//!
//! Lowering reports nothing. What it cannot resolve (an unknown overlay, an
//! override of an unknown service, a port known only at run time) is
//! recorded here and left out of what it builds, for a check to report.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use proc_macro2::Span;
use syn::Ident;

use mrs_compose::interpolate::{self, Binding, Output, Resolve as _};
use mrs_compose::node::{Map, MergeTag, Node, Value as NodeValue};
use mrs_compose::ports::{self, PortError, PortMapping};
use mrs_compose::schema::{self, Support};
use mrs_compose::variables::VariableIndex;
use mrs_compose::{Location, project_name};
use mrs_env::catalog::{Catalog, CatalogOverlay, Clash};
use mrs_env::realise::{Realised, realise};
use mrs_env::spec::{
    BasicAuthSpec, EnvSpec, HealthSpec, OverlayRef, Persistence, VarSource, VarTable,
};

use crate::ctxt::OverlayText;
use crate::read::{Environment, OverrideValue, PersistenceDecl, Template, Val, VarDeclSource};
use crate::spans::SpanTable;

/// An overlay the environment merges.
pub struct Selected<'a> {
    /// Its name in `overlays: [...]`.
    pub ident: &'a Ident,
    /// The overlay.
    pub overlay: &'a CatalogOverlay,
}

/// A variable the DSL itself refers to, with where.
pub struct DslUse {
    /// The variable.
    pub name: String,
    /// The token.
    pub span: Span,
    /// What refers to it (`the health URL`).
    pub what: &'static str,
}

/// Why a service override's key was left out of the DSL layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    /// Not a service key of the Compose Specification.
    NotCompose,
    /// In the specification, not applied by mrs-deploy.
    Unsupported,
}

/// One `ports` entry of the merged tree.
pub struct PortEntry {
    /// The service.
    pub service: String,
    /// The entry as merged (not interpolated).
    pub node: Node,
    /// What it maps, or why not.
    pub mapped: Mapped,
}

/// What a `ports` entry maps.
pub enum Mapped {
    /// The mappings (a range gives several).
    Ports(Vec<PortMapping>),
    /// It depends on these variables, known only at run time.
    RunTime(Vec<String>),
    /// It does not parse (its text after compile-time interpolation).
    Invalid(PortError, String),
    /// A long-form entry that does not decode (the project's decoding reports it).
    Undecodable,
}

/// A service's image as compile time knows it.
pub struct Image {
    /// The service.
    pub service: String,
    /// The image, a template when it depends on a run-time value.
    pub image: String,
    /// Where it is set.
    pub at: Location,
    /// Whether it depends on a run-time value.
    pub deferred: bool,
    /// The reference, with `x0` standing for run-time values.
    pub parsed: Result<mrs_compose::image::ImageRef, String>,
}

/// Why the project name could not be found.
pub enum ProjectProblem {
    /// An explicit name compose refuses, with the error.
    Invalid(String),
    /// The home's last folder gives no name.
    FromHome(String),
    /// An ephemeral template whose literal part is not valid, with the error.
    Template(String),
}

/// Everything the checks read.
pub struct Lowered<'a> {
    /// The environment as declared.
    pub env: &'a Environment<'a>,
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The overlays' text, for quoting.
    pub text: OverlayText,
    /// Where errors about merged values sit.
    pub spans: SpanTable,
    /// The overlays merged, in order, each once.
    pub overlays: Vec<Selected<'a>>,
    /// Names in `overlays` the catalog does not have.
    pub unknown_overlays: Vec<&'a Ident>,
    /// Names repeated in `overlays` (the second and later).
    pub repeated_overlays: Vec<&'a Ident>,
    /// Every service the merged overlays define.
    pub services: Vec<String>,
    /// Service overrides of services the overlays do not define.
    pub unknown_services: Vec<&'a crate::read::ast::Key>,
    /// Override keys left out of the DSL layer.
    pub bad_keys: Vec<(&'a crate::read::ast::Key, KeyProblem)>,
    /// Variables the DSL refers to.
    pub dsl_uses: Vec<DslUse>,
    /// Every variable and its source (refused declarations as run-time values).
    pub vars: IndexMap<String, VarSource>,
    /// Their compile-time values (run-time ones deferred) and dependency graph.
    pub table: VarTable,
    /// Variable uses in each overlay, before the merge (see [`Lowered::overlay_uses`]).
    overlay_uses: std::cell::OnceCell<VariableIndex>,
    /// Variable uses that survive the merge (the DSL layer's included).
    pub merged_uses: VariableIndex,
    /// The merged overlays and DSL layer, before interpolation.
    pub merged: Node,
    /// Every `ports` entry of the merged tree.
    pub ports: Vec<PortEntry>,
    /// The merged tree realised with compile-time values (the tree the
    /// binary embeds, a template again) and its project. Port entries that
    /// do not map are left out.
    pub realised: Realised,
    /// Persistence, when its parts are there.
    pub persistence: Option<Persistence>,
    /// Why the project name is invalid, if it is.
    pub project_problem: Option<ProjectProblem>,
    /// The health check, when declared and complete.
    pub health: Option<HealthSpec>,
    /// Every service's image.
    pub images: Vec<Image>,
    /// Services whose image depends on a run-time value in a tier that
    /// requires pinned images: checked again at run time.
    pub pinned: Vec<String>,
    /// The clashes the build script found for this environment's file.
    pub clashes: Vec<&'a Clash>,
}

/// Lowers `env` against `catalog`; `file` is the environment's source file
/// relative to the workspace, when known (to find its clashes).
pub fn lower<'a>(
    env: &'a Environment<'a>,
    catalog: &'a Catalog,
    file: Option<&str>,
) -> Lowered<'a> {
    let mut spans = SpanTable::new(env.overlays_key.map_or_else(Span::call_site, |k| k.0));
    let (overlays, unknown_overlays, repeated_overlays) = select(env, catalog, &mut spans);
    let services = service_names(&overlays);
    let vars = variables(env);
    let table = VarTable::new(&vars, None);
    let mut dsl_uses = Vec::new();
    let (layer, unknown_services, bad_keys) = dsl_layer(env, &services, &mut spans, &mut dsl_uses);
    let (persistence, project_problem) = persistence(env, &mut dsl_uses);
    let health = health(env, &mut dsl_uses);

    let mut trees = overlays
        .iter()
        .map(|s| s.overlay.overlay.tree.clone())
        .chain(std::iter::once(layer));
    let first = trees.next().unwrap_or_else(|| {
        Node::new(
            NodeValue::Map(Map::new()),
            Location::synthetic("(no overlay)"),
        )
    });
    let merged = mrs_compose::merge::merge_all(first, trees);
    let mut merged_uses = VariableIndex::default();
    merged_uses.add_tree(&merged);

    let (ports, decodable) = port_entries(&merged, &table);
    let name = match &persistence {
        Some(Persistence::Persistent { project, .. }) => project.clone(),
        _ => "ephemeral".to_owned(),
    };
    let home = persistence
        .as_ref()
        .map_or_else(|| PathBuf::from("/"), |p| p.home(&name));
    let realised = realise(decodable, &table, Output::Template, &name, &home);
    let images = images(&realised);
    let pinned = pinned(env, &images);
    let text = OverlayText {
        sources: catalog.sources(),
        shown: catalog
            .overlays
            .iter()
            .map(|o| (o.overlay.source.name.to_string(), o.shown.clone()))
            .collect(),
    };
    let clashes = file.map_or_else(Vec::new, |f| {
        catalog.clashes.iter().filter(|c| c.file == f).collect()
    });
    Lowered {
        env,
        catalog,
        text,
        spans,
        overlays,
        unknown_overlays,
        repeated_overlays,
        services,
        unknown_services,
        bad_keys,
        dsl_uses,
        vars,
        table,
        overlay_uses: std::cell::OnceCell::new(),
        merged_uses,
        merged,
        ports,
        realised,
        persistence,
        project_problem,
        health,
        images,
        pinned,
        clashes,
    }
}

impl Lowered<'_> {
    /// Whether every overlay named was found: otherwise what the
    /// environment declares for the missing one looks unused, and is not.
    pub fn overlays_complete(&self) -> bool {
        !self.overlays.is_empty() && self.unknown_overlays.is_empty()
    }

    /// Whether a refused override of an unknown service looks meant for
    /// `service` (a misspelling): what it would have changed there is not
    /// reported again.
    pub fn meant_for(&self, service: &str) -> bool {
        self.unknown_services.iter().any(|k| {
            mrs_compose::error::did_you_mean(&k.name, self.services.iter().map(String::as_str))
                == Some(service)
        })
    }

    /// Variable uses in each overlay before the merge: only the rule that
    /// tells a variable the merge made unused from one nothing used needs
    /// them, so they are indexed on first use.
    pub fn overlay_uses(&self) -> &VariableIndex {
        self.overlay_uses
            .get_or_init(|| VariableIndex::build(self.overlays.iter().map(|s| &s.overlay.overlay)))
    }

    /// Whether `name` is declared (a refused declaration counts).
    pub fn is_declared(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// The spec to embed; `None` when a part is missing (the checks said why).
    pub fn spec(&self) -> Option<EnvSpec> {
        let (Some(name), Some((tier, _)), Some(persistence)) =
            (self.env.name, self.env.tier, self.persistence.clone())
        else {
            return None;
        };
        Some(EnvSpec {
            name: name.to_string(),
            about: self.env.input.docs.join("\n"),
            tier,
            persistence,
            host: self.env.host.map(syn::LitStr::value),
            overlays: self
                .overlays
                .iter()
                .map(|s| OverlayRef {
                    name: s.overlay.rules.name.clone(),
                    file: s.overlay.overlay.source.name.to_string(),
                    sha256: s.overlay.sha256.clone(),
                })
                .collect(),
            networks: distinct(self.env.networks.iter().map(|(n, _)| n.clone())),
            vars: self.vars.clone(),
            tree: self.realised.tree.clone(),
            health: self.health.clone(),
            pinned: self.pinned.clone(),
        })
    }

    /// The overlay files merged (tracked by the expansion).
    pub fn files(&self) -> Vec<PathBuf> {
        self.overlays
            .iter()
            .map(|s| s.overlay.path.clone())
            .collect()
    }
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

type Selection<'a> = (Vec<Selected<'a>>, Vec<&'a Ident>, Vec<&'a Ident>);

fn select<'a>(env: &Environment<'a>, catalog: &'a Catalog, spans: &mut SpanTable) -> Selection<'a> {
    let mut selected: Vec<Selected<'a>> = Vec::new();
    let mut unknown: Vec<&Ident> = Vec::new();
    let mut repeated = Vec::new();
    for ident in &env.overlays {
        let name = ident.to_string();
        if selected.iter().any(|s| *s.ident == name) || unknown.iter().any(|u| **u == name) {
            repeated.push(*ident);
            continue;
        }
        match catalog.get(&name) {
            Some(overlay) => {
                spans.overlay(&overlay.overlay.source.name, ident.span());
                selected.push(Selected { ident, overlay });
            }
            None => unknown.push(ident),
        }
    }
    (selected, unknown, repeated)
}

fn service_names(overlays: &[Selected<'_>]) -> Vec<String> {
    distinct(overlays.iter().flat_map(|s| {
        s.overlay
            .overlay
            .tree
            .lookup(&["services"])
            .and_then(Node::as_map)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    }))
}

fn variables(env: &Environment<'_>) -> IndexMap<String, VarSource> {
    let mut vars = IndexMap::new();
    for decl in &env.vars {
        let source = match &decl.source {
            VarDeclSource::Literal(v, _) => VarSource::Literal(v.clone()),
            VarDeclSource::Secret(_) => VarSource::Secret,
            VarDeclSource::Input(help, _) => VarSource::Input {
                help: help
                    .clone()
                    .or_else(|| (!decl.docs.is_empty()).then(|| decl.docs.join(" "))),
            },
            VarDeclSource::Unset(_) => VarSource::Unset,
            VarDeclSource::Derived(function, from, _) => VarSource::Derived {
                function: *function,
                from: from.to_string(),
            },
            VarDeclSource::Template(t) => VarSource::Template(t.compose.clone()),
        };
        vars.insert(decl.name.name.clone(), source);
    }
    // Refused declarations stand for run-time values, so that the merge
    // leaves them as `${NAME}` instead of reporting what an empty value breaks.
    for name in &env.rejected_vars {
        vars.entry(name.clone())
            .or_insert(VarSource::Input { help: None });
    }
    vars
}

type Layer<'a> = (
    Node,
    Vec<&'a crate::read::ast::Key>,
    Vec<(&'a crate::read::ast::Key, KeyProblem)>,
);

/// The DSL's service overrides as a last overlay: a value merges as a
/// compose overlay would, `replace(...)` carries `!override`, `none`
/// carries `!reset` (on a key, or on one entry of a map).
fn dsl_layer<'a>(
    env: &Environment<'a>,
    known: &[String],
    spans: &mut SpanTable,
    uses: &mut Vec<DslUse>,
) -> Layer<'a> {
    let at = spans.locate(Span::call_site());
    let mut services_map = Map::new();
    let mut unknown = Vec::new();
    let mut bad_keys = Vec::new();
    for service in &env.services {
        // Every variable an override refers to counts as used, even when the
        // override is refused: a misspelt service does not make them unused.
        for o in &service.overrides {
            if let OverrideValue::Merge(v) | OverrideValue::Replace(v) = &o.value {
                val_uses(v, uses);
            }
        }
        if !known.contains(&service.name.name) {
            unknown.push(service.name);
            continue;
        }
        let mut keys = Map::new();
        for o in &service.overrides {
            match schema::SERVICE.key(&o.key.name) {
                None => {
                    bad_keys.push((o.key, KeyProblem::NotCompose));
                    continue;
                }
                Some((Support::No, _)) => {
                    bad_keys.push((o.key, KeyProblem::Unsupported));
                    continue;
                }
                Some((Support::Yes, _)) => {}
            }
            let key_at = spans.locate(o.key.span);
            let node = match &o.value {
                OverrideValue::Remove(_) => Node {
                    value: NodeValue::Null,
                    at: key_at.clone(),
                    tag: Some(MergeTag::Reset),
                },
                OverrideValue::Replace(v) => Node {
                    tag: Some(MergeTag::Override),
                    ..to_node(v, spans)
                },
                OverrideValue::Merge(v) => to_node(v, spans),
            };
            keys.insert(o.key.name.clone(), key_at, node);
        }
        let service_at = spans.locate(service.name.span);
        services_map.insert(
            service.name.name.clone(),
            service_at.clone(),
            Node::new(NodeValue::Map(keys), service_at),
        );
    }
    let mut root = Map::new();
    root.insert(
        "services".into(),
        at.clone(),
        Node::new(NodeValue::Map(services_map), at.clone()),
    );
    (Node::new(NodeValue::Map(root), at), unknown, bad_keys)
}

fn val_uses(v: &Val<'_>, uses: &mut Vec<DslUse>) {
    match v {
        Val::Str(t) => uses.extend(t.refs.iter().map(|r| DslUse {
            name: r.clone(),
            span: t.span,
            what: "a service override",
        })),
        Val::List(items, _) => items.iter().for_each(|i| val_uses(i, uses)),
        Val::Map(fields, _) => fields.iter().for_each(|(_, v)| val_uses(v, uses)),
        _ => {}
    }
}

fn to_node(v: &Val<'_>, spans: &mut SpanTable) -> Node {
    let at = spans.locate(v.span());
    let value = match v {
        Val::Str(t) => NodeValue::Str(t.compose.clone()),
        Val::Int(n, _) => NodeValue::Int(*n),
        Val::Text(t, _) => NodeValue::Str(t.clone()),
        Val::Bool(b, _) => NodeValue::Bool(*b),
        Val::Null(_) => NodeValue::Null,
        Val::List(items, _) => NodeValue::Seq(items.iter().map(|i| to_node(i, spans)).collect()),
        Val::Map(fields, _) => {
            let mut m = Map::new();
            for (key, v) in fields {
                let key_at = spans.locate(key.span);
                m.insert(key.name.clone(), key_at, to_node(v, spans));
            }
            NodeValue::Map(m)
        }
        Val::Remove(_) => {
            return Node {
                value: NodeValue::Null,
                at,
                tag: Some(MergeTag::Reset),
            };
        }
    };
    Node::new(value, at)
}

fn template_uses(t: &Template, what: &'static str, uses: &mut Vec<DslUse>) {
    uses.extend(t.refs.iter().filter(|r| *r != "uuid").map(|r| DslUse {
        name: r.clone(),
        span: t.span,
        what,
    }));
}

/// The persistence declared, and why the project name is refused if it is.
fn persistence(
    env: &Environment<'_>,
    uses: &mut Vec<DslUse>,
) -> (Option<Persistence>, Option<ProjectProblem>) {
    match env.persistence.as_ref() {
        None => (None, None),
        Some(PersistenceDecl::Persistent { home, project, .. }) => {
            let Some(home) = home else {
                return (None, None);
            };
            let path = home.value();
            let project = match project {
                Some(p) => project_name::validate(&p.value())
                    .map(str::to_owned)
                    .map_err(|e| ProjectProblem::Invalid(e.to_string())),
                None => {
                    let base = Path::new(path.trim_end_matches('/'))
                        .file_name()
                        .map(|b| b.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    project_name::derive(&base).map_err(|_| ProjectProblem::FromHome(base))
                }
            };
            match project {
                Ok(project) => (
                    Some(Persistence::Persistent {
                        home: path.trim_end_matches('/').to_owned(),
                        project,
                    }),
                    None,
                ),
                Err(problem) => (None, Some(problem)),
            }
        }
        Some(PersistenceDecl::Ephemeral {
            project,
            root,
            lifetime,
            ..
        }) => {
            if let Some(p) = project {
                template_uses(p, "the project name", uses);
            }
            let (Some(project), Some(root), Some(lifetime)) = (project, root, lifetime) else {
                return (None, None);
            };
            // Run-time values are slugs or checked at run time; the literal part must already be valid.
            let sample = project
                .text
                .split(['{', '}'])
                .enumerate()
                .map(|(i, p)| if i % 2 == 1 { "x" } else { p })
                .collect::<String>();
            let problem = project_name::validate(&sample)
                .err()
                .map(|e| ProjectProblem::Template(e.to_string()));
            (
                Some(Persistence::Ephemeral {
                    project: project.compose.clone(),
                    root: root.value(),
                    lifetime_secs: lifetime.0,
                }),
                problem,
            )
        }
    }
}

fn health(env: &Environment<'_>, uses: &mut Vec<DslUse>) -> Option<HealthSpec> {
    let h = env.health.as_ref()?;
    if let Some(url) = &h.url {
        template_uses(url, "the health URL", uses);
    }
    if let Some((_, password)) = h.basic_auth {
        uses.push(DslUse {
            name: password.to_string(),
            span: password.span(),
            what: "the health check's basic auth",
        });
    }
    if let Some(unless) = h.unless {
        uses.push(DslUse {
            name: unless.to_string(),
            span: unless.span(),
            what: "`health.unless`",
        });
    }
    let expect = match h.expect {
        None => HealthSpec::DEFAULT_EXPECT,
        Some((code, _)) => u16::try_from(code)
            .ok()
            .filter(|c| (100..600).contains(c))?,
    };
    Some(HealthSpec {
        url: h.url.as_ref()?.compose.clone(),
        basic_auth: h.basic_auth.map(|(u, p)| BasicAuthSpec {
            user: u.value(),
            password: p.to_string(),
        }),
        unless: h.unless.map(ToString::to_string),
        timeout_secs: h.timeout.map_or(HealthSpec::DEFAULT_TIMEOUT_SECS, |t| t.0),
        expect,
        connect_to: h.connect_to.map(syn::LitStr::value),
    })
}

/// Every `ports` entry, and the merged tree without those that do not map
/// (so that the typed decoding still runs on the rest).
fn port_entries(merged: &Node, table: &VarTable) -> (Vec<PortEntry>, Node) {
    let mut entries = Vec::new();
    let mut decodable = merged.clone();
    let Some(services) = decodable
        .as_map_mut()
        .and_then(|m| m.get_mut("services"))
        .and_then(Node::as_map_mut)
    else {
        return (entries, decodable);
    };
    for (service, node) in services.iter_mut() {
        let Some(NodeValue::Seq(items)) = node
            .as_map_mut()
            .and_then(|m| m.get_mut("ports"))
            .map(|n| &mut n.value)
        else {
            continue;
        };
        items.retain(|item| {
            let mapped = port_entry(item, table);
            let keep = matches!(mapped, Mapped::Ports(_) | Mapped::Undecodable);
            entries.push(PortEntry {
                service: service.clone(),
                node: item.clone(),
                mapped,
            });
            keep
        });
    }
    (entries, decodable)
}

fn port_entry(node: &Node, table: &VarTable) -> Mapped {
    let text = match &node.value {
        NodeValue::Str(s) => {
            let Ok(t) = interpolate::parse(s, &node.at) else {
                return Mapped::Undecodable;
            };
            let deferred: Vec<String> = interpolate::variable_names(s)
                .into_iter()
                .filter(|n| table.resolve(n) == Binding::Deferred)
                .collect();
            if !deferred.is_empty() {
                return Mapped::RunTime(deferred);
            }
            match interpolate::evaluate(&t, table, &node.at) {
                Ok(interpolate::Evaluated::Text(text)) => text,
                _ => return Mapped::Undecodable,
            }
        }
        NodeValue::Int(i) => i.to_string(),
        // Long form: a malformed entry is reported by the typed decode.
        _ => {
            return match mrs_compose::model::flex::port_entry(node.to_json()) {
                Ok(m) => Mapped::Ports(m),
                Err(_) => Mapped::Undecodable,
            };
        }
    };
    match ports::parse_short(&text) {
        Ok(m) => Mapped::Ports(m),
        Err(e) => Mapped::Invalid(e, text),
    }
}

fn images(realised: &Realised) -> Vec<Image> {
    let Some(project) = &realised.project else {
        return Vec::new();
    };
    project
        .services
        .iter()
        .filter_map(|(name, service)| {
            let image = service.image.as_deref()?;
            let deferred = image.contains("${");
            // `${TAG}` stands for a valid tag while checking the rest.
            let probe = if deferred {
                image
                    .split("${")
                    .map(|p| p.split_once('}').map_or(p, |(_, r)| r))
                    .collect::<Vec<_>>()
                    .join("x0")
            } else {
                image.replace("$$", "$")
            };
            Some(Image {
                service: name.clone(),
                image: image.to_owned(),
                at: realised
                    .tree
                    .closest(&["services", name, "image"])
                    .at
                    .clone(),
                deferred,
                parsed: mrs_compose::image::ImageRef::parse(&probe).map_err(|e| e.to_string()),
            })
        })
        .collect()
}

/// Services whose image must be checked again at run time.
fn pinned(env: &Environment<'_>, images: &[Image]) -> Vec<String> {
    let Some((tier, _)) = env.tier else {
        return Vec::new();
    };
    if !tier.requires_pinned_images() {
        return Vec::new();
    }
    images
        .iter()
        .filter(|i| i.deferred)
        .filter(|i| {
            !env.services
                .iter()
                .any(|s| s.name.name == i.service && s.unpinned.is_some())
        })
        .map(|i| i.service.clone())
        .collect()
}
