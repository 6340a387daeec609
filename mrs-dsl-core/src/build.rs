//! What an environments crate's build script calls.
//!
//! [`run`] parses every overlay of a folder once, turns any YAML or schema
//! error into a build error with file:line:col, writes the catalog the
//! `deployment!` macro reads, asks cargo to rerun when an overlay changes,
//! and checks the environments against each other (rule 7): environments
//! that declare the same host must not share a project name, a home or a
//! published host port.

use std::path::{Path, PathBuf};

use mrs_env::Catalog;
use mrs_env::catalog::FILE_NAME;

/// Build-script entry point: `mrs_dsl::build::run("deployments/compose")`.
/// Environments are the `.rs` files of the overlay folder's parent that
/// contain `deployment!`. Exits the build script with errors on failure.
pub fn run(overlays: &str) {
    if let Err(e) = try_run(Path::new(overlays)) {
        for line in e.lines() {
            println!("cargo::error={line}");
        }
        eprintln!("{e}");
        std::process::exit(1);
    }
}

/// [`run`] returning the error text instead of exiting.
pub fn try_run(overlays: &Path) -> Result<(), String> {
    #[allow(clippy::disallowed_methods)]
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    #[allow(clippy::disallowed_methods)]
    let out_dir = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .ok_or("OUT_DIR is not set: run this from a build script")?;
    let dir = manifest.join(overlays);
    println!("cargo::rerun-if-changed={}", dir.display());
    let catalog = Catalog::load_dir(&dir).map_err(|e| {
        let sources = sources_of(&dir);
        e.render(&sources)
    })?;
    for o in &catalog.overlays {
        println!("cargo::rerun-if-changed={}", o.path.display());
    }
    std::fs::write(out_dir.join(FILE_NAME), catalog.to_json())
        .map_err(|e| format!("cannot write the catalog: {e}"))?;
    let env_dir = dir.parent().unwrap_or(&dir);
    println!("cargo::rerun-if-changed={}", env_dir.display());
    crate::build::cross::check_dir(env_dir, &catalog)
}

fn sources_of(dir: &Path) -> mrs_compose::Sources {
    let mut sources = mrs_compose::Sources::default();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if let (Some(name), Ok(text)) = (
                path.file_name().and_then(|n| n.to_str()),
                std::fs::read_to_string(&path),
            ) {
                sources.insert(mrs_compose::Source {
                    name: name.into(),
                    text,
                });
            }
        }
    }
    sources
}

pub mod cross;
