//! The corpus (`mrs-compose/tests/corpus/`): real-shaped compose projects
//! (Docker's awesome-compose examples, homelab stacks, and files for each
//! feature: extends, include, profiles, secrets, deploy, env files...).
//!
//! Every project compose accepts, `mrs-dsl config` accepts; those it
//! refuses, it refuses at the same place. Where docker-compose 1.29 (the
//! one installed here) reads the files too, the parity test runs both and
//! compares what they resolved: docker-compose's `config` output is read
//! back by `mrs-dsl config` into the same canonical JSON as ours (so the
//! comparison is of meaning, not of spelling), and docker-compose must also
//! read our `--format yaml-v1` output.
//!
//! Deliberate differences, made equal before the comparison (see
//! [`same_meaning`]): extension fields (`x-...`, which 1.29 does not
//! print); the order of `ports`, `volumes` and `extra_hosts` (1.29 sorts
//! them, compose v2 keeps the files' order); a
//! trailing `/` on an absolute bind source (1.29 drops it, compose v2
//! keeps it); `healthcheck: {disable: true}` (1.29 writes `test: [NONE]`);
//! a bare build arg that is not set (1.29 passes `""`, compose v2 none).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// What a case expects.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Accepted by both; the resolved projects agree.
    Parity,
    /// Accepted (compose v2 reads it); docker-compose 1.29 refuses it for
    /// the reason given, which its error message contains.
    V1Lacks(&'static str),
    /// Refused, with a message containing the first text, at the location
    /// ending with the second; docker-compose 1.29 refuses it too, unless the
    /// third is false (1.29 still reads the legacy format).
    Refused(&'static str, &'static str, bool),
}

use Expect::{Parity, Refused, V1Lacks};

struct Case {
    dir: &'static str,
    files: &'static [&'static str],
    expect: Expect,
}

const fn case(dir: &'static str, files: &'static [&'static str], expect: Expect) -> Case {
    Case { dir, files, expect }
}

const ONE: &[&str] = &["compose.yaml"];

const CASES: &[Case] = &[
    case("anchors-and-merge-keys", ONE, Parity),
    case("awesome-angular", ONE, Parity),
    case("awesome-django", ONE, Parity),
    case("awesome-elk", ONE, Parity),
    case("awesome-flask-redis", ONE, Parity),
    case("awesome-gitea-postgres", ONE, Parity),
    case("awesome-minecraft", ONE, Parity),
    case("awesome-nextcloud-postgres", ONE, Parity),
    case("awesome-nginx-golang", ONE, Parity),
    case("awesome-nginx-nodejs-redis", ONE, Parity),
    case("awesome-prometheus-grafana", ONE, Parity),
    case("awesome-react-express-mysql", ONE, Parity),
    case("awesome-spring-postgres", ONE, Parity),
    case("awesome-traefik-golang", ONE, Parity),
    case("awesome-vuejs", ONE, Parity),
    case("awesome-wordpress-mysql", ONE, Parity),
    case("build-variety", ONE, Parity),
    case(
        "depends-on-long-form",
        ONE,
        V1Lacks("services.web.depends_on contains unsupported option: 'restart'"),
    ),
    case("deploy-resources", ONE, Parity),
    case(
        "env-file-long-form",
        ONE,
        V1Lacks("services.app.env_file contains {"),
    ),
    case(
        "error-bad-port",
        ONE,
        Refused("invalid proto: xyz", "compose.yaml:5:10", true),
    ),
    case(
        "error-undefined-volume",
        ONE,
        Refused(
            "service \"app\" refers to undefined volume data",
            "compose.yaml:5:9",
            true,
        ),
    ),
    case("extends-other-file", ONE, Parity),
    case("extends-same-file", ONE, Parity),
    case("healthchecks", ONE, Parity),
    case("homelab-home-assistant", ONE, Parity),
    case("homelab-jellyfin", ONE, Parity),
    case("homelab-nginx-proxy-manager", ONE, Parity),
    case("homelab-node-exporter", ONE, Parity),
    case("homelab-pihole", ONE, Parity),
    case("homelab-portainer", ONE, Parity),
    case("homelab-syncthing", ONE, Parity),
    case("homelab-uptime-kuma", ONE, Parity),
    case("homelab-vaultwarden", ONE, Parity),
    case("homelab-wireguard", ONE, Parity),
    case(
        "include-basic",
        ONE,
        V1Lacks("'include' does not match any of the regexes"),
    ),
    case(
        "include-project-directory",
        &["app/compose.yaml"],
        V1Lacks("'include' does not match any of the regexes"),
    ),
    case(
        "interpolation-compose-v2",
        ONE,
        V1Lacks("Invalid interpolation format"),
    ),
    case("interpolation-variety", ONE, Parity),
    case(
        "legacy-v1-format",
        &["docker-compose.yml"],
        Refused("legacy compose format", "docker-compose.yml:1:1", false),
    ),
    case("links-and-network-mode", ONE, Parity),
    case("logging-and-ulimits", ONE, Parity),
    case("many-services-stack", ONE, Parity),
    case(
        "multi-file-override",
        &["compose.yaml", "compose.override.yaml"],
        Parity,
    ),
    case(
        "multi-file-prod-tags",
        &["compose.yaml", "compose.prod.yaml"],
        V1Lacks("could not determine a constructor for the tag '!override'"),
    ),
    case("networks-variety", ONE, Parity),
    case(
        "overrides-three-files",
        &["compose.yaml", "compose.ci.yaml", "compose.local.yaml"],
        Parity,
    ),
    case("ports-variety", ONE, Parity),
    case("profiles", ONE, Parity),
    case("quoting-lookalikes", ONE, Parity),
    case("secrets-and-configs", ONE, Parity),
    case(
        "secrets-from-environment",
        ONE,
        V1Lacks("secrets.api_token value 'environment' does not match"),
    ),
    case("sysctls-and-extra-hosts-map", ONE, Parity),
    case(
        "top-level-name",
        ONE,
        V1Lacks("'name' does not match any of the regexes"),
    ),
    case("volumes-variety", ONE, Parity),
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mrs-compose/tests/corpus")
}

/// The same environment for both tools: nothing of the machine's but PATH and HOME.
fn command(program: &str, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/home/corpus")
        .env("API_TOKEN", "t0ken");
    c
}

fn file_args(files: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| ["-f".to_owned(), (*f).to_owned()])
        .collect()
}

