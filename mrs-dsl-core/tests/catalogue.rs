//! The rule catalogue, the docs and the UI cases in step: every rule id in
//! the code (`rules::ALL`) has a section in `docs/RULES.md` and a folder of
//! compile-fail cases `tests/ui/fail/<id>/` whose `.stderr` name it; every
//! folder and every documented id is a rule of the code. Rules the build
//! script reports have overlay files as cases (`<case>.yml` and the
//! `<case>.stderr` the build script prints for it), checked here;
//! `TRYBUILD=overwrite` rewrites those `.stderr` as it does for trybuild's.

use std::path::{Path, PathBuf};

use mrs_dsl_core::rules;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The ids documented in RULES.md: its `### \`id\`` headings.
fn documented() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/RULES.md")).expect("docs/RULES.md");
    text.lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_rule_is_documented_and_has_a_failing_case() {
    let docs = documented();
    let mut problems = Vec::new();
    for rule in rules::ALL {
        if !docs.iter().any(|d| d == rule.id) {
            problems.push(format!(
                "{}: no `### `{}`` section in docs/RULES.md",
                rule.id, rule.id
            ));
        }
        let dir = root().join("tests/ui/fail").join(rule.id);
        let ext = if rules::from_build_script(*rule) {
            "yml"
        } else {
            "rs"
        };
        let cases = files(&dir, ext);
        if cases.is_empty() {
            problems.push(format!(
                "{}: no case tests/ui/fail/{}/*.{ext}",
                rule.id, rule.id
            ));
        }
        for case in cases {
            let stderr = case.with_extension("stderr");
            let text = std::fs::read_to_string(&stderr).unwrap_or_default();
            if !text.contains(&format!("= rule: {}", rule.id)) {
                problems.push(format!("{} does not raise `{}`", case.display(), rule.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_folder_and_documented_id_is_a_rule() {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/ui/fail")).expect("tests/ui/fail") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if rules::by_id(&name).is_none() {
            problems.push(format!("tests/ui/fail/{name}: not a rule id"));
        }
    }
    for id in documented() {
        if rules::by_id(&id).is_none() {
            problems.push(format!(
                "docs/RULES.md documents `{id}`, which the code does not have"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_build_script_reports_broken_overlays_once_each() {
    let overwrite = std::env::var_os("TRYBUILD").is_some_and(|v| v == "overwrite");
    let mut problems = Vec::new();
    for rule in rules::ALL.iter().filter(|r| rules::from_build_script(**r)) {
        let shown = format!("tests/ui/fail/{}", rule.id);
        for case in files(&root().join(&shown), "yml") {
            // Each case alone in a folder, shown where it really is.
            let dir = std::env::temp_dir().join(format!(
                "mrs-build-case-{}-{}",
                std::process::id(),
                case.file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("dir");
            let name = case.file_name().expect("file name");
            std::fs::copy(&case, dir.join(name)).expect("copy");
            let actual = match mrs_dsl_core::build::load(&dir, &shown) {
                Ok(_) => "(loads without errors)".to_owned(),
                Err(e) => e,
            } + "\n";
            let _ = std::fs::remove_dir_all(&dir);
            let stderr = case.with_extension("stderr");
            if overwrite {
                std::fs::write(&stderr, &actual).expect("write");
                continue;
            }
            let expected = std::fs::read_to_string(&stderr).unwrap_or_default();
            if expected != actual {
                problems.push(format!(
                    "{}:\n--- expected\n{expected}--- actual\n{actual}",
                    case.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
