//! The overlay catalog: every overlay of a folder, parsed once, with its
//! rules. The build script writes it to `OUT_DIR`; the `deployment!` macro
//! reads it and never parses YAML itself.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use mrs_compose::error::{Diagnostic, Diagnostics, Kind, did_you_mean};
use mrs_compose::{Location, Overlay, Sources};

use crate::rules::OverlayRules;

/// The file name the build script writes the catalog to, in `OUT_DIR`.
pub const FILE_NAME: &str = "mrs-catalog.json";

/// All overlays of a folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Catalog {
    /// The folder, absolute.
    pub dir: PathBuf,
    /// The workspace the environments' files are relative to (clashes name
    /// files relative to it); empty when unknown.
    #[serde(default)]
    pub root: PathBuf,
    /// The folder as errors show it (relative to the workspace, like
    /// `deployments/compose`); empty shows bare file names.
    #[serde(default)]
    pub shown_dir: String,
    /// Overlays: those marked `first`, then the others in file-name order.
    pub overlays: Vec<CatalogOverlay>,
    /// Clashes between environments deployed to one host, found by the
    /// build script; each environment's macro reports its own.
    #[serde(default)]
    pub clashes: Vec<Clash>,
}

/// Two environments on one host that would get in each other's way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clash {
    /// The file of the environment that reports it, relative to the workspace.
    pub file: String,
    /// What they share.
    pub what: ClashKind,
    /// The shared value (the project name, the home, the host port).
    pub value: String,
    /// The other environment's value, when it differs (a home inside the other).
    pub other_value: String,
    /// The other environment's name.
    pub other: String,
    /// Where the other environment is (`deployments/ecole.rs:1:1`).
    pub other_at: String,
    /// The host both deploy to.
    pub host: String,
}

/// What two environments on one host share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClashKind {
    /// The compose project name: one would replace the other's containers.
    Project,
    /// The home (or one inside the other): one would write into the other's data.
    Home,
    /// A published host port: the second would fail to start.
    HostPort,
    /// The environment's name.
    Name,
}

/// Why a folder of overlays does not load: files that are not valid
/// compose files, and `x-mrs` rules that do not parse or name nothing.
#[derive(Debug, Default)]
pub struct LoadError {
    /// YAML, schema and interpolation-syntax errors, and unreadable files.
    pub files: Diagnostics,
    /// Errors in `x-mrs` fields.
    pub rules: Diagnostics,
    /// The files' text, to quote them.
    pub sources: Sources,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self
            .files
            .iter()
            .chain(self.rules.iter())
            .map(ToString::to_string)
            .collect();
        f.write_str(&all.join("\n"))
    }
}

impl std::error::Error for LoadError {}

/// One overlay with its rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogOverlay {
    /// The rules from its `x-mrs` field.
    pub rules: OverlayRules,
    /// Absolute path of the file (tracked by the macro's expansion).
    pub path: PathBuf,
    /// The parsed overlay.
    pub overlay: Overlay,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The file as errors show it (relative to the workspace); empty shows its name.
    #[serde(default)]
    pub shown: String,
}

