//! The four real MRS overlays, merged in every combination the operations
//! chapter uses, checked field by field.

use std::path::PathBuf;

use indexmap::IndexMap;
use mrs_compose::Overlay;
use mrs_compose::model::Project;
use mrs_compose::project::{self, NameSources};
use mrs_compose::volumes::MountKind;

fn overlay(name: &str) -> Overlay {
    let file = match name {
        "base" => "docker-compose.yml".to_owned(),
        other => format!("docker-compose.{other}.yml"),
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mrs-reference")
        .join(&file);
    match Overlay::read(&path, &file) {
        Ok(o) => o,
        Err(e) => panic!("{file}: {e}"),
    }
}

fn vars() -> IndexMap<String, String> {
    project::vars_from(&[
        ("HOST", "staging.mrs.beta.gouv.fr"),
        ("HOST_SLUG", "staging-mrs-beta-gouv-fr"),
        ("LISTEN", "256"),
        ("SECRET_KEY", "s3cret"),
        ("ALLOWED_HOSTS", "from-env"),
    ])
}

fn merged(names: &[&str]) -> Project {
    let overlays: Vec<Overlay> = names.iter().map(|n| overlay(n)).collect();
    let vars = vars();
    match project::load(
        &overlays,
        &vars,
        NameSources {
            flag: Some("mrs-staging"),
            ..Default::default()
        },
    ) {
        Ok(loaded) => loaded.project,
        Err(e) => panic!("{names:?}: {e}"),
    }
}

fn env<'a>(p: &'a Project, service: &str) -> Vec<(&'a str, Option<&'a str>)> {
    p.services[service]
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect()
}

fn label<'a>(p: &'a Project, service: &str, key: &str) -> Option<&'a str> {
    p.services[service].labels.get(key).map(String::as_str)
}

fn networks<'a>(p: &'a Project, service: &str) -> Vec<&'a str> {
    p.services[service]
        .networks
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn base_and_persist() {
    let p = merged(&["base", "persist"]);
    let e = env(&p, "django");
    // The persist overlay's bare SECRET_KEY replaces base's `SECRET_KEY=notsecret`
    // in place, and takes its value from the environment.
    let keys: Vec<&str> = e.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        &keys[..8],
        [
            "ALLOWED_HOSTS",
            "DB_ENGINE",
            "DB_HOST",
            "DB_USER",
            "DB_PASSWORD",
            "DB_NAME",
            "SECRET_KEY",
            "BASICAUTH_DISABLE"
        ]
    );
    assert_eq!(
        p.services["django"].environment["SECRET_KEY"].as_deref(),
        Some("s3cret")
    );
    assert_eq!(
        p.services["django"].environment["ALLOWED_HOSTS"].as_deref(),
        Some("from-env")
    );
    assert_eq!(
        p.services["django"].environment["LISTEN"].as_deref(),
        Some("256")
    );
    // Unset bare entries stay unset (compose passes them as bare names).
    assert_eq!(p.services["django"].environment["SENTRY_DSN"], None);
    assert_eq!(
        p.services["django"].environment["SENTRY_ORG"].as_deref(),
        Some("sentry")
    );
    assert_eq!(p.services["django"].restart.as_deref(), Some("always"));
    assert_eq!(
        p.services["django"]
            .sysctls
            .get("net.core.somaxconn")
            .map(String::as_str),
        Some("256")
    );
    let vols: Vec<(MountKind, Option<&str>, &str)> = p.services["django"]
        .volumes
        .iter()
        .map(|v| (v.kind, v.source.as_deref(), v.target.as_str()))
        .collect();
    assert_eq!(
        vols,
        [
            (MountKind::Bind, Some("./mrsattachments"), "/mrsattachments"),
            (MountKind::Bind, Some("./log"), "/app/log")
        ]
    );
    assert_eq!(p.services["postgres"].volumes.len(), 3);
    assert_eq!(
        p.services["postgres"].volumes[0].target,
        "/var/lib/postgresql/data"
    );
    assert_eq!(
        label(&p, "django", "io.yourlabs.compose.mkdir"),
        Some("log,spooler,spooler/mail,spooler/stat,mrsattachments:1000:1000:0750")
    );
    // List-form label keys are values: `${HOST_SLUG}` in them is resolved, `$${1}` unescaped.
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.middlewares.staging-mrs-beta-gouv-fr-redirect.redirectregex.regex"
        ),
        Some("^https?://staging.mrs.beta.gouv.fr/(.*)")
    );
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.middlewares.staging-mrs-beta-gouv-fr-redirect.redirectregex.replacement"
        ),
        Some("https://www.staging.mrs.beta.gouv.fr/${1}")
    );
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.routers.staging-mrs-beta-gouv-fr-https.rule"
        ),
        Some("Host(`staging.mrs.beta.gouv.fr`, `www.staging.mrs.beta.gouv.fr`)")
    );
    assert_eq!(p.services["django"].labels.len(), 10);
    assert_eq!(
        p.services["django"]
            .logging
            .as_ref()
            .and_then(|l| l.driver.as_deref()),
        Some("journald")
    );
    assert_eq!(networks(&p, "django"), ["default"]);
    assert_eq!(p.networks.keys().collect::<Vec<_>>(), ["default"]);
    assert_eq!(
        p.networks["default"].name.as_deref(),
        Some("mrs-staging_default")
    );
}

