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
    /// Overlays: those marked `first`, then the others in file-name order.
    pub overlays: Vec<CatalogOverlay>,
}

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
}

impl Catalog {
    /// Loads every `*.yml` / `*.yaml` of `dir`. Errors of all files are reported together.
    pub fn load_dir(dir: &Path) -> Result<Catalog, Diagnostics> {
        let dir = dir.canonicalize().map_err(|e| io_error(dir, &e))?;
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| io_error(&dir, &e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
            .collect();
        paths.sort();
        let mut errors = Diagnostics::default();
        let mut overlays: Vec<CatalogOverlay> = Vec::new();
        for path in paths {
            let file = path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(io_error(&path, &e));
                    continue;
                }
            };
            let overlay = match Overlay::parse(&file, &text) {
                Ok(o) => o,
                Err(e) => {
                    errors.0.extend(e);
                    continue;
                }
            };
            // Keys of the specification that the engine does not apply.
            errors
                .0
                .extend(mrs_compose::schema::unsupported(&overlay.tree));
            let rules = match OverlayRules::from_tree(&overlay.tree, &default_name(&file)) {
                Ok(r) => r,
                Err(e) => {
                    errors.0.extend(e);
                    continue;
                }
            };
            if let Some(other) = overlays.iter().find(|o| o.rules.name == rules.name) {
                errors.push(
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
            });
        }
        overlays.sort_by_key(|o| !o.rules.first);
        let catalog = Catalog { dir, overlays };
        errors.0.extend(catalog.check_rules());
        errors.into_result(catalog)
    }

    /// Rules that refer to overlays must name overlays of the catalog.
    fn check_rules(&self) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        for o in &self.overlays {
            for after in &o.rules.after {
                if self.get(&after.value).is_none() {
                    let mut d = Diagnostic::new(
                        Kind::Reference,
                        after.at.clone(),
                        format!(
                            "`x-mrs.after` names `{}`, which is not an overlay of {}",
                            after.value,
                            self.dir.display()
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