impl Catalog {
    /// Loads every `*.yml` / `*.yaml` of `dir`. Errors of all files are
    /// reported together; an overlay that does not load is still known by
    /// name, so that no other overlay's rules are refused for naming it.
    pub fn load_dir(dir: &Path) -> Result<Catalog, LoadError> {
        let mut errors = LoadError::default();
        let dir = dir.canonicalize().map_err(|e| {
            errors.files.push(io_error(dir, &e));
            std::mem::take(&mut errors)
        })?;
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| {
                errors.files.push(io_error(&dir, &e));
                std::mem::take(&mut errors)
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
            .collect();
        paths.sort();
        let mut overlays: Vec<CatalogOverlay> = Vec::new();
        let mut broken: Vec<String> = Vec::new();
        for path in paths {
            let file = path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.files.push(io_error(&path, &e));
                    broken.push(default_name(&file));
                    continue;
                }
            };
            errors.sources.insert(mrs_compose::Source {
                name: file.as_str().into(),
                text: text.clone(),
            });
            let overlay = match Overlay::parse(&file, &text) {
                Ok(o) => o,
                Err(e) => {
                    errors.files.0.extend(e);
                    broken.push(default_name(&file));
                    continue;
                }
            };
            // Keys of the specification that the engine does not apply.
            errors
                .files
                .0
                .extend(mrs_compose::schema::unsupported(&overlay.tree));
            let rules = match OverlayRules::from_tree(&overlay.tree, &default_name(&file)) {
                Ok(r) => r,
                Err(e) => {
                    errors.rules.0.extend(e);
                    let named = overlay
                        .tree
                        .lookup(&["x-mrs", "overlay"])
                        .and_then(mrs_compose::Node::as_str)
                        .map_or_else(|| default_name(&file), str::to_owned);
                    broken.push(named);
                    continue;
                }
            };
            if let Some(other) = overlays.iter().find(|o| o.rules.name == rules.name) {
                errors.rules.push(
                    Diagnostic::new(
                        Kind::Reference,
                        rules
                            .at
                            .clone()
                            .unwrap_or_else(|| Location::new(file.as_str().into(), 1, 1)),
                        format!(
                            "overlay name `{}` is also used by {}",
                            rules.name, other.overlay.source.name
                        ),
                    )
                    .with_help("give one of them another `x-mrs.overlay` name"),
                );
                continue;
            }
            let sha256 = hex(&Sha256::digest(text.as_bytes()));
            overlays.push(CatalogOverlay {
                rules,
                path,
                overlay,
                sha256,
                shown: String::new(),
            });
        }
        overlays.sort_by_key(|o| !o.rules.first);
        let catalog = Catalog {
            dir,
            root: PathBuf::new(),
            shown_dir: String::new(),
            overlays,
            clashes: Vec::new(),
        };
        errors.rules.0.extend(catalog.check_rules(&broken));
        if errors.files.is_empty() && errors.rules.is_empty() {
            Ok(catalog)
        } else {
            Err(errors)
        }
    }

    /// Rules that refer to overlays must name overlays of the catalog (or
    /// ones in `broken`, which did not load and were reported already).
    fn check_rules(&self, broken: &[String]) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        for o in &self.overlays {
            for after in &o.rules.after {
                if self.get(&after.value).is_none() && !broken.contains(&after.value) {
                    let mut d = Diagnostic::new(
                        Kind::Reference,
                        after.at.clone(),
                        format!(
                            "`x-mrs.after` names `{}`, and no overlay of this folder has that name",
                            after.value
                        ),
                    );
                    if let Some(s) = did_you_mean(&after.value, self.names()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    errors.push(d);
                }
            }
        }
        errors
    }

    /// Sets the workspace the catalog's files are shown relative to.
    pub fn set_root(&mut self, root: &Path) {
        self.root = root.to_owned();
        self.shown_dir = relative(root, &self.dir).unwrap_or_default();
        for o in &mut self.overlays {
            o.shown = relative(root, &o.path).unwrap_or_default();
        }
    }

    /// The overlay named `name`.
    pub fn get(&self, name: &str) -> Option<&CatalogOverlay> {
        self.overlays.iter().find(|o| o.rules.name == name)
    }

    /// Overlay names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.overlays.iter().map(|o| o.rules.name.as_str())
    }

    /// The overlays' text, for snippets.
    pub fn sources(&self) -> Sources {
        let mut s = Sources::default();
        for o in &self.overlays {
            s.insert(o.overlay.source.clone());
        }
        s
    }

    /// Serialises the catalog.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a catalog written by [`Catalog::to_json`].
    pub fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// `docker-compose.yml` and `compose.yml` are `base`; `docker-compose.NAME.yml` is `NAME`.
pub fn default_name(file: &str) -> String {
    let stem = file.trim_end_matches(".yml").trim_end_matches(".yaml");
    let rest = stem
        .strip_prefix("docker-compose")
        .or_else(|| stem.strip_prefix("compose"))
        .unwrap_or(stem);
    match rest.strip_prefix('.') {
        Some(name) if !name.is_empty() => name.replace(['-', '.'], "_"),
        _ if rest.is_empty() => "base".to_owned(),
        _ => rest.replace(['-', '.'], "_"),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        Kind::Io,
        Location::synthetic(&path.display().to_string()),
        format!("cannot read {}: {e}", path.display()),
    )
}

/// `path` relative to `root`, with `/` separators (both made absolute first).
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_overlays_after_their_files() {
        assert_eq!(default_name("docker-compose.yml"), "base");
        assert_eq!(default_name("compose.yaml"), "base");
        assert_eq!(default_name("docker-compose.persist.yml"), "persist");
        assert_eq!(default_name("extra.yml"), "extra");
    }

    #[test]
    fn a_broken_overlay_gives_one_error_and_no_follow_on() {
        let dir = std::env::temp_dir().join(format!("mrs-broken-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        // base does not parse; mail names it in `after`, and is not refused for it.
        std::fs::write(dir.join("docker-compose.yml"), "services:\n  web: [\n").expect("write");
        std::fs::write(
            dir.join("docker-compose.mail.yml"),
            "x-mrs:\n  after: [base]\nservices:\n  mail:\n    image: m:1\n",
        )
        .expect("write");
        let e = Catalog::load_dir(&dir).expect_err("broken");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((e.files.0.len(), e.rules.0.len()), (1, 0), "{e}");
        assert!(e.sources.get("docker-compose.yml").is_some());
    }

    #[test]
    fn loads_the_deployments_overlays() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployments/compose");
        let catalog = match Catalog::load_dir(&dir) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let names: Vec<&str> = catalog.names().collect();
        assert_eq!(names, ["base", "maildev", "persist", "traefik"]);
        assert!(catalog.get("base").is_some_and(|b| b.rules.first));
        let back = Catalog::from_json(&catalog.to_json()).expect("round trip");
        assert_eq!(back.overlays.len(), 4);
    }
}
