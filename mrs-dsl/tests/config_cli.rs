//! `mrs-dsl config` on the real MRS overlays, and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../mrs-compose/tests/fixtures/mrs-reference")
        .join(name)
        .display()
        .to_string()
}

fn config(args: &[&str], env: &[(&str, &str)]) -> Output {
    config_in(&std::env::temp_dir(), args, env)
}

fn config_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mrs-dsl"));
    c.current_dir(dir);
    c.arg("config")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run mrs-dsl")
}

const VARS: &[(&str, &str)] = &[
    ("HOST", "mrs.example"),
    ("HOST_SLUG", "mrs-example"),
    ("LISTEN", "128"),
    ("SECRET_KEY", "k"),
];

#[test]
fn prints_the_merged_project_in_canonical_form() {
    let base = fixture("docker-compose.yml");
    let persist = fixture("docker-compose.persist.yml");
    let out = config(
        &[
            "-f",
            &base,
            "-f",
            &persist,
            "-p",
            "mrs-staging",
            "--format",
            "json",
        ],
        VARS,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(p["name"], "mrs-staging");
    assert_eq!(p["services"]["django"]["environment"]["SECRET_KEY"], "k");
    assert_eq!(
        p["services"]["django"]["sysctls"]["net.core.somaxconn"],
        "128"
    );
    assert_eq!(
        p["services"]["django"]["labels"]["traefik.http.routers.mrs-example-https.tls"],
        "true"
    );
    // `$${1}` is written back escaped, so the output reads back as the same project.
    assert_eq!(
        p["services"]["django"]["labels"]["traefik.http.middlewares.mrs-example-redirect.redirectregex.replacement"],
        "https://www.mrs.example/$${1}"
    );
    // Relative bind sources are made absolute against the project folder.
    let source = p["services"]["django"]["volumes"][0]["source"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        source.starts_with('/') && source.ends_with("/mrsattachments"),
        "{source}"
    );
    assert_eq!(p["networks"]["default"]["name"], "mrs-staging_default");
}

#[test]
fn docker_compose_reads_the_output() {
    let Ok(version) = Command::new("docker-compose").arg("version").output() else {
        eprintln!("!!!!!!!! SKIPPED: docker-compose is not installed !!!!!!!!");
        assert!(
            std::env::var_os("MRS_E2E_REQUIRED").is_none(),
            "docker-compose is required"
        );
        return;
    };
    assert!(version.status.success());
    let files = [
        fixture("docker-compose.yml"),
        fixture("docker-compose.persist.yml"),
        fixture("docker-compose.traefik.yml"),
    ];
    let out = config(
        &[
            "-f", &files[0], "-f", &files[1], "-f", &files[2], "-p", "mrs", "--format", "yaml-v1",
        ],
        VARS,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = std::env::temp_dir().join(format!("mrs-config-{}.yml", std::process::id()));
    std::fs::write(&path, &out.stdout).expect("write");
    let check = Command::new("docker-compose")
        .arg("-f")
        .arg(&path)
        .args(["config", "-q"])
        .output()
        .expect("docker-compose");
    let _ = std::fs::remove_file(&path);
    assert!(
        check.status.success(),
        "docker-compose refused our output: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn lists_variables_with_their_places() {
    let out = config(
        &[
            "-f",
            &fixture("docker-compose.yml"),
            "-f",
            &fixture("docker-compose.persist.yml"),
            "--variables",
        ],
        &[],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("NAME"), "{text}");
    let slug = text
        .lines()
        .find(|l| l.starts_with("HOST_SLUG"))
        .expect("HOST_SLUG row");
    // REQUIRED as compose means it: only `${X?}` / `${X:?}` fail without a value.
    let columns: Vec<&str> = slug.split_whitespace().collect();
    assert_eq!(columns.get(1), Some(&"false"), "{slug}");
    assert!(slug.contains("docker-compose.persist.yml:15:33"), "{slug}");
    let json = config(
        &[
            "-f",
            &fixture("docker-compose.persist.yml"),
            "--variables",
            "--format",
            "json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        v["variables"]["LISTEN"]["uses"][0]["path"],
        "services.django.sysctls.net.core.somaxconn"
    );
}

#[test]
fn errors_name_the_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("mrs-config-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let unknown = write(
        "unknown.yml",
        "services:\n  a:\n    image: x\n    enviroment: [A=1]\n",
    );
    let o = config(&["-f", &unknown, "-p", "x"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown.yml:4:5") && err.contains("did you mean `environment`?"),
        "{err}"
    );

    let required = write(
        "required.yml",
        "services:\n  a:\n    image: \"x:${TAG:?set TAG}\"\n",
    );
    let o = config(&["-f", &required, "-p", "x"], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("required variable TAG is missing a value: set TAG")
            && err.contains("required.yml:3:15"),
        "{err}"
    );

    let typed = write(
        "typed.yml",
        "services:\n  a:\n    image: x\n    ports: [\"80/xyz\"]\n",
    );
    let o = config(&["-f", &typed, "-p", "x"], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("typed.yml:4:14") && err.contains("invalid proto: xyz"),
        "{err}"
    );

    let o = config(&["-f", &unknown, "-p", "Bad.Name"], &[]);
    assert_eq!(o.status.code(), Some(1));

    let ok = write("ok.yml", "services:\n  a:\n    image: x\n");
    let o = config(&["-f", &ok, "-p", "Bad.Name"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid project name \"Bad.Name\""));

    let broken = write("broken.yml", "services:\n  a: [\n");
    let o = config(&["-f", &broken, "-p", "x"], &[]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("broken.yml:3:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh folder holding `files`.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("mrs-config-cli-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_legacy_format_is_named() {
    let dir = folder(
        "legacy",
        &[(
            "docker-compose.yml",
            "web:\n  image: nginx\n  ports: ['80:80']\n",
        )],
    );
    let o = config_in(&dir, &["-p", "x"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("docker-compose.yml:1:1") && err.contains("legacy compose format"),
        "{err}"
    );
}

#[test]
fn a_folder_project_with_profiles_env_files_and_includes() {
    let dir = folder(
        "My Project",
        &[
            (
                "compose.yaml",
                "include: [db/compose.yaml]\nservices:\n  web:\n    image: \"web:${TAG}\"\n    env_file: web.env\n    depends_on: [db]\n  debug:\n    image: busybox\n    profiles: [debug]\n",
            ),
            (".env", "TAG=1.2\n"),
            ("web.env", "GREETING=hello ${TAG}\n"),
            (
                "db/compose.yaml",
                "services:\n  db:\n    image: postgres:16\n",
            ),
        ],
    );
    // No -f: compose.yaml is found; an empty -p falls back to the folder.
    let o = config_in(&dir, &["-p", "", "--format", "json"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(p["name"], "myproject");
    assert_eq!(p["services"]["web"]["image"], "web:1.2");
    assert_eq!(p["services"]["web"]["environment"]["GREETING"], "hello 1.2");
    assert_eq!(p["services"]["db"]["image"], "postgres:16");
    assert!(p["services"].get("debug").is_none(), "{p:#}");
    let o = config_in(&dir, &["--profile", "debug", "--format", "json"], &[]);
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(p["services"]["debug"]["image"], "busybox");
}

#[test]
fn yaml_v1_names_what_docker_compose_1_29_cannot_read() {
    let dir = folder(
        "v1",
        &[(
            "compose.yml",
            "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_started, required: false}\n  b:\n    image: y\n",
        )],
    );
    let o = config_in(&dir, &["-p", "x", "--format", "yaml-v1"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("`services.a.depends_on.b.required`"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    // The same project prints in the other formats.
    let o = config_in(&dir, &["-p", "x"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}
