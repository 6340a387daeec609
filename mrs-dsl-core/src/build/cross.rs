//! Environments deployed to one host, against each other: the build script
//! reads and lowers every environment (as the macro does, its errors left
//! to the macro), and records what two of them on one host share (a project
//! name, a home, a published host port, a name) as clashes in the catalog.
//! Each environment's macro then reports its own side, on its own token
//! (`check/cross_env.rs`).

use std::path::{Path, PathBuf};

use mrs_compose::ports::PortMapping;
use mrs_env::Catalog;
use mrs_env::catalog::{Clash, ClashKind};
use mrs_env::spec::Persistence;

use crate::ctxt::Ctxt;
use crate::lower::Mapped;

/// One environment found in a file, as far as it lowers.
struct Found {
    file: String,
    at: String,
    name: String,
    host: String,
    project: Option<String>,
    home: Option<String>,
    ports: Vec<PortMapping>,
}

/// The `.rs` files of `dir` that contain `deployment!`, sorted.
pub fn environment_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("deployment!")))
        .collect();
    files.sort();
    files
}

/// The clashes between the environments of `files` that deploy to one host.
pub fn clashes(files: &[PathBuf], catalog: &Catalog) -> Vec<Clash> {
    let found: Vec<Found> = files
        .iter()
        .flat_map(|f| environments_in(f, catalog))
        .collect();
    let mut out = Vec::new();
    for (i, a) in found.iter().enumerate() {
        for b in &found[i + 1..] {
            if a.host == b.host && a.file != b.file {
                compare(a, b, &mut out);
                compare(b, a, &mut out);
            }
        }
    }
    out
}

/// What `a` shares with `b`, as `a`'s clashes.
fn compare(a: &Found, b: &Found, out: &mut Vec<Clash>) {
    let clash = |what, value: &str, other_value: &str| Clash {
        file: a.file.clone(),
        what,
        value: value.to_owned(),
        other_value: other_value.to_owned(),
        other: b.name.clone(),
        other_at: b.at.clone(),
        host: a.host.clone(),
    };
    if a.name == b.name {
        out.push(clash(ClashKind::Name, &a.name, &b.name));
    }
    if let (Some(pa), Some(pb)) = (&a.project, &b.project)
        && pa == pb
    {
        out.push(clash(ClashKind::Project, pa, pb));
    }
    if let (Some(ha), Some(hb)) = (&a.home, &b.home) {
        let inside = |x: &str, y: &str| x == y || x.starts_with(&format!("{y}/"));
        if inside(ha, hb) || inside(hb, ha) {
            out.push(clash(ClashKind::Home, ha, hb));
        }
    }
    for pa in &a.ports {
        if let Some(pb) = b.ports.iter().find(|pb| crate::check::collides(pa, pb)) {
            out.push(clash(ClashKind::HostPort, &pa.to_string(), &pb.to_string()));
        }
    }
}

/// Every `deployment!` of a file that declares a name and a host.
fn environments_in(file: &Path, catalog: &Catalog) -> Vec<Found> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(parsed) = syn::parse_file(&text) else {
        return Vec::new(); // rustc reports it
    };
    let shown =
        crate::relative_to(&catalog.root, file).unwrap_or_else(|| file.display().to_string());
    let mut out = Vec::new();
    for item in parsed.items {
        let syn::Item::Macro(m) = item else { continue };
        let Some(last) = m.mac.path.segments.last() else {
            continue;
        };
        if last.ident != "deployment" {
            continue;
        }
        let start = m
            .mac
            .path
            .segments
            .first()
            .map_or(proc_macro2::LineColumn { line: 1, column: 0 }, |s| {
                s.ident.span().start()
            });
        let Ok(input) = syn::parse2::<crate::read::ast::Input>(m.mac.tokens.clone()) else {
            continue;
        };
        // The macro reports this environment's own mistakes.
        let cx = Ctxt::new();
        let env = crate::read::Environment::from_ast(&cx, &input);
        let lowered = crate::lower::lower(&env, catalog, None);
        let _ = cx.check();
        let (Some(name), Some(host)) = (env.name, env.host) else {
            continue;
        };
        let (project, home) = match &lowered.persistence {
            Some(p @ Persistence::Persistent { project, .. }) => {
                (Some(project.clone()), Some(p.home(project)))
            }
            Some(p @ Persistence::Ephemeral { project, .. }) => {
                (Some(project.clone()), Some(p.home(project)))
            }
            None => (None, None),
        };
        let ports = lowered
            .ports
            .iter()
            .filter_map(|e| match &e.mapped {
                Mapped::Ports(m) => Some(m.iter().filter(|p| p.published.is_some())),
                _ => None,
            })
            .flatten()
            .cloned()
            .collect();
        out.push(Found {
            file: shown.clone(),
            at: format!("{shown}:{}:{}", start.line, start.column + 1),
            name: name.to_string(),
            host: host.value(),
            project,
            home: home.map(|h| h.display().to_string()),
            ports,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut c =
            match crate::build::load(&root.join("deployments/compose"), "deployments/compose") {
                Ok(c) => c,
                Err(e) => panic!("{e}"),
            };
        c.set_root(&std::env::temp_dir());
        c
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
    fn the_real_environments_do_not_clash() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployments");
        assert_eq!(clashes(&environment_files(&dir), &catalog()), []);
    }

    #[test]
    fn same_host_same_name_home_project_and_port_clash_on_both_sides() {
        let staging =
            real("staging.rs").replace("build: none }", "build: none, ports: [\"8080:8000\"] }");
        let dir = env_dir(
            "clash",
            &[("staging.rs", staging.clone()), ("twin.rs", staging)],
        );
        let found = clashes(&environment_files(&dir), &catalog());
        let kinds = |file: &str| -> Vec<ClashKind> {
            found
                .iter()
                .filter(|c| c.file.ends_with(file))
                .map(|c| c.what)
                .collect()
        };
        let all = [
            ClashKind::Name,
            ClashKind::Project,
            ClashKind::Home,
            ClashKind::HostPort,
        ];
        assert_eq!(kinds("/staging.rs"), all);
        assert_eq!(kinds("/twin.rs"), all);
        let port = found
            .iter()
            .find(|c| c.what == ClashKind::HostPort)
            .expect("port clash");
        assert_eq!(port.value, "8080:8000/tcp");
        assert!(port.other_at.ends_with(".rs:1:1"), "{}", port.other_at);
        assert!(
            !port.other_at.starts_with('/'),
            "relative: {}",
            port.other_at
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn different_hosts_do_not_clash() {
        let staging = real("staging.rs");
        let elsewhere = staging.replace("env: staging", "env: other").replace(
            "host: \"staging.mrs.beta.gouv.fr\"",
            "host: \"other.example\"",
        );
        let dir = env_dir("apart", &[("staging.rs", staging), ("other.rs", elsewhere)]);
        assert_eq!(clashes(&environment_files(&dir), &catalog()), []);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
