//! Random input never makes the loader, the schema check, the interpolator,
//! the merge or the typed decode panic: bad input is an error with a place.
//! Bounded: a fixed number of cases per property.

use mrs_compose::interpolate::{self, Binding};
use mrs_compose::project::{self, NameSources};
use mrs_compose::{Location, Overlay, yaml};
use proptest::prelude::*;

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

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
