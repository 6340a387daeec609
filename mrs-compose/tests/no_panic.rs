//! Random input never makes the loader, the schema check, the interpolator,
//! the merge or the typed decode panic: bad input is an error with a place.
//! Bounded: a fixed number of cases per property.

use mrs_compose::interpolate::{self, Binding};
use mrs_compose::output::{self, Format};
use mrs_compose::project::{self, NameSources};
use mrs_compose::{Location, Overlay, yaml};
use proptest::prelude::*;
use serde_json::{Value, json};

fn at() -> Location {
    Location::new("fuzz.yml".into(), 1, 1)
}

/// YAML-ish text: the characters compose files are made of.
fn yamlish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("services:".to_owned()),
            Just("\n  ".to_owned()),
            Just("\n    ".to_owned()),
            Just("- ".to_owned()),
            Just(": ".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just("$$".to_owned()),
            Just("!reset ".to_owned()),
            Just("!override ".to_owned()),
            Just("&a ".to_owned()),
            Just("*a".to_owned()),
            Just("<<: ".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("{".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("ports".to_owned()),
            Just("environment".to_owned()),
            Just("8000:8000".to_owned()),
            "[a-zA-Z0-9_.:/ -]{0,8}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

/// Strings that need care in YAML: control characters, `$`, words YAML
/// 1.1 reads as booleans, number-like text, quotes, colons, long ones.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[\\x00-\\x1f\"'$:#{} ]{0,8}",
        Just("yes".to_owned()),
        Just("off".to_owned()),
        Just("2222:22".to_owned()),
        Just("0755".to_owned()),
        Just("$$HOME".to_owned()),
        Just("- x".to_owned()),
        "[a-z\\x01]{1000,1100}",
    ]
}

/// A compose file as JSON (which is YAML): the input is not written by our
/// own YAML writer, so the round trip can catch it.
fn json_project() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9_-]{0,8}",
        tricky_string(),
        proptest::collection::vec((tricky_string(), tricky_string()), 0..4),
        proptest::collection::vec(
            (
                "[A-Z_][A-Z0-9_]{0,6}",
                proptest::option::of(tricky_string()),
            ),
            0..4,
        ),
        proptest::collection::vec(tricky_string(), 0..3),
        tricky_string(),
    )
        .prop_map(|(name, image, labels, env, command, extension)| {
            let labels: serde_json::Map<String, Value> = labels
                .into_iter()
                .map(|(k, v)| (format!("l{k}"), Value::String(v)))
                .collect();
            let env: serde_json::Map<String, Value> = env
                .into_iter()
                .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
                .collect();
            json!({
                "services": {name: {
                    "image": image,
                    "labels": labels,
                    "environment": env,
                    "command": command,
                    "x-note": {extension.clone(): [extension]},
                }},
                "x-top": {"k": "v"},
            })
            .to_string()
        })
}

fn load_text(text: &str) -> Option<project::Loaded> {
    let overlay = Overlay::parse("in.yml", text).ok()?;
    let vars = project::vars_from(&[("HOST", "h")]);
    project::load(
        &[overlay],
        &vars,
        NameSources {
            flag: Some("fuzz"),
            ..Default::default()
        },
    )
    .ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// `config`'s YAML and JSON read back with our own loader as the same project.
    #[test]
    fn config_output_reads_back(text in json_project()) {
        let Some(first) = load_text(&text) else {
            return Ok(());
        };
        for format in [Format::Yaml, Format::Json] {
            let printed = output::render(&first.project, format);
            let again = load_text(&printed);
            prop_assert!(again.is_some(), "{:?} output does not load back:\n{}", format, printed);
            let again = again.map(|l| l.project);
            prop_assert_eq!(again.as_ref(), Some(&first.project), "{:?}:\n{}", format, printed);
        }
    }

    /// The random compose-like inputs too: whatever loads, reads back the same.
    #[test]
    fn yamlish_output_reads_back(a in yamlish()) {
        let Some(first) = load_text(&a) else {
            return Ok(());
        };
        let printed = output::render(&first.project, Format::Yaml);
        let again = load_text(&printed).map(|l| l.project);
        prop_assert_eq!(again.as_ref(), Some(&first.project), "{}", printed);
    }

    #[test]
    fn loader_never_panics(text in yamlish()) {
        let _ = yaml::load("fuzz.yml", &text);
        let _ = Overlay::parse("fuzz.yml", &text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(text in ".{0,200}") {
        let _ = Overlay::parse("fuzz.yml", &text);
    }

    #[test]
    fn interpolator_never_panics(text in "[a-zA-Z_${}:?+\\-0-9 ]{0,40}") {
        let vars = |name: &str| match name.len() % 3 {
            0 => Binding::Set("v".into()),
            1 => Binding::Unset,
            _ => Binding::Deferred,
        };
        if let Ok(t) = interpolate::parse(&text, &at()) {
            let _ = interpolate::evaluate(&t, &vars, &at());
            // What parses renders back to a template that renders the same.
            let rendered = interpolate::render(&t);
            let again = interpolate::parse(&rendered, &at()).map(|t| interpolate::render(&t));
            prop_assert_eq!(again.ok(), Some(rendered));
        }
    }

    #[test]
    fn whole_pipeline_never_panics(a in yamlish(), b in yamlish()) {
        let overlays: Vec<Overlay> = [("a.yml", a), ("b.yml", b)].iter().filter_map(|(n, t)| Overlay::parse(n, t).ok()).collect();
        let vars = project::vars_from(&[("HOST", "h")]);
        let _ = project::load(&overlays, &vars, NameSources { flag: Some("fuzz"), ..Default::default() });
    }
}
