//! Relative paths of a compose file made absolute, as compose does when it
//! loads a project (compose-go's `paths.ResolveRelativePaths`).
//!
//! Each file is resolved against its own working directory before it is
//! merged: the project directory for the files given with `-f`, the
//! included project's directory for an `include`d file, the file's own
//! directory for a file named by `extends.file`. Resolved: `build.context`
//! (unless remote) and local `build.additional_contexts`, `env_file`,
//! `label_file`, `extends.file`, bind-mount sources, `develop.watch` paths,
//! and the `file` of secrets and configs.

use std::path::Path;

use crate::node::{Map, Node, Value};
use crate::project::resolve_path;
use crate::volumes;

/// Whether a build context is remote (a URL or a git repository).
pub fn is_remote_context(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.starts_with("github.com/")
}

/// Makes every relative path of a compose file's tree absolute against `dir`.
pub fn resolve_tree(tree: &mut Node, dir: &Path) {
    let Some(root) = tree.as_map_mut() else {
        return;
    };
    if let Some(services) = root.get_mut("services").and_then(Node::as_map_mut) {
        for (_, service) in services.iter_mut() {
            if let Some(service) = service.as_map_mut() {
                resolve_service(service, dir);
            }
        }
    }
    for section in ["secrets", "configs"] {
        let entries = root.get_mut(section).and_then(Node::as_map_mut);
        for (_, entry) in entries.into_iter().flat_map(Map::iter_mut) {
            if let Some(file) = entry.as_map_mut().and_then(|m| m.get_mut("file")) {
                absolute(file, dir);
            }
        }
    }
}

fn resolve_service(service: &mut Map, dir: &Path) {
    if let Some(build) = service.get_mut("build") {
        resolve_build(build, dir);
    }
    for key in ["env_file", "label_file"] {
        let Some(node) = service.get_mut(key) else {
            continue;
        };
        if let Value::Seq(items) = &mut node.value {
            for item in items {
                match item.as_map_mut().and_then(|m| m.get_mut("path")) {
                    Some(path) => absolute(path, dir),
                    None => absolute(item, dir),
                }
            }
        } else {
            absolute(node, dir);
        }
    }
    if let Some(file) = service
        .get_mut("extends")
        .and_then(Node::as_map_mut)
        .and_then(|m| m.get_mut("file"))
    {
        absolute(file, dir);
    }
    if let Some(Value::Seq(items)) = service.get_mut("volumes").map(|n| &mut n.value) {
        for item in items {
            resolve_volume(item, dir);
        }
    }
    let watch = service
        .get_mut("develop")
        .and_then(Node::as_map_mut)
        .and_then(|m| m.get_mut("watch"));
    if let Some(Value::Seq(rules)) = watch.map(|n| &mut n.value) {
        for rule in rules {
            if let Some(path) = rule.as_map_mut().and_then(|m| m.get_mut("path")) {
                absolute(path, dir);
            }
        }
    }
}

