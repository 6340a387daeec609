//! Loading from disk: `env_file`, `include`, `extends.file`, relative
//! paths, the project name. Expected values follow the Compose
//! Specification's chapters on these keys.

use std::path::{Path, PathBuf};

use mrs_compose::loader::{self, Options};
use mrs_compose::project::{self, Loaded};
use mrs_compose::{Diagnostics, Kind, Sources};

/// A fresh folder with `files` written in it.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("mrs-compose-files-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    dir
}

fn load_in(
    dir: &Path,
    files: &[&str],
    name: Option<&str>,
    vars: &[(&str, &str)],
) -> Result<Loaded, Diagnostics> {
    let files: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let env = project::vars_from(vars);
    let mut sources = Sources::default();
    loader::load_files(
        &Options {
            files: &files,
            project_dir: None,
            env: &env,
            project_name: name,
            profiles: &[],
        },
        &mut sources,
    )
}

fn env_of<'a>(l: &'a Loaded, service: &str) -> Vec<(&'a str, Option<&'a str>)> {
    l.project.services[service]
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect()
}

#[test]
fn env_files_are_read_into_the_environment() {
    let dir = folder(
        "env_file",
        &[
            (
                "compose.yml",
                "services:\n  a:\n    image: x\n    env_file:\n    - ./conf/a.env\n    - path: ./conf/missing.env\n      required: false\n    - path: ./conf/raw.env\n      format: raw\n    environment:\n      B: from-environment\n      HOME_DIR:\n",
            ),
            ("conf/a.env", "A=1\nB=from-file\nC=${A}-${OUTER}\n"),
            ("conf/raw.env", "R='kept' ${A}\n"),
        ],
    );
    let l = load_in(
        &dir,
        &["compose.yml"],
        Some("p"),
        &[("OUTER", "o"), ("HOME_DIR", "/home/u")],
    )
    .expect("valid");
    assert_eq!(
        env_of(&l, "a"),
        [
            ("A", Some("1")),
            ("B", Some("from-environment")),
            ("C", Some("1-o")),
            ("R", Some("'kept' ${A}")),
            ("HOME_DIR", Some("/home/u")),
        ]
    );
    // As `docker compose config`, the files are read, then forgotten.
    assert!(l.project.services["a"].env_file.is_empty());
}

#[test]
fn a_missing_required_env_file_is_an_error_at_its_entry() {
    let dir = folder(
        "env_file_missing",
        &[
            (
                "compose.yml",
                "services:\n  a:\n    image: x\n    env_file:\n    - ok.env\n    - nope.env\n",
            ),
            ("ok.env", "A=1\n"),
        ],
    );
    let e = load_in(&dir, &["compose.yml"], Some("p"), &[]).expect_err("missing");
    let d = e.iter().next().expect("one error");
    assert_eq!(d.kind, Kind::Io);
    assert!(d.at.to_string().ends_with("compose.yml:6:7"), "{}", d.at);
    assert!(d.message.contains("nope.env not found"), "{}", d.message);
}

#[test]
fn include_loads_a_project_of_its_own() {
    let dir = folder(
        "include",
        &[
            (
                "compose.yml",
                "include:\n  - db/compose.yml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n",
            ),
            (
                "db/compose.yml",
                "services:\n  db:\n    image: postgres:${PG_VERSION}\n    volumes: ['./data:/var/lib/postgresql/data', 'pg:/backup']\n    env_file: db.env\nvolumes:\n  pg: {}\n",
            ),
            ("db/.env", "PG_VERSION=16\n"),
            ("db/db.env", "POSTGRES_DB=app\n"),
        ],
    );
    let l = load_in(&dir, &["compose.yml"], Some("p"), &[]).expect("valid");
    let db = &l.project.services["db"];
    // Interpolated with the included project's own `.env`.
    assert_eq!(db.image.as_deref(), Some("postgres:16"));
    // Its relative paths are its own folder's.
    assert_eq!(
        db.volumes[0].source.as_deref(),
        Some(dir.join("db/data").to_str().expect("utf-8"))
    );
    assert_eq!(env_of(&l, "db"), [("POSTGRES_DB", Some("app"))]);
    assert!(l.project.volumes.contains_key("pg"));
    assert_eq!(l.project.services.keys().collect::<Vec<_>>(), ["web", "db"]);
}

#[test]
fn include_conflicts_and_cycles_are_errors() {
    let dir = folder(
        "include_errors",
        &[
            (
                "conflict.yml",
                "include: [other.yml]\nservices:\n  a:\n    image: mine\n",
            ),
            ("other.yml", "services:\n  a:\n    image: theirs\n"),
            ("cycle.yml", "include: [loop.yml]\nservices: {}\n"),
            (
                "loop.yml",
                "include: [cycle.yml]\nservices:\n  b: {image: x}\n",
            ),
        ],
    );
    let e = load_in(&dir, &["conflict.yml"], Some("p"), &[]).expect_err("conflict");
    assert!(
        e.to_string().contains("define the service `a` differently"),
        "{e}"
    );
    assert!(e.to_string().contains("conflict.yml:1:"), "{e}");
    let e = load_in(&dir, &["cycle.yml"], Some("p"), &[]).expect_err("cycle");
    let text = e.to_string();
    assert!(text.contains("include cycle detected"), "{text}");
    assert!(text.contains("cycle.yml includes"), "{text}");
}