/// `mrs-dsl config -p corpus --profile '*'` with `args`, in `dir`.
fn ours(dir: &Path, args: &[String], format: &str) -> Output {
    command(env!("CARGO_BIN_EXE_mrs-dsl"), dir)
        .args([
            "config",
            "-p",
            "corpus",
            "--profile",
            "*",
            "--format",
            format,
        ])
        .args(args)
        .output()
        .expect("run mrs-dsl")
}

fn docker_compose(dir: &Path, args: &[String]) -> Option<Output> {
    command("docker-compose", dir)
        .args(["-p", "corpus"])
        .args(args)
        .arg("config")
        .output()
        .ok()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Spellings of the same project that docker-compose 1.29 and compose v2
/// differ in, made one (the deliberate differences of the module doc).
fn same_meaning(value: &mut Value) {
    without_extensions(value);
    let services = value.get_mut("services").and_then(Value::as_object_mut);
    for service in services.into_iter().flat_map(|s| s.values_mut()) {
        let Some(service) = service.as_object_mut() else {
            continue;
        };
        for key in ["ports", "extra_hosts", "volumes"] {
            if let Some(Value::Array(items)) = service.get_mut(key) {
                items.sort_by_key(Value::to_string);
            }
        }
        if let Some(Value::Array(volumes)) = service.get_mut("volumes") {
            for v in volumes {
                if let Some(Value::String(source)) = v.get_mut("source")
                    && source.len() > 1
                {
                    *source = source.trim_end_matches('/').to_owned();
                }
            }
        }
        if let Some(h) = service
            .get_mut("healthcheck")
            .and_then(Value::as_object_mut)
            && h.remove("disable") == Some(Value::Bool(true))
        {
            h.insert("test".into(), serde_json::json!(["NONE"]));
        }
        let args = service
            .get_mut("build")
            .and_then(|b| b.get_mut("args"))
            .and_then(Value::as_object_mut);
        for arg in args.into_iter().flat_map(|a| a.values_mut()) {
            if arg.is_null() {
                *arg = Value::String(String::new());
            }
        }
    }
}

/// Extension fields are not printed by docker-compose 1.29.
fn without_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-"));
            map.values_mut().for_each(without_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(without_extensions),
        _ => {}
    }
}

/// The first place two values differ, as a path.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &here) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{here}: ours {p:?}, docker-compose's {q:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: ours {a}, docker-compose's {b}")),
    }
}

