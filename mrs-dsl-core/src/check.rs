//! The rules an environment must satisfy to compile, one `check_*` function
//! per rule, each saying why the rule exists. They all record errors in the
//! [`Ctxt`] and carry on, so one compile shows every mistake.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use proc_macro2::Span;
use syn::Ident;

use mrs_compose::error::did_you_mean;
use mrs_compose::image::ImageRef;
use mrs_compose::model::Project;
use mrs_compose::node::{Map, MergeTag, Node, Value as NodeValue};
use mrs_compose::ports::{self, PortError, PortMapping};
use mrs_compose::schema::{self, Support};
use mrs_compose::variables::{UseKind, VariableIndex};
use mrs_compose::{Location, Overlay, Sources, project, project_name};
use mrs_env::catalog::{Catalog, CatalogOverlay};
use mrs_env::rules::PersistenceKind;
use mrs_env::spec::{
    BasicAuthSpec, EnvSpec, HealthSpec, OverlayRef, Persistence, Tier, VarSource, VarTable,
};

use crate::ast::Value;
use crate::ctxt::{Ctxt, Message};
use crate::env::{Environment, PersistenceDecl, VarDeclSource};
use crate::spans::SpanTable;
use crate::template;

/// The result of checking: the spec to embed and the files it was built from.
pub struct Checked {
    /// The spec.
    pub spec: EnvSpec,
    /// Absolute paths of the overlays merged (tracked by the expansion).
    pub files: Vec<std::path::PathBuf>,
}

