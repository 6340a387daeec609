//! A project from compose files, as `docker compose` loads one (compose-go's
//! `loader`): the project name first (`-p`, `COMPOSE_PROJECT_NAME`, the
//! files' `name:`, the folder), made available to interpolation as
//! `COMPOSE_PROJECT_NAME`; then each file in order is interpolated, its
//! relative paths made absolute, its `include`s loaded as projects of their
//! own and imported, its `extends` resolved, and merged into the files
//! before it; the result is decoded, narrowed to the active profiles, its
//! `env_file`s read into `environment` and `label_file`s into `labels`,
//! and normalised.
//!
//! Without a project directory (overlays already in memory, as the build
//! script and the macro have them), nothing is read from disk: `include`
//! and `extends.file` are errors, `env_file` entries are kept as written.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::{Diagnostic, Diagnostics, Kind};
use crate::interpolate::{self, Binding, Output, Resolve};
use crate::limits::{MAX_EXPANDED_NODES, MAX_FILE_BYTES, MAX_FILES};
use crate::location::{Location, Sources};
use crate::merge;
use crate::model::Project;
use crate::node::{Map, Node, Value};
use crate::overlay::Overlay;
use crate::project::{self, Layered, Loaded, NameSources};
use crate::variables::{UseKind, VariableIndex};
use crate::{env_file, paths, yaml};

/// What to load, and from where.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Compose files, merged in order (named in locations as given).
    pub files: &'a [PathBuf],
    /// `--project-directory`; the first file's folder when `None`.
    pub project_dir: Option<&'a Path>,
    /// The variables (process environment, then the `.env` file).
    pub env: &'a dyn Resolve,
    /// `-p`: used when not empty, and then it must already be valid.
    pub project_name: Option<&'a str>,
    /// Active profiles (`--profile`); `*` activates every profile. When
    /// empty, `COMPOSE_PROFILES` (comma-separated) says.
    pub profiles: &'a [String],
}

/// Loads the project `options` describe; `sources` receives the text of
/// every file read, for the snippets of errors.
pub fn load_files(options: &Options<'_>, sources: &mut Sources) -> Result<Loaded, Diagnostics> {
    let mut loader = Loader::new(sources);
    let mut overlays = Vec::new();
    for path in options.files {
        let name = path.display().to_string();
        overlays.push(loader.read(path, &name, None)?);
    }
    let project_dir = match options.project_dir {
        Some(dir) => absolute(dir),
        None => options
            .files
            .first()
            .map(|f| absolute(f))
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_default(),
    };
    let names = NameSources {
        flag: options.project_name.filter(|n| !n.is_empty()),
        env: match options.env.resolve("COMPOSE_PROJECT_NAME") {
            Binding::Set(v) => Some(v),
            _ => None,
        },
        file: None,
        dir: project_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    };
    let files: Vec<PathBuf> = options.files.iter().map(|f| absolute(f)).collect();
    loader.project(
        overlays,
        Some(&project_dir),
        &files,
        options.env,
        names,
        options.profiles,
    )
}

/// Loads overlays already in memory (nothing is read from disk).
pub fn load_overlays(
    overlays: &[Overlay],
    vars: &dyn Resolve,
    names: NameSources<'_>,
) -> Result<Loaded, Diagnostics> {
    let mut sources = Sources::default();
    let mut loader = Loader::new(&mut sources);
    for o in overlays {
        loader.sources.insert(o.source.clone());
    }
    loader.project(overlays.to_vec(), None, &[], vars, names, &[])
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

struct Loader<'s> {
    sources: &'s mut Sources,
    /// Files parsed so far, by absolute path.
    cache: HashMap<PathBuf, Overlay>,
    /// Env files read so far, by absolute path.
    env_cache: HashMap<PathBuf, String>,
    files_read: usize,
    /// Values copied by `extends` and `include` so far.
    expanded: usize,
    unset: Vec<(String, Location)>,
    /// The variables in `unset`.
    warned: HashSet<String>,
}

impl<'s> Loader<'s> {
    fn new(sources: &'s mut Sources) -> Self {
        Loader {
            sources,
            cache: HashMap::new(),
            env_cache: HashMap::new(),
            files_read: 0,
            expanded: 0,
            unset: Vec::new(),
            warned: HashSet::new(),
        }
    }

