//! From overlays to a project: interpolate each file, merge, decode, normalise.

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::error::{Diagnostic, Diagnostics, Kind, did_you_mean};
use crate::interpolate::{Binding, Resolve};
use crate::location::{Location, Sources};
use crate::merge;
use crate::model::{Network, Project};
use crate::node::{Node, Value};
use crate::overlay::Overlay;
use crate::volumes::MountKind;

/// Interpolates each overlay on its own, then merges them in order.
pub fn merge_overlays<'a>(
    overlays: impl IntoIterator<Item = &'a Overlay>,
    vars: &dyn Resolve,
    output: crate::interpolate::Output,
) -> Result<Node, Diagnostics> {
    merge::merge_results(overlays.into_iter().map(|o| o.interpolate(vars, output)))
}

/// Decodes a merged tree into the typed model; a type error names the
/// file:line:col of the offending value.
pub fn decode(tree: &Node) -> Result<Project, Diagnostics> {
    let json = tree.to_json();
    serde_path_to_error::deserialize::<_, Project>(json).map_err(|e| {
        let at = locate(tree, e.path());
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        Diagnostic::new(Kind::Type, at, format!("`{path}`: {inner}")).into()
    })
}

/// The location of the node at a serde path (the closest ancestor when the path runs out).
fn locate(tree: &Node, path: &serde_path_to_error::Path) -> Location {
    let mut node = tree;
    for segment in path.iter() {
        let next = match (segment, &node.value) {
            (serde_path_to_error::Segment::Map { key }, Value::Map(m)) => m.get(key),
            (serde_path_to_error::Segment::Seq { index }, Value::Seq(items)) => items.get(*index),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.at.clone()
}

/// Applies compose's normalisation to a decoded project named `name`:
/// bare environment entries take their value from `vars`; services without
/// networks (or `network_mode`) join `default`; networks, volumes, secrets
/// and configs get their engine names; ports and volumes that became the
/// same once in long form collapse; references to services, networks,
/// volumes, secrets and configs are checked, each at its own line, and
/// dependency cycles refused. `tree` locates errors.
pub fn normalize(
    project: &mut Project,
    name: &str,
    vars: &dyn Resolve,
    tree: &Node,
) -> Result<(), Diagnostics> {
    project.name = Some(name.to_owned());
    // Obsolete: compose reads it and drops it.
    project.version = None;
    resolve_bare_environment(project, vars);
    add_default_network(project);
    name_resources(project, name);
    for service in project.services.values_mut() {
        dedupe_canonical(service);
    }
    let mut errors = Diagnostics::default();
    for (sname, service) in &project.services {
        check_references(project, sname, service, tree, &mut errors);
        check_restart(sname, service, tree, &mut errors);
    }
    if let Err(cycle) = start_order(project) {
        errors.push(Diagnostic::new(
            Kind::Reference,
            tree.closest(&["services"]).at.clone(),
            format!("dependency cycle detected: {}", cycle.join(" -> ")),
        ));
    }
    errors.into_result(())
}

/// Bare `environment` entries and build `args` take their value from the
/// variables, when they have one.
fn resolve_bare_environment(project: &mut Project, vars: &dyn Resolve) {
    for service in project.services.values_mut() {
        let args = service.build.iter_mut().flat_map(|b| b.args.iter_mut());
        for (key, value) in service.environment.iter_mut().chain(args) {
            if value.is_none()
                && let Binding::Set(v) = vars.resolve(key)
            {
                *value = Some(v);
            }
        }
    }
}

/// compose-go: a `default` network exists when some service has neither
/// `network_mode` nor networks (or lists `default`); those join it.
fn add_default_network(project: &mut Project) {
    let joins_default = |s: &crate::model::Service| {
        s.network_mode.is_none() && (s.networks.is_empty() || s.networks.contains_key("default"))
    };
    if project.services.values().any(joins_default) && !project.networks.contains_key("default") {
        project
            .networks
            .insert("default".into(), Network::default());
    }
    for service in project.services.values_mut() {
        if service.network_mode.is_none() && service.networks.is_empty() {
            service.networks.insert("default".into(), None);
        }
    }
}

/// `<project>_<key>` for what has no `name:`, the bare key for external ones.
fn name_resources(project: &mut Project, name: &str) {
    let engine_name = |key: &str, external: bool| {
        if external {
            key.to_owned()
        } else {
            format!("{name}_{key}")
        }
    };
    for (key, n) in project.networks.iter_mut() {
        n.name.get_or_insert_with(|| engine_name(key, n.external));
    }
    for (key, v) in project.volumes.iter_mut() {
        v.name.get_or_insert_with(|| engine_name(key, v.external));
    }
    for (key, f) in project.secrets.iter_mut().chain(project.configs.iter_mut()) {
        f.name.get_or_insert_with(|| engine_name(key, f.external));
    }
}

/// compose-go enforces unicity again once ports and volumes are in long
/// form: `8080:80` and `{target: 80, published: 8080}` are one port.
fn dedupe_canonical(service: &mut crate::model::Service) {
    fn last_wins<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        let mut out: Vec<T> = Vec::with_capacity(items.len());
        for item in items.drain(..) {
            match seen.get(&key(&item)) {
                Some(&i) => out[i] = item,
                None => {
                    seen.insert(key(&item), out.len());
                    out.push(item);
                }
            }
        }
        *items = out;
    }
    last_wins(&mut service.ports, |p| {
        format!(
            "{}:{}:{}/{}",
            p.host_ip.as_deref().unwrap_or("0.0.0.0"),
            p.published.as_deref().unwrap_or_default(),
            p.target,
            p.protocol
        )
    });
    last_wins(&mut service.volumes, |v| v.target.clone());
}

/// Where a named entry of a service's list or mapping was written: the key
/// of a mapping entry, the first list item `matches` accepts, else the key.
fn entry_at(tree: &Node, service: &str, key: &str, matches: impl Fn(&Node) -> bool) -> Location {
    let path = ["services", service, key];
    match tree.lookup(&path).map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().find(|i| matches(i)),
        _ => None,
    }
    .map_or_else(|| tree.closest(&path).at.clone(), |n| n.at.clone())
}

