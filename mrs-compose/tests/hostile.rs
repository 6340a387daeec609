//! Hostile input: every case is refused with an error at file:line, or
//! loaded, in under a second and 100 MB, and never aborts the process.
//!
//! Each case runs in a child process (this test binary run again on that one
//! case), so that the peak memory it reports (`VmHWM`, the whole process's
//! high-water mark of resident memory, test harness included) is its own.

use std::process::Command;
use std::time::{Duration, Instant};

use mrs_compose::Overlay;
use mrs_compose::project::{self, NameSources};
use proptest::prop_oneof;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

const CASE_VAR: &str = "MRS_HOSTILE_CASE";
/// Under a second optimised (`cargo test --release`); unoptimised code is
/// about ten times slower, so a debug build only checks for a blow-up.
const TIME_LIMIT: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(10)
} else {
    Duration::from_secs(1)
};
const MEMORY_LIMIT_KIB: u64 = 100 * 1024;

/// The inputs, by name.
fn input(case: &str) -> String {
    match case {
        // The classic 9-level "billion laughs" (10^9 strings once expanded).
        "billion_laughs" => {
            let mut text = String::from(
                "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
            );
            for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
                .iter()
                .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
            {
                let refs = vec![format!("*{prev}"); 10].join(",");
                text.push_str(&format!("x-{name}: &{name} [{refs}]\n"));
            }
            text.push_str("services: {a: {image: x}}\n");
            text
        }
        // Unbalanced flow nesting, one `[` per byte.
        "deep_flow" => format!("services: {}\n", "[".repeat(100_000)),
        // Block mappings nested by indentation.
        "deep_block" => {
            let mut text = String::from("x-deep:\n");
            for depth in 1..300 {
                text.push_str(&" ".repeat(depth));
                text.push_str("k:\n");
            }
            text
        }
        // A 65 KB value holding 32,740 references.
        "many_references" => {
            let value = "$A".repeat(32_740);
            format!("services:\n  a:\n    image: x\n    environment:\n      V: \"{value}\"\n")
        }
        // 3,460 levels of nested defaults.
        "deep_defaults" => {
            let value = "${A:-".repeat(3_460) + &"}".repeat(3_460);
            format!("services:\n  a:\n    image: \"{value}\"\n")
        }
        // 1 MB of tiny values.
        "wide" => format!("x-wide: [{}]\n", vec!["a"; 500_000].join(",")),
        // More than the largest file read.
        "huge" => format!("x-big: \"{}\"\n", "a".repeat(5 * 1024 * 1024)),
        // 1 MB of port ranges that each expand to 65,535 mappings.
        "port_ranges" => {
            let ports: String = (0..25_000)
                .map(|i| format!("    - \"127.0.{}.{}:1-65535:1-65535\"\n", i / 250, i % 250))
                .collect();
            format!("services:\n  a:\n    image: x\n    ports:\n{ports}")
        }
        // A large but legitimate file: 1,500 services, about 1 MB.
        "large_project" => {
            let mut text = String::from("services:\n");
            for i in 0..1_500 {
                text.push_str(&format!(
                    "  svc{i}:\n    image: \"registry.example/app:${{TAG:-1.{i}}}\"\n    environment:\n      DATABASE_URL: postgres://db/app{i}\n      LOG_LEVEL: info\n      WORKERS: '4'\n    labels:\n      traefik.http.routers.svc{i}.rule: Host(`svc{i}.example.org`)\n      traefik.http.services.svc{i}.loadbalancer.server.port: '8000'\n    ports: ['{}:8000']\n    volumes: ['./data/{i}:/data', 'cache{i}:/cache']\n{}    healthcheck: {{test: [CMD, curl, -f, http://localhost:8000/], interval: 10s}}\n    restart: unless-stopped\n",
                    10_000 + i,
                    if i > 0 { "    depends_on: [svc0]\n" } else { "" }
                ));
            }
            text.push_str("volumes:\n");
            for i in 0..1_500 {
                text.push_str(&format!("  cache{i}: {{}}\n"));
            }
            text
        }
        other => panic!("no case {other}"),
    }
}

/// Random hostile inputs: nesting, aliases fanning out, references and
/// nested defaults, of random sizes.
fn random_hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..3_000).prop_map(|d| format!("x-a: {}\n", "[".repeat(d) + &"]".repeat(d))),
        (1usize..3_000).prop_map(|d| format!("x-a: {}\n", "{a: ".repeat(d) + &"}".repeat(d))),
        (1usize..14, 2usize..12).prop_map(|(levels, fan)| {
            let mut text = String::from("x-l0: &l0 [lol]\n");
            for l in 1..=levels {
                let refs = vec![format!("*l{}", l - 1); fan].join(",");
                text.push_str(&format!("x-l{l}: &l{l} [{refs}]\n"));
            }
            text + "services: {a: {image: x}}\n"
        }),
        (1usize..40_000).prop_map(|n| format!(
            "services:\n  a:\n    image: x\n    environment: {{V: \"{}\"}}\n",
            "$A".repeat(n)
        )),
        (1usize..5_000).prop_map(|n| format!(
            "services:\n  a:\n    image: \"{}\"\n",
            "${A:-".repeat(n) + &"}".repeat(n)
        )),
    ]
}

