//! The whole Compose Specification is read, carried and printed; the
//! smaller rules of compose's loader. Expected values come from compose's
//! documented behaviour (the specification and compose-go's tests).

use mrs_compose::output::{self, Format};
use mrs_compose::project::{self, NameSources};
use mrs_compose::{Kind, Overlay};

fn load(
    files: &[&str],
    vars: &[(&str, &str)],
) -> Result<project::Loaded, mrs_compose::Diagnostics> {
    let overlays: Vec<Overlay> = files
        .iter()
        .enumerate()
        .map(
            |(i, text)| match Overlay::parse(&format!("f{i}.yml"), text) {
                Ok(o) => o,
                Err(e) => panic!("f{i}.yml: {e}"),
            },
        )
        .collect();
    let vars = project::vars_from(vars);
    project::load(
        &overlays,
        &vars,
        NameSources {
            flag: Some("p"),
            ..Default::default()
        },
    )
}

fn json(files: &[&str]) -> serde_json::Value {
    json_with(files, &[])
}

fn json_with(files: &[&str], vars: &[(&str, &str)]) -> serde_json::Value {
    match load(files, vars) {
        Ok(l) => serde_json::from_str(&output::render(&l.project, Format::Json)).expect("json"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn keys_the_engine_does_not_apply_are_carried_and_printed() {
    let p = json_with(
        &[r#"
services:
  web:
    image: nginx
    deploy:
      replicas: 2
      resources:
        limits: {cpus: '0.5', memory: 50M, pids: 100}
        reservations: {memory: 20M}
      restart_policy: {condition: on-failure}
    secrets: [db_password, {source: api_key, target: /etc/key, mode: 0440}]
    configs: [nginx_conf]
    profiles: [frontend]
    links: ["db:database"]
    platform: linux/amd64
    runtime: runc
    memswap_limit: 1g
    scale: 1
    devices: ["/dev/fuse:/dev/fuse"]
    annotations: {com.example.a: b}
  db:
    image: postgres
    network_mode: host
secrets:
  db_password: {file: ./db_password.txt}
  api_key: {environment: API_KEY}
configs:
  nginx_conf: {content: "server {}"}
networks:
  back:
    ipam:
      config: [{subnet: 172.28.0.0/16}]
"#],
        &[("COMPOSE_PROFILES", "frontend")],
    );
    let web = &p["services"]["web"];
    assert_eq!(web["deploy"]["replicas"], 2);
    assert_eq!(web["deploy"]["resources"]["limits"]["cpus"], 0.5);
    assert_eq!(
        web["deploy"]["resources"]["limits"]["memory"],
        50 * 1024 * 1024
    );
    assert_eq!(web["deploy"]["resources"]["limits"]["pids"], 100);
    assert_eq!(web["deploy"]["restart_policy"]["condition"], "on-failure");
    assert_eq!(web["secrets"][0]["source"], "db_password");
    assert_eq!(web["secrets"][1]["target"], "/etc/key");
    assert_eq!(web["configs"][0]["source"], "nginx_conf");
    assert_eq!(web["profiles"][0], "frontend");
    assert_eq!(web["links"][0], "db:database");
    assert_eq!(web["platform"], "linux/amd64");
    assert_eq!(web["runtime"], "runc");
    assert_eq!(web["memswap_limit"], "1g");
    assert_eq!(web["scale"], 1);
    assert_eq!(web["devices"][0], "/dev/fuse:/dev/fuse");
    assert_eq!(web["annotations"]["com.example.a"], "b");
    assert_eq!(p["services"]["db"]["network_mode"], "host");
    // A service with network_mode joins no network.
    assert!(p["services"]["db"].get("networks").is_none(), "{p:#}");
    assert_eq!(p["secrets"]["db_password"]["name"], "p_db_password");
    assert_eq!(p["secrets"]["api_key"]["environment"], "API_KEY");
    assert_eq!(p["configs"]["nginx_conf"]["content"], "server {}");
    assert_eq!(
        p["networks"]["back"]["ipam"]["config"][0]["subnet"],
        "172.28.0.0/16"
    );
}

#[test]
fn single_number_ulimits_stay_single() {
    let p = json(&[
        "services:\n  a:\n    image: x\n    ulimits:\n      nproc: 65535\n      nofile: {soft: 20000, hard: 40000}\n",
    ]);
    assert_eq!(p["services"]["a"]["ulimits"]["nproc"], 65535);
    assert_eq!(p["services"]["a"]["ulimits"]["nofile"]["soft"], 20000);
}

#[test]
fn extra_hosts_mapping_with_several_addresses() {
    let p = json(&[
        "services:\n  a:\n    image: x\n    extra_hosts:\n      db: [10.0.0.1, 10.0.0.2]\n      cache: 10.0.0.3\n",
    ]);
    assert_eq!(
        p["services"]["a"]["extra_hosts"],
        serde_json::json!(["db:10.0.0.1", "db:10.0.0.2", "cache:10.0.0.3"])
    );
}

#[test]
fn an_unset_dns_is_no_dns() {
    let p =
        json(&["services:\n  a:\n    image: x\n    dns: ${UNSET}\n    dns_search: ${UNSET:-}\n"]);
    assert!(p["services"]["a"].get("dns").is_none(), "{p:#}");
    assert!(p["services"]["a"].get("dns_search").is_none(), "{p:#}");
}

#[test]
fn each_undefined_reference_is_reported_at_its_own_line() {
    let e = load(
        &["services:\n  a:\n    image: x\n    volumes:\n    - data:/data\n    - logs:/logs\n    networks:\n    - front\n    - back\n    secrets:\n    - key\n    depends_on: [nope]\n"],
        &[],
    )
    .expect_err("undefined references");
    let places: Vec<String> = e
        .iter()
        .map(|d| format!("{} {}", d.at, d.message))
        .collect();
    for expected in [
        "f0.yml:5:7 service \"a\" refers to undefined volume data",
        "f0.yml:6:7 service \"a\" refers to undefined volume logs",
        "f0.yml:8:7 service \"a\" refers to undefined network front",
        "f0.yml:9:7 service \"a\" refers to undefined network back",
        "f0.yml:11:7 service \"a\" refers to undefined secret key",
        "f0.yml:12:18 service \"a\" depends on undefined service \"nope\"",
    ] {
        assert!(
            places.iter().any(|p| p == expected),
            "{expected} not in {places:#?}"
        );
    }
    assert!(e.iter().all(|d| d.kind == Kind::Reference));
}

#[test]
fn network_mode_and_networks_exclude_each_other() {
    let e = load(
        &["services:\n  a:\n    image: x\n    network_mode: host\n    networks: [front]\nnetworks:\n  front: {}\n"],
        &[],
    )
    .expect_err("exclusive");
    assert!(
        e.iter()
            .any(|d| d.message.contains("mutually exclusive") && d.at.line == 4),
        "{e}"
    );
}

#[test]
fn links_and_network_mode_order_the_start() {
    let l = load(
        &["services:\n  web:\n    image: x\n    links: [db]\n  db:\n    image: y\n    network_mode: service:vpn\n  vpn:\n    image: z\n"],
        &[],
    )
    .expect("valid");
    assert_eq!(
        project::start_order(&l.project).expect("no cycle"),
        ["vpn", "db", "web"]
    );
}

#[test]
fn ports_equal_in_long_form_collapse() {
    let p = json(&[
        "services:\n  a:\n    image: x\n    ports:\n    - 8080:80\n    - {target: 80, published: '8080', protocol: tcp}\n    - 9090:90\n",
    ]);
    let ports = p["services"]["a"]["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 2, "{ports:?}");
}

#[test]
fn services_outside_the_active_profiles_are_left_out() {
    let file = "services:\n  web:\n    image: x\n  debug:\n    image: y\n    profiles: [debug, tools]\n  admin:\n    image: z\n    profiles: [admin]\n";
    let services = |vars: &[(&str, &str)]| -> Vec<String> {
        let l = load(&[file], vars).expect("valid");
        l.project.services.keys().cloned().collect()
    };
    assert_eq!(services(&[]), ["web"]);
    assert_eq!(services(&[("COMPOSE_PROFILES", "tools")]), ["web", "debug"]);
    assert_eq!(
        services(&[("COMPOSE_PROFILES", "*")]),
        ["web", "debug", "admin"]
    );
    // An active service that depends on an inactive one is an error, as in compose.
    let e = load(
        &["services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: y\n    profiles: [db]\n"],
        &[],
    )
    .expect_err("db is not active");
    assert!(
        e.to_string()
            .contains("depends on undefined service \"db\""),
        "{e}"
    );
}

#[test]
fn compose_project_name_is_available_to_interpolation() {
    let l = load(
        &[
            "name: ${PREFIX:-demo}-app\nservices:\n  a:\n    image: x\n    container_name: ${COMPOSE_PROJECT_NAME}-a\n",
        ],
        &[],
    );
    // The test loader passes `-p p`: the flag wins over `name:`.
    assert_eq!(
        l.expect("valid").project.services["a"]
            .container_name
            .as_deref(),
        Some("p-a")
    );
    let overlay = Overlay::parse(
        "f.yml",
        "name: ${PREFIX:-demo}-app\nservices:\n  a:\n    image: x\n    container_name: ${COMPOSE_PROJECT_NAME}-a\n",
    )
    .expect("valid");
    let vars = project::vars_from(&[("PREFIX", "my")]);
    let l = project::load(&[overlay], &vars, NameSources::default()).expect("valid");
    assert_eq!(l.project.name.as_deref(), Some("my-app"));
    assert_eq!(
        l.project.services["a"].container_name.as_deref(),
        Some("my-app-a")
    );
}

#[test]
fn extends_in_the_same_file() {
    let p = json(&[
        "services:\n  base:\n    image: x\n    environment: [A=1]\n    depends_on: [db]\n  web:\n    extends: base\n    environment: [B=2]\n  worker:\n    extends: {service: web}\n    command: work\n  db:\n    image: y\n",
    ]);
    let worker = &p["services"]["worker"];
    assert_eq!(worker["image"], "x");
    assert_eq!(
        worker["environment"],
        serde_json::json!({"A": "1", "B": "2"})
    );
    assert_eq!(worker["command"], serde_json::json!(["work"]));
    // depends_on is not inherited through extends.
    assert!(worker.get("depends_on").is_none(), "{worker:#}");
    assert!(worker.get("extends").is_none(), "{worker:#}");
    let e = load(
        &["services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n"],
        &[],
    )
    .expect_err("cycle");
    assert!(
        e.to_string()
            .contains("circular reference: a in f0.yml extends b in f0.yml extends a in f0.yml"),
        "{e}"
    );
}

#[test]
fn an_unset_variable_is_reported_once() {
    let l = load(
        &["services:\n  a:\n    image: \"$A:$A\"\n    environment: [X=$A, \"Y=${B}\"]\n"],
        &[],
    )
    .expect("valid");
    let names: Vec<(&str, String)> = l
        .unset
        .iter()
        .map(|(n, at)| (n.as_str(), at.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("A", "f0.yml:3:13".to_owned()),
            ("B", "f0.yml:4:28".to_owned())
        ]
    );
}
