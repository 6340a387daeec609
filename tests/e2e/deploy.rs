//! Deploying: from nothing, no-op, recreate, rollback, refusals, the lock,
//! review environments behind Traefik, down, exec, pull, orphans, TCP.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![
        (
            "local_comes_up_from_nothing_and_a_second_up_is_a_no_op",
            Local,
            local_comes_up_from_nothing_and_a_second_up_is_a_no_op,
        ),
        (
            "docker_compose_lists_what_we_created",
            Local,
            docker_compose_lists_what_we_created,
        ),
        (
            "changing_an_override_recreates_only_that_container",
            Local,
            changing_an_override_recreates_only_that_container,
        ),
        (
            "a_failing_health_check_rolls_back_and_keeps_the_data",
            Local,
            a_failing_health_check_rolls_back_and_keeps_the_data,
        ),
        (
            "a_container_that_exits_at_once_rolls_back",
            Local,
            a_container_that_exits_at_once_rolls_back,
        ),
        (
            "a_missing_secret_changes_nothing",
            Local,
            a_missing_secret_changes_nothing,
        ),
        (
            "an_unreachable_engine_is_a_clear_error",
            Nothing,
            an_unreachable_engine_is_a_clear_error,
        ),
        (
            "a_missing_image_changes_nothing",
            Local,
            a_missing_image_changes_nothing,
        ),
        (
            "a_host_port_in_use_changes_nothing",
            Local,
            a_host_port_in_use_changes_nothing,
        ),
        (
            "a_held_lock_fails_clearly_and_concurrent_ups_serialise",
            Local,
            a_held_lock_fails_clearly_and_concurrent_ups_serialise,
        ),
        (
            "review_behind_traefik_and_down_leaves_others_alone",
            Local,
            review_behind_traefik_and_down_leaves_others_alone,
        ),
        (
            "persistent_down_needs_force_and_keeps_data",
            Local,
            persistent_down_needs_force_and_keeps_data,
        ),
        (
            "exec_propagates_the_exit_code",
            Local,
            exec_propagates_the_exit_code,
        ),
        (
            "a_missing_image_is_pulled_from_a_reachable_registry",
            Local,
            a_missing_image_is_pulled_from_a_reachable_registry,
        ),
        (
            "depends_on_service_healthy_orders_the_start",
            Deps,
            depends_on_service_healthy_orders_the_start,
        ),
        (
            "orphans_are_kept_with_a_warning_or_removed_on_request",
            Local,
            orphans_are_kept_with_a_warning_or_removed_on_request,
        ),
        (
            "the_engine_is_reached_through_a_tcp_docker_host",
            Local,
            the_engine_is_reached_through_a_tcp_docker_host,
        ),
    ]
}

