//! Compile-time checks of `deployment!`: every case in `tests/ui/fail/<rule>/`
//! must fail to compile with exactly the `.stderr` beside it; the real
//! environments (`deployments/*.rs`) and `tests/ui/pass/` must compile and
//! run (without arguments, an environment binary prints what it is).
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui`, then read
//! every changed `.stderr`.
//!
//! The cases are checked against the real overlays in `deployments/compose`
//! plus the test-only ones in `tests/ui/overlays`: the catalog is written to
//! a folder of its own, which the macro finds through `OUT_DIR` as it would
//! in a crate with a build script. Clashes between environments on one host
//! are found as the build script finds them, between the cases of
//! `tests/ui/fail/*-clash/` and the real environments; only the cases' side
//! is recorded, so that the real environments still compile.

use std::path::{Path, PathBuf};

use mrs_dsl_core::build::{self, cross};

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/ui-catalog");
    std::fs::create_dir_all(&out).expect("create the catalog folder");
    let load = |dir: &str| match build::load(&root.join(dir), dir) {
        Ok(c) => c,
        Err(e) => panic!("the overlays of {dir} do not load:\n{e}"),
    };
    let mut catalog = load("deployments/compose");
    catalog.overlays.extend(load("tests/ui/overlays").overlays);
    catalog.set_root(root);
    let mut files = cross::environment_files(&root.join("deployments"));
    for dir in std::fs::read_dir(root.join("tests/ui/fail")).expect("tests/ui/fail") {
        let dir = dir.expect("entry").path();
        if dir.to_string_lossy().ends_with("-clash") {
            files.extend(rs_files(&dir));
        }
    }
    catalog.clashes = cross::clashes(&files, &catalog)
        .into_iter()
        .filter(|c| c.file.starts_with("tests/ui/fail/"))
        .collect();
    std::fs::write(out.join(mrs_env::catalog::FILE_NAME), catalog.to_json())
        .expect("write the catalog");
    // SAFETY: this test binary runs this one test; no other thread reads the
    // environment while it is changed. trybuild's cargo inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("OUT_DIR", &out);
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*/*.rs");
    // The real environments, as they are, and valid edge cases.
    t.pass("deployments/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
