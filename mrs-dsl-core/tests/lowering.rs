//! The macro's stages on the real overlays: what the spec embeds, and inputs
//! that used to take exponential time. Time limits here catch a hang, they
//! are not benchmarks (see `benches/macro.rs`).

use std::path::Path;
use std::time::{Duration, Instant};

use mrs_compose::node::Node;
use mrs_env::Catalog;

fn catalog() -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match mrs_dsl_core::build::load(&root.join("deployments/compose"), "deployments/compose") {
        Ok(mut c) => {
            c.set_root(&root);
            c
        }
        Err(e) => panic!("{e}"),
    }
}

/// The local environment with `services` and extra `vars` in place of its own.
fn local(services: &str, vars: &str) -> proc_macro2::TokenStream {
    let text = format!(
        r#"env: local, tier: development, persistent: {{ home: "/tmp/testmrs" }},
        overlays: [base, persist],
        services: {{ {services} }},
        vars: {{
            HOST: "localhost:8000", HOST_SLUG: slug(HOST), ALLOWED_HOSTS: "127.0.0.1,localhost",
            BASICAUTH_DISABLE: "1", LISTEN: "128", PROTO: "http", SECRET_KEY: secret,
            MAINTENANCE_ENABLE: unset, EMAIL_HOST: unset, EMAIL_HOST_PASSWORD: unset,
            EMAIL_HOST_USER: unset, EMAIL_PORT: unset, EMAIL_USE_SSL: unset, EMAIL_USE_TLS: unset,
            DEFAULT_FROM_EMAIL: unset, TEAM_EMAIL: unset, SENTRY_AUTH_TOKEN: unset,
            SENTRY_DSN: unset, SENTRY_PROJECT: unset, SENTRY_URL: unset, {vars}
        }},
        health: {{ url: "http://{{HOST}}/" }},"#
    );
    text.parse().expect("tokens")
}

/// `KEY=value` entries in list or map form.
fn entries(tree: &Node, path: &[&str]) -> Vec<String> {
    let Some(node) = tree.lookup(path) else {
        return Vec::new();
    };
    match (node.as_seq(), node.as_map()) {
        (Some(items), _) => items.iter().filter_map(Node::scalar_text).collect(),
        (_, Some(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", v.scalar_text().unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn overrides_merge_by_key_replace_whole_and_remove_entries() {
    // The entry removed, its variable is not declared (it would be unused).
    let input = local(
        r#"django: { image: "betagouv/mrs:1.0", build: none,
                     environment: { DEBUG: "1", DB_NAME: "other", MAINTENANCE_ENABLE: none } },
           postgres: { environment: replace({ POSTGRES_DB: "x" }) }"#,
        "",
    )
    .to_string()
    .replace("MAINTENANCE_ENABLE : unset ,", "")
    .parse()
    .expect("tokens");
    let checked = match mrs_dsl_core::check_input(input, &catalog()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let django = entries(&checked.spec.tree, &["services", "django", "environment"]);
    // Kept in place, replaced in place, removed, appended.
    assert!(
        django.contains(&"DB_HOST=postgres".to_owned()),
        "{django:?}"
    );
    assert!(django.contains(&"DB_NAME=other".to_owned()), "{django:?}");
    assert!(
        !django.iter().any(|e| e.starts_with("MAINTENANCE_ENABLE")),
        "{django:?}"
    );
    assert_eq!(django.last().map(String::as_str), Some("DEBUG=1"));
    let postgres = entries(&checked.spec.tree, &["services", "postgres", "environment"]);
    assert_eq!(postgres, ["POSTGRES_DB=x"]);
}

#[test]
fn the_spec_lists_what_secrets_taint() {
    let input = local(
        r#"django: { image: "betagouv/mrs:1.0", build: none, environment: { KEY_SLUG: "{KEY_SLUG}" } }"#,
        "KEY_SLUG: slug(SECRET_KEY),",
    );
    let checked = match mrs_dsl_core::check_input(input, &catalog()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(checked.spec.secret_tainted(), ["SECRET_KEY", "KEY_SLUG"]);
}

/// Rejects `input` within `limit`, with an error containing `expected`.
fn rejected_quickly(input: proc_macro2::TokenStream, expected: &str, limit: Duration) {
    let catalog = catalog();
    let start = Instant::now();
    let result = mrs_dsl_core::check_input(input, &catalog);
    let took = start.elapsed();
    let errors: Vec<String> = match result {
        Ok(_) => panic!("accepted"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    };
    assert!(errors.iter().any(|e| e.contains(expected)), "{errors:#?}");
    assert!(took < limit, "took {took:?}");
}

#[test]
fn mutual_doubling_is_a_cycle_and_never_evaluated() {
    // HOST is used by the overlays; each refers to the other twice.
    let input = local(
        r#"django: { image: "betagouv/mrs:1.0", build: none }"#,
        r#"A: format("{HOST2}{HOST2}"), HOST2: format("{A}{A}"),
           X: format("{X}{X}{X}{X}"),"#,
    )
    .to_string()
    .replace("HOST: \"localhost:8000\"", "HOST: format(\"{A}{A}\")")
    .parse()
    .expect("tokens");
    rejected_quickly(input, "is computed from itself", Duration::from_secs(10));
}

#[test]
fn a_long_doubling_chain_is_bounded() {
    let chain: String = (1..64)
        .map(|i| format!("V{i}: format(\"{{V{p}}}{{V{p}}}\"),", p = i - 1))
        .collect();
    let input = local(
        r#"django: { image: "betagouv/mrs:1.0", build: none, environment: { BIG: "{V63}" } }"#,
        &format!("V0: \"ab\", {chain}"),
    );
    rejected_quickly(
        input,
        "computes to more than 64 KiB",
        Duration::from_secs(10),
    );
}

#[test]
fn the_build_script_is_bounded_too() {
    // The cross-environment check lowers every environment file.
    let dir = std::env::temp_dir().join(format!("mrs-lowering-bound-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let chain: String = (1..64)
        .map(|i| format!("V{i}: format(\"{{V{p}}}{{V{p}}}\"),", p = i - 1))
        .collect();
    let env = local(
        r#"django: { image: "betagouv/mrs:1.0", build: none, environment: { BIG: "{V63}" } }"#,
        &format!("V0: \"ab\", {chain} A: format(\"{{A}}{{A}}\"),"),
    );
    let text = format!("mrs_dsl::deployment! {{ host: \"h.example\", {env} }}");
    std::fs::write(dir.join("bounded.rs"), text).expect("write");
    let start = Instant::now();
    let files = mrs_dsl_core::build::cross::environment_files(&dir);
    let clashes = mrs_dsl_core::build::cross::clashes(&files, &catalog());
    assert!(clashes.is_empty());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