/// Variables the DSL itself uses (not the overlays), with where.
struct DslUses(Vec<(String, Span, &'static str)>);

/// Checks `env` against `catalog`; `None` when any rule is broken.
pub fn check(cx: &Ctxt, env: &Environment<'_>, catalog: &Catalog) -> Option<Checked> {
    let sources = catalog.sources();
    let mut spans = SpanTable::new(env.overlays_key.unwrap_or_else(Span::call_site));
    let selected = check_overlays(cx, env, catalog, &sources, &mut spans);
    let overlays: Vec<&Overlay> = selected.iter().map(|(_, o)| &o.overlay).collect();
    check_networks(cx, env, &selected, &sources);
    let mut uses = DslUses(Vec::new());
    let layer = check_services(cx, env, &selected, &mut spans, &mut uses);
    let persistence = check_persistence(cx, env, &mut uses);
    let health = check_health(cx, env, &mut uses);
    let needed = Needed {
        index: VariableIndex::build(overlays.iter().copied()),
        bare: surviving_bare_entries(&overlays, &layer),
        // With an overlay missing, what the environment declares for it looks unused: say nothing of that.
        overlays_complete: !selected.is_empty() && selected.len() == env.overlays.len(),
    };
    let vars = check_variables(cx, env, &selected, &needed, &uses, &sources);

    // Merge with every compile-time value; run-time ones stay as `${NAME}`.
    let compile_time = VarTable::new(&vars, None);
    let mut layers: Vec<Overlay> = overlays.iter().map(|o| (*o).clone()).collect();
    layers.push(Overlay {
        source: mrs_compose::Source {
            name: crate::spans::DSL_FILE.into(),
            text: String::new(),
        },
        tree: layer,
    });
    let mut tree = match project::merge_overlays(
        &layers,
        &compile_time,
        mrs_compose::interpolate::Output::Template,
    ) {
        Ok(tree) => tree,
        Err(errors) => {
            for d in errors.iter() {
                spans.report(cx, d, &sources);
            }
            return None;
        }
    };
    check_port_syntax(cx, &mut tree, &spans, &sources);
    let project = match project::decode(&tree) {
        Ok(mut p) => {
            let placeholder = persistence.as_ref().map_or_else(
                || "project".to_owned(),
                |p| match p {
                    Persistence::Persistent { project, .. } => project.clone(),
                    Persistence::Ephemeral { .. } => "ephemeral".to_owned(),
                },
            );
            if let Err(errors) = project::normalize(&mut p, &placeholder, &compile_time, &tree) {
                for d in errors.iter() {
                    spans.report(cx, d, &sources);
                }
            }
            p
        }
        Err(errors) => {
            for d in errors.iter() {
                spans.report(cx, d, &sources);
            }
            return None;
        }
    };
    check_build_removed(cx, env, &project, &tree, &spans, &sources);
    check_ports(cx, &project, &tree, &spans, &sources);
    let pinned = check_images(cx, env, &project, &tree, &spans, &sources);

    let (Some(name), Some((tier, _)), Some(persistence)) = (env.name, env.tier, persistence) else {
        return None;
    };
    if cx.has_errors() {
        return None;
    }
    let spec = EnvSpec {
        name: name.to_string(),
        about: env.docs.join("\n"),
        tier,
        persistence,
        host: env.host.map(syn::LitStr::value),
        overlays: selected
            .iter()
            .map(|(_, o)| OverlayRef {
                name: o.rules.name.clone(),
                file: o.overlay.source.name.to_string(),
                sha256: o.sha256.clone(),
            })
            .collect(),
        networks: env.networks.iter().map(|(n, _)| n.clone()).collect(),
        vars,
        tree,
        health,
        pinned,
    };
    Some(Checked {
        spec,
        files: selected.iter().map(|(_, o)| o.path.clone()).collect(),
    })
}

/// What the overlays need from the environment's variables.
struct Needed {
    /// Every variable the overlays use, with where.
    index: VariableIndex,
    /// Bare environment entries left after the merge.
    bare: BTreeSet<String>,
    /// Whether every overlay named was found (else "unused" means nothing).
    overlays_complete: bool,
}

/// Bare environment entries (`- NAME`) take their value from the variables
/// after the merge, so only those that survive it need a variable: one an
/// overlay replaces with `NAME=value` needs none.
fn surviving_bare_entries(overlays: &[&Overlay], layer: &Node) -> BTreeSet<String> {
    let mut trees = overlays
        .iter()
        .map(|o| o.tree.clone())
        .chain(std::iter::once(layer.clone()));
    let Some(first) = trees.next() else {
        return BTreeSet::new();
    };
    let merged = mrs_compose::merge::merge_all(first, trees);
    let mut out = BTreeSet::new();
    for (_, service) in merged
        .lookup(&["services"])
        .and_then(Node::as_map)
        .map(|m| m.iter().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        match service.lookup(&["environment"]).map(|e| &e.value) {
            Some(NodeValue::Seq(items)) => {
                out.extend(
                    items
                        .iter()
                        .filter_map(Node::as_str)
                        .filter(|t| !t.contains('='))
                        .map(str::to_owned),
                );
            }
            Some(NodeValue::Map(map)) => {
                out.extend(
                    map.iter()
                        .filter(|(_, v)| v.value == NodeValue::Null)
                        .map(|(k, _)| k.clone()),
                );
            }
            _ => {}
        }
    }
    out
}

/// Rule 1: overlays exist, are not repeated, and the rules they declare in
/// `x-mrs` hold (order, persistence, tiers). The overlays carry the rules so
/// that whoever writes an overlay decides where it may be used.
fn check_overlays<'c>(
    cx: &Ctxt,
    env: &Environment<'_>,
    catalog: &'c Catalog,
    sources: &Sources,
    spans: &mut SpanTable,
) -> Vec<(Ident, &'c CatalogOverlay)> {
    let mut selected: Vec<(Ident, &CatalogOverlay)> = Vec::new();
    for ident in &env.overlays {
        let name = ident.to_string();
        if selected.iter().any(|(i, _)| *i == name) {
            cx.error(
                ident.span(),
                Message::new(format!("overlay `{name}` is merged twice"))
                    .help("remove the second one")
                    .build(),
            );
            continue;
        }
        match catalog.get(&name) {
            Some(o) => {
                spans.overlay(&o.overlay.source.name, ident.span());
                selected.push(((*ident).clone(), o));
            }
            None => {
                let mut m = Message::new(format!(
                    "no overlay named `{name}` in {}",
                    catalog.dir.display()
                ));
                m = match did_you_mean(&name, catalog.names()) {
                    Some(s) => m.help(format!("did you mean `{s}`?")),
                    None => m.help(format!(
                        "the overlays are: {}",
                        catalog.names().collect::<Vec<_>>().join(", ")
                    )),
                };
                cx.error(ident.span(), m.build());
            }
        }
    }
    let position = |name: &str| selected.iter().position(|(i, _)| *i == name);
    for (index, (ident, overlay)) in selected.iter().enumerate() {
        let rules = &overlay.rules;
        let rule_at = rules
            .at
            .clone()
            .unwrap_or_else(|| Location::synthetic(&overlay.overlay.source.name));
        if rules.first && index != 0 {
            let at = rule_location(overlay, &["first"]).unwrap_or_else(|| rule_at.clone());
            cx.error(
                ident.span(),
                Message::new(format!("overlay `{ident}` must be merged first"))
                    .at("its rules say `first: true`", &at, sources)
                    .help(format!("move `{ident}` to the start of `overlays`"))
                    .build(),
            );
        }
        for after in &rules.after {
            if let Some(p) = position(&after.value)
                && p > index
            {
                cx.error(
                    ident.span(),
                    Message::new(format!(
                        "overlay `{ident}` must come after `{}`",
                        after.value
                    ))
                    .rule("overlays merge in order; a later one overrides an earlier one")
                    .at("its rules say so", &after.at, sources)
                    .help(format!("put `{}` before `{ident}`", after.value))
                    .build(),
                );
            }
        }
        if let (Some(required), Some(decl)) = (&rules.persistence, &env.persistence) {
            let actual = match decl {
                PersistenceDecl::Persistent { .. } => PersistenceKind::Persistent,
                PersistenceDecl::Ephemeral { .. } => PersistenceKind::Ephemeral,
            };
            if required.value != actual {
                let what = env
                    .name
                    .map_or_else(|| "this environment".to_owned(), |n| format!("`{n}`"));
                cx.error(
                    ident.span(),
                    Message::new(format!(
                        "overlay `{ident}` needs a {} environment, and {what} is {}",
                        required.value.as_str(),
                        actual.as_str()
                    ))
                    .at(
                        &format!("`requires: {{persistence: {}}}`", required.value.as_str()),
                        &required.at,
                        sources,
                    )
                    .help(match actual {
                        PersistenceKind::Ephemeral => {
                            format!("remove `{ident}`: ephemeral environments keep no data")
                        }
                        PersistenceKind::Persistent => {
                            format!("remove `{ident}`, or make the environment ephemeral")
                        }
                    })
                    .build(),
                );
            }
        }
        if let Some((tier, _)) = env.tier {
            let at = rules.tiers_at.clone().unwrap_or(rule_at.clone());
            if rules.forbidden_tiers.contains(&tier) {
                cx.error(
                    ident.span(),
                    Message::new(format!(
                        "overlay `{ident}` is forbidden in {}-tier environments",
                        tier.as_str()
                    ))
                    .at("its rules forbid it", &at, sources)
                    .help(format!("remove `{ident}` from `overlays`"))
                    .build(),
                );
            }
            if !rules.tiers.is_empty() && !rules.tiers.contains(&tier) {
                let allowed: Vec<&str> = rules.tiers.iter().map(|t| t.as_str()).collect();
                cx.error(
                    ident.span(),
                    Message::new(format!(
                        "overlay `{ident}` is only for {} environments, not {}",
                        allowed.join(" or "),
                        tier.as_str()
                    ))
                    .at("its rules say so", &at, sources)
                    .build(),
                );
            }
        }
    }
    selected
}

/// Where an overlay's `x-mrs` field says something (`path` under `x-mrs`).
fn rule_location(overlay: &CatalogOverlay, path: &[&str]) -> Option<Location> {
    let mut full = vec!["x-mrs"];
    full.extend_from_slice(path);
    overlay.overlay.tree.lookup(&full).map(|n| n.at.clone())
}

/// External networks: every external network an overlay uses must be
/// declared by the environment (the host must provide it; `up` creates it
/// when absent), and every declared one must be used (a typo otherwise).
fn check_networks(
    cx: &Ctxt,
    env: &Environment<'_>,
    selected: &[(Ident, &CatalogOverlay)],
    sources: &Sources,
) {
    let mut used: Vec<(String, &Ident, Location)> = Vec::new();
    for (ident, overlay) in selected {
        let Some(networks) = overlay
            .overlay
            .tree
            .lookup(&["networks"])
            .and_then(Node::as_map)
        else {
            continue;
        };
        for (key, node) in networks.iter() {
            let external = matches!(
                node.lookup(&["external"]).map(|n| &n.value),
                Some(NodeValue::Bool(true))
            );
            if external {
                let name = node
                    .lookup(&["name"])
                    .and_then(Node::as_str)
                    .unwrap_or(key)
                    .to_owned();
                if !used.iter().any(|(n, _, _)| *n == name) {
                    let at = node.lookup(&["external"]).map_or(&node.at, |n| &n.at);
                    used.push((name, ident, at.clone()));
                }
            }
        }
    }
    for (name, ident, at) in &used {
        if !env.networks.iter().any(|(n, _)| n == name) {
            let span = ident.span();
            cx.error(
                span,
                Message::new(format!("overlay `{ident}` needs the external network `{name}`, which this environment does not declare"))
                    .rule("external networks are provided by the host (its load balancer joins them)")
                    .at(&format!("`{name}` is external"), at, sources)
                    .help(format!("add `networks: [{name}]` (it is created when missing)"))
                    .build(),
            );
        }
    }
    for (name, span) in &env.networks {
        if !used.iter().any(|(n, _, _)| n == name) {
            let mut m = Message::new(format!(
                "network `{name}` is declared but no overlay uses it as external"
            ));
            if let Some(s) = did_you_mean(name, used.iter().map(|(n, _, _)| n.as_str())) {
                m = m.help(format!("did you mean `{s}`?"));
            } else {
                m = m.help("remove it");
            }
            cx.error(*span, m.build());
        }
    }
}

/// Rule 5 (overrides): a service override names a service of the merged
/// overlays and a key of the Compose Specification that mrs-deploy applies.
/// An override replaces the key whole (the seed's `compose_<svc>_<key>=`);
/// `none` removes it. Builds the DSL layer merged last.
fn check_services(
    cx: &Ctxt,
    env: &Environment<'_>,
    selected: &[(Ident, &CatalogOverlay)],
    spans: &mut SpanTable,
    uses: &mut DslUses,
) -> Node {
    let at = spans.locate(Span::call_site());
    let mut services_map = Map::new();
    let known: Vec<String> = {
        let mut names: Vec<String> = Vec::new();
        for (_, o) in selected {
            if let Some(services) = o.overlay.tree.lookup(&["services"]).and_then(Node::as_map) {
                for name in services.keys() {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        names
    };
    for service in &env.services {
        let name = &service.name.name;
        if !known.contains(name) {
            let mut m = Message::new(format!(
                "no service `{name}` in the overlays this environment merges"
            ));
            m = match did_you_mean(name, known.iter().map(String::as_str)) {
                Some(s) => m.help(format!("did you mean `{s}`?")),
                None if known.is_empty() => m.help("the overlays merged define no services"),
                None => m.help(format!("the services are: {}", known.join(", "))),
            };
            cx.error(service.name.span, m.build());
            continue;
        }
        let mut keys = Map::new();
        for o in &service.overrides {
            let key = &o.key.name;
            match schema::SERVICE.key(key) {
                None => {
                    let mut m = Message::new(format!(
                        "`{key}` is not a service key of the Compose Specification"
                    ));
                    let candidates = schema::SERVICE
                        .supported_keys()
                        .chain(crate::keys::SERVICE_EXTRA.iter().copied());
                    if let Some(s) = did_you_mean(key, candidates) {
                        m = m.help(format!("did you mean `{s}`?"));
                    }
                    cx.error(o.key.span, m.build());
                    continue;
                }
                Some((Support::No, _)) => {
                    cx.error(
                        o.key.span,
                        Message::new(format!("the service key `{key}` is in the Compose Specification, but mrs-deploy does not apply it yet"))
                            .help("remove it, or open an issue so mrs-deploy learns it")
                            .build(),
                    );
                    continue;
                }
                Some((Support::Yes, _)) => {}
            }
            let key_at = spans.locate(o.key.span);
            let node = match o.value {
                None => Node {
                    value: NodeValue::Null,
                    at: key_at.clone(),
                    tag: Some(MergeTag::Reset),
                },
                Some(v) => match to_node(cx, v, spans, uses) {
                    Some(mut n) => {
                        n.tag = Some(MergeTag::Override);
                        n
                    }
                    None => continue,
                },
            };
            keys.insert(key.clone(), key_at, node);
        }
        let service_at = spans.locate(service.name.span);
        services_map.insert(
            name.clone(),
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
    Node::new(NodeValue::Map(root), at)
}

/// Converts a DSL value to an overlay node; strings are templates (`{VAR}`).
fn to_node(cx: &Ctxt, value: &Value, spans: &mut SpanTable, uses: &mut DslUses) -> Option<Node> {
    let at = spans.locate(value.span());
    let v = match value {
        Value::Str(s) => match template::convert(&s.value()) {
            Ok(c) => {
                for r in c.refs {
                    uses.0.push((r, s.span(), "a service override"));
                }
                NodeValue::Str(c.compose)
            }
            Err(e) => {
                cx.error(s.span(), e);
                return None;
            }
        },
        Value::Int(i) if i.suffix().is_empty() => match i.base10_parse::<i64>() {
            Ok(n) => NodeValue::Int(n),
            Err(e) => {
                cx.push(e);
                return None;
            }
        },
        Value::Int(i) => NodeValue::Str(i.to_string()),
        Value::Bool(b) => NodeValue::Bool(b.value),
        Value::List(items, _) => NodeValue::Seq(
            items
                .iter()
                .map(|i| to_node(cx, i, spans, uses))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Map(fields, _) => {
            let mut m = Map::new();
            for f in fields {
                let key_at = spans.locate(f.key.span);
                let n = to_node(cx, &f.value, spans, uses)?;
                m.insert(f.key.name.clone(), key_at, n);
            }
            NodeValue::Map(m)
        }
        Value::Ident(i) if i == "null" => NodeValue::Null,
        Value::Ident(i) => {
            cx.error(
                i.span(),
                Message::new(format!(
                    "`{i}` is not a value here: write a string, a number, a list or a map"
                ))
                .help(format!("write \"{i}\" in quotes; `none` removes the key"))
                .build(),
            );
            return None;
        }
        Value::Call(f, args, _) => {
            let mut m = Message::new(format!(
                "`{f}(...)` is not a value of a service key: functions only compute variables in `vars`"
            ));
            m = match args.as_slice() {
                [Value::Str(s)] if f == "format" => {
                    // Count its variables as used: the fix keeps them.
                    if let Ok(c) = template::convert(&s.value()) {
                        for r in c.refs {
                            uses.0.push((r, s.span(), "a service override"));
                        }
                    }
                    m.help(format!(
                        "strings are already templates: write {:?}",
                        s.value()
                    ))
                }
                _ => {
                    m.help("declare the value in `vars` and use it in a string, e.g. `\"{NAME}\"`")
                }
            };
            cx.error(f.span(), m.build());
            return None;
        }
    };
    Some(Node::new(v, at))
}

/// Rule 6 (home and project): a persistent environment's home is absolute
/// (bind mounts resolve against it on the server); its project name obeys
/// compose's rules (explicit names must already be normal, the home's
/// basename is normalised). An ephemeral project template must give valid
/// names and its root must be absolute.
fn check_persistence(cx: &Ctxt, env: &Environment<'_>, uses: &mut DslUses) -> Option<Persistence> {
    match env.persistence.as_ref()? {
        PersistenceDecl::Persistent { home, project, .. } => {
            let home = (*home)?;
            let path = home.value();
            if !path.starts_with('/') {
                cx.error(
                    home.span(),
                    Message::new(format!("home `{path}` is not absolute"))
                        .help("write the full path, like \"/home/mrs-staging\"")
                        .build(),
                );
                return None;
            }
            let project = match project {
                Some(p) => match project_name::validate(&p.value()) {
                    Ok(name) => name.to_owned(),
                    Err(e) => {
                        let mut m = Message::new(e.to_string());
                        let normal = project_name::slug(&p.value());
                        if project_name::validate(&normal).is_ok() {
                            m = m.help(format!("write `project: \"{normal}\"`"));
                        }
                        cx.error(p.span(), m.build());
                        return None;
                    }
                },
                None => {
                    let base = path
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or_default();
                    match project_name::derive(base) {
                        Ok(n) => n,
                        Err(_) => {
                            cx.error(home.span(), format!("the project name comes from the home's last folder, and `{base}` gives none; add `project: \"...\"`"));
                            return None;
                        }
                    }
                }
            };
            Some(Persistence::Persistent {
                home: path.trim_end_matches('/').to_owned(),
                project,
            })
        }
        PersistenceDecl::Ephemeral {
            project,
            root,
            lifetime,
            ..
        } => {
            let (project, root, lifetime) = ((*project)?, (*root)?, (*lifetime)?);
            let converted = match template::convert(&project.value()) {
                Ok(c) => c,
                Err(e) => {
                    cx.error(project.span(), e);
                    return None;
                }
            };
            for r in &converted.refs {
                uses.0.push((r.clone(), project.span(), "the project name"));
            }
            // Run-time values are slugs or checked at run time; the literal part must already be valid.
            let sample = project
                .value()
                .split(['{', '}'])
                .enumerate()
                .map(|(i, p)| if i % 2 == 1 { "x" } else { p })
                .collect::<String>();
            if let Err(e) = project_name::validate(&sample) {
                cx.error(
                    project.span(),
                    format!("{e} (checked with `x` for each variable)"),
                );
            }
            if !root.value().starts_with('/') {
                cx.error(
                    root.span(),
                    Message::new(format!("root `{}` is not absolute", root.value()))
                        .help("write the full path, like \"/srv/mrs-review\"")
                        .build(),
                );
            }
            if lifetime.0 == 0 {
                cx.error(
                    lifetime.1,
                    "an ephemeral environment needs a lifetime longer than 0",
                );
            }
            Some(Persistence::Ephemeral {
                project: converted.compose,
                root: root.value(),
                lifetime_secs: lifetime.0,
            })
        }
    }
}

/// Rule 6 (health): the URL template only uses known variables (`uuid` is a
/// fresh id per check); basic auth takes its password from a variable.
fn check_health(cx: &Ctxt, env: &Environment<'_>, uses: &mut DslUses) -> Option<HealthSpec> {
    let h = env.health.as_ref()?;
    let url = h.url?;
    let converted = match template::convert(&url.value()) {
        Ok(c) => c,
        Err(e) => {
            cx.error(url.span(), e);
            return None;
        }
    };
    if !(url.value().starts_with("http://") || url.value().starts_with("https://")) {
        cx.error(
            url.span(),
            Message::new("the health URL must start with http:// or https://")
                .help("write the whole URL, like \"http://{HOST}/\"")
                .build(),
        );
    }
    for r in converted.refs.iter().filter(|r| *r != "uuid") {
        uses.0.push((r.clone(), url.span(), "the health URL"));
    }
    if let Some((_, password)) = h.basic_auth {
        uses.0.push((
            password.to_string(),
            password.span(),
            "the health check's basic auth",
        ));
    }
    if let Some(unless) = h.unless {
        uses.0
            .push((unless.to_string(), unless.span(), "`health.unless`"));
    }
    if let Some(c) = h.connect_to {
        let v = c.value();
        let ok = v.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !ok {
            cx.error(
                c.span(),
                Message::new(format!("`connect_to` must be `host:port`, found `{v}`"))
                    .help("give the address to connect to instead of the URL's host, like \"127.0.0.1:8000\"")
                    .build(),
            );
        }
    }
    Some(HealthSpec {
        url: converted.compose,
        basic_auth: h.basic_auth.map(|(u, p)| BasicAuthSpec {
            user: u.value(),
            password: p.to_string(),
        }),
        unless: h.unless.map(ToString::to_string),
        timeout_secs: h.timeout.map_or(60, |t| t.0),
        expect: h.expect.map_or(200, |e| e.0),
        connect_to: h.connect_to.map(syn::LitStr::value),
    })
}

/// Rules 2 and 3: every variable the merged overlays need (interpolations
/// anywhere, label keys and sysctls included, bare environment entries) and
/// every variable the DSL refers to is supplied exactly once; a declared
/// variable nothing uses is a typo. Secrets named by the overlays are read
/// at run time in persistent environments, never written in the source.
fn check_variables(
    cx: &Ctxt,
    env: &Environment<'_>,
    selected: &[(Ident, &CatalogOverlay)],
    needed: &Needed,
    uses: &DslUses,
    sources: &Sources,
) -> IndexMap<String, VarSource> {
    let Needed {
        index,
        bare,
        overlays_complete,
    } = needed;
    let overlays_complete = *overlays_complete;
    let mut vars = IndexMap::new();
    let declared: HashMap<&str, &crate::env::VarDecl<'_>> =
        env.vars.iter().map(|v| (v.name.name.as_str(), v)).collect();
    // A declaration whose value was refused has had its error: it counts as
    // declared, so that no second error says the variable is missing.
    let is_declared =
        |name: &str| declared.contains_key(name) || env.rejected_vars.iter().any(|r| r == name);
    let anchor = env
        .vars_key
        .or(env.overlays_key)
        .unwrap_or_else(Span::call_site);

    // Needed by the overlays.
    for var in index.variables.values() {
        let needed = var.required || bare.contains(&var.name);
        if needed && !is_declared(&var.name) {
            let mut m = Message::new(format!(
                "variable `{}` is needed but not supplied",
                var.name
            ));
            let places: Vec<_> = var
                .uses
                .iter()
                .filter(|u| u.kind == UseKind::Interpolation || bare.contains(&var.name))
                .collect();
            for u in places.iter().take(2) {
                let what = match u.kind {
                    UseKind::Interpolation => "uses it",
                    UseKind::Environment => "passes it to the container",
                };
                m = m.at(what, &u.at, sources);
            }
            if places.len() > 2 {
                m = m.note(format!("and {} more place(s)", places.len() - 2));
            }
            m = m.help(format!(
                "add `{0}: \"<value>\"`, `{0}: input` to take it at run time, or `{0}: unset`",
                var.name
            ));
            cx.error(anchor, m.build());
        }
    }
    // Needed by the DSL.
    let mut reported = BTreeSet::new();
    for (name, span, what) in &uses.0 {
        if !is_declared(name) && reported.insert(name.clone()) {
            let mut m = Message::new(format!(
                "`{name}` is used by {what} but not declared in `vars`"
            ));
            if let Some(s) = did_you_mean(name, declared.keys().copied()) {
                m = m.help(format!("did you mean `{s}`?"));
            } else {
                m = m.help(format!("add `{name}: ...` to `vars`"));
            }
            cx.error(*span, m.build());
        }
    }

    let secrets: Vec<(&str, &CatalogOverlay)> = selected
        .iter()
        .flat_map(|(_, o)| o.rules.secrets.iter().map(move |s| (s.as_str(), *o)))
        .collect();
    let persistent = matches!(env.persistence, Some(PersistenceDecl::Persistent { .. }));
    for decl in &env.vars {
        let name = decl.name.name.as_str();
        let used_by_overlays = bare.contains(name)
            || index
                .get(name)
                .is_some_and(|v| v.uses.iter().any(|u| u.kind == UseKind::Interpolation));
        let used_by_dsl = uses.0.iter().any(|(n, _, _)| n == name)
            || env.vars.iter().any(|v| match &v.source {
                VarDeclSource::Derived(_, from, _) => *from == name,
                VarDeclSource::Template(_, refs, _) => refs.iter().any(|r| r == name),
                _ => false,
            });
        if overlays_complete && !used_by_overlays && !used_by_dsl {
            let mut m = Message::new(format!("variable `{name}` is declared but nothing uses it"));
            let missing = index.names().filter(|n| !declared.contains_key(n));
            m = match did_you_mean(name, missing) {
                Some(s) => m.help(format!("did you mean `{s}`? the overlays need it")),
                None => m.help("remove it"),
            };
            cx.error(decl.name.span, m.build());
        }
        let source = match &decl.source {
            VarDeclSource::Literal(v, _) => VarSource::Literal(v.clone()),
            VarDeclSource::Secret(_) => VarSource::Secret,
            VarDeclSource::Input(help, _) => {
                let help = help
                    .clone()
                    .or_else(|| (!decl.docs.is_empty()).then(|| decl.docs.join(" ")));
                VarSource::Input { help }
            }
            VarDeclSource::Unset(_) => VarSource::Unset,
            VarDeclSource::Derived(function, from, _) => {
                let from_name = from.to_string();
                if !is_declared(&from_name) {
                    let mut m = Message::new(format!(
                        "`{}({from_name})`: `{from_name}` is not declared",
                        function.name()
                    ));
                    if let Some(s) = did_you_mean(&from_name, declared.keys().copied()) {
                        m = m.help(format!("did you mean `{s}`?"));
                    }
                    cx.error(from.span(), m.build());
                }
                VarSource::Derived {
                    function: *function,
                    from: from_name,
                }
            }
            VarDeclSource::Template(template, refs, span) => {
                for r in refs {
                    if !is_declared(r) {
                        let mut m = Message::new(format!(
                            "`{{{r}}}` in `{}`'s template is not declared",
                            name
                        ));
                        if let Some(s) = did_you_mean(r, declared.keys().copied()) {
                            m = m.help(format!("did you mean `{s}`?"));
                        }
                        cx.error(*span, m.build());
                    }
                }
                VarSource::Template(template.clone())
            }
        };
        vars.insert(name.to_owned(), source);
    }
    // Refused declarations stand for run-time values, so that the merge
    // leaves them as `${NAME}` instead of reporting what an empty value breaks.
    for name in &env.rejected_vars {
        vars.entry(name.clone())
            .or_insert(VarSource::Input { help: None });
    }
    check_cycles(cx, env, &vars);
    if persistent {
        check_secrets(cx, env, &vars, &secrets, sources);
    }
    vars
}

/// Rule 3: in a persistent environment, a variable an overlay lists in
/// `x-mrs.secrets` is read at run time as a `secret`: not written in the
/// source, not computed from values that are (`format("...")`, `slug(X)` of
/// a literal), and not an `input` (inputs are shown in plans and logs).
fn check_secrets(
    cx: &Ctxt,
    env: &Environment<'_>,
    vars: &IndexMap<String, VarSource>,
    secrets: &[(&str, &CatalogOverlay)],
    sources: &Sources,
) {
    use mrs_compose::interpolate::Resolve as _;
    let compile_time = VarTable::new(vars, None);
    for decl in &env.vars {
        let name = decl.name.name.as_str();
        let Some((_, overlay)) = secrets.iter().find(|(s, _)| *s == name) else {
            continue;
        };
        let what = match (&decl.source, compile_time.resolve(name)) {
            (VarDeclSource::Literal(..), _) => "written in the source",
            (VarDeclSource::Input(..), _) => "an input (inputs are shown in plans)",
            (_, mrs_compose::interpolate::Binding::Set(_)) => {
                "computed from values written in the source"
            }
            _ => continue,
        };
        let at = overlay
            .overlay
            .tree
            .lookup(&["x-mrs", "secrets"])
            .and_then(Node::as_seq)
            .and_then(|items| items.iter().find(|i| i.as_str() == Some(name)))
            .map(|n| n.at.clone())
            .or_else(|| overlay.rules.at.clone())
            .unwrap_or_else(|| Location::synthetic(&overlay.overlay.source.name));
        cx.error(
            decl.source.span(),
            Message::new(format!(
                "`{name}` is a secret and cannot be {what} in a persistent environment"
            ))
            .rule("secrets are read at run time and never embedded in the binary")
            .at(
                &format!("overlay `{}` lists it in `secrets`", overlay.rules.name),
                &at,
                sources,
            )
            .help(format!("write `{name}: secret`"))
            .build(),
        );
    }
}

/// A variable computed from itself, directly or through others, has no value.
fn check_cycles(cx: &Ctxt, env: &Environment<'_>, vars: &IndexMap<String, VarSource>) {
    fn deps(source: &VarSource) -> Vec<String> {
        match source {
            VarSource::Derived { from, .. } => vec![from.clone()],
            VarSource::Template(t) => {
                mrs_compose::interpolate::parse(t, &Location::synthetic("template"))
                    .map(|t| {
                        mrs_compose::interpolate::references(&t)
                            .into_iter()
                            .map(|(v, _)| v.name.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
    let mut in_reported_cycle: BTreeSet<String> = BTreeSet::new();
    for decl in &env.vars {
        let start = decl.name.name.as_str();
        if in_reported_cycle.contains(start) {
            continue;
        }
        let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
        let mut seen = BTreeSet::new();
        while let Some((name, path)) = stack.pop() {
            for d in vars.get(&name).map(deps).unwrap_or_default() {
                if d == start {
                    let others: Vec<String> =
                        path.iter().skip(1).map(|n| format!("`{n}`")).collect();
                    cx.error(
                        decl.name.span,
                        Message::new(format!(
                            "`{start}` is computed from itself: {} -> {start}",
                            path.join(" -> ")
                        ))
                        .help(if others.is_empty() {
                            format!("give `{start}` a value that does not depend on itself")
                        } else {
                            format!(
                                "give `{start}` or {} a value that does not depend on the others",
                                others.join(" or ")
                            )
                        })
                        .build(),
                    );
                    in_reported_cycle.extend(path.iter().cloned());
                    stack.clear();
                    break;
                }
                if seen.insert(d.clone()) {
                    let mut p = path.clone();
                    p.push(d.clone());
                    stack.push((d, p));
                }
            }
        }
    }
}

/// Nothing is built at deploy time: a `build` key left in the merged
/// configuration means the environment would deploy whatever image tag
/// happens to be on the server. Remove it with `build: none`.
fn check_build_removed(
    cx: &Ctxt,
    env: &Environment<'_>,
    project: &Project,
    tree: &Node,
    spans: &SpanTable,
    sources: &Sources,
) {
    for (name, service) in &project.services {
        if service.build.is_some() {
            let at = tree.closest(&["services", name, "build"]).at.clone();
            let (span, in_overlay) = spans.span(&at);
            let mut m = Message::new(format!(
                "service `{name}` still has `build`: nothing is built at deploy time"
            ));
            if in_overlay {
                m = m.at("set here", &at, sources);
            }
            cx.error(
                span,
                m.help(format!("add `services: {{ {name}: {{ build: none }} }}`"))
                    .build(),
            );
        }
        if service.image.is_none() {
            let mut m = Message::new(format!("service `{name}` has no `image`"));
            // Removed by the environment (`image: none`): the error sits there.
            let removed = env
                .services
                .iter()
                .filter(|s| s.name.name == *name)
                .flat_map(|s| &s.overrides)
                .find(|o| o.key.name == "image" && o.value.is_none());
            let span = match removed {
                Some(o) => o.key.span,
                None => {
                    let at = tree
                        .lookup(&["services"])
                        .and_then(Node::as_map)
                        .and_then(|m| m.entry(name))
                        .map_or_else(
                            || tree.closest(&["services", name]).at.clone(),
                            |e| e.key_at.clone(),
                        );
                    let (span, in_overlay) = spans.span(&at);
                    if in_overlay {
                        m = m.at("the service is defined here", &at, sources);
                    }
                    span
                }
            };
            cx.error(
                span,
                m.rule("every service runs an image; nothing is built at deploy time")
                    .help(format!(
                        "give it one: `services: {{ {name}: {{ image: \"...\" }} }}`"
                    ))
                    .build(),
            );
        }
    }
}

/// Rule 4: port mappings parse (ip, ranges, protocol), are known at compile
/// time, do not collide on a host port inside the environment, and target a
/// port the service listens on when the overlays say which (`expose`, or
/// Traefik's `loadBalancer.server.port` label).
fn check_ports(cx: &Ctxt, project: &Project, tree: &Node, spans: &SpanTable, sources: &Sources) {
    let mut bound: Vec<(PortMapping, String, Location)> = Vec::new();
    for (name, service) in &project.services {
        let listening: BTreeSet<u16> = service
            .expose
            .iter()
            .filter_map(|e| e.split('/').next().and_then(|p| p.parse().ok()))
            .chain(
                service
                    .labels
                    .iter()
                    .filter(|(k, _)| {
                        k.ends_with(".loadbalancer.server.port")
                            || k.ends_with(".loadBalancer.server.port")
                    })
                    .filter_map(|(_, v)| v.parse().ok()),
            )
            .collect();
        let nodes = tree
            .lookup(&["services", name, "ports"])
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for node in nodes {
            let report = |message: Message| report_port(cx, node, message, spans, sources);
            let mappings = match port_entry(node, spans) {
                None => continue, // decode reported it
                Some(Ok(m)) => m,
                Some(Err(message)) => {
                    report(message);
                    continue;
                }
            };
            for m in mappings {
                if !listening.is_empty() && !listening.contains(&m.target) {
                    let ports: Vec<String> = listening.iter().map(u16::to_string).collect();
                    report(
                        Message::new(format!(
                            "`{m}` targets port {} of `{name}`, which listens on {}",
                            m.target,
                            ports.join(", ")
                        ))
                        .help(match ports.as_slice() {
                            [one] => format!("map to port {one}, e.g. \"{one}:{one}\""),
                            _ => format!("map to one of {}", ports.join(", ")),
                        }),
                    );
                }
                if let Some((other, other_service, _)) =
                    bound.iter().find(|(b, _, _)| collides(b, &m))
                {
                    report(
                        Message::new(format!("host port of `{m}` ({name}) is already published by `{other}` ({other_service})"))
                            .rule("two mappings cannot bind the same host port")
                            .help("publish one of them on another host port"),
                    );
                }
                bound.push((m, name.clone(), node.at.clone()));
            }
        }
    }
}

/// Rule 4 (syntax): each `ports` entry parses and is known at compile time.
/// Runs before the typed decoding, which would refuse the first bad entry in
/// go-connections' words on the whole list; refused entries are taken out of
/// `tree` so that the other rules still run on the rest.
fn check_port_syntax(cx: &Ctxt, tree: &mut Node, spans: &SpanTable, sources: &Sources) {
    let Some(services) = tree
        .as_map_mut()
        .and_then(|m| m.get_mut("services"))
        .and_then(Node::as_map_mut)
    else {
        return;
    };
    for (_, service) in services.iter_mut() {
        let Some(NodeValue::Seq(items)) = service
            .as_map_mut()
            .and_then(|m| m.get_mut("ports"))
            .map(|n| &mut n.value)
        else {
            continue;
        };
        items.retain(|node| match port_entry(node, spans) {
            Some(Err(message)) => {
                report_port(cx, node, message, spans, sources);
                false
            }
            _ => true,
        });
    }
}

/// Reports a problem with one `ports` entry on its token, or on its overlay
/// with the YAML line.
fn report_port(cx: &Ctxt, node: &Node, message: Message, spans: &SpanTable, sources: &Sources) {
    let (span, in_overlay) = spans.span(&node.at);
    let m = if in_overlay {
        message.at("here", &node.at, sources)
    } else {
        message
    };
    cx.error(span, m.build());
}

/// What one `ports` entry maps, or why it is refused; `None` for a long-syntax
/// entry that does not decode (the typed decoding reports it).
fn port_entry(node: &Node, spans: &SpanTable) -> Option<Result<Vec<PortMapping>, Message>> {
    let (text, parsed) = match &node.value {
        NodeValue::Str(s) if s.contains("${") => {
            // Shown as written: `{PORT}` in the DSL, `${PORT}` in an overlay.
            let in_dsl = !spans.span(&node.at).1;
            let shown = if in_dsl {
                s.replace("$$", "\u{0}")
                    .replace("${", "{")
                    .replace('\u{0}', "$")
            } else {
                s.clone()
            };
            let names: Vec<String> =
                mrs_compose::interpolate::parse(s, &Location::synthetic("port"))
                    .map(|t| {
                        mrs_compose::interpolate::references(&t)
                            .into_iter()
                            .map(|(v, _)| format!("`{}`", v.name))
                            .collect()
                    })
                    .unwrap_or_default();
            let what = if names.is_empty() {
                "a variable".to_owned()
            } else {
                names.join(" and ")
            };
            return Some(Err(Message::new(format!(
                "port `{shown}` depends on {what}, known only at run time"
            ))
            .rule(
                "port mappings are checked at compile time (host-port collisions, listening ports)",
            )
            .help("write the port literally, e.g. \"8000:8000\"")));
        }
        NodeValue::Str(s) => (s.clone(), ports::parse_short(s)),
        NodeValue::Int(i) => (i.to_string(), ports::parse_short(&i.to_string())),
        // Long form: a malformed entry is reported by the typed decode.
        _ => {
            return mrs_compose::model::flex::port_entry(node.to_json())
                .ok()
                .map(Ok);
        }
    };
    Some(parsed.map_err(|e| {
        let syntax = "write `[[IP:]HOST:]CONTAINER[/PROTO]`, e.g. \"8000:8000\"";
        match e {
            PortError::Proto(p) => {
                let m = Message::new(format!("unknown protocol `{p}` in port `{text}`"));
                match did_you_mean(&p, ["tcp", "udp", "sctp"]) {
                    Some(s) => m.help(format!("did you mean `{s}`?")),
                    None => m.help("use `tcp`, `udp` or `sctp`"),
                }
            }
            PortError::HostPort(p) => Message::new(format!(
                "host port `{p}` in `{text}` is not a port number from 1 to 65535"
            ))
            .help(syntax),
            PortError::ContainerPort(p) => Message::new(format!(
                "container port `{p}` in `{text}` is not a port number from 1 to 65535"
            ))
            .help(syntax),
            PortError::Ip(ip) => {
                Message::new(format!("`{ip}` in port `{text}` is not an IP address")).help(syntax)
            }
            PortError::Ranges(host, container) => Message::new(format!(
                "port `{text}` maps host ports {host} to container ports {container}, ranges of different lengths"
            ))
            .help("give both ranges the same length"),
            PortError::Spec(_) => {
                Message::new(format!("port `{text}` has too many `:`-separated parts")).help(syntax)
            }
            PortError::Empty(_) => {
                Message::new(format!("port `{text}` has no container port")).help(syntax)
            }
        }
    }))
}

/// Whether two mappings would bind the same host port.
pub fn collides(a: &PortMapping, b: &PortMapping) -> bool {
    if a.protocol != b.protocol {
        return false;
    }
    let any = |ip: &Option<String>| ip.as_deref().is_none_or(|i| i == "0.0.0.0" || i == "::");
    let same_ip = any(&a.host_ip) || any(&b.host_ip) || a.host_ip == b.host_ip;
    same_ip && a.host_ports().iter().any(|p| b.host_ports().contains(p))
}

/// Rule 5 (images): references are well-formed; production-tier
/// environments run a pinned tag or digest (a moving tag like `master`
/// changes what runs without a deployment), unless the DSL waives it with
/// `unpinned: "reason"`. Images that depend on a run-time input are checked
/// again at run time; returns those services.
fn check_images(
    cx: &Ctxt,
    env: &Environment<'_>,
    project: &Project,
    tree: &Node,
    spans: &SpanTable,
    sources: &Sources,
) -> Vec<String> {
    let mut pinned = Vec::new();
    let production = matches!(env.tier, Some((Tier::Production, _)));
    for (name, service) in &project.services {
        let Some(image) = &service.image else {
            continue;
        };
        let at = tree.closest(&["services", name, "image"]).at.clone();
        let (span, in_overlay) = spans.span(&at);
        let waiver = env
            .services
            .iter()
            .find(|s| s.name.name == *name)
            .and_then(|s| s.unpinned);
        let deferred = image.contains("${");
        let probe = if deferred {
            image
                .split("${")
                .map(|p| p.split_once('}').map_or(p, |(_, r)| r))
                .collect::<Vec<_>>()
                .join("x0")
        } else {
            image.replace("$$", "$")
        };
        match ImageRef::parse(&probe) {
            Err(e) => {
                let mut m = Message::new(e.to_string());
                if in_overlay {
                    m = m.at("here", &at, sources);
                }
                cx.error(span, m.build());
            }
            Ok(r) => {
                if production && waiver.is_none() {
                    if deferred {
                        pinned.push(name.clone());
                    } else if !r.is_pinned() {
                        let mut m = Message::new(format!("`{name}` runs `{image}` in a production-tier environment: `{}` is a moving tag", r.effective_tag()))
                            .rule("production-tier environments deploy a pinned tag or a digest");
                        if in_overlay {
                            m = m.at("image set here", &at, sources);
                        }
                        m = m.help(format!("pin it (`{}:<commit>`), take the tag at run time (`\"{}:{{IMAGE_TAG}}\"`), or waive with `unpinned: \"why\"`", r.repository, r.repository));
                        cx.error(span, m.build());
                    }
                }
                if let Some(w) = waiver {
                    if !production {
                        cx.error(w.span(), format!("`unpinned` waives the pinned-image rule of production-tier environments; this one is {}", env.tier.map_or("untiered", |t| t.0.as_str())));
                    } else if !deferred && r.is_pinned() {
                        cx.error(
                            w.span(),
                            format!("`{image}` is already pinned; remove `unpinned`"),
                        );
                    }
                }
            }
        }
    }
    pinned
}