#[test]
fn extends_from_another_file_keeps_that_files_paths() {
    let dir = folder(
        "extends_file",
        &[
            (
                "compose.yml",
                "services:\n  web:\n    extends:\n      file: common/base.yml\n      service: app\n    environment: [MODE=web]\n",
            ),
            (
                "common/base.yml",
                "services:\n  app:\n    extends: root\n    build: ./src\n    environment: [MODE=base, LOG=info]\n  root:\n    image: app:1\n    volumes: ['./cache:/cache']\n",
            ),
        ],
    );
    let l = load_in(&dir, &["compose.yml"], Some("p"), &[]).expect("valid");
    let web = &l.project.services["web"];
    assert_eq!(web.image.as_deref(), Some("app:1"));
    assert_eq!(
        web.build.as_ref().map(|b| b.context.as_str()),
        Some(dir.join("common/src").to_str().expect("utf-8"))
    );
    assert_eq!(
        web.volumes[0].source.as_deref(),
        Some(dir.join("common/cache").to_str().expect("utf-8"))
    );
    assert_eq!(
        env_of(&l, "web"),
        [("MODE", Some("web")), ("LOG", Some("info"))]
    );
}

#[test]
fn an_extends_cycle_across_files_names_the_chain() {
    let dir = folder(
        "extends_cycle",
        &[
            (
                "a.yml",
                "services:\n  x:\n    extends: {file: b.yml, service: y}\n",
            ),
            (
                "b.yml",
                "services:\n  y:\n    extends: {file: a.yml, service: x}\n",
            ),
        ],
    );
    let e = load_in(&dir, &["a.yml"], Some("p"), &[]).expect_err("cycle");
    let text = e.to_string();
    assert!(text.contains("circular reference: x in"), "{text}");
    assert!(text.contains("a.yml:3:14"), "{text}");
}

#[test]
fn an_empty_project_name_falls_back_to_the_folder() {
    let dir = folder(
        "My.Project",
        &[("compose.yml", "services:\n  a:\n    image: x\n")],
    );
    let l = load_in(&dir, &["compose.yml"], Some(""), &[]).expect("valid");
    assert_eq!(l.project.name.as_deref(), Some("myproject"));
}

#[test]
fn relative_paths_are_printed_absolute() {
    let dir = folder(
        "paths",
        &[(
            "compose.yml",
            "services:\n  a:\n    build: {context: ./app, dockerfile: Dockerfile.dev}\n    volumes: ['./data:/data']\n    secrets: [s]\nsecrets:\n  s:\n    file: ./secret.txt\n",
        )],
    );
    let l = load_in(&dir, &["compose.yml"], Some("p"), &[]).expect("valid");
    let a = &l.project.services["a"];
    let build = a.build.as_ref().expect("build");
    assert_eq!(build.context, dir.join("app").display().to_string());
    // The dockerfile stays relative to the context, as compose prints it.
    assert_eq!(build.dockerfile.as_deref(), Some("Dockerfile.dev"));
    assert_eq!(
        l.project.secrets["s"].file.as_deref(),
        Some(dir.join("secret.txt").to_str().expect("utf-8"))
    );
}

#[test]
fn label_files_are_read_into_the_labels() {
    let dir = folder(
        "label_file",
        &[
            (
                "compose.yml",
                "services:\n  a:\n    image: x\n    label_file: [./labels/base.labels, ./labels/more.labels]\n    labels:\n      tier: own\n",
            ),
            (
                "labels/base.labels",
                "tier=from-file\ncom.example.team=ops\n",
            ),
            ("labels/more.labels", "com.example.cost=7\n"),
        ],
    );
    let l = load_in(&dir, &["compose.yml"], Some("p"), &[]).expect("valid");
    let labels: Vec<(&str, &str)> = l.project.services["a"]
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("tier", "own"),
            ("com.example.team", "ops"),
            ("com.example.cost", "7")
        ]
    );
    assert!(
        !l.project.services["a"]
            .extensions
            .contains_key("label_file")
    );
    let missing = folder(
        "label_file_missing",
        &[(
            "compose.yml",
            "services:\n  a:\n    image: x\n    label_file: nope.labels\n",
        )],
    );
    let e = load_in(&missing, &["compose.yml"], Some("p"), &[]).expect_err("missing");
    assert!(e.to_string().contains("label file"), "{e}");
    assert!(e.to_string().contains("compose.yml:4:17"), "{e}");
}