fn resolve_build(build: &mut Node, dir: &Path) {
    match &mut build.value {
        Value::Str(context) if !is_remote_context(context) => {
            *context = resolve_path(context, dir).display().to_string();
        }
        Value::Map(map) => {
            match map.get_mut("context") {
                Some(context) => {
                    if !context.as_str().is_some_and(is_remote_context) {
                        absolute(context, dir);
                    }
                }
                // compose-go: the context defaults to the working directory.
                None => {
                    let at = build.at.clone();
                    map.insert(
                        "context".into(),
                        at.clone(),
                        Node::string(dir.display().to_string(), at),
                    );
                }
            }
            let contexts = map.get_mut("additional_contexts");
            match contexts.map(|n| &mut n.value) {
                Some(Value::Map(contexts)) => {
                    for (_, context) in contexts.iter_mut() {
                        if context.as_str().is_some_and(is_local_context) {
                            absolute(context, dir);
                        }
                    }
                }
                Some(Value::Seq(items)) => {
                    for item in items {
                        if let Value::Str(text) = &mut item.value
                            && let Some((name, context)) = text.split_once('=')
                            && is_local_context(context)
                        {
                            *text = format!("{name}={}", resolve_path(context, dir).display());
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// An additional context that is a folder (not an image, a URL or a stage).
fn is_local_context(context: &str) -> bool {
    !is_remote_context(context) && !context.contains(':')
}

fn resolve_volume(item: &mut Node, dir: &Path) {
    match &mut item.value {
        Value::Str(spec) => {
            let Some((source, rest)) = spec.split_once(':') else {
                return;
            };
            if volumes::is_path(source) && !Path::new(source).is_absolute() {
                *spec = format!("{}:{rest}", resolve_path(source, dir).display());
            }
        }
        Value::Map(map) => {
            let is_bind = map.get("type").and_then(Node::as_str) == Some("bind");
            if is_bind && let Some(source) = map.get_mut("source") {
                absolute(source, dir);
            }
        }
        _ => {}
    }
}

/// Makes a string node's path absolute (other nodes are left to the typed decode).
fn absolute(node: &mut Node, dir: &Path) {
    if let Value::Str(path) = &mut node.value
        && !path.is_empty()
    {
        *path = resolve_path(path, dir).display().to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    #[test]
    fn relative_paths_become_absolute() {
        let mut tree = load(
            "c.yml",
            "services:\n  a:\n    build: ./app\n    env_file: [.env, {path: ../x.env, required: false}]\n    extends: {file: base.yml, service: b}\n    volumes: ['./data:/data:ro', 'named:/n', {type: bind, source: ./logs, target: /logs}, '/abs:/abs']\n  b:\n    build: {dockerfile: Dockerfile.dev, additional_contexts: {lib: ../lib, img: 'docker-image://alpine'}}\n  c:\n    build: https://github.com/a/b.git\nsecrets:\n  s: {file: ./s.txt}\n",
        )
        .expect("yaml");
        resolve_tree(&mut tree, Path::new("/p/q"));
        let get = |path: &[&str]| tree.lookup(path).and_then(Node::as_str).map(str::to_owned);
        assert_eq!(
            get(&["services", "a", "build"]).as_deref(),
            Some("/p/q/app")
        );
        assert_eq!(
            get(&["services", "a", "extends", "file"]).as_deref(),
            Some("/p/q/base.yml")
        );
        assert_eq!(
            get(&["services", "b", "build", "context"]).as_deref(),
            Some("/p/q")
        );
        assert_eq!(
            get(&["services", "b", "build", "additional_contexts", "lib"]).as_deref(),
            Some("/p/lib")
        );
        assert_eq!(
            get(&["services", "b", "build", "additional_contexts", "img"]).as_deref(),
            Some("docker-image://alpine")
        );
        assert_eq!(
            get(&["services", "c", "build"]).as_deref(),
            Some("https://github.com/a/b.git")
        );
        assert_eq!(
            get(&["secrets", "s", "file"]).as_deref(),
            Some("/p/q/s.txt")
        );
        // A string item, or the `field` of a long one.
        let items = |path: &[&str], field: &str| -> Vec<String> {
            let seq = tree.lookup(path).and_then(Node::as_seq).unwrap_or_default();
            seq.iter()
                .filter_map(|n| {
                    n.as_str()
                        .or_else(|| n.lookup(&[field]).and_then(Node::as_str))
                })
                .map(str::to_owned)
                .collect()
        };
        let env = items(&["services", "a", "env_file"], "path");
        assert_eq!(env, ["/p/q/.env", "/p/x.env"]);
        let volumes = items(&["services", "a", "volumes"], "source");
        assert_eq!(
            volumes,
            ["/p/q/data:/data:ro", "named:/n", "/p/q/logs", "/abs:/abs"]
        );
    }
}