pub fn local_comes_up_from_nothing_and_a_second_up_is_a_no_op() {
    reset_local();
    local_up();
    assert_eq!(
        http_status(8000, "localhost"),
        Some(200),
        "the app answers on localhost:8000"
    );
    let before = project_containers("testmrs");
    assert_eq!(
        before.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["testmrs-django-1", "testmrs-postgres-1"]
    );
    // The mkdir label's folders exist with their owner and mode.
    let meta =
        std::fs::metadata("/tmp/testmrs/mrsattachments").expect("mrsattachments was created");
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!(
        (meta.uid(), meta.gid(), meta.permissions().mode() & 0o7777),
        (1000, 1000, 0o750)
    );

    let second = run_ok_saying(LOCAL, &["up"], &[], "nothing to do");
    assert_eq!(
        project_containers("testmrs"),
        before,
        "a no-op up touches nothing"
    );

    let plan = run(LOCAL, &["plan", "--format", "json"], &[]);
    let plan: serde_json::Value =
        serde_json::from_slice(&plan.stdout).expect("plan --format json is JSON");
    assert!(
        plan["steps"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["action"] == "keep")),
        "{plan}"
    );

    let history = run(LOCAL, &["history", "--format", "json"], &[]);
    let history: Vec<serde_json::Value> =
        serde_json::from_slice(&history.stdout).expect("history is JSON");
    // The first up wrote `in-progress` when it started changing containers, then `ok`.
    let history: Vec<serde_json::Value> = history
        .into_iter()
        .filter(|r| r["outcome"] != "in-progress")
        .collect();
    assert_eq!(history.len(), 2);
    // The secret reaches the container, and nothing else: not the output, the plan, the history, the binary.
    let env = docker_out(&[
        "inspect",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
        "testmrs-django-1",
    ]);
    assert!(
        env.lines().any(|l| l == format!("SECRET_KEY={SECRET}")),
        "{env}"
    );
    let plan_text = run(LOCAL, &["plan"], &[]);
    for text in [
        stderr(&second),
        String::from_utf8_lossy(&plan_text.stdout).into_owned(),
        std::fs::read_to_string("/tmp/testmrs/.mrs-deploy/history.jsonl").unwrap_or_default(),
    ] {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
    }
    let binary = std::fs::read(LOCAL).expect("read the binary");
    assert!(
        !binary.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret is in the binary"
    );
    assert!(
        history
            .iter()
            .all(|r| r["outcome"] == "ok" && r["command"] == "up")
    );
    assert_eq!(history[0]["changed"].as_array().map(Vec::len), Some(2));
}

pub fn docker_compose_lists_what_we_created() {
    local_up();
    let config = run(LOCAL, &["config", "--format", "yaml-v1"], &[]);
    assert!(config.status.success());
    let text = String::from_utf8_lossy(&config.stdout).into_owned();
    assert!(!text.contains(SECRET), "config masks secrets");
    let file = std::env::temp_dir().join(format!("mrs-e2e-config-{}.yml", std::process::id()));
    std::fs::write(&file, text).expect("write the exported config");
    let ps = Command::new("docker-compose")
        .args(["-p", "testmrs", "-f"])
        .arg(&file)
        .args(["ps", "--services", "--filter", "status=running"])
        .stderr(Stdio::inherit())
        .output()
        .expect("docker-compose is installed");
    let _ = std::fs::remove_file(&file);
    let mut services: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    services.sort();
    assert_eq!(services, ["django", "postgres"]);
}