#[test]
fn base_persist_and_traefik() {
    let p = merged(&["base", "persist", "traefik"]);
    // traefik's `ALLOWED_HOSTS=www.${HOST}` replaces base's bare entry in place.
    let e = env(&p, "django");
    assert_eq!(
        e[0],
        ("ALLOWED_HOSTS", Some("www.staging.mrs.beta.gouv.fr"))
    );
    assert_eq!(
        p.services["django"].environment["HOST"].as_deref(),
        Some("staging.mrs.beta.gouv.fr")
    );
    assert_eq!(label(&p, "django", "traefik.enable"), Some("true"));
    assert_eq!(label(&p, "django", "traefik.docker.network"), Some("web"));
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.services.staging-mrs-beta-gouv-fr.loadBalancer.server.port"
        ),
        Some("8000")
    );
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.routers.staging-mrs-beta-gouv-fr-http.entryPoints"
        ),
        Some("web")
    );
    // persist's http middleware label survives traefik's labels.
    assert_eq!(
        label(
            &p,
            "django",
            "traefik.http.routers.staging-mrs-beta-gouv-fr-http.middlewares"
        ),
        Some("staging-mrs-beta-gouv-fr-redirect")
    );
    assert_eq!(p.services["django"].labels.len(), 16);
    assert_eq!(networks(&p, "django"), ["default", "web"]);
    assert_eq!(networks(&p, "postgres"), ["default"]);
    assert!(p.networks["web"].external);
    assert_eq!(p.networks["web"].name.as_deref(), Some("web"));
    assert_eq!(p.services["django"].sysctls.len(), 1);
}

#[test]
fn base_traefik_and_maildev() {
    let p = merged(&["base", "traefik", "maildev"]);
    let e = env(&p, "django");
    // EMAIL_HOST/EMAIL_PORT replace base's bare entries where they stood.
    let pos = |k: &str| e.iter().position(|(key, _)| *key == k);
    assert_eq!(pos("EMAIL_HOST"), Some(9));
    assert_eq!(
        p.services["django"].environment["EMAIL_HOST"].as_deref(),
        Some("mail")
    );
    assert_eq!(
        p.services["django"].environment["EMAIL_PORT"].as_deref(),
        Some("25")
    );
    assert_eq!(
        p.services["django"].environment["SECRET_KEY"].as_deref(),
        Some("notsecret")
    );
    assert!(p.services["django"].volumes.is_empty());
    assert!(p.services["django"].restart.is_none());
    let mail = &p.services["mail"];
    assert_eq!(mail.image.as_deref(), Some("djfarrelly/maildev"));
    assert_eq!(
        label(
            &p,
            "mail",
            "traefik.http.middlewares.mail-auth.basicauth.users"
        ),
        Some("dev:$apr1$XGyhUBDz$F6tOIgDiiHVfpDoYcaSDq.")
    );
    assert_eq!(
        label(
            &p,
            "mail",
            "traefik.http.routers.staging-mrs-beta-gouv-fr-mail.rule"
        ),
        Some("Host(`mail.staging.mrs.beta.gouv.fr`)")
    );
    assert_eq!(mail.labels.len(), 8);
    assert_eq!(networks(&p, "mail"), ["default", "web"]);
    assert_eq!(
        p.services.keys().collect::<Vec<_>>(),
        ["django", "postgres", "mail"]
    );
    assert!(p.services["django"].sysctls.is_empty());
}

#[test]
fn all_four() {
    let p = merged(&["base", "persist", "traefik", "maildev"]);
    assert_eq!(p.services.len(), 3);
    assert_eq!(
        p.services["django"].environment["SECRET_KEY"].as_deref(),
        Some("s3cret")
    );
    assert_eq!(
        p.services["django"].environment["EMAIL_HOST"].as_deref(),
        Some("mail")
    );
    assert_eq!(
        p.services["django"].environment["ALLOWED_HOSTS"].as_deref(),
        Some("www.staging.mrs.beta.gouv.fr")
    );
    assert_eq!(p.services["django"].labels.len(), 16);
    assert_eq!(p.services["django"].sysctls["net.core.somaxconn"], "256");
    assert_eq!(p.services["django"].volumes.len(), 2);
    assert_eq!(p.services["postgres"].restart.as_deref(), Some("always"));
    assert_eq!(networks(&p, "django"), ["default", "web"]);
    assert_eq!(networks(&p, "mail"), ["default", "web"]);
    assert_eq!(p.networks.keys().collect::<Vec<_>>(), ["web", "default"]);
}

#[test]
fn variable_index_of_the_real_overlays() {
    let overlays: Vec<Overlay> = ["base", "persist", "traefik", "maildev"]
        .iter()
        .map(|n| overlay(n))
        .collect();
    let index = mrs_compose::VariableIndex::build(&overlays);
    let slug = index.get("HOST_SLUG").expect("HOST_SLUG is used");
    assert!(slug.required);
    assert!(
        slug.uses
            .iter()
            .any(|u| u.at.to_string() == "docker-compose.persist.yml:15:33"),
        "{:#?}",
        slug.uses[0]
    );
    let listen = index.get("LISTEN").expect("LISTEN");
    assert_eq!(
        listen.uses.len(),
        2,
        "bare in base, interpolated in persist"
    );
    assert_eq!(
        listen.uses[1].at.to_string(),
        "docker-compose.persist.yml:11:28"
    );
    assert!(index.get("SECRET_KEY").is_some());
    assert!(
        index.get("apr1").is_none(),
        "escaped `$$` is not a variable"
    );
    assert!(index.get("SENTRY_DSN").is_some());
}