/// docker-compose's resolution of `files` (in `dir`), read back by mrs-dsl
/// into canonical JSON.
fn resolved_by_docker_compose(dir: &Path, files: &[&str], scratch: &Path) -> Result<Value, String> {
    let v1 = docker_compose(dir, &file_args(files)).ok_or("docker-compose did not run")?;
    if !v1.status.success() {
        return Err(format!("docker-compose refused it: {}", text(&v1.stderr)));
    }
    std::fs::write(scratch.join("v1.yml"), &v1.stdout).map_err(|e| e.to_string())?;
    let back = ours(scratch, &file_args(&["v1.yml"]), "json");
    if !back.status.success() {
        return Err(format!(
            "mrs-dsl cannot read docker-compose's output: {}\n{}",
            text(&back.stderr),
            text(&v1.stdout)
        ));
    }
    let mut value: Value = serde_json::from_slice(&back.stdout).map_err(|e| e.to_string())?;
    same_meaning(&mut value);
    Ok(value)
}

/// docker-compose resolves the files; what it resolved must be what we
/// resolved. Then docker-compose reads our `--format yaml-v1` output, and
/// must resolve it to the same project again.
fn parity(case: &Case, dir: &Path, ours_json: &Value) -> Result<(), String> {
    let scratch =
        std::env::temp_dir().join(format!("mrs-corpus-{}-{}", std::process::id(), case.dir));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let mut mine = ours_json.clone();
    same_meaning(&mut mine);
    let theirs = resolved_by_docker_compose(dir, case.files, &scratch)?;
    if let Some(d) = first_difference(&mine, &theirs, "") {
        return Err(format!("the resolved projects differ at {d}"));
    }
    let printed = ours(dir, &file_args(case.files), "yaml-v1");
    if !printed.status.success() {
        return Err(format!(
            "--format yaml-v1 refused: {}",
            text(&printed.stderr)
        ));
    }
    std::fs::write(scratch.join("ours.yml"), &printed.stdout).map_err(|e| e.to_string())?;
    let again = resolved_by_docker_compose(&scratch, &["ours.yml"], &scratch)
        .map_err(|e| format!("our yaml-v1 output: {e}"))?;
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(d) = first_difference(&mine, &again, "") {
        return Err(format!(
            "docker-compose reads our yaml-v1 output differently, at {d}:\n{}",
            text(&printed.stdout)
        ));
    }
    Ok(())
}

fn docker_compose_installed() -> bool {
    let installed = Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("!!!!!!!! SKIPPED: docker-compose is not installed !!!!!!!!");
        assert!(
            std::env::var_os("MRS_E2E_REQUIRED").is_none(),
            "docker-compose is required"
        );
    }
    installed
}

#[test]
fn the_corpus_holds_every_case_and_only_them() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus())
        .expect("corpus")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let listed: Vec<&str> = CASES.iter().map(|c| c.dir).collect();
    assert_eq!(dirs, listed);
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
}

#[test]
fn every_case_is_read_as_compose_reads_it() {
    let with_v1 = docker_compose_installed();
    let mut failures = Vec::new();
    let mut counts = [0usize; 3];
    for case in CASES {
        let dir = corpus().join(case.dir);
        let out = ours(&dir, &file_args(case.files), "json");
        let result = match case.expect {
            Parity | V1Lacks(_) if !out.status.success() => {
                Err(format!("refused: {}", text(&out.stderr)))
            }
            Parity => {
                counts[0] += 1;
                let ours_json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
                if with_v1 {
                    parity(case, &dir, &ours_json)
                } else {
                    Ok(())
                }
            }
            V1Lacks(reason) => {
                counts[1] += 1;
                match with_v1
                    .then(|| docker_compose(&dir, &file_args(case.files)))
                    .flatten()
                {
                    Some(v1) if v1.status.success() => {
                        Err("docker-compose 1.29 reads it: make it a parity case".to_owned())
                    }
                    Some(v1) if !text(&v1.stderr).contains(reason) => Err(format!(
                        "docker-compose 1.29 refuses it for another reason: {}",
                        text(&v1.stderr)
                    )),
                    _ => Ok(()),
                }
            }
            Refused(message, at, v1_refuses) => {
                counts[2] += 1;
                let err = text(&out.stderr);
                if out.status.code() != Some(1) || !err.contains(message) || !err.contains(at) {
                    Err(format!(
                        "expected `{message}` at {at}, got {:?}: {err}",
                        out.status.code()
                    ))
                } else {
                    match with_v1
                        .then(|| docker_compose(&dir, &file_args(case.files)))
                        .flatten()
                    {
                        Some(v1) if v1.status.success() == v1_refuses => Err(format!(
                            "docker-compose 1.29 {} it",
                            if v1_refuses { "accepts" } else { "refuses" }
                        )),
                        _ => Ok(()),
                    }
                }
            }
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", case.dir));
        }
    }
    eprintln!(
        "corpus: {} cases, {} compared with docker-compose 1.29, {} that 1.29 cannot read, {} refused",
        CASES.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