pub fn changing_an_override_recreates_only_that_container() {
    local_up();
    let django = id_of("testmrs-django-1");
    let postgres = id_of("testmrs-postgres-1");
    // e2e-local is local with django's entrypoint written out and its image an input.
    let plan = run(
        E2E_LOCAL,
        &["plan"],
        &e2e_local_env("betagouv/mrs:master", "app", "127.0.0.1,localhost"),
    );
    let plan_text = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(
        plan_text.contains(
            "container testmrs-django-1 [betagouv/mrs:master]: recreate (entrypoint changed)"
        ),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("container testmrs-postgres-1 [postgres:10]: unchanged"),
        "{plan_text}"
    );
    let o = run(
        E2E_LOCAL,
        &["up"],
        &e2e_local_env("betagouv/mrs:master", "app", "127.0.0.1,localhost"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_ne!(id_of("testmrs-django-1"), django, "django was recreated");
    assert_eq!(
        id_of("testmrs-postgres-1"),
        postgres,
        "postgres was left alone"
    );
    assert_eq!(http_status(8000, "localhost"), Some(200));
    assert!(
        docker_out(&["ps", "-a", "--format", "{{.Names}}"])
            .lines()
            .all(|n| !n.contains("mrs-previous")),
        "the previous container is removed after success"
    );
    local_up();
}

pub fn a_failing_health_check_rolls_back_and_keeps_the_data() {
    local_up();
    let django = id_of("testmrs-django-1");
    let created = psql(
        "CREATE TABLE IF NOT EXISTS e2e (note text); INSERT INTO e2e VALUES ('written before the deploy');",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // django now refuses every host: the health check gets 403 until its deadline.
    let o = run(
        E2E_LOCAL,
        &["up", "--health-timeout", "8"],
        &e2e_local_env("betagouv/mrs:master", "app", "nowhere.invalid"),
    );
    assert_eq!(code(&o), 3, "exit code 3: failed and rolled back");
    let err = stderr(&o);
    assert!(err.contains("HTTP 403"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(
        id_of("testmrs-django-1"),
        django,
        "the previous django container is back"
    );
    assert_eq!(state_of("testmrs-django-1"), "running");
    assert_eq!(
        http_status(8000, "localhost"),
        Some(200),
        "the old version serves again"
    );
    let rows = psql("SELECT note FROM e2e;");
    assert!(String::from_utf8_lossy(&rows.stdout).contains("written before the deploy"));
    let history = run(LOCAL, &["history", "--format", "json"], &[]);
    let history: Vec<serde_json::Value> =
        serde_json::from_slice(&history.stdout).expect("history is JSON");
    assert_eq!(
        history.last().map(|r| r["outcome"].clone()),
        Some(serde_json::json!("rolled-back"))
    );
}

pub fn a_container_that_exits_at_once_rolls_back() {
    local_up();
    let django = id_of("testmrs-django-1");
    let o = run(
        E2E_LOCAL,
        &["up", "--health-timeout", "20"],
        &e2e_local_env("betagouv/mrs:master", "no-such-mode", "127.0.0.1,localhost"),
    );
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("exited with code"), "{}", stderr(&o));
    assert_eq!(id_of("testmrs-django-1"), django);
    assert_eq!(http_status(8000, "localhost"), Some(200));
}

pub fn a_missing_secret_changes_nothing() {
    local_up();
    let before = project_containers("testmrs");
    let o = Command::new(LOCAL)
        .arg("up")
        .env_remove("SECRET_KEY")
        .output()
        .expect("run local");
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("SECRET_KEY (secret)") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(project_containers("testmrs"), before);
}

pub fn an_unreachable_engine_is_a_clear_error() {
    let o = Command::new(LOCAL)
        .arg("up")
        .env("SECRET_KEY", SECRET)
        .env("DOCKER_HOST", "unix:///tmp/no-such-docker.sock")
        .output()
        .expect("run local");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("the Docker Engine at unix:///tmp/no-such-docker.sock is unreachable"),
        "{}",
        stderr(&o)
    );
}

pub fn a_missing_image_changes_nothing() {
    local_up();
    let before = project_containers("testmrs");
    let o = run(
        E2E_LOCAL,
        &["up"],
        &e2e_local_env("betagouv/mrs:no-such-tag", "app", "localhost"),
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o)
            .contains("image betagouv/mrs:no-such-tag is not on the engine and cannot be pulled"),
        "{}",
        stderr(&o)
    );
    assert_eq!(project_containers("testmrs"), before);
    assert_eq!(http_status(8000, "localhost"), Some(200));
}

pub fn a_host_port_in_use_changes_nothing() {
    reset_local();
    let holder = std::net::TcpListener::bind("0.0.0.0:8000").expect("bind 8000 for the test");
    let o = run(LOCAL, &["up"], &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(
            "host port 0.0.0.0:8000 (for testmrs-django-1 8000/tcp) is in use by another process"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        project_containers("testmrs").is_empty(),
        "nothing was created"
    );
    drop(holder);
}

pub fn a_held_lock_fails_clearly_and_concurrent_ups_serialise() {
    reset_local();
    // Someone else holds the lock, for an hour.
    let expires = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3600)
        .to_string();
    let created = docker(&[
        "create",
        "--name",
        "mrs-deploy-lock.testmrs",
        "--label",
        "io.mrs-deploy.lock.owner=alice@elsewhere (pid 1)",
        "--label",
        "io.mrs-deploy.lock.host=elsewhere",
        "--label",
        &format!("io.mrs-deploy.lock.expires={expires}"),
        "--label",
        "io.mrs-deploy.lock.since=0",
        "mrs-deploy/lock:1",
        "lock",
    ]);
    let o = run(LOCAL, &["up"], &[]);
    let _ = docker(&["rm", "-f", "mrs-deploy-lock.testmrs"]);
    assert!(
        created.status.success(),
        "the lock image exists once an up ran: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("holds the lock: alice@elsewhere (pid 1)"),
        "{}",
        stderr(&o)
    );
    assert!(project_containers("testmrs").is_empty());

    // Two at once: one deploys, the other waits for it, then finds nothing to do.
    let spawn = || {
        Command::new(LOCAL)
            .args(["up", "--wait-lock"])
            .env("SECRET_KEY", SECRET)
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        a.wait_with_output().expect("wait"),
        b.wait_with_output().expect("wait"),
    );
    assert_eq!(
        (code(&a), code(&b)),
        (0, 0),
        "{}\n{}",
        stderr(&a),
        stderr(&b)
    );
    let both = format!("{}{}", stderr(&a), stderr(&b));
    assert!(
        both.contains("nothing to do"),
        "the second found the first's work done: {both}"
    );
    assert_eq!(project_containers("testmrs").len(), 2);
}

pub fn review_behind_traefik_and_down_leaves_others_alone() {
    local_up();
    let local_before = project_containers("testmrs");
    // The host's load balancer: a real Traefik on the external `web` network.
    let _ = docker(&["rm", "-f", "e2e-traefik"]);
    // The host's network: created here when missing, and then removed at the end.
    let created_web = docker(&["network", "create", "web"]).status.success();
    let traefik = docker(&[
        "run",
        "-d",
        "--name",
        "e2e-traefik",
        "--network",
        "web",
        "-p",
        "127.0.0.1:18080:80",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "mrs-deploy/traefik:3",
        "--providers.docker=true",
        "--providers.docker.exposedbydefault=false",
        "--entrypoints.web.address=:80",
        // MRS's overlays use Traefik v2's `Host(a, b)` rules.
        "--core.defaultRuleSyntax=v2",
        "--global.checknewversion=false",
        "--global.sendanonymoususage=false",
    ]);
    assert!(
        traefik.status.success(),
        "{}",
        String::from_utf8_lossy(&traefik.stderr)
    );

    let a = run(E2E_REVIEW, &["up"], &[("BRANCH", "feature/A")]);
    let b = run(E2E_REVIEW, &["up"], &[("BRANCH", "feature/B")]);
    assert_eq!(
        (code(&a), code(&b)),
        (0, 0),
        "{}\n{}",
        stderr(&a),
        stderr(&b)
    );
    assert!(stderr(&a).contains("health check passed"));
    assert_eq!(
        http_status(18080, "www.feature-b.review.test"),
        Some(200),
        "Traefik routes by host name"
    );
    assert_eq!(project_containers("test-feature-a").len(), 3);
    let b_before = project_containers("test-feature-b");
    assert_eq!(b_before.len(), 3);

    let a_volumes: Vec<String> = project_containers("test-feature-a")
        .iter()
        .flat_map(|(name, _)| volumes_of(name))
        .collect();
    assert!(
        !a_volumes.is_empty(),
        "postgres keeps its data in an anonymous volume"
    );
    let down = run(E2E_REVIEW, &["down"], &[("BRANCH", "feature/A")]);
    assert_eq!(code(&down), 0, "{}", stderr(&down));
    assert!(project_containers("test-feature-a").is_empty());
    for v in &a_volumes {
        assert!(
            !docker(&["volume", "inspect", v]).status.success(),
            "an ephemeral down removes the anonymous volume {v}"
        );
    }
    assert!(
        !Path::new("/tmp/mrs-review/test-feature-a").exists(),
        "an ephemeral environment's folder goes too"
    );
    assert_eq!(
        project_containers("test-feature-b"),
        b_before,
        "the other review environment is untouched"
    );
    assert_eq!(
        project_containers("testmrs"),
        local_before,
        "local is untouched"
    );
    assert_eq!(
        state_of("e2e-traefik"),
        "running",
        "the load balancer is untouched"
    );
    assert!(
        docker(&["network", "inspect", "web"]).status.success(),
        "the external network stays"
    );

    let down_b = run(E2E_REVIEW, &["down"], &[("BRANCH", "feature/B")]);
    assert_eq!(code(&down_b), 0);
    let _ = docker(&["rm", "-f", "e2e-traefik"]);
    if created_web {
        let _ = docker(&["network", "rm", "web"]);
    }
    let _ = std::fs::remove_dir("/tmp/mrs-review");
}

pub fn persistent_down_needs_force_and_keeps_data() {
    local_up();
    let refused = run(LOCAL, &["down"], &[]);
    assert_eq!(code(&refused), 2);
    assert!(stderr(&refused).contains("pass --force"));
    assert_eq!(project_containers("testmrs").len(), 2);
    let forced = run(LOCAL, &["down", "--force"], &[]);
    assert_eq!(code(&forced), 0);
    assert!(project_containers("testmrs").is_empty());
    assert!(
        Path::new("/tmp/testmrs/postgres/data").is_dir(),
        "home data is kept"
    );
    local_up();
}

pub fn exec_propagates_the_exit_code() {
    local_up();
    let ok = run(LOCAL, &["exec", "django", "--", "djcli", "dbcheck"], &[]);
    assert_eq!(code(&ok), 0);
    assert!(String::from_utf8_lossy(&ok.stdout).contains("database ok"));
    // No mail server in local: sendtestemail fails, and so does exec.
    let failing = run(
        LOCAL,
        &["exec", "django", "--", "mrs", "sendtestemail"],
        &[],
    );
    assert_eq!(code(&failing), 1);
}

/// A real registry (Debian's docker-registry) on loopback: a missing image
/// is pulled by `up`, with progress, and deployed.
pub fn a_missing_image_is_pulled_from_a_reachable_registry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let image = format!("{}/mrs/app:e2e", registry.addr);
    assert!(
        docker(&["tag", "betagouv/mrs:master", &image])
            .status
            .success()
    );
    let pushed = docker(&["push", &image]);
    assert!(
        pushed.status.success(),
        "push: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    // Only the tag goes: the engine no longer has `image`, the registry does.
    assert!(docker(&["rmi", &image]).status.success());
    local_up();
    let o = run(
        E2E_LOCAL,
        &["up"],
        &e2e_local_env(&image, "app", "127.0.0.1,localhost"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("pulling {image} (missing on the engine)")),
        "{}",
        stderr(&o)
    );
    assert!(
        docker(&["image", "inspect", &image]).status.success(),
        "the image was pulled"
    );
    assert_eq!(
        docker_out(&[
            "inspect",
            "--format",
            "{{.Config.Image}}",
            "testmrs-django-1"
        ]),
        image
    );
    assert_eq!(http_status(8000, "localhost"), Some(200));
    let _ = docker(&["rmi", &image]);
    local_up();
}

/// A throwaway registry process.
struct Registry {
    addr: String,
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Registry {
    fn start() -> Option<Registry> {
        let binary = "/usr/bin/docker-registry";
        if !Path::new(binary).exists() {
            assert!(
                std::env::var_os("MRS_E2E_REQUIRED").is_none(),
                "docker-registry is required (apt-get install docker-registry)"
            );
            eprintln!("\n!!!!!!!! SKIPPED: docker-registry is not installed !!!!!!!!\n");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!("mrs-e2e-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n", dir.join("data").display()),
        )
        .ok()?;
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let registry = Registry { addr, child, dir };
        for _ in 0..50 {
            if TcpStream::connect(&registry.addr).is_ok() {
                return Some(registry);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the registry did not start on {}", registry.addr);
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `depends_on: {postgres: {condition: service_healthy}}`: django is only
/// created once postgres's health check passes.
pub fn depends_on_service_healthy_orders_the_start() {
    let bin = env!("CARGO_BIN_EXE_e2e-deps");
    let down = run(bin, &["down", "--force", "--volumes", "--yes"], &[]);
    assert!(down.status.success());
    let o = run(bin, &["up"], &[("REV", "1")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("mrs-e2e-deps-django-1 waits for mrs-e2e-deps-postgres-1 to be healthy"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        docker_out(&[
            "inspect",
            "--format",
            "{{.State.Health.Status}}",
            "mrs-e2e-deps-postgres-1"
        ]),
        "healthy"
    );
    let label = docker_out(&[
        "inspect",
        "--format",
        "{{index .Config.Labels \"com.docker.compose.depends_on\"}}",
        "mrs-e2e-deps-django-1",
    ]);
    assert_eq!(label, "postgres:service_healthy:false");
    // postgres needs a few seconds to initialise before pg_isready passes; django was started after.
    let started = |name: &str| docker_out(&["inspect", "--format", "{{.State.StartedAt}}", name]);
    let (pg, django) = (
        started("mrs-e2e-deps-postgres-1"),
        started("mrs-e2e-deps-django-1"),
    );
    let seconds = |t: &str| -> f64 {
        // 2026-11-25T17:30:01.123456789Z -> seconds within the day
        let time = t
            .split('T')
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches('Z');
        time.split(':')
            .map(|p| p.parse::<f64>().unwrap_or(0.0))
            .fold(0.0, |acc, p| acc * 60.0 + p)
    };
    assert!(
        seconds(&django) - seconds(&pg) >= 1.0,
        "postgres started {pg}, django {django}"
    );
    let down = run(bin, &["down", "--force", "--volumes", "--yes"], &[]);
    assert!(down.status.success());
}

/// A container of the project whose service is gone is an orphan: `up`
/// warns and keeps it; `up --remove-orphans` removes it.
pub fn orphans_are_kept_with_a_warning_or_removed_on_request() {
    local_up();
    let created = create_labelled("testmrs-retired-1", "retired");
    assert!(created.status.success());
    run_ok_saying(
        LOCAL,
        &["up"],
        &[],
        "found orphan container testmrs-retired-1",
    );
    assert!(
        docker(&["inspect", "testmrs-retired-1"]).status.success(),
        "kept without --remove-orphans"
    );
    let removed = run(LOCAL, &["up", "--remove-orphans"], &[]);
    assert_eq!(code(&removed), 0, "{}", stderr(&removed));
    assert!(
        !docker(&["inspect", "testmrs-retired-1"]).status.success(),
        "removed with --remove-orphans"
    );
    assert_eq!(project_containers("testmrs").len(), 2);
}

/// `DOCKER_HOST=tcp://...`: the engine reached over TCP (a forwarder to the
/// engine's socket stands in for an engine listening on TCP).
pub fn the_engine_is_reached_through_a_tcp_docker_host() {
    local_up();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(engine) = std::os::unix::net::UnixStream::connect("/var/run/docker.sock") else {
                continue;
            };
            let (mut c_read, mut e_write) = (
                client.try_clone().expect("clone"),
                engine.try_clone().expect("clone"),
            );
            let (mut e_read, mut c_write) = (engine, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut e_write);
                let _ = e_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut e_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    let host = format!("tcp://127.0.0.1:{port}");
    let ps = Command::new(LOCAL)
        .arg("ps")
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run local");
    assert_eq!(code(&ps), 0, "{}", stderr(&ps));
    let listed = String::from_utf8_lossy(&ps.stdout).into_owned();
    assert!(
        listed.contains("testmrs-django-1") && listed.contains("running"),
        "{listed}"
    );
    let up = Command::new(LOCAL)
        .arg("up")
        .env("DOCKER_HOST", &host)
        .env("SECRET_KEY", SECRET)
        .output()
        .expect("run local");
    assert_eq!(code(&up), 0, "{}", stderr(&up));
    assert!(stderr(&up).contains("nothing to do"), "{}", stderr(&up));
}
