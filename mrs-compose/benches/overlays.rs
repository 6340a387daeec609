//! Load + merge + interpolate the four MRS overlays (the reference copies),
//! as `mrs-dsl config` and the `deployment!` macro do.
//!
//! With `MRS_BENCH_ITERATIONS=N` set, it runs the load N times and exits,
//! without criterion: a fixed amount of work whose instruction count
//! (valgrind's callgrind) compares two builds on a busy machine.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group};
use mrs_compose::Overlay;
use mrs_compose::interpolate::Resolve;
use mrs_compose::project::{self, NameSources};

fn files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mrs-reference");
    [
        "docker-compose.yml",
        "docker-compose.persist.yml",
        "docker-compose.traefik.yml",
        "docker-compose.maildev.yml",
    ]
    .iter()
    .map(|f| {
        (
            f.to_string(),
            std::fs::read_to_string(dir.join(f)).unwrap_or_default(),
        )
    })
    .collect()
}

fn parse(files: &[(String, String)]) -> Vec<Overlay> {
    files
        .iter()
        .filter_map(|(n, t)| Overlay::parse(n, t).ok())
        .collect()
}

/// The benchmarked work: parse, then load (interpolate, merge, decode, normalise).
fn load(files: &[(String, String)], vars: &dyn Resolve) -> usize {
    let loaded = project::load(
        &parse(files),
        vars,
        NameSources {
            flag: Some("mrs-staging"),
            ..Default::default()
        },
    );
    loaded.map(|l| l.project.services.len()).unwrap_or(0)
}

fn vars() -> indexmap::IndexMap<String, String> {
    project::vars_from(&[
        ("HOST", "staging.mrs.beta.gouv.fr"),
        ("HOST_SLUG", "staging-mrs-beta-gouv-fr"),
        ("LISTEN", "256"),
        ("SECRET_KEY", "s3cret"),
    ])
}

fn bench(c: &mut Criterion) {
    let files = files();
    let vars = vars();
    c.bench_function("load+merge+interpolate 4 MRS overlays", |b| {
        b.iter(|| black_box(load(&files, &vars)))
    });
    c.bench_function("parse 4 MRS overlays (YAML + schema)", |b| {
        b.iter(|| black_box(parse(&files).len()))
    });
}

criterion_group!(benches, bench);

fn main() {
    if let Some(n) = std::env::var("MRS_BENCH_ITERATIONS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let (files, vars) = (files(), vars());
        let services: usize = (0..n).map(|_| black_box(load(&files, &vars))).sum();
        println!("{services} services loaded");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
