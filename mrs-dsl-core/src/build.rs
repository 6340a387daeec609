//! What an environments crate's build script calls.
//!
//! [`run`] parses every overlay of a folder once, writes the catalog the
//! `deployment!` macro reads, asks cargo to rerun when an overlay or an
//! environment changes, and records in the catalog the clashes between
//! environments deployed to one host ([`cross`]), which each environment's
//! macro reports on its own tokens.
//!
//! Errors in the overlays themselves ([`rules::OVERLAY_FILE`]: YAML, the
//! Compose Specification, `${...}` syntax; [`rules::OVERLAY_RULES`]: the
//! `x-mrs` field) are printed once, rustc-like with the offending line and a
//! caret, and fail the build before any environment is compiled.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mrs_compose::{Diagnostic, Location, Sources};
use mrs_env::Catalog;
use mrs_env::catalog::{FILE_NAME, LoadError};

use crate::rules::{self, Rule};

/// Build-script entry point: `mrs_dsl::build::run("deployments/compose")`,
/// the folder relative to the crate. Environments are the `.rs` files of the
/// folder's parent that contain `deployment!`. On errors, cargo prints them
/// and fails the build.
pub fn run(overlays: &str) {
    if let Err(e) = try_run(Path::new(overlays)) {
        // Logged errors fail the build once the script ends; exiting with an
        // error status as well would make cargo print them a second time.
        for line in e.lines() {
            println!("cargo::error={line}");
        }
    }
}

/// [`run`] returning the error text instead of printing it.
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
    let shown = overlays.display().to_string();
    let mut catalog = load(&dir, &shown)?;
    for o in &catalog.overlays {
        println!("cargo::rerun-if-changed={}", o.path.display());
    }
    catalog.set_root(&manifest);
    let env_dir = dir.parent().unwrap_or(&dir);
    println!("cargo::rerun-if-changed={}", env_dir.display());
    let files = cross::environment_files(env_dir);
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.display());
    }
    catalog.clashes = cross::clashes(&files, &catalog);
    std::fs::write(out_dir.join(FILE_NAME), catalog.to_json())
        .map_err(|e| format!("cannot write the catalog: {e}"))
}

/// Loads the catalog of `dir`, shown as `shown` in errors; `Err` is every
/// error, rendered.
pub fn load(dir: &Path, shown: &str) -> Result<Catalog, String> {
    let mut catalog = Catalog::load_dir(dir).map_err(|e| render(&e, shown))?;
    catalog.shown_dir = shown.to_owned();
    Ok(catalog)
}

/// Every error of a folder that does not load, rustc-like.
pub fn render(e: &LoadError, shown_dir: &str) -> String {
    let all = e
        .files
        .iter()
        .map(|d| (rules::OVERLAY_FILE, d))
        .chain(e.rules.iter().map(|d| (rules::OVERLAY_RULES, d)));
    all.map(|(rule, d)| render_one(rule, d, &e.sources, shown_dir))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One error: the message, `--> file:line:col`, the line and a caret, help, rule.
fn render_one(rule: Rule, d: &Diagnostic, sources: &Sources, shown_dir: &str) -> String {
    let place = |at: &Location| {
        if at.is_synthetic() || shown_dir.is_empty() {
            at.to_string()
        } else {
            format!("{}/{at}", shown_dir.trim_end_matches('/'))
        }
    };
    let line = sources
        .get(&d.at.file)
        .and_then(|s| s.line(d.at.line))
        .map(str::to_owned);
    let width = d.at.line.to_string().len();
    let pad = " ".repeat(width);
    let mut out = format!("{}\n{pad}--> {}", d.message, place(&d.at));
    if let Some(text) = line {
        let col = usize::try_from(d.at.col.saturating_sub(1)).unwrap_or(0);
        let indent: String = text
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = write!(out, "\n{pad} |\n{} | {text}\n{pad} | {indent}^", d.at.line);
    }
    if let Some(help) = &d.help {
        let _ = write!(out, "\n{pad} = help: {help}");
    }
    let _ = write!(out, "\n{pad} = rule: {}", rule.id);
    out
}

pub mod cross;