/// Loads `text` as `hostile.yml`; what happened, in one line.
fn load(text: &str) -> String {
    match Overlay::parse("hostile.yml", text) {
        Err(e) => format!("error {e}"),
        Ok(overlay) => {
            let vars = project::vars_from(&[("A", "a")]);
            let names = NameSources {
                flag: Some("hostile"),
                ..Default::default()
            };
            match project::load(&[overlay], &vars, names) {
                Ok(loaded) => format!("loaded {} services", loaded.project.services.len()),
                Err(e) => format!("error {e}"),
            }
        }
    }
}

/// The child side: loads one case and prints what happened (for `random`,
/// the slowest of many generated cases).
#[test]
#[ignore = "the entry point of the child processes the other tests start"]
fn child_process_entry() {
    let Ok(case) = std::env::var(CASE_VAR) else {
        return;
    };
    let (elapsed, outcome) = if case == "random" {
        let mut runner = TestRunner::deterministic();
        let strategy = random_hostile();
        let mut slowest = Duration::ZERO;
        let cases = 120;
        for _ in 0..cases {
            let text = strategy.new_tree(&mut runner).expect("a case").current();
            let start = Instant::now();
            let _ = load(&text);
            slowest = slowest.max(start.elapsed());
        }
        (slowest, format!("ran {cases} cases"))
    } else {
        let text = input(&case);
        let start = Instant::now();
        let outcome = load(&text);
        (start.elapsed(), outcome)
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let first_line = outcome.lines().next().unwrap_or_default();
    println!(
        "HOSTILE elapsed_us={} peak_kib={peak} {first_line}",
        elapsed.as_micros()
    );
}

struct Report {
    elapsed: Duration,
    peak_kib: u64,
    outcome: String,
}

fn run(case: &str) -> Report {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", "child_process_entry", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CASE_VAR, case)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HOSTILE ").map(|(_, rest)| rest))
        .unwrap_or_else(|| {
            panic!(
                "{case}: the child process reported nothing (status {}): {}\n{}",
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let mut parts = line.splitn(3, ' ');
    let field = |p: Option<&str>, name: &str| -> u64 {
        p.and_then(|f| f.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{case}: bad report {line}"))
    };
    let elapsed = Duration::from_micros(field(parts.next(), "elapsed_us="));
    let peak_kib = field(parts.next(), "peak_kib=");
    let outcome = parts.next().unwrap_or_default().to_owned();
    eprintln!("{case}: {elapsed:?}, peak {} KiB: {outcome}", peak_kib);
    assert!(
        elapsed < TIME_LIMIT,
        "{case} took {elapsed:?}, more than {TIME_LIMIT:?}"
    );
    assert!(
        peak_kib < MEMORY_LIMIT_KIB,
        "{case} peaked at {peak_kib} KiB, more than {MEMORY_LIMIT_KIB} KiB"
    );
    Report {
        elapsed,
        peak_kib,
        outcome,
    }
}

fn refused(case: &str, expected: &[&str]) {
    let r = run(case);
    assert!(r.outcome.starts_with("error "), "{case}: {}", r.outcome);
    for e in expected {
        assert!(
            r.outcome.contains(e),
            "{case}: expected `{e}` in {}",
            r.outcome
        );
    }
    let _ = (r.elapsed, r.peak_kib);
}

#[test]
fn billion_laughs_is_refused() {
    refused(
        "billion_laughs",
        &["hostile.yml:6:10", "excessive aliasing"],
    );
}

#[test]
fn deep_nesting_is_an_error_at_its_line() {
    refused(
        "deep_flow",
        &["hostile.yml:1:", "nested more than 128 levels"],
    );
    refused(
        "deep_block",
        &["hostile.yml:129:", "nested more than 128 levels"],
    );
}

#[test]
fn tens_of_thousands_of_references_load() {
    let r = run("many_references");
    assert_eq!(r.outcome, "loaded 1 services");
}

#[test]
fn deeply_nested_defaults_are_an_error_not_an_abort() {
    refused(
        "deep_defaults",
        &["hostile.yml:3:", "interpolation nested more than 32 levels"],
    );
}

#[test]
fn too_many_values_or_bytes_are_refused() {
    refused("wide", &["hostile.yml:1:", "more than 200000 values"]);
    refused("huge", &["hostile.yml:1:1", "bytes long"]);
}

#[test]
fn port_ranges_cannot_expand_without_bound() {
    refused("port_ranges", &["hostile.yml:", "more than 65536 mappings"]);
}

#[test]
fn a_large_legitimate_project_loads() {
    let r = run("large_project");
    assert_eq!(r.outcome, "loaded 1500 services");
}

#[test]
fn random_hostile_inputs_stay_within_bounds() {
    let r = run("random");
    assert_eq!(r.outcome, "ran 120 cases");
}
