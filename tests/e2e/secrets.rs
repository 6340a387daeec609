//! Secrets and labels: whoever reads the labels cannot test guesses of a secret.

use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![(
        "labels_do_not_let_anyone_test_guesses_of_a_secret",
        Local,
        labels_do_not_let_anyone_test_guesses_of_a_secret,
    )]
}

/// Deploys `local` with a 4-digit SECRET_KEY, then tries every 4-digit
/// value through the binary's own hashing (the spec it embeds, the library
/// it runs) against the labels on the engine. The labels must not single
/// out the secret; and they must not change when only the secret does.
pub fn labels_do_not_let_anyone_test_guesses_of_a_secret() {
    let secret = "7391";
    let up = run(LOCAL, &["up"], &[("SECRET_KEY", secret)]);
    assert_eq!(code(&up), 0, "{}", stderr(&up));
    let labels = |name: &str| -> serde_json::Map<String, serde_json::Value> {
        let out = docker_out(&["inspect", "--format", "{{json .Config.Labels}}", name]);
        serde_json::from_str(&out).expect("labels are JSON")
    };
    let on_engine = labels("testmrs-django-1");
    let hash = on_engine["com.docker.compose.config-hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key_hashes = on_engine["io.mrs-deploy.key-hashes"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let spec = run(LOCAL, &["spec"], &[]);
    let spec: mrs_env::spec::EnvSpec = serde_json::from_slice(&spec.stdout).expect("the spec");
    let vars = mrs_compose::project::vars_from(&[("SECRET_KEY", "0000")]);
    let mut resolved = spec.resolve(&vars).expect("resolve");
    let mut singled_out = Vec::new();
    for n in 0..10_000 {
        let guess = format!("{n:04}");
        if let Some(d) = resolved.project.services.get_mut("django") {
            d.environment
                .insert("SECRET_KEY".into(), Some(guess.clone()));
        }
        resolved.redactor =
            mrs_env::secret::Redactor::new([mrs_env::secret::Secret::new(guess.clone())]);
        let desired = mrs_dsl::engine::desired::desired(&spec, &resolved, "x").expect("desired");
        let django = desired
            .containers
            .iter()
            .find(|c| c.service == "django")
            .expect("django");
        let keys: Vec<String> = django
            .key_hashes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if django.hash == hash || keys.join(",") == key_hashes {
            singled_out.push(guess);
        }
    }
    assert!(
        singled_out.len() != 1,
        "the labels single out the secret: {singled_out:?}"
    );

    // Another secret: a recreate (the secret changed), and the same labels but the deploy's own.
    let other = run(LOCAL, &["up"], &[("SECRET_KEY", "8402")]);
    assert_eq!(code(&other), 0, "{}", stderr(&other));
    let after = labels("testmrs-django-1");
    let strip = |m: &serde_json::Map<String, serde_json::Value>| {
        let mut m = m.clone();
        m.retain(|k, _| {
            !k.starts_with("io.mrs-deploy.deploy")
                && !k.starts_with("io.mrs-deploy.replace")
                && k != "io.mrs-deploy.role"
                && k != "io.mrs-deploy.expires"
        });
        m
    };
    assert_eq!(
        strip(&after),
        strip(&on_engine),
        "no label depends on the secret"
    );
    let env = docker_out(&[
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        "testmrs-django-1",
    ]);
    assert!(
        env.contains("SECRET_KEY=8402"),
        "the new secret was deployed"
    );
    local_up();
}
