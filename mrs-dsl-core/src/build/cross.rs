//! Rule 7: environments that deploy to the same host must not collide.
//!
//! Staging and ecole can share a server; they must not share a compose
//! project (one would replace the other's containers), a home (one would
//! write into the other's data) or a published host port (the second would
//! fail to start). Each environment alone cannot see the others, so the
//! build script checks them together.

use std::path::{Path, PathBuf};

use mrs_compose::ports::PortMapping;
use mrs_env::Catalog;
use mrs_env::spec::{EnvSpec, Persistence};

use crate::check::collides;
use crate::ctxt::Ctxt;

/// One environment found in a file.
struct Found {
    spec: EnvSpec,
    file: PathBuf,
    line: usize,
    column: usize,
}

/// Checks the environments in the `.rs` files of `dir` against each other.
pub fn check_dir(dir: &Path, catalog: &Catalog) -> Result<(), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        println!("cargo::rerun-if-changed={}", file.display());
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if !text.contains("deployment!") {
            continue;
        }
        found.extend(environments_in(&file, &text, catalog));
    }
    let errors = collisions(&found);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Every `deployment!` of a file that checks on its own (the macro reports the others).
fn environments_in(file: &Path, text: &str, catalog: &Catalog) -> Vec<Found> {
    let Ok(parsed) = syn::parse_file(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in parsed.items {
        let syn::Item::Macro(m) = item else { continue };
        if m.mac
            .path
            .segments
            .last()
            .is_none_or(|s| s.ident != "deployment")
        {
            continue;
        }
        let start = m
            .mac
            .path
            .segments
            .first()
            .map(|s| s.ident.span().start())
            .unwrap_or(proc_macro2::LineColumn { line: 1, column: 0 });
        let Ok(input) = syn::parse2::<crate::ast::Input>(m.mac.tokens.clone()) else {
            continue;
        };
        let cx = Ctxt::new();
        let env = crate::env::Environment::from_ast(&cx, &input);
        let checked = crate::check::check(&cx, &env, catalog);
        if cx.check().is_err() {
            continue;
        }
        if let Some(c) = checked {
            out.push(Found {
                spec: c.spec,
                file: file.to_owned(),
                line: start.line,
                column: start.column + 1,
            });
        }
    }
    out
}

/// Published ports, from the same typed decode the binary uses (ports are literal: rule 4).
fn published(spec: &EnvSpec) -> Vec<PortMapping> {
    let Ok(project) = mrs_compose::project::decode(&spec.tree) else {
        return Vec::new();
    };
    project
        .services
        .into_values()
        .flat_map(|s| s.ports)
        .filter(|p| p.published.is_some())
        .collect()
}

fn project_and_home(spec: &EnvSpec) -> (String, String) {
    match &spec.persistence {
        Persistence::Persistent { home, project } => (project.clone(), home.clone()),
        Persistence::Ephemeral { project, root, .. } => (
            project.clone(),
            format!("{}/{project}", root.trim_end_matches('/')),
        ),
    }
}

fn collisions(found: &[Found]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, a) in found.iter().enumerate() {
        for b in &found[i + 1..] {
            let (Some(host_a), Some(host_b)) = (&a.spec.host, &b.spec.host) else {
                continue;
            };
            if host_a != host_b {
                continue;
            }
            let where_ = |f: &Found| format!("{}:{}:{}", f.file.display(), f.line, f.column);
            let head = format!(
                "environments `{}` ({}) and `{}` ({}) both deploy to `{host_a}`",
                a.spec.name,
                where_(a),
                b.spec.name,
                where_(b)
            );
            let (pa, ha) = project_and_home(&a.spec);
            let (pb, hb) = project_and_home(&b.spec);
            if pa == pb {
                errors.push(format!("{head} and share the project name `{pa}`: one would replace the other's containers"));
            }
            if ha == hb || ha.starts_with(&format!("{hb}/")) || hb.starts_with(&format!("{ha}/")) {
                errors.push(format!("{head} and share the home `{ha}` / `{hb}`: one would write into the other's data"));
            }
            for pa in published(&a.spec) {
                if let Some(pb) = published(&b.spec).into_iter().find(|pb| collides(&pa, pb)) {
                    errors.push(format!("{head} and both publish host port `{pa}` / `{pb}`: the second would fail to start"));
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployments/compose");
        match Catalog::load_dir(&dir) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn env_dir(name: &str, files: &[(&str, String)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mrs-cross-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        for (f, text) in files {
            std::fs::write(dir.join(f), text).expect("write");
        }
        dir
    }

    fn real(name: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../deployments")
                .join(name),
        )
        .expect("read")
    }

    #[test]
    fn the_real_environments_do_not_collide() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployments");
        assert_eq!(check_dir(&dir, &catalog()), Ok(()));
    }

    #[test]
    fn same_host_same_home_project_and_port_collide() {
        let staging =
            real("staging.rs").replace("build: none }", "build: none, ports: [\"8080:8000\"] }");
        let twin = staging.replace("env: staging", "env: twin");
        let dir = env_dir("collide", &[("staging.rs", staging), ("twin.rs", twin)]);
        let errors = check_dir(&dir, &catalog()).expect_err("they collide");
        assert!(errors.contains("environments `staging`"), "{errors}");
        assert!(
            errors.contains("share the project name `mrs-staging`"),
            "{errors}"
        );
        assert!(
            errors.contains("share the home `/home/mrs-staging`"),
            "{errors}"
        );
        assert!(
            errors.contains("both publish host port `8080:8000/tcp`"),
            "{errors}"
        );
        assert!(
            errors.contains("staging.rs:1:1"),
            "the error names the file, line and column: {errors}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn different_hosts_do_not_collide() {
        let staging = real("staging.rs");
        let elsewhere = staging.replace("env: staging", "env: other").replace(
            "host: \"staging.mrs.beta.gouv.fr\"",
            "host: \"other.example\"",
        );
        let dir = env_dir("apart", &[("staging.rs", staging), ("other.rs", elsewhere)]);
        assert_eq!(check_dir(&dir, &catalog()), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
