//! Load + merge + interpolate the four MRS overlays (the reference copies),
//! as `mrs-dsl config` and the `deployment!` macro do.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use mrs_compose::Overlay;
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

fn bench(c: &mut Criterion) {
    let files = files();
    let vars = project::vars_from(&[
        ("HOST", "staging.mrs.beta.gouv.fr"),
        ("HOST_SLUG", "staging-mrs-beta-gouv-fr"),
        ("LISTEN", "256"),
        ("SECRET_KEY", "s3cret"),
    ]);
    c.bench_function("load+merge+interpolate 4 MRS overlays", |b| {
        b.iter(|| {
            let overlays: Vec<Overlay> = files
                .iter()
                .filter_map(|(n, t)| Overlay::parse(n, t).ok())
                .collect();
            let loaded = project::load(
                &overlays,
                &vars,
                NameSources {
                    flag: Some("mrs-staging"),
                    ..Default::default()
                },
            );
            black_box(loaded.map(|l| l.project.services.len()).unwrap_or(0))
        })
    });
    c.bench_function("parse 4 MRS overlays (YAML + schema)", |b| {
        b.iter(|| {
            black_box(
                files
                    .iter()
                    .filter_map(|(n, t)| Overlay::parse(n, t).ok())
                    .count(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