    /// The whole pipeline for one top-level project.
    fn project(
        &mut self,
        overlays: Vec<Overlay>,
        dir: Option<&Path>,
        files: &[PathBuf],
        env: &dyn Resolve,
        names: NameSources<'_>,
        profiles: &[String],
    ) -> Result<Loaded, Diagnostics> {
        let name = project_name(&overlays, env, names)?;
        let own = project::vars_from(&[("COMPOSE_PROJECT_NAME", name.as_str())]);
        let vars = Layered(vec![&own as &dyn Resolve, env]);
        let tree = self.merged(overlays, dir, files, &vars, &[])?;
        let mut project = project::decode(&tree)?;
        let from_env: Vec<String> = match vars.resolve("COMPOSE_PROFILES") {
            Binding::Set(v) if profiles.is_empty() => v
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        apply_profiles(
            &mut project,
            if profiles.is_empty() {
                &from_env
            } else {
                profiles
            },
        );
        if dir.is_some() {
            self.read_service_files(&mut project, &tree, &vars)?;
        }
        project::normalize(&mut project, &name, &vars, &tree)?;
        Ok(Loaded {
            project,
            tree,
            sources: self.sources.clone(),
            unset: std::mem::take(&mut self.unset),
        })
    }

    /// Reads and parses a file (once), refusing past [`MAX_FILES`].
    fn read(
        &mut self,
        path: &Path,
        name: &str,
        at: Option<&Location>,
    ) -> Result<Overlay, Diagnostics> {
        let key = absolute(path);
        if let Some(o) = self.cache.get(&key) {
            return Ok(o.clone());
        }
        let text = self.read_text(path, name, at)?;
        let overlay = Overlay::parse(name, &text)?;
        self.cache.insert(key, overlay.clone());
        Ok(overlay)
    }

    /// Reads a file, refusing past [`MAX_FILES`] and [`MAX_FILE_BYTES`];
    /// its text joins the sources, for snippets.
    fn read_text(
        &mut self,
        path: &Path,
        name: &str,
        at: Option<&Location>,
    ) -> Result<String, Diagnostic> {
        let at = at.cloned().unwrap_or_else(|| Location::synthetic(name));
        self.files_read += 1;
        if self.files_read > MAX_FILES {
            return Err(Diagnostic::new(
                Kind::Io,
                at,
                format!("more than {MAX_FILES} files to read (include and extends loops?)"),
            ));
        }
        let io = |e: std::io::Error| {
            Diagnostic::new(
                Kind::Io,
                at.clone(),
                format!("cannot read {}: {e}", path.display()),
            )
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            return Err(yaml::too_large(Location::new(name.into(), 1, 1), size));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        self.sources.insert(crate::Source {
            name: name.into(),
            text: text.clone(),
        });
        Ok(text)
    }

    /// One project's files merged: each interpolated, its paths resolved
    /// against `dir`, its includes and extends applied. `chain` is the
    /// include chain that led here.
    fn merged(
        &mut self,
        overlays: Vec<Overlay>,
        dir: Option<&Path>,
        files: &[PathBuf],
        vars: &dyn Resolve,
        chain: &[PathBuf],
    ) -> Result<Node, Diagnostics> {
        merge::merge_results(
            overlays
                .iter()
                .enumerate()
                .map(|(i, overlay)| self.file_tree(overlay, dir, files.get(i), vars, chain)),
        )
    }

    fn file_tree(
        &mut self,
        overlay: &Overlay,
        dir: Option<&Path>,
        file: Option<&PathBuf>,
        vars: &dyn Resolve,
        chain: &[PathBuf],
    ) -> Result<Node, Diagnostics> {
        self.note_unset(overlay, vars);
        let mut tree = overlay.interpolate(vars, Output::Final)?;
        if let Some(dir) = dir {
            paths::resolve_tree(&mut tree, dir);
        }
        let mut chain = chain.to_vec();
        chain.extend(file.cloned());
        self.apply_include(&mut tree, dir, vars, &chain)?;
        self.apply_extends(&mut tree, &overlay.source.name, dir.is_some(), vars)?;
        Ok(tree)
    }

    /// Variables used but not set ("defaulting to a blank string"), each
    /// once, at its first such use.
    fn note_unset(&mut self, overlay: &Overlay, vars: &dyn Resolve) {
        let index = VariableIndex::build([overlay]);
        for v in index.variables.values() {
            if self.warned.contains(&v.name) || vars.resolve(&v.name) != Binding::Unset {
                continue;
            }
            let first = v
                .uses
                .iter()
                .find(|u| u.kind == UseKind::Interpolation && u.required && !u.nested);
            if let Some(u) = first {
                self.warned.insert(v.name.clone());
                self.unset.push((v.name.clone(), u.at.clone()));
            }
        }
    }

    /// Counts values copied by `extends` or `include` against [`MAX_EXPANDED_NODES`].
    fn expand(&mut self, node: &Node) -> Result<(), Diagnostic> {
        self.expanded += count(node);
        if self.expanded > MAX_EXPANDED_NODES {
            return Err(Diagnostic::new(
                Kind::Reference,
                node.at.clone(),
                format!(
                    "`extends` and `include` copy more than {MAX_EXPANDED_NODES} values into the project"
                ),
            ));
        }
        Ok(())
    }

    /// `include:` entries, each loaded as a project of its own (its own
    /// directory and env file) and its resources imported into `tree`.
    fn apply_include(
        &mut self,
        tree: &mut Node,
        dir: Option<&Path>,
        vars: &dyn Resolve,
        chain: &[PathBuf],
    ) -> Result<(), Diagnostics> {
        let Some(entry) = tree.as_map_mut().and_then(|m| m.remove("include")) else {
            return Ok(());
        };
        let items = match entry.node.value {
            Value::Seq(items) => items,
            Value::Null => Vec::new(),
            _ => vec![entry.node],
        };
        for item in items {
            let Some(dir) = dir else {
                return Err(Diagnostic::new(
                    Kind::Reference,
                    item.at.clone(),
                    "`include` needs the files on disk: load them with their project directory",
                )
                .into());
            };
            let include = Include::read(&item, dir)?;
            if let Some(i) = chain.iter().position(|c| include.paths.contains(c)) {
                let mut cycle: Vec<String> =
                    chain[i..].iter().map(|p| p.display().to_string()).collect();
                cycle.push(include.paths[0].display().to_string());
                return Err(Diagnostic::new(
                    Kind::Reference,
                    item.at.clone(),
                    format!("include cycle detected: {}", cycle.join(" includes ")),
                )
                .into());
            }
            let file_env = self.include_env(&include, &item.at, vars)?;
            let env = Layered(vec![vars, &file_env]);
            let mut overlays = Vec::new();
            for path in &include.paths {
                overlays.push(self.read(path, &path.display().to_string(), Some(&item.at))?);
            }
            let imported = self.merged(
                overlays,
                Some(&include.project_dir),
                &include.paths,
                &env,
                chain,
            )?;
            self.expand(&imported)?;
            import_resources(tree, imported, &item.at)?;
        }
        Ok(())
    }

    /// The variables of an included project: the including project's win
    /// over its env files (by default its directory's `.env`, when there is one).
    fn include_env(
        &mut self,
        include: &Include,
        at: &Location,
        vars: &dyn Resolve,
    ) -> Result<IndexMap<String, String>, Diagnostics> {
        let default = include.project_dir.join(".env");
        let files = if include.env_files.is_empty() && default.exists() {
            vec![default]
        } else {
            include.env_files.clone()
        };
        let mut out = IndexMap::new();
        for path in files {
            let text = self.env_text(&path, at)?;
            let fallback = Layered(vec![vars, &out]);
            let values = env_file::parse(&path.display().to_string(), &text, &fallback)?;
            out.extend(values);
        }
        Ok(out)
    }

    fn env_text(&mut self, path: &Path, at: &Location) -> Result<String, Diagnostic> {
        if let Some(text) = self.env_cache.get(path) {
            return Ok(text.clone());
        }
        let text = self.read_text(path, &path.display().to_string(), Some(at))?;
        self.env_cache.insert(path.to_path_buf(), text.clone());
        Ok(text)
    }

    /// Resolves every service's `extends` in a file's tree.
    fn apply_extends(
        &mut self,
        tree: &mut Node,
        file: &str,
        on_disk: bool,
        vars: &dyn Resolve,
    ) -> Result<(), Diagnostics> {
        let Some(services) = tree
            .as_map_mut()
            .and_then(|m| m.get_mut("services"))
            .and_then(Node::as_map_mut)
        else {
            return Ok(());
        };
        let names: Vec<String> = services.keys().cloned().collect();
        for name in names {
            self.extend(&name, services, file, on_disk, vars, &mut Vec::new())?;
        }
        Ok(())
    }

    /// Resolves the `extends` of service `name` of `services` (a file's), in
    /// place, after those of the service it extends. `chain` holds the
    /// services being resolved, to report a cycle.
    fn extend(
        &mut self,
        name: &str,
        services: &mut Map,
        file: &str,
        on_disk: bool,
        vars: &dyn Resolve,
        chain: &mut Vec<(String, String)>,
    ) -> Result<(), Diagnostics> {
        let Some(extends) = services
            .get(name)
            .and_then(Node::as_map)
            .and_then(|s| s.get("extends"))
            .cloned()
        else {
            return Ok(());
        };
        let (base_name, base_file) = match &extends.value {
            Value::Str(s) => (s.clone(), None),
            Value::Map(m) => (
                m.get("service")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default(),
                m.get("file").and_then(Node::scalar_text),
            ),
            _ => (String::new(), None),
        };
        let here = (file.to_owned(), name.to_owned());
        if chain.contains(&here) {
            let mut steps: Vec<String> = chain.iter().map(|(f, s)| format!("{s} in {f}")).collect();
            steps.push(format!("{name} in {file}"));
            return Err(Diagnostic::new(
                Kind::Reference,
                extends.at.clone(),
                format!("circular reference: {}", steps.join(" extends ")),
            )
            .into());
        }
        chain.push(here);
        let base = match &base_file {
            None => {
                if !services.contains_key(&base_name) {
                    return Err(not_found(name, file, &base_name, &extends.at).into());
                }
                self.extend(&base_name, services, file, on_disk, vars, chain)?;
                services.get(&base_name).cloned()
            }
            Some(_) if !on_disk => {
                return Err(Diagnostic::new(
                    Kind::Reference,
                    extends.at.clone(),
                    "`extends.file` needs the files on disk: load them with their project directory",
                )
                .into());
            }
            Some(path) => {
                let path = PathBuf::from(path);
                let other_name = path.display().to_string();
                let overlay = self.read(&path, &other_name, Some(&extends.at))?;
                let mut other = overlay.interpolate(vars, Output::Final)?;
                if let Some(dir) = path.parent() {
                    paths::resolve_tree(&mut other, dir);
                }
                let other_services = other
                    .as_map_mut()
                    .and_then(|m| m.get_mut("services"))
                    .and_then(Node::as_map_mut)
                    .filter(|s| s.contains_key(&base_name))
                    .ok_or_else(|| not_found(name, file, &base_name, &extends.at))?;
                self.extend(
                    &base_name,
                    other_services,
                    &other_name,
                    on_disk,
                    vars,
                    chain,
                )?;
                other_services.get(&base_name).cloned()
            }
        };
        chain.pop();
        let mut base =
            base.unwrap_or_else(|| Node::new(Value::Map(Map::new()), extends.at.clone()));
        self.expand(&base)?;
        if let Some(m) = base.as_map_mut() {
            // A service extended elsewhere does not bring its dependencies.
            m.remove("depends_on");
            m.remove("volumes_from");
        }
        let Some(service) = services.get_mut(name) else {
            return Ok(());
        };
        let mut over = std::mem::replace(service, Node::new(Value::Null, extends.at.clone()));
        if let Some(m) = over.as_map_mut() {
            m.remove("extends");
        }
        *service = merge::extend_service(base, over);
        Ok(())
    }

    /// Reads each service's `env_file`s into its `environment` and its
    /// `label_file`s into its `labels` (what the service writes itself
    /// wins), then forgets the files, as `docker compose config` does.
    fn read_service_files(
        &mut self,
        project: &mut Project,
        tree: &Node,
        vars: &dyn Resolve,
    ) -> Result<(), Diagnostics> {
        let mut errors = Diagnostics::default();
        for (sname, service) in project.services.iter_mut() {
            let mut env: IndexMap<String, Option<String>> = IndexMap::new();
            for entry in std::mem::take(&mut service.env_file) {
                let at = file_entry_at(tree, sname, "env_file", &entry.path);
                let so_far: IndexMap<String, String> = env
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                    .collect();
                let fallback = Layered(vec![&so_far, vars]);
                let raw = entry.format.as_deref() == Some("raw");
                let file = (entry.path.as_str(), "env file");
                match self.key_values(file, entry.required, raw, &at, &fallback) {
                    Ok(values) => env.extend(values.into_iter().map(|(k, v)| (k, Some(v)))),
                    Err(e) => errors.push(e),
                }
            }
            if !env.is_empty() {
                env.extend(std::mem::take(&mut service.environment));
                service.environment = env;
            }
            let label_files = match service.extensions.shift_remove("label_file") {
                Some(serde_json::Value::String(path)) => vec![path],
                Some(serde_json::Value::Array(paths)) => paths
                    .into_iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let mut labels = IndexMap::new();
            for path in label_files {
                let at = file_entry_at(tree, sname, "label_file", &path);
                match self.key_values((&path, "label file"), true, false, &at, vars) {
                    Ok(values) => labels.extend(values),
                    Err(e) => errors.push(e),
                }
            }
            if !labels.is_empty() {
                labels.extend(std::mem::take(&mut service.labels));
                service.labels = labels;
            }
        }
        errors.into_result(())
    }

    /// The `KEY=value` lines of an env or label file (none for a missing
    /// file that is not `required`).
    fn key_values(
        &mut self,
        (path, what): (&str, &str),
        required: bool,
        raw: bool,
        at: &Location,
        fallback: &dyn Resolve,
    ) -> Result<IndexMap<String, String>, Diagnostic> {
        let file = PathBuf::from(path);
        if !file.exists() {
            if required {
                let d = Diagnostic::new(Kind::Io, at.clone(), format!("{what} {path} not found"));
                return Err(if what == "env file" {
                    d.with_help("create it, or mark the entry `required: false`")
                } else {
                    d
                });
            }
            return Ok(IndexMap::new());
        }
        let text = self.env_text(&file, at)?;
        if raw {
            env_file::parse_raw(path, &text)
        } else {
            env_file::parse(path, &text, fallback)
        }
    }
}

/// An `include` entry: a path or a list of paths, its project directory and env files.
struct Include {
    paths: Vec<PathBuf>,
    project_dir: PathBuf,
    env_files: Vec<PathBuf>,
}

impl Include {
    fn read(item: &Node, dir: &Path) -> Result<Include, Diagnostic> {
        let strings = |n: Option<&Node>| -> Vec<String> {
            match n.map(|n| &n.value) {
                Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
                Some(_) => n.and_then(Node::scalar_text).into_iter().collect(),
                None => Vec::new(),
            }
        };
        let (paths, project_dir, env_files) = match &item.value {
            Value::Map(m) => (
                strings(m.get("path")),
                m.get("project_directory").and_then(Node::scalar_text),
                strings(m.get("env_file")),
            ),
            _ => (strings(Some(item)), None, Vec::new()),
        };
        if paths.is_empty() {
            return Err(Diagnostic::new(
                Kind::Type,
                item.at.clone(),
                "an `include` entry needs a `path`",
            ));
        }
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| project::resolve_path(p, dir))
            .collect();
        let project_dir = match project_dir {
            Some(d) => project::resolve_path(&d, dir),
            None => paths[0]
                .parent()
                .map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
        };
        // Relative to the including project, as compose-go resolves them;
        // `/dev/null` means none.
        let env_files = env_files
            .iter()
            .filter(|p| *p != "/dev/null")
            .map(|p| project::resolve_path(p, dir))
            .collect();
        Ok(Include {
            paths,
            project_dir,
            env_files,
        })
    }
}

/// Adds an included project's services, networks, volumes, secrets,
/// configs and models to `tree`; the same name defined differently is an error.
fn import_resources(tree: &mut Node, imported: Node, at: &Location) -> Result<(), Diagnostics> {
    let Value::Map(imported) = imported.value else {
        return Ok(());
    };
    let Some(root) = tree.as_map_mut() else {
        return Ok(());
    };
    let mut errors = Diagnostics::default();
    for (section, entry) in imported {
        if !matches!(
            section.as_str(),
            "services" | "networks" | "volumes" | "secrets" | "configs" | "models"
        ) {
            continue;
        }
        let Value::Map(resources) = entry.node.value else {
            continue;
        };
        if !root.contains_key(&section)
            || root.get(&section).is_some_and(|n| n.value == Value::Null)
        {
            root.insert(
                section.clone(),
                entry.key_at.clone(),
                Node::new(Value::Map(Map::new()), entry.key_at.clone()),
            );
        }
        let Some(target) = root.get_mut(&section).and_then(Node::as_map_mut) else {
            continue;
        };
        for (name, resource) in resources {
            match target.get(&name) {
                Some(existing) if existing.to_json() != resource.node.to_json() => {
                    let what = section.trim_end_matches('s');
                    errors.push(
                        Diagnostic::new(
                            Kind::Reference,
                            at.clone(),
                            format!("the included files define the {what} `{name}` differently from this file"),
                        )
                        .with_help(format!("define `{name}` in one place only")),
                    );
                }
                Some(_) => {}
                None => {
                    target.insert(name, resource.key_at, resource.node);
                }
            }
        }
    }
    errors.into_result(())
}

fn not_found(name: &str, file: &str, base: &str, at: &Location) -> Diagnostic {
    Diagnostic::new(
        Kind::Reference,
        at.clone(),
        format!("cannot extend service \"{name}\" in {file}: service \"{base}\" not found"),
    )
}

/// Where a service's `env_file` or `label_file` entry for `path` was written.
fn file_entry_at(tree: &Node, service: &str, key: &str, path: &str) -> Location {
    let node_path = ["services", service, key];
    let matches = |n: &&Node| {
        n.as_str() == Some(path) || n.lookup(&["path"]).and_then(Node::as_str) == Some(path)
    };
    match tree.lookup(&node_path).map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().find(matches).map(|n| n.at.clone()),
        _ => None,
    }
    .unwrap_or_else(|| tree.closest(&node_path).at.clone())
}

/// Values in a tree.
fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(map) => map.iter().map(|(_, n)| count(n)).sum(),
        _ => 0,
    }
}