fn key_at(tree: &Node, service: &str, key: &str, name: &str) -> Option<Location> {
    tree.lookup(&["services", service, key])?
        .as_map()?
        .entry(name)
        .map(|e| e.key_at.clone())
}

fn check_references(
    project: &Project,
    sname: &str,
    service: &crate::model::Service,
    tree: &Node,
    errors: &mut Diagnostics,
) {
    let by_text = |name: &str| {
        let name = name.to_owned();
        move |n: &Node| n.scalar_text().as_deref() == Some(name.as_str())
    };
    if service.network_mode.is_some()
        && tree
            .lookup(&["services", sname, "networks"])
            .is_some_and(|n| n.value != Value::Null)
    {
        errors.push(Diagnostic::new(
            Kind::Reference,
            tree.closest(&["services", sname, "network_mode"])
                .at
                .clone(),
            format!(
                "service \"{sname}\" declares mutually exclusive `network_mode` and `networks`"
            ),
        ));
    }
    for net in service.networks.keys() {
        if !project.networks.contains_key(net) {
            let at = key_at(tree, sname, "networks", net)
                .unwrap_or_else(|| entry_at(tree, sname, "networks", by_text(net)));
            errors.push(undefined(
                "network",
                sname,
                net,
                &names(&project.networks),
                at,
            ));
        }
    }
    let mut needed: Vec<(&str, &str)> = service
        .depends_on
        .keys()
        .map(|d| (d.as_str(), "depends_on"))
        .collect();
    needed.extend(implicit_dependencies(service));
    for (dep, key) in needed {
        if !project.services.contains_key(dep) {
            let at = key_at(tree, sname, key, dep).unwrap_or_else(|| {
                entry_at(tree, sname, key, |n| {
                    n.scalar_text().is_some_and(|t| {
                        t == dep
                            || t.split(':').next() == Some(dep)
                            || t == format!("service:{dep}")
                    })
                })
            });
            let mut d = Diagnostic::new(
                Kind::Reference,
                at,
                format!("service \"{sname}\" depends on undefined service \"{dep}\""),
            );
            if let Some(s) = did_you_mean(dep, project.services.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            errors.push(d);
        }
    }
    for mount in &service.volumes {
        if mount.kind == MountKind::Volume
            && let Some(source) = &mount.source
            && !project.volumes.contains_key(source)
        {
            let at = entry_at(tree, sname, "volumes", |n| match &n.value {
                Value::Str(s) => s.split(':').next() == Some(source.as_str()),
                Value::Map(_) => n.lookup(&["source"]).and_then(Node::as_str) == Some(source),
                _ => false,
            });
            errors.push(undefined(
                "volume",
                sname,
                source,
                &names(&project.volumes),
                at,
            ));
        }
    }
    for (what, key, refs, defined) in [
        ("secret", "secrets", &service.secrets, &project.secrets),
        ("config", "configs", &service.configs, &project.configs),
    ] {
        for r in refs {
            if !defined.contains_key(&r.source) {
                let at = entry_at(tree, sname, key, |n| {
                    n.scalar_text().as_deref() == Some(r.source.as_str())
                        || n.lookup(&["source"]).and_then(Node::as_str) == Some(r.source.as_str())
                });
                errors.push(undefined(what, sname, &r.source, &names(defined), at));
            }
        }
    }
}

/// Services a service needs started first without `depends_on` saying so:
/// `links` and `network_mode: service:NAME`, with the key that names them.
pub fn implicit_dependencies(
    service: &crate::model::Service,
) -> impl Iterator<Item = (&str, &'static str)> {
    let links = service
        .links
        .iter()
        .map(|l| (l.split(':').next().unwrap_or_default(), "links"));
    let mode = service
        .network_mode
        .as_deref()
        .and_then(|m| m.strip_prefix("service:"))
        .map(|s| (s, "network_mode"));
    links.chain(mode)
}

fn check_restart(
    sname: &str,
    service: &crate::model::Service,
    tree: &Node,
    errors: &mut Diagnostics,
) {
    let Some(restart) = &service.restart else {
        return;
    };
    let ok = matches!(
        restart.as_str(),
        "no" | "always" | "unless-stopped" | "on-failure"
    ) || restart
        .strip_prefix("on-failure:")
        .is_some_and(|n| n.parse::<u32>().is_ok());
    if !ok {
        errors.push(
            Diagnostic::new(
                Kind::Type,
                tree.closest(&["services", sname, "restart"]).at.clone(),
                format!("invalid restart policy `{restart}`"),
            )
            .with_help("use `no`, `always`, `on-failure[:N]` or `unless-stopped`"),
        );
    }
}

fn names<V>(map: &IndexMap<String, V>) -> Vec<String> {
    map.keys().cloned().collect()
}

fn undefined(what: &str, service: &str, name: &str, known: &[String], at: Location) -> Diagnostic {
    let mut d = Diagnostic::new(
        Kind::Reference,
        at,
        format!("service \"{service}\" refers to undefined {what} {name}"),
    );
    if let Some(s) = did_you_mean(name, known.iter().map(String::as_str)) {
        d = d.with_help(format!("did you mean `{s}`?"));
    } else {
        d = d.with_help(format!("declare it under the top-level `{what}s:`"));
    }
    d
}

/// Makes relative bind-mount sources (`./log`, `~/x`) absolute against the
/// project folder, as compose does when it loads a project.
pub fn resolve_paths(project: &mut Project, dir: &std::path::Path) {
    for service in project.services.values_mut() {
        for m in &mut service.volumes {
            if m.kind != MountKind::Bind {
                continue;
            }
            if let Some(source) = &m.source {
                let resolved = resolve_path(source, dir);
                m.source = Some(resolved.display().to_string());
            }
        }
    }
}

/// `./x`, `../x`, `~/x` against `dir` (and `$HOME`), normalised without touching the filesystem.
pub fn resolve_path(source: &str, dir: &std::path::Path) -> std::path::PathBuf {
    use std::path::{Component, Path, PathBuf};
    let joined = match source.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map_or_else(|| dir.join(source), |h| PathBuf::from(h).join(rest)),
        None if Path::new(source).is_absolute() => PathBuf::from(source),
        None => dir.join(source),
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Services in an order where each comes after its dependencies (those of
/// `depends_on`, `links` and `network_mode: service:NAME`); a cycle is an
/// `Err` naming it.
pub fn start_order(project: &Project) -> Result<Vec<String>, Vec<String>> {
    fn visit(
        name: &str,
        project: &Project,
        done: &mut HashSet<String>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), Vec<String>> {
        if done.contains(name) {
            return Ok(());
        }
        if let Some(i) = stack.iter().position(|s| s == name) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(name.to_owned());
            return Err(cycle);
        }
        stack.push(name.to_owned());
        if let Some(service) = project.services.get(name) {
            let deps = service
                .depends_on
                .keys()
                .map(String::as_str)
                .chain(implicit_dependencies(service).map(|(d, _)| d));
            for dep in deps {
                if project.services.contains_key(dep) {
                    visit(dep, project, done, stack, out)?;
                }
            }
        }
        stack.pop();
        done.insert(name.to_owned());
        out.push(name.to_owned());
        Ok(())
    }
    let mut done = HashSet::new();
    let mut out = Vec::new();
    for name in project.services.keys() {
        visit(name, project, &mut done, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

/// Where the project name comes from, in compose's order of precedence.
#[derive(Clone, Debug, Default)]
pub struct NameSources<'a> {
    /// `-p` / `--project-name` (must be valid as given).
    pub flag: Option<&'a str>,
    /// `COMPOSE_PROJECT_NAME` (must be valid as given).
    pub env: Option<String>,
    /// Top-level `name:` of the merged files (normalised).
    pub file: Option<String>,
    /// The project directory's basename (normalised).
    pub dir: Option<String>,
}

/// Picks the project name as compose does.
pub fn project_name(
    sources: &NameSources<'_>,
) -> Result<String, crate::project_name::ProjectNameError> {
    use crate::project_name::{derive, validate};
    if let Some(flag) = sources.flag {
        return validate(flag).map(str::to_owned);
    }
    if let Some(env) = sources.env.as_deref().filter(|e| !e.is_empty()) {
        return validate(env).map(str::to_owned);
    }
    if let Some(file) = &sources.file {
        return derive(file);
    }
    derive(sources.dir.as_deref().unwrap_or_default())
}

/// The whole pipeline over already-parsed overlays, for a known project name.
#[derive(Debug)]
pub struct Loaded {
    /// The normalised project.
    pub project: Project,
    /// The merged tree (for locating things).
    pub tree: Node,
    /// The overlays' text, for snippets.
    pub sources: Sources,
    /// Variables used but not set (compose's "defaulting to a blank
    /// string"), each at its first place.
    pub unset: Vec<(String, Location)>,
}

/// Interpolates, merges, decodes and normalises overlays already in memory
/// (see [`crate::loader`]; nothing is read from disk).
///
/// The project name comes from `names`, or the merged `name:`, as compose
/// picks it (see [`project_name`]).
pub fn load(
    overlays: &[Overlay],
    vars: &dyn Resolve,
    names: NameSources<'_>,
) -> Result<Loaded, Diagnostics> {
    crate::loader::load_overlays(overlays, vars, names)
}

/// A resolver over a list of maps, the first that has the name winning.
pub struct Layered<'a>(pub Vec<&'a dyn Resolve>);

impl Resolve for Layered<'_> {
    fn resolve(&self, name: &str) -> Binding {
        for r in &self.0 {
            match r.resolve(name) {
                Binding::Unset => continue,
                other => return other,
            }
        }
        Binding::Unset
    }
}

/// The process environment as a resolver.
pub struct ProcessEnv;

impl Resolve for ProcessEnv {
    fn resolve(&self, name: &str) -> Binding {
        std::env::var(name).map_or(Binding::Unset, Binding::Set)
    }
}

/// A map of variables as a resolver.
pub fn vars_from(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
