//! The engine side by side with docker-compose (v1, this machine's) on the
//! same merged project (exported with `local config --format yaml-v1`), and
//! against the floor of raw create+start calls through bollard.
//!
//! Scenarios: fresh `up` (nothing exists), no-op `up` (everything is up to
//! date), one-service change (django's entrypoint changes, postgres stays).
//! Neither tool waits for health in the fresh and change scenarios (`up
//! --no-wait`, `up -d`), so the same work is timed; the no-op `up` of
//! mrs-deploy includes its health gate (containers and the HTTP check),
//! which it always runs. Run: `cargo bench --bench engine` (needs the engine,
//! the stand-in images and docker-compose; MRS_BENCH_REPS, default 7).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mrs_dsl::engine::{Engine, apply, desired};

const LOCAL: &str = env!("CARGO_BIN_EXE_local");
const E2E_LOCAL: &str = env!("CARGO_BIN_EXE_e2e-local");
const SECRET: &str = "bench-secret";
const E2E_VARS: [(&str, &str); 3] = [
    ("IMAGE", "betagouv/mrs:master"),
    ("DJANGO_MODE", "app"),
    ("ALLOWED_HOSTS", "127.0.0.1,localhost"),
];

fn sh(program: &str, args: &[&str], env: &[(&str, &str)]) -> Duration {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .env("SECRET_KEY", SECRET)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let took = start.elapsed();
    assert!(status.success(), "{program} {args:?} failed");
    took
}

fn output(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("SECRET_KEY", SECRET)
        .envs(env.iter().copied())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn reset() {
    sh(LOCAL, &["down", "--force", "--volumes", "--yes"], &[]);
    let _ = std::fs::remove_dir_all("/tmp/testmrs");
}

fn compose(file: &str, args: &[&str]) -> Duration {
    let mut all = vec!["-p", "composebench", "-f", file];
    all.extend_from_slice(args);
    sh("docker-compose", &all, &[])
}

fn compose_reset(file: &str) {
    compose(file, &["down", "-v", "--remove-orphans"]);
    let _ = std::fs::remove_dir_all("/tmp/testmrs");
}

struct Stats {
    median: f64,
    min: f64,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Stats {
        median: ms(samples[samples.len() / 2]),
        min: ms(samples[0]),
    }
}

/// Raw floor: the same networks, folders and containers, created and started
/// with bare bollard calls (no plan, lock, labels lookup or history).
async fn raw_fresh(spec_json: &str) -> Duration {
    let spec: mrs_env::EnvSpec = serde_json::from_str(spec_json).expect("spec");
    let inputs = mrs_compose::project::vars_from(&[("SECRET_KEY", SECRET)]);
    let resolved = spec.resolve(&inputs).expect("resolve");
    let desired = desired::desired(&spec, &resolved, "bench").expect("desired");
    let engine = Engine::connect().await.expect("engine");
    let start = Instant::now();
    for n in desired.networks.iter().filter(|n| !n.config.external) {
        let request = bollard::models::NetworkCreateRequest {
            name: n.name.clone(),
            ..Default::default()
        };
        engine
            .docker
            .create_network(request)
            .await
            .expect("create network");
    }
    for f in &desired.folders {
        apply::ensure_folder(f, &|_| {}).expect("folder");
    }
    let creates = desired.containers.iter().map(|c| {
        let engine = engine.clone();
        async move {
            let options = bollard::query_parameters::CreateContainerOptionsBuilder::default()
                .name(&format!("raw-{}", c.name))
                .build();
            engine
                .docker
                .create_container(Some(options), c.create_body())
                .await
                .expect("create");
            engine
                .docker
                .start_container(&format!("raw-{}", c.name), None)
                .await
                .expect("start");
        }
    });
    futures_util::future::join_all(creates).await;
    let took = start.elapsed();
    for c in &desired.containers {
        let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
            .force(true)
            .build();
        let _ = engine
            .docker
            .remove_container(&format!("raw-{}", c.name), Some(options))
            .await;
    }
    for n in desired.networks.iter().filter(|n| !n.config.external) {
        let _ = engine.docker.remove_network(&n.name).await;
    }
    let _ = std::fs::remove_dir_all("/tmp/testmrs");
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("engine: bench");
        return;
    }
    let reps: usize = std::env::var("MRS_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let dir = std::env::temp_dir().join("mrs-bench");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let a = dir.join("local.yml");
    let b = dir.join("local-changed.yml");
    std::fs::write(&a, output(LOCAL, &["config", "--format", "yaml-v1"], &[])).expect("write");
    std::fs::write(
        &b,
        output(E2E_LOCAL, &["config", "--format", "yaml-v1"], &E2E_VARS),
    )
    .expect("write");
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let spec = output(LOCAL, &["spec"], &[]);

    // mrs-deploy
    reset();
    let ours_fresh: Vec<Duration> = (0..reps)
        .map(|_| {
            reset();
            sh(LOCAL, &["up", "--no-wait"], &[])
        })
        .collect();
    sh(LOCAL, &["up"], &[]);
    let ours_noop: Vec<Duration> = (0..reps).map(|_| sh(LOCAL, &["up"], &[])).collect();
    let ours_change: Vec<Duration> = (0..reps)
        .map(|i| {
            if i % 2 == 0 {
                sh(E2E_LOCAL, &["up", "--no-wait"], &E2E_VARS)
            } else {
                sh(LOCAL, &["up", "--no-wait"], &[])
            }
        })
        .collect();
    reset();

    // docker-compose on the exported project
    compose_reset(&a);
    let compose_fresh: Vec<Duration> = (0..reps)
        .map(|_| {
            compose_reset(&a);
            compose(&a, &["up", "-d"])
        })
        .collect();
    let compose_noop: Vec<Duration> = (0..reps).map(|_| compose(&a, &["up", "-d"])).collect();
    let compose_change: Vec<Duration> = (0..reps)
        .map(|i| compose(if i % 2 == 0 { &b } else { &a }, &["up", "-d"]))
        .collect();
    compose_reset(&a);

    // the floor
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let raw: Vec<Duration> = (0..reps)
        .map(|_| runtime.block_on(raw_fresh(&spec)))
        .collect();

    let rows = [
        (
            "fresh up",
            stats(ours_fresh),
            stats(compose_fresh),
            Some(stats(raw)),
        ),
        ("no-op up", stats(ours_noop), stats(compose_noop), None),
        (
            "one-service change",
            stats(ours_change),
            stats(compose_change),
            None,
        ),
    ];
    println!(
        "| scenario | mrs-deploy median (min) | docker-compose median (min) | ratio vs compose | raw create+start median (min) | ratio vs raw |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, ours, theirs, raw) in rows {
        let raw_cols = raw.map_or_else(
            || "| - | -".to_owned(),
            |r| {
                format!(
                    "| {:.0} ms ({:.0}) | {:.2}x",
                    r.median,
                    r.min,
                    ours.median / r.median
                )
            },
        );
        println!(
            "| {name} | {:.0} ms ({:.0}) | {:.0} ms ({:.0}) | {:.2}x {raw_cols} |",
            ours.median,
            ours.min,
            theirs.median,
            theirs.min,
            ours.median / theirs.median
        );
    }
    println!(
        "\n{reps} runs each; release build; engine {}",
        output(
            "docker",
            &["version", "--format", "{{.Server.Version}}"],
            &[]
        )
        .trim()
    );
}