/// The project name as compose picks it; a `name:` of the files is
/// interpolated (the last file that sets one wins).
fn project_name(
    overlays: &[Overlay],
    env: &dyn Resolve,
    names: NameSources<'_>,
) -> Result<String, Diagnostics> {
    let mut file_name: Option<(String, Location)> = None;
    for o in overlays {
        if let Some(node) = o.tree.lookup(&["name"])
            && let Some(text) = node.scalar_text()
        {
            let template = interpolate::parse(&text, &node.at)?;
            if let interpolate::Evaluated::Text(v) | interpolate::Evaluated::Partial(v) =
                interpolate::evaluate(&template, env, &node.at)?
                && !v.is_empty()
            {
                file_name = Some((v, node.at.clone()));
            }
        }
    }
    let at = file_name
        .as_ref()
        .map_or_else(|| Location::synthetic("project name"), |(_, at)| at.clone());
    let names = NameSources {
        file: names.file.or(file_name.map(|(n, _)| n)),
        ..names
    };
    project::project_name(&names).map_err(|e| {
        Diagnostic::new(Kind::ProjectName, at, e.to_string())
            .with_help("pass a valid name with -p")
            .into()
    })
}

/// Keeps the services of the active profiles (those without a profile
/// always run; `*` activates every profile).
pub fn apply_profiles(project: &mut Project, active: &[String]) {
    let all = active.iter().any(|p| p == "*");
    project.services.retain(|_, s| {
        all || s.profiles.is_empty() || s.profiles.iter().any(|p| active.contains(p))
    });
}
