//! Compile-time checks of `deployment!`: every case in `tests/ui/fail/` must
//! fail to compile with exactly the `.stderr` beside it; the real
//! environments (`deployments/*.rs`) and `tests/ui/pass/` must compile and
//! run (without arguments, an environment binary prints what it is). Regenerate with `TRYBUILD=overwrite cargo test --test ui`, then
//! read every changed `.stderr`.
//!
//! The cases are checked against the real overlays in `deployments/compose`:
//! the catalog is written to a folder of its own, which the macro finds
//! through `OUT_DIR` as it would in a crate with a build script.

use std::path::Path;

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/ui-catalog");
    std::fs::create_dir_all(&out).expect("create the catalog folder");
    let catalog = match mrs_env::Catalog::load_dir(&root.join("deployments/compose")) {
        Ok(c) => c,
        Err(e) => panic!("the overlays do not load: {e}"),
    };
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
