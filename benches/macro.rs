//! The `deployment!` macro's cost.
//!
//! 1. check+expand of a synthetic environment: 10 overlays, 50 services,
//!    300 variables, 50 service overrides (criterion; the macro's work in
//!    rustc, minus rustc's own token handling);
//! 2. `cargo check -p deployments` after touching one environment file
//!    (what a user waits for when `cargo check` is the config linter).
//!
//! Run: `cargo bench --bench macro`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;

const OVERLAYS: usize = 10;
const SERVICES_PER_OVERLAY: usize = 5;
const VARS_PER_SERVICE: usize = 6;

fn synthetic_catalog(dir: &Path) -> mrs_env::Catalog {
    std::fs::create_dir_all(dir).expect("dir");
    for o in 0..OVERLAYS {
        let mut y = format!("x-mrs:\n  overlay: o{o}\n  first: {}\nservices:\n", o == 0);
        for s in 0..SERVICES_PER_OVERLAY {
            let n = o * SERVICES_PER_OVERLAY + s;
            let _ = write!(
                y,
                "  s{n}:\n    image: registry.example/app{n}:1.0\n    expose: [\"80\"]\n    ports: [\"{}:80\"]\n    labels:\n    - \"traefik.http.routers.${{VAR_{:03}}}-s{n}.rule=Host(`s{n}.example`)\"\n    environment:\n",
                10000 + n,
                n * VARS_PER_SERVICE
            );
            for v in 0..VARS_PER_SERVICE {
                let k = n * VARS_PER_SERVICE + v;
                let _ = writeln!(y, "    - KEY_{v}=${{VAR_{k:03}}}");
            }
        }
        std::fs::write(dir.join(format!("docker-compose.o{o}.yml")), y).expect("write overlay");
    }
    match mrs_env::Catalog::load_dir(dir) {
        Ok(c) => c,
        Err(e) => panic!("synthetic overlays: {e}"),
    }
}

fn synthetic_input() -> proc_macro2::TokenStream {
    let overlays: Vec<String> = (0..OVERLAYS).map(|o| format!("o{o}")).collect();
    let mut src = format!(
        "env: synth, tier: staging, persistent: {{ home: \"/srv/synth\" }}, overlays: [{}], services: {{",
        overlays.join(", ")
    );
    for n in 0..OVERLAYS * SERVICES_PER_OVERLAY {
        let _ = write!(src, "s{n}: {{ restart: \"always\" }},");
    }
    src.push_str("}, vars: {");
    for k in 0..OVERLAYS * SERVICES_PER_OVERLAY * VARS_PER_SERVICE {
        let _ = write!(src, "VAR_{k:03}: \"value{k}\",");
    }
    src.push('}');
    src.parse().expect("tokens")
}

fn cargo_check_after_touch(file: &str, reps: usize) -> Vec<Duration> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let check = || {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "-q", "-p", "deployments", "--bins"])
            .current_dir(root)
            .status()
            .expect("cargo check");
        assert!(status.success());
    };
    let touch = || {
        let path = root.join(file);
        let text = std::fs::read(&path).expect("read");
        std::fs::write(&path, text).expect("touch");
    };
    touch();
    check(); // warm: everything else is built once
    (0..reps)
        .map(|_| {
            touch();
            let start = Instant::now();
            check();
            start.elapsed()
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("macro: bench");
        return;
    }
    let dir = std::env::temp_dir().join("mrs-bench-synthetic");
    let _ = std::fs::remove_dir_all(&dir);
    let catalog = synthetic_catalog(&dir);
    let input = synthetic_input();
    // Sanity: the synthetic environment checks and expands.
    if let Err(e) = mrs_dsl_core::check_input(input.clone(), &catalog) {
        panic!("synthetic environment rejected: {e}");
    }
    let mut c = Criterion::default().configure_from_args().sample_size(30);
    c.bench_function(
        "deployment! check+expand (10 overlays, 50 services, 300 variables)",
        |b| b.iter(|| black_box(mrs_dsl_core::expand_with(input.clone(), &catalog))),
    );
    c.bench_function(
        "build script: load 10 synthetic overlays into a catalog",
        |b| {
            b.iter(|| {
                black_box(
                    mrs_env::Catalog::load_dir(&dir)
                        .map(|c| c.overlays.len())
                        .unwrap_or(0),
                )
            })
        },
    );
    c.final_summary();

    let reps = 5;
    let mut samples = cargo_check_after_touch("deployments/staging.rs", reps);
    samples.sort();
    let ms: Vec<String> = samples
        .iter()
        .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "cargo check -p deployments --bins after touching deployments/staging.rs: median {:.0} ms (runs: {} ms)",
        samples[reps / 2].as_secs_f64() * 1000.0,
        ms.join(", ")
    );
}
